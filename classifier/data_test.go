package classifier

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t testing.TB, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestParseLST(t *testing.T) {
	es, err := ParseLST(strings.NewReader("16\t0\tbike_s_000682.png\n\n30\t1.000000\tsub/dir/x.png\r\n"), "m.lst")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Index != 16 || es[0].Label != 0 || es[1].Label != 1 || es[1].Path != "sub/dir/x.png" || es[1].Line != 3 {
		t.Fatalf("entries = %+v", es)
	}
	for _, c := range []struct{ in, want string }{
		{"", "empty .lst"},
		{"\n\n", "empty .lst"},
		{"1 0 a.png\n", "m.lst:1: want index<TAB>label<TAB>path"},
		{"1\t0\ta.png\nx\t0\tb.png\n", "m.lst:2: bad index"},
		{"1\tbike\ta.png\n", "bad label"},
		{"1\t0.5\ta.png\n", "bad label"},
		{"1\t-1\ta.png\n", "bad label"},
		{"1\t0\t1\ta.png\n", "multi-label"},
		{"1\t0\t \n", "empty image path"},
	} {
		_, err := ParseLST(strings.NewReader(c.in), "m.lst")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseLST(%q) error %v, want it to mention %q", c.in, err, c.want)
		}
	}
}

func TestLoadLSTErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ok.png"), string(encodePNG(t, synthImage(testRNG(), 0))))
	writeFile(t, filepath.Join(dir, "corrupt.png"), "\x89PNG\r\n\x1a\nthis is not really a png")
	writeFile(t, filepath.Join(dir, "text.png"), "hello")
	cases := []struct{ lst, want string }{
		{"1\t0\tmissing.png\n", "missing.png"},
		{"1\t0\tok.png\n2\t1\tcorrupt.png\n", "corrupt.png"},
		{"1\t0\ttext.png\n", "not a PNG or JPEG"},
		{"1\t0\t../escape.png\n", "inside the channel"},
		{"1\t0\t/etc/passwd\n", "inside the channel"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, "m.lst")
		writeFile(t, p, c.lst)
		_, err := LoadLST(p, dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadLST(%q) error %v, want it to mention %q", c.lst, err, c.want)
		}
	}
	if _, err := LoadLST(filepath.Join(dir, "nope.lst"), dir); err == nil {
		t.Error("missing .lst accepted")
	}
	writeFile(t, filepath.Join(dir, "empty.lst"), "")
	if _, err := LoadLST(filepath.Join(dir, "empty.lst"), dir); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty .lst: %v", err)
	}
}

func TestLoadChannelsErrors(t *testing.T) {
	hp := `{"num_classes":"2","num_training_samples":"8","epochs":"1","mini_batch_size":"4"}`
	t.Run("ok", func(t *testing.T) {
		root := writeChannelTree(t, t.TempDir(), 8, 4, hp)
		tr, va, err := LoadChannels(Paths{Root: root}, t.Logf)
		if err != nil || len(tr) != 8 || len(va) != 4 {
			t.Fatalf("got %d/%d, %v", len(tr), len(va), err)
		}
	})
	for _, c := range []struct {
		name   string
		mutate func(root string)
		want   string
	}{
		{"missing train channel", func(r string) { os.RemoveAll(filepath.Join(r, "input", "data", "train")) }, "channel train: directory"},
		{"missing validation_lst channel", func(r string) { os.RemoveAll(filepath.Join(r, "input", "data", "validation_lst")) }, "validation_lst"},
		{"missing channel in config", func(r string) {
			writeFile(t, filepath.Join(r, "input", "config", "inputdataconfig.json"), `{"train":{"ContentType":"application/x-image"},"train_lst":{}}`)
		}, `required channel "validation" is missing`},
		{"recordio", func(r string) {
			writeFile(t, filepath.Join(r, "input", "config", "inputdataconfig.json"), `{"train":{"ContentType":"application/x-recordio"},"validation":{},"train_lst":{},"validation_lst":{}}`)
		}, "RecordIO"},
		{"pipe mode", func(r string) {
			writeFile(t, filepath.Join(r, "input", "config", "inputdataconfig.json"), `{"train":{"TrainingInputMode":"Pipe"},"validation":{},"train_lst":{},"validation_lst":{}}`)
		}, "Pipe"},
		{"no lst file", func(r string) { os.Remove(filepath.Join(r, "input", "data", "train_lst", "train.lst")) }, "no .lst file"},
		{"empty lst", func(r string) { writeFile(t, filepath.Join(r, "input", "data", "train_lst", "train.lst"), "") }, "empty .lst"},
		{"corrupt image", func(r string) {
			writeFile(t, filepath.Join(r, "input", "data", "train", "img", "train_003.png"), "\x89PNG\r\n\x1a\ngarbage")
		}, "train_003.png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := writeChannelTree(t, t.TempDir(), 8, 4, hp)
			c.mutate(root)
			_, _, err := LoadChannels(Paths{Root: root}, t.Logf)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
			// The training contract reports the same error in output/failure.
			err = RunTraining(context.Background(), root, t.Logf)
			if err == nil {
				t.Fatal("RunTraining succeeded")
			}
			b, rerr := os.ReadFile(filepath.Join(root, "output", "failure"))
			if rerr != nil || !strings.Contains(string(b), c.want) {
				t.Fatalf("failure file %q (%v), want it to mention %q", b, rerr, c.want)
			}
			if _, err := os.Stat(filepath.Join(root, "model", ModelFileName)); err == nil {
				t.Fatal("model written despite failure")
			}
		})
	}
}

func TestTrainRejectsBadLabels(t *testing.T) {
	ex := synthExamples(6, 1)
	ex[3].Label = 5
	cfg := DefaultTrainConfig()
	cfg.Epochs = 1
	_, _, err := Train(context.Background(), cfg, ex, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "label 5 out of range") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParseLST parses arbitrary .lst text: no panic, and what it accepts
// is sound: labels non-negative, paths non-empty and trimmed, one line per
// entry in order.
func FuzzParseLST(f *testing.F) {
	for _, s := range []string{"0\t1\ttest/bicycle_s_000001.png\n", "3\t1.000000\ta.png\r\n\n4\t0\tb.png\n", "1\t1\t2\tx\n", "1e3\t0\tx\n", "1\t-1\tx\n", "1\tNaN\tx\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		es, err := ParseLST(bytes.NewReader(in), "fuzz.lst")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.lst") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for i, e := range es {
			if e.Label < 0 || e.Path == "" || e.Path != strings.TrimSpace(e.Path) || strings.ContainsAny(e.Path, "\t\n") {
				t.Fatalf("accepted %+v from %q", e, in)
			}
			if i > 0 && e.Line <= es[i-1].Line {
				t.Fatalf("lines out of order: %+v after %+v", e, es[i-1])
			}
		}
	})
}
