package classifier

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// HyperparameterNames lists every hyperparameter name ParseHyperparameters
// accepts: the SageMaker built-in image-classification algorithm's names
// plus the scones extension "seed".
func HyperparameterNames() []string {
	hs := hyperHandlers()
	names := make([]string, 0, len(hs))
	for n := range hs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type hyperHandler func(cfg *TrainConfig, v string) error

// hyperHandlers returns the parser of every accepted name. It builds a new
// map on each call so the package holds no mutable state.
func hyperHandlers() map[string]hyperHandler {
	resnetDepths := []int{18, 34, 50, 101, 152, 200, 20, 32, 44, 56, 110}
	return map[string]hyperHandler{
		"num_classes": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 2, 1<<20)
			c.NumClasses = n
			return err
		},
		"num_training_samples": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 1, math.MaxInt32)
			c.NumTrainingSamples = n
			return err
		},
		"image_shape": func(c *TrainConfig, v string) error {
			parts := strings.Split(v, ",")
			if len(parts) != 3 {
				return fmt.Errorf("want num_channels,height,width (e.g. 3,32,32)")
			}
			var d [3]int
			for i, p := range parts {
				n, err := parseInt(p, 1, 4096)
				if err != nil {
					return err
				}
				d[i] = n
			}
			if d[0] != 3 {
				return fmt.Errorf("only 3-channel (RGB) images are supported, got %d channels", d[0])
			}
			if d[1] < 4 || d[2] < 4 || d[1] > 512 || d[2] > 512 {
				return fmt.Errorf("height and width must be in [4, 512], got %dx%d", d[1], d[2])
			}
			c.Channels, c.Height, c.Width = d[0], d[1], d[2]
			return nil
		},
		"epochs": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 1, 100000)
			c.Epochs = n
			return err
		},
		"learning_rate": func(c *TrainConfig, v string) error {
			f, err := parseFloat(v, 0, 1)
			if err == nil && f == 0 {
				err = fmt.Errorf("must be greater than 0")
			}
			c.LearningRate = f
			return err
		},
		"mini_batch_size": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 2, 100000)
			c.MiniBatchSize = n
			return err
		},
		"optimizer": func(c *TrainConfig, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if !slices.Contains([]string{"sgd", "adam", "rmsprop", "nag"}, v) {
				return fmt.Errorf("want one of sgd, adam, rmsprop, nag")
			}
			c.Optimizer = v
			return nil
		},
		"momentum":            floatField(func(c *TrainConfig) *float64 { return &c.Momentum }),
		"weight_decay":        floatField(func(c *TrainConfig) *float64 { return &c.WeightDecay }),
		"beta_1":              floatField(func(c *TrainConfig) *float64 { return &c.Beta1 }),
		"beta_2":              floatField(func(c *TrainConfig) *float64 { return &c.Beta2 }),
		"eps":                 floatField(func(c *TrainConfig) *float64 { return &c.Eps }),
		"gamma":               floatField(func(c *TrainConfig) *float64 { return &c.Gamma }),
		"lr_scheduler_factor": floatField(func(c *TrainConfig) *float64 { return &c.LRSchedulerFactor }),
		"lr_scheduler_step": func(c *TrainConfig, v string) error {
			var steps []int
			for _, p := range strings.Split(v, ",") {
				if strings.TrimSpace(p) == "" {
					continue
				}
				n, err := parseInt(p, 1, 100000)
				if err != nil {
					return err
				}
				if len(steps) > 0 && n <= steps[len(steps)-1] {
					return fmt.Errorf("epochs must be strictly increasing, got %q", v)
				}
				steps = append(steps, n)
			}
			if len(steps) == 0 {
				return fmt.Errorf("want comma-separated epochs, e.g. 10,20")
			}
			c.LRSchedulerStep = steps
			return nil
		},
		"augmentation_type": func(c *TrainConfig, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if !slices.Contains([]string{"crop", "crop_color", "crop_color_transform", "none"}, v) {
				return fmt.Errorf("want one of crop, crop_color, crop_color_transform (or none, a scones extension)")
			}
			c.Augmentation = v
			return nil
		},
		"early_stopping": func(c *TrainConfig, v string) error {
			b, err := parseBool(v)
			c.EarlyStopping = b
			return err
		},
		"early_stopping_min_epochs": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 1, 100000)
			c.EarlyStoppingMinEpochs = n
			return err
		},
		"early_stopping_patience": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 1, 100000)
			c.EarlyStoppingPatience = n
			return err
		},
		"early_stopping_tolerance": floatField(func(c *TrainConfig) *float64 { return &c.EarlyStoppingTolerance }),
		"top_k": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 2, 1<<20)
			c.TopK = n
			return err
		},
		"use_weighted_loss": func(c *TrainConfig, v string) error {
			b, err := parseBool(v)
			c.UseWeightedLoss = b
			return err
		},
		"use_pretrained_model": func(c *TrainConfig, v string) error {
			b, err := parseBool(v)
			if err != nil {
				return err
			}
			if b {
				return fmt.Errorf("1 is not supported: there are no pretrained weights for this network (it trains from scratch); use 0")
			}
			return nil
		},
		"multi_label": func(c *TrainConfig, v string) error {
			b, err := parseBool(v)
			if err != nil {
				return err
			}
			if b {
				return fmt.Errorf("1 is not supported: only single-label classification is implemented; use 0")
			}
			return nil
		},
		"num_layers": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 1, 1000)
			if err != nil {
				return err
			}
			if !slices.Contains(resnetDepths, n) {
				return fmt.Errorf("want one of 18, 34, 50, 101, 152, 200 or 20, 32, 44, 56, 110 (ResNet depths), got %d", n)
			}
			c.Notes = append(c.Notes, fmt.Sprintf("num_layers=%d selects the ResNet depth on AWS; this classifier always uses its small CNN (%s), so num_layers is validated but does not change the network", n, describeStages(DefaultStages())))
			return nil
		},
		"resize": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 1, 4096)
			if err != nil {
				return err
			}
			c.Notes = append(c.Notes, fmt.Sprintf("resize=%d: images are resized straight to image_shape (%dx%d) instead of first resizing their shorter side to %d", n, c.Height, c.Width, n))
			return nil
		},
		"precision_dtype": func(c *TrainConfig, v string) error {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "float32":
			case "float16":
				c.Notes = append(c.Notes, "precision_dtype=float16: training runs in float32 (there is no half-precision arithmetic on the CPU)")
			default:
				return fmt.Errorf("want float32 or float16")
			}
			return nil
		},
		"kv_store": func(c *TrainConfig, v string) error {
			switch strings.TrimSpace(v) {
			case "dist_sync", "dist_async":
				c.Notes = append(c.Notes, fmt.Sprintf("kv_store=%s has no effect: training runs on a single machine", strings.TrimSpace(v)))
				return nil
			}
			return fmt.Errorf("want dist_sync or dist_async")
		},
		"checkpoint_frequency": func(c *TrainConfig, v string) error {
			n, err := parseInt(v, 1, 100000)
			if err != nil {
				return err
			}
			c.Notes = append(c.Notes, fmt.Sprintf("checkpoint_frequency=%d: only the final model is written (no per-epoch checkpoints)", n))
			c.checkpointFrequency = n
			return nil
		},
		// scones extension: the random seed (weights, shuffling, augmentation).
		"seed": func(c *TrainConfig, v string) error {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("want a non-negative integer")
			}
			c.Seed = n
			return nil
		},
		// Set by SageMaker automatic model tuning; it names the metric the
		// tuner watches, which this algorithm logs anyway.
		"_tuning_objective_metric": func(c *TrainConfig, v string) error {
			switch strings.TrimSpace(v) {
			case "validation:accuracy", "train:accuracy", "":
				return nil
			}
			return fmt.Errorf("this algorithm emits validation:accuracy and train:accuracy, not %q", v)
		},
	}
}

