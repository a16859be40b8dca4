package classifier

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Example is one labelled training or validation image.
type Example struct {
	Image image.Image
	Label int
	// Name identifies the example in error messages (e.g. its path).
	Name string
}

// TrainConfig configures Train. Field names follow the SageMaker built-in
// image-classification hyperparameters; see ParseHyperparameters for the
// mapping and the documented differences.
type TrainConfig struct {
	NumClasses         int
	NumTrainingSamples int // informational; a mismatch is logged
	Channels           int // image_shape[0]; must be 3
	Height, Width      int // image_shape[1:]; images are resized to this

	Epochs        int
	LearningRate  float64
	MiniBatchSize int

	// Optimizer is "sgd", "nag", "adam" or "rmsprop".
	Optimizer   string
	Momentum    float64 // sgd, nag
	WeightDecay float64 // sgd, nag (L2 on conv and linear weights)
	Beta1       float64 // adam
	Beta2       float64 // adam
	Eps         float64 // adam, rmsprop
	Gamma       float64 // rmsprop

	// LRSchedulerStep lists epochs after which the learning rate is
	// multiplied by LRSchedulerFactor. When empty the learning rate follows
	// a cosine decay from LearningRate to 0 over all iterations.
	LRSchedulerStep   []int
	LRSchedulerFactor float64

	// Augmentation is "none", "crop" (random 4-pixel-padded crop and
	// horizontal flip), "crop_color" (crop plus random hue, saturation and
	// lightness shifts) or "crop_color_transform" (crop_color plus random
	// rotation, shear and aspect-ratio changes).
	Augmentation string

	EarlyStopping          bool
	EarlyStoppingMinEpochs int
	EarlyStoppingPatience  int
	EarlyStoppingTolerance float64

	TopK            int  // 0: not reported
	UseWeightedLoss bool // weight the loss by inverse class frequency

	// Cutout, when positive and augmentation is on, blanks a random
	// Cutout x Cutout square of each training image (to its mean colour).
	Cutout int

	// LabelSmoothing mixes this much of the uniform distribution into the
	// one-hot training targets (0 disables it).
	LabelSmoothing float64

	// Stages is the network architecture (DefaultStages if nil).
	Stages []Stage
	// TTAViews is how many test-time views the trained model averages
	// (1 to MaxTTAViews): 1 is the image alone, 2 adds its mirror image,
	// more add 2-pixel shifts of both.
	TTAViews int
	// Seed makes training deterministic: the same seed, data and config
	// give a byte-identical model.
	Seed uint64

	// Notes are remarks produced by ParseHyperparameters about accepted
	// names whose behaviour differs from the built-in algorithm. Train logs
	// them.
	Notes []string

	checkpointFrequency int // validated only
}

// DefaultTrainConfig returns the default configuration for a 2-class,
// 3x32x32 problem. It is what ParseHyperparameters starts from.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		NumClasses:             2,
		Channels:               3,
		Height:                 32,
		Width:                  32,
		Epochs:                 50,
		LearningRate:           0.1,
		MiniBatchSize:          32,
		Optimizer:              "sgd",
		Momentum:               0.9,
		WeightDecay:            0.0005,
		Beta1:                  0.9,
		Beta2:                  0.999,
		Eps:                    1e-8,
		Gamma:                  0.9,
		LRSchedulerFactor:      0.1,
		Augmentation:           "crop",
		EarlyStoppingMinEpochs: 10,
		EarlyStoppingPatience:  5,
		TTAViews:               2,
		Seed:                   1,
	}
}

