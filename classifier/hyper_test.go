package classifier

import (
	"strings"
	"testing"
)

func base(extra map[string]string) map[string]string {
	hp := map[string]string{"num_classes": "2", "num_training_samples": "1000", "image_shape": "3,32,32"}
	for k, v := range extra {
		hp[k] = v
	}
	return hp
}

func TestParseHyperparametersDefaults(t *testing.T) {
	cfg, err := ParseHyperparameters(base(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultTrainConfig()
	d.NumTrainingSamples = 1000
	if cfg.Epochs != d.Epochs || cfg.LearningRate != d.LearningRate || cfg.NumClasses != 2 || cfg.Height != 32 || cfg.NumTrainingSamples != 1000 {
		t.Fatalf("cfg = %+v", cfg)
	}
}

func TestParseHyperparametersAll(t *testing.T) {
	cfg, err := ParseHyperparameters(base(map[string]string{
		"epochs": "12", "learning_rate": "0.05", "mini_batch_size": "64", "optimizer": "nag",
		"momentum": "0.8", "weight_decay": "0.0001", "beta_1": "0.8", "beta_2": "0.99", "eps": "1e-7",
		"gamma": "0.95", "lr_scheduler_factor": "0.5", "lr_scheduler_step": "4, 8",
		"augmentation_type": "crop_color", "early_stopping": "True", "early_stopping_min_epochs": "3",
		"early_stopping_patience": "2", "early_stopping_tolerance": "0.01", "top_k": "2",
		"use_weighted_loss": "1", "use_pretrained_model": "0", "multi_label": "0", "num_layers": "18",
		"resize": "40", "precision_dtype": "float16", "kv_store": "dist_sync", "checkpoint_frequency": "3",
		"seed": "42", "image_shape": "3, 24, 28",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Epochs != 12 || cfg.LearningRate != 0.05 || cfg.MiniBatchSize != 64 || cfg.Optimizer != "nag" ||
		cfg.Momentum != 0.8 || cfg.LRSchedulerFactor != 0.5 || len(cfg.LRSchedulerStep) != 2 || cfg.LRSchedulerStep[1] != 8 ||
		cfg.Augmentation != "crop_color" || !cfg.EarlyStopping || cfg.EarlyStoppingPatience != 2 || cfg.TopK != 2 ||
		!cfg.UseWeightedLoss || cfg.Seed != 42 || cfg.Height != 24 || cfg.Width != 28 || cfg.Eps != 1e-7 {
		t.Fatalf("cfg = %+v", cfg)
	}
	// Accepted names whose behaviour differs leave a note.
	notes := strings.Join(cfg.Notes, "\n")
	for _, want := range []string{"num_layers=18", "resize=40", "float16", "kv_store", "checkpoint_frequency"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if !strings.Contains(notes, "24x28") {
		t.Errorf("resize note should name the image_shape size: %s", notes)
	}
}

func TestParseHyperparametersRefusals(t *testing.T) {
	cases := []struct {
		name string
		hp   map[string]string
		want string
	}{
		{"unknown name", base(map[string]string{"learningrate": "0.1"}), "unknown hyperparameter(s) learningrate"},
		{"missing num_classes", map[string]string{"num_training_samples": "10"}, "missing required hyperparameter num_classes"},
		{"missing num_training_samples", map[string]string{"num_classes": "2"}, "num_training_samples"},
		{"bad int", base(map[string]string{"epochs": "ten"}), "epochs"},
		{"zero epochs", base(map[string]string{"epochs": "0"}), "epochs"},
		{"fractional int", base(map[string]string{"mini_batch_size": "3.5"}), "mini_batch_size"},
		{"bad float", base(map[string]string{"learning_rate": "fast"}), "learning_rate"},
		{"lr out of range", base(map[string]string{"learning_rate": "2"}), "learning_rate"},
		{"lr zero", base(map[string]string{"learning_rate": "0"}), "learning_rate"},
		{"momentum out of range", base(map[string]string{"momentum": "-0.1"}), "momentum"},
		{"bad optimizer", base(map[string]string{"optimizer": "lbfgs"}), "optimizer"},
		{"bad augmentation", base(map[string]string{"augmentation_type": "rotate"}), "augmentation_type"},
		{"bad image_shape", base(map[string]string{"image_shape": "32,32"}), "image_shape"},
		{"grey image_shape", base(map[string]string{"image_shape": "1,32,32"}), "3-channel"},
		{"bad bool", base(map[string]string{"early_stopping": "maybe"}), "early_stopping"},
		{"pretrained", base(map[string]string{"use_pretrained_model": "1"}), "use_pretrained_model"},
		{"multi label", base(map[string]string{"multi_label": "1"}), "multi_label"},
		{"odd num_layers", base(map[string]string{"num_layers": "7"}), "num_layers"},
		{"top_k too big", base(map[string]string{"top_k": "3"}), "top_k"},
		{"top_k one", base(map[string]string{"top_k": "1"}), "top_k"},
		{"decreasing steps", base(map[string]string{"lr_scheduler_step": "10,5"}), "lr_scheduler_step"},
		{"checkpoint beyond epochs", base(map[string]string{"epochs": "5", "checkpoint_frequency": "6"}), "checkpoint_frequency"},
		{"bad precision", base(map[string]string{"precision_dtype": "int8"}), "precision_dtype"},
		{"one class", base(map[string]string{"num_classes": "1"}), "num_classes"},
		{"batch of one", base(map[string]string{"mini_batch_size": "1"}), "mini_batch_size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHyperparameters(c.hp)
			if err == nil {
				t.Fatalf("accepted %v", c.hp)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestHyperparameterNamesCoverBuiltIn(t *testing.T) {
	// The SageMaker built-in image-classification algorithm's names.
	builtin := []string{"num_classes", "num_training_samples", "augmentation_type", "beta_1", "beta_2",
		"checkpoint_frequency", "early_stopping", "early_stopping_min_epochs", "early_stopping_patience",
		"early_stopping_tolerance", "epochs", "eps", "gamma", "image_shape", "kv_store", "learning_rate",
		"lr_scheduler_factor", "lr_scheduler_step", "mini_batch_size", "momentum", "multi_label", "num_layers",
		"optimizer", "precision_dtype", "resize", "top_k", "use_pretrained_model", "use_weighted_loss", "weight_decay"}
	have := map[string]bool{}
	for _, n := range HyperparameterNames() {
		have[n] = true
	}
	for _, n := range builtin {
		if !have[n] {
			t.Errorf("built-in hyperparameter %s not accepted", n)
		}
	}
}

func TestReadHyperparametersNonStrings(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/hp.json"
	writeFile(t, p, `{"num_classes": 2, "epochs": "3", "early_stopping": true}`)
	hp, err := ReadHyperparameters(p)
	if err != nil {
		t.Fatal(err)
	}
	if hp["num_classes"] != "2" || hp["epochs"] != "3" || hp["early_stopping"] != "true" {
		t.Fatalf("hp = %v", hp)
	}
	writeFile(t, p, `{"num_classes": [2]}`)
	if _, err := ReadHyperparameters(p); err == nil {
		t.Fatal("array value accepted")
	}
	writeFile(t, p, `not json`)
	if _, err := ReadHyperparameters(p); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}