func describeStages(st []Stage) string {
	var b strings.Builder
	for i, s := range st {
		if i > 0 {
			b.WriteString("-")
		}
		fmt.Fprintf(&b, "%d", s.Out)
	}
	return "conv " + b.String() + " channels"
}

func floatField(f func(*TrainConfig) *float64) hyperHandler {
	return func(c *TrainConfig, v string) error {
		x, err := parseFloat(v, 0, 1)
		*f(c) = x
		return err
	}
}

func parseInt(v string, lo, hi int) (int, error) {
	s := strings.TrimSpace(v)
	n, err := strconv.Atoi(s)
	if err != nil {
		// Accept integral floats such as "30.0", which some SDKs produce.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1e15 {
			return 0, fmt.Errorf("want an integer, got %q", v)
		}
		n = int(f)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("want an integer in [%d, %d], got %d", lo, hi, n)
	}
	return n, nil
}

func parseFloat(v string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("want a number, got %q", v)
	}
	if f < lo || f > hi {
		return 0, fmt.Errorf("want a number in [%g, %g], got %g", lo, hi, f)
	}
	return f, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("want True/False or 1/0, got %q", v)
}

// ParseHyperparameters turns SageMaker hyperparameters (all values are
// strings, as in /opt/ml/input/config/hyperparameters.json) into a
// TrainConfig, starting from DefaultTrainConfig. It refuses unknown names,
// malformed or out-of-range values, and settings this implementation cannot
// honour, with an error naming the hyperparameter. num_classes and
// num_training_samples are required, as on AWS.
//
// Differences from the built-in algorithm, also recorded in cfg.Notes when
// the corresponding name is given:
//   - num_layers (ResNet depth on AWS) is validated against the AWS depths
//     but the network is always the package's small CNN.
//   - use_pretrained_model=1 and multi_label=1 are refused.
//   - precision_dtype=float16 trains in float32; kv_store has no effect;
//     checkpoint_frequency is validated but only the final model is written
//     (AWS by default keeps the epoch with the best validation accuracy; this
//     classifier always keeps the last epoch, so the validation channel is
//     never used to pick the model).
//   - resize: images are resized directly to image_shape.
//   - Without lr_scheduler_step the learning rate follows a cosine decay
//     (AWS keeps it constant); with it, the step schedule is honoured.
//   - Defaults that differ from AWS: epochs 50 (AWS 30), image_shape
//     3,32,32 (AWS 3,224,224), augmentation_type crop (AWS none),
//     weight_decay 0.0005 (AWS 0.0001), momentum 0.9.
//   - augmentation_type also accepts "none"; "seed" is a scones extension.
func ParseHyperparameters(hp map[string]string) (TrainConfig, error) {
	cfg := DefaultTrainConfig()
	names := make([]string, 0, len(hp))
	for n := range hp {
		names = append(names, n)
	}
	sort.Strings(names)
	handlers := hyperHandlers()
	var unknown []string
	for _, n := range names {
		if _, ok := handlers[n]; !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return cfg, fmt.Errorf("unknown hyperparameter(s) %s; accepted names: %s", strings.Join(unknown, ", "), strings.Join(HyperparameterNames(), ", "))
	}
	for _, req := range []string{"num_classes", "num_training_samples"} {
		if _, ok := hp[req]; !ok {
			return cfg, fmt.Errorf("missing required hyperparameter %s", req)
		}
	}
	// image_shape first so that notes mentioning the size are accurate.
	order := append([]string(nil), names...)
	sort.SliceStable(order, func(i, j int) bool { return order[i] == "image_shape" && order[j] != "image_shape" })
	for _, n := range order {
		if err := handlers[n](&cfg, hp[n]); err != nil {
			return cfg, fmt.Errorf("hyperparameter %s=%q: %v", n, hp[n], err)
		}
	}
	if cfg.TopK > cfg.NumClasses {
		return cfg, fmt.Errorf("hyperparameter top_k=%d must not exceed num_classes=%d", cfg.TopK, cfg.NumClasses)
	}
	if cfg.checkpointFrequency > cfg.Epochs {
		return cfg, fmt.Errorf("hyperparameter checkpoint_frequency=%d must not exceed epochs=%d", cfg.checkpointFrequency, cfg.Epochs)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}