// Validate reports the first problem with the configuration.
func (c *TrainConfig) Validate() error {
	switch {
	case c.NumClasses < 2:
		return fmt.Errorf("num_classes must be at least 2, got %d", c.NumClasses)
	case c.Channels != 3:
		return fmt.Errorf("image_shape: only 3-channel images are supported, got %d channels", c.Channels)
	case c.Height < 4 || c.Width < 4 || c.Height > 512 || c.Width > 512:
		return fmt.Errorf("image_shape: height and width must be in [4, 512], got %dx%d", c.Height, c.Width)
	case c.Epochs < 1:
		return fmt.Errorf("epochs must be positive, got %d", c.Epochs)
	case !(c.LearningRate > 0 && c.LearningRate <= 1):
		return fmt.Errorf("learning_rate must be in (0, 1], got %v", c.LearningRate)
	case c.MiniBatchSize < 2:
		return fmt.Errorf("mini_batch_size must be at least 2 (batch normalisation needs a batch), got %d", c.MiniBatchSize)
	}
	switch c.Optimizer {
	case "sgd", "nag", "adam", "rmsprop":
	default:
		return fmt.Errorf("optimizer must be one of sgd, nag, adam, rmsprop; got %q", c.Optimizer)
	}
	switch c.Augmentation {
	case "none", "crop", "crop_color", "crop_color_transform":
	default:
		return fmt.Errorf("augmentation_type must be one of crop, crop_color, crop_color_transform (or none); got %q", c.Augmentation)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"momentum", c.Momentum}, {"weight_decay", c.WeightDecay}, {"beta_1", c.Beta1}, {"beta_2", c.Beta2}, {"eps", c.Eps}, {"gamma", c.Gamma}, {"lr_scheduler_factor", c.LRSchedulerFactor}} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("%s must be in [0, 1], got %v", f.name, f.v)
		}
	}
	if c.Cutout < 0 || c.Cutout > min(c.Height, c.Width) {
		return fmt.Errorf("cutout must be in [0, %d], got %d", min(c.Height, c.Width), c.Cutout)
	}
	if c.TTAViews < 1 || c.TTAViews > MaxTTAViews {
		return fmt.Errorf("test-time views must be in [1, %d], got %d", MaxTTAViews, c.TTAViews)
	}
	if !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1) {
		return fmt.Errorf("label smoothing must be in [0, 1), got %v", c.LabelSmoothing)
	}
	if c.TopK != 0 && (c.TopK < 2 || c.TopK > c.NumClasses) {
		return fmt.Errorf("top_k must be in [2, num_classes=%d], got %d", c.NumClasses, c.TopK)
	}
	return nil
}

// EpochMetrics are the figures logged for one epoch.
type EpochMetrics struct {
	Epoch              int
	TrainAccuracy      float64 // on the augmented training batches, as the built-in reports it
	TrainLoss          float64 // mean cross-entropy
	TrainTopK          float64 // when TopK is set
	ValidationAccuracy float64 // NaN without validation data
	ValidationTopK     float64
	LearningRate       float64 // at the end of the epoch
	Duration           time.Duration
}

// Metrics summarise a training run.
type Metrics struct {
	Epochs             []EpochMetrics
	TrainAccuracy      float64 // last epoch
	ValidationAccuracy float64 // last epoch; NaN without validation data
	Duration           time.Duration
	StoppedEarly       bool
	NumParams          int
}

// Logf receives training log lines (without trailing newline).
type Logf func(format string, args ...any)

// Train trains a model on train, reporting accuracy on validation (which may
// be empty) after every epoch. It is deterministic for cfg.Seed. ctx
// cancellation stops training between mini-batches with ctx's error.
func Train(ctx context.Context, cfg TrainConfig, train, validation []Example, logf Logf) (*Model, Metrics, error) {
	start := time.Now()
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cfg.Stages == nil {
		cfg.Stages = DefaultStages()
	}
	if err := cfg.Validate(); err != nil {
		return nil, Metrics{}, err
	}
	if len(train) < 2 {
		return nil, Metrics{}, fmt.Errorf("need at least 2 training images, got %d", len(train))
	}
	for _, n := range cfg.Notes {
		logf("%s", n)
	}
	if cfg.NumTrainingSamples > 0 && cfg.NumTrainingSamples != len(train) {
		logf("num_training_samples=%d but the train channel has %d images; using %d", cfg.NumTrainingSamples, len(train), len(train))
	}
	h, w := cfg.Height, cfg.Width
	tx, ty, err := toTensors(train, cfg.NumClasses, h, w)
	if err != nil {
		return nil, Metrics{}, fmt.Errorf("train: %w", err)
	}
	vx, vy, err := toTensors(validation, cfg.NumClasses, h, w)
	if err != nil {
		return nil, Metrics{}, fmt.Errorf("validation: %w", err)
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5c0e5))
	net, err := newNetwork(3, h, w, cfg.NumClasses, cfg.Stages, rng)
	if err != nil {
		return nil, Metrics{}, err
	}
	// Per-channel input normalisation from the training images.
	hw := h * w
	for c := 0; c < 3; c++ {
		var s, s2 float64
		for _, x := range tx {
			for _, v := range x[c*hw : (c+1)*hw] {
				s += float64(v)
				s2 += float64(v) * float64(v)
			}
		}
		cnt := float64(len(tx) * hw)
		m := s / cnt
		net.mean[c] = float32(m)
		net.std[c] = float32(math.Sqrt(max(s2/cnt-m*m, 1e-6)))
	}
	model := &Model{net: net, tta: cfg.TTAViews}

	tr := newTrainer(net)
	tr.topK = cfg.TopK
	tr.smooth = float32(cfg.LabelSmoothing)
	if cfg.UseWeightedLoss {
		counts := make([]int, cfg.NumClasses)
		for _, y := range ty {
			counts[y]++
		}
		tr.classW = make([]float32, cfg.NumClasses)
		present := 0
		for _, n := range counts {
			if n > 0 {
				present++
			}
		}
		for k, n := range counts {
			if n > 0 {
				tr.classW[k] = float32(float64(len(ty)) / float64(present*n))
			}
		}
	}
	opt := newOptimizer(&cfg, net)
	bs := min(cfg.MiniBatchSize, len(tx))
	perEpoch := len(tx) / bs
	if rem := len(tx) % bs; rem >= 2 {
		perEpoch++
	}
	totalIters := perEpoch * cfg.Epochs
	augs := make([]augParams, bs)
	labels := make([]int, bs)
	idx := make([]int, bs)

	logf("training %d-class model on %d images (%d validation), %d parameters, %d epochs of %d batches of %d, optimizer %s, augmentation %s, seed %d",
		cfg.NumClasses, len(tx), len(vx), net.numParams(), cfg.Epochs, perEpoch, bs, cfg.Optimizer, cfg.Augmentation, cfg.Seed)

	var met Metrics
	met.NumParams = net.numParams()
	met.ValidationAccuracy = math.NaN()
	best, sinceBest := -1.0, 0
	iter := 0
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		es := time.Now()
		perm := rng.Perm(len(tx))
		var loss float64
		correct, topk, seen := 0, 0, 0
		lr := 0.0
		for b := 0; b < perEpoch; b++ {
			if err := ctx.Err(); err != nil {
				return nil, met, err
			}
			lo := b * bs
			hi := min(lo+bs, len(tx))
			n := hi - lo
			for i := 0; i < n; i++ {
				idx[i] = perm[lo+i]
				labels[i] = ty[idx[i]]
				augs[i] = drawAug(rng, cfg.Augmentation, cfg.Cutout, h, w)
			}
			tr.prepare(n)
			tr.stepWith(labels[:n], func(si int, sh *shard) {
				slo, _ := shardRange(si, n)
				sz := h * w
				tmp := make([]float32, 3*sz)
				for j := 0; j < sh.n; j++ {
					applyAug(tx[idx[slo+j]], tmp, h, w, augs[slo+j])
					for c := 0; c < 3; c++ {
						dst := sh.x[c*sh.n*sz+j*sz : c*sh.n*sz+(j+1)*sz]
						m, s := net.mean[c], 1/net.std[c]
						for k, v := range tmp[c*sz : (c+1)*sz] {
							dst[k] = (v - m) * s
						}
					}
				}
			})
			lr = learningRate(&cfg, iter, totalIters, perEpoch)
			opt.update(tr.grads, float32(lr))
			iter++
			for _, sh := range tr.shards {
				loss += sh.loss
				correct += sh.correct
				topk += sh.topk
				seen += sh.n
			}
		}
		em := EpochMetrics{
			Epoch:              epoch,
			TrainAccuracy:      float64(correct) / float64(seen),
			TrainLoss:          loss / float64(seen),
			TrainTopK:          float64(topk) / float64(seen),
			ValidationAccuracy: math.NaN(),
			LearningRate:       lr,
		}
		if math.IsNaN(em.TrainLoss) || math.IsInf(em.TrainLoss, 0) {
			return nil, met, fmt.Errorf("epoch %d: training diverged (loss %v); lower learning_rate", epoch, em.TrainLoss)
		}
		em.Duration = time.Since(es)
		logf("Epoch[%d] Train-accuracy=%f", epoch, em.TrainAccuracy)
		if cfg.TopK > 0 {
			logf("Epoch[%d] Train-top_k_accuracy_%d=%f", epoch, cfg.TopK, em.TrainTopK)
		}
		logf("Epoch[%d] Train-cross-entropy=%f", epoch, em.TrainLoss)
		logf("Epoch[%d] Time cost=%.3f", epoch, em.Duration.Seconds())
		if len(vx) > 0 {
			acc, tk := model.evaluate(vx, vy, cfg.TopK)
			em.ValidationAccuracy, em.ValidationTopK = acc, tk
			logf("Epoch[%d] Validation-accuracy=%f", epoch, acc)
			if cfg.TopK > 0 {
				logf("Epoch[%d] Validation-top_k_accuracy_%d=%f", epoch, cfg.TopK, tk)
			}
		}
		met.Epochs = append(met.Epochs, em)
		met.TrainAccuracy = em.TrainAccuracy
		met.ValidationAccuracy = em.ValidationAccuracy
		if cfg.EarlyStopping && len(vx) > 0 {
			acc := em.ValidationAccuracy
			if best < 0 || (best == 0 && acc > 0) || (best > 0 && (acc-best)/best > cfg.EarlyStoppingTolerance) {
				best, sinceBest = max(acc, best), 0
			} else {
				sinceBest++
			}
			if epoch+1 >= cfg.EarlyStoppingMinEpochs && sinceBest >= cfg.EarlyStoppingPatience {
				logf("early stopping after epoch %d: validation accuracy has not improved for %d epochs", epoch, sinceBest)
				met.StoppedEarly = true
				break
			}
		}
	}
	met.Duration = time.Since(start)
	return model, met, nil
}

// toTensors converts examples to [3][h][w] tensors in [0, 1] and checks labels.
func toTensors(ex []Example, classes, h, w int) ([][]float32, []int, error) {
	xs := make([][]float32, len(ex))
	ys := make([]int, len(ex))
	for i, e := range ex {
		if e.Image == nil {
			return nil, nil, fmt.Errorf("example %d (%s) has no image", i, e.Name)
		}
		if e.Label < 0 || e.Label >= classes {
			return nil, nil, fmt.Errorf("example %d (%s): label %d out of range [0, %d)", i, e.Name, e.Label, classes)
		}
		xs[i] = imageToTensor(e.Image, h, w, nil)
		ys[i] = e.Label
	}
	return xs, ys, nil
}

// stepWith fills the shards' inputs with fill (in parallel) and runs a step.
func (t *trainer) stepWith(labels []int, fill func(si int, sh *shard)) {
	t.parallel(fill)
	t.step(labels)
}

// learningRate returns the rate for iteration it (0-based).
func learningRate(cfg *TrainConfig, it, total, perEpoch int) float64 {
	if len(cfg.LRSchedulerStep) > 0 {
		epoch := it / perEpoch
		lr := cfg.LearningRate
		for _, s := range cfg.LRSchedulerStep {
			if epoch >= s {
				lr *= cfg.LRSchedulerFactor
			}
		}
		return lr
	}
	// Cosine decay with a short linear warm-up over the first epoch.
	warm := min(perEpoch, total/10)
	if it < warm {
		return cfg.LearningRate * float64(it+1) / float64(warm)
	}
	p := float64(it-warm) / float64(max(1, total-warm))
	return cfg.LearningRate * 0.5 * (1 + math.Cos(math.Pi*p))
}

// evaluate returns top-1 and top-k accuracy on tensors xs. Work is split
// into fixed chunks so the result does not depend on scheduling.
func (m *Model) evaluate(xs [][]float32, ys []int, topK int) (float64, float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	k := m.net.classes
	probs := make([]float32, len(xs)*k)
	const chunk = 8
	var wg sync.WaitGroup
	sem := make(chan struct{}, numShards)
	for lo := 0; lo < len(xs); lo += chunk {
		hi := min(lo+chunk, len(xs))
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			m.predictTensors(xs[lo:hi], probs[lo*k:hi*k])
		})
	}
	wg.Wait()
	correct, tk := 0, 0
	for i, y := range ys {
		p := probs[i*k : (i+1)*k]
		rank := 0
		for j := range p {
			if j != y && (p[j] > p[y] || (p[j] == p[y] && j < y)) {
				rank++
			}
		}
		if rank == 0 {
			correct++
		}
		if topK > 0 && rank < topK {
			tk++
		}
	}
	return float64(correct) / float64(len(xs)), float64(tk) / float64(len(xs))
}

var errNoModel = errors.New("no model")
