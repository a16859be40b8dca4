package classifier

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultMLRoot is the SageMaker container root. The binary lets a flag or
// the SCONES_ML_ROOT environment variable move it, for running as a local
// process.
const DefaultMLRoot = "/opt/ml"

// MLRootEnv is the environment variable that overrides DefaultMLRoot.
const MLRootEnv = "SCONES_ML_ROOT"

// Paths are the SageMaker container paths under a root.
type Paths struct{ Root string }

func (p Paths) Config(name string) string {
	return filepath.Join(p.Root, "input", "config", name)
}
func (p Paths) Channel(name string) string { return filepath.Join(p.Root, "input", "data", name) }
func (p Paths) ModelDir() string           { return filepath.Join(p.Root, "model") }
func (p Paths) OutputDir() string          { return filepath.Join(p.Root, "output") }
func (p Paths) FailureFile() string        { return filepath.Join(p.Root, "output", "failure") }

// ChannelConfig is one entry of inputdataconfig.json.
type ChannelConfig struct {
	ContentType        string `json:"ContentType"`
	TrainingInputMode  string `json:"TrainingInputMode"`
	S3DistributionType string `json:"S3DistributionType"`
	RecordWrapperType  string `json:"RecordWrapperType"`
	CompressionType    string `json:"CompressionType"`
}

// ResourceConfig is resourceconfig.json.
type ResourceConfig struct {
	CurrentHost string   `json:"current_host"`
	Hosts       []string `json:"hosts"`
}

// ReadHyperparameters reads hyperparameters.json. SageMaker writes every
// value as a JSON string; numbers and booleans are accepted too and turned
// into their JSON text. A missing file means no hyperparameters.
func ReadHyperparameters(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		t := strings.TrimSpace(string(v))
		if t == "" || t[0] == '{' || t[0] == '[' || t == "null" {
			return nil, fmt.Errorf("%s: hyperparameter %s must be a string, got %s", path, k, t)
		}
		out[k] = t
	}
	return out, nil
}

// LoadChannels reads inputdataconfig.json (if present) and the train,
// validation, train_lst and validation_lst channels. Images are read
// relative to the image channel's directory, using the .lst files found in
// the matching _lst channel (all *.lst files in it, in name order).
func LoadChannels(p Paths, logf Logf) (train, validation []Example, err error) {
	cfgPath := p.Config("inputdataconfig.json")
	b, err := os.ReadFile(cfgPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		logf("%s not found; reading the channels from %s", cfgPath, filepath.Join(p.Root, "input", "data"))
	case err != nil:
		return nil, nil, err
	default:
		var cc map[string]ChannelConfig
		if err := json.Unmarshal(b, &cc); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", cfgPath, err)
		}
		names := make([]string, 0, len(cc))
		for n := range cc {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			c := cc[n]
			switch n {
			case "train", "validation", "train_lst", "validation_lst":
			case "model":
				return nil, nil, fmt.Errorf("%s: channel %q (incremental training) is not supported", cfgPath, n)
			default:
				return nil, nil, fmt.Errorf("%s: unknown channel %q; this algorithm reads train, validation, train_lst and validation_lst", cfgPath, n)
			}
			ct := strings.ToLower(strings.TrimSpace(c.ContentType))
			switch ct {
			case "", "application/x-image", "image/png", "image/jpeg":
			case "application/x-recordio", "application/x-recordio-protobuf":
				return nil, nil, fmt.Errorf("channel %s: content type %s (RecordIO) is not supported; use application/x-image with .lst channels", n, c.ContentType)
			default:
				return nil, nil, fmt.Errorf("channel %s: content type %q is not supported; use application/x-image", n, c.ContentType)
			}
			if m := c.TrainingInputMode; m != "" && m != "File" && m != "FastFile" {
				return nil, nil, fmt.Errorf("channel %s: TrainingInputMode %s is not supported; use File", n, m)
			}
			if c.CompressionType != "" && c.CompressionType != "None" {
				return nil, nil, fmt.Errorf("channel %s: CompressionType %s is not supported", n, c.CompressionType)
			}
		}
		for _, need := range []string{"train", "validation", "train_lst", "validation_lst"} {
			if _, ok := cc[need]; !ok {
				return nil, nil, fmt.Errorf("%s: required channel %q is missing (the image format needs train, validation, train_lst and validation_lst)", cfgPath, need)
			}
		}
	}
	var sets [2][]Example
	for i, ch := range []string{"train", "validation"} {
		imgDir := p.Channel(ch)
		lstDir := p.Channel(ch + "_lst")
		if st, err := os.Stat(imgDir); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("channel %s: directory %s not found", ch, imgDir)
		}
		if st, err := os.Stat(lstDir); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("channel %s_lst: directory %s not found", ch, lstDir)
		}
		var lsts []string
		err := filepath.WalkDir(lstDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(strings.ToLower(d.Name()), ".lst") {
				lsts = append(lsts, path)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("channel %s_lst: %w", ch, err)
		}
		if len(lsts) == 0 {
			return nil, nil, fmt.Errorf("channel %s_lst: no .lst file in %s", ch, lstDir)
		}
		sort.Strings(lsts)
		for _, l := range lsts {
			ex, err := LoadLST(l, imgDir)
			if err != nil {
				return nil, nil, fmt.Errorf("channel %s: %w", ch, err)
			}
			sets[i] = append(sets[i], ex...)
		}
		logf("channel %s: %d images from %d .lst file(s)", ch, len(sets[i]), len(lsts))
	}
	return sets[0], sets[1], nil
}

// RunTraining executes the SageMaker training contract under root: it reads
// the hyperparameters, resource config and channels, trains, and writes the
// model to <root>/model/ModelFileName (atomically). On failure it writes the
// reason to <root>/output/failure and returns the error; the caller should
// exit non-zero.
func RunTraining(ctx context.Context, root string, logf Logf) (err error) {
	p := Paths{Root: root}
	defer func() {
		if err != nil {
			if werr := writeFailure(p, err); werr != nil {
				err = fmt.Errorf("%w (and writing %s failed: %v)", err, p.FailureFile(), werr)
			}
		}
	}()
	hp, err := ReadHyperparameters(p.Config("hyperparameters.json"))
	if err != nil {
		return err
	}
	cfg, err := ParseHyperparameters(hp)
	if err != nil {
		return err
	}
	if b, rerr := os.ReadFile(p.Config("resourceconfig.json")); rerr == nil {
		var rc ResourceConfig
		if err := json.Unmarshal(b, &rc); err != nil {
			return fmt.Errorf("%s: %w", p.Config("resourceconfig.json"), err)
		}
		if len(rc.Hosts) > 1 {
			return fmt.Errorf("resourceconfig.json lists %d hosts; distributed training is not supported (use InstanceCount 1)", len(rc.Hosts))
		}
		logf("host %s", rc.CurrentHost)
	} else if !errors.Is(rerr, fs.ErrNotExist) {
		return rerr
	}
	train, val, err := LoadChannels(p, logf)
	if err != nil {
		return err
	}
	model, met, err := Train(ctx, cfg, train, val, logf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.ModelDir(), 0o755); err != nil {
		return err
	}
	data, err := model.MarshalBinary()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(p.ModelDir(), ModelFileName), data); err != nil {
		return err
	}
	logf("training finished in %.1fs: train accuracy %f, validation accuracy %f; model written to %s",
		met.Duration.Seconds(), met.TrainAccuracy, met.ValidationAccuracy, filepath.Join(p.ModelDir(), ModelFileName))
	return nil
}

func writeFailure(p Paths, cause error) error {
	if err := os.MkdirAll(p.OutputDir(), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p.FailureFile(), []byte(cause.Error()+"\n"), 0o644)
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// LoadModelDir loads the model from a SageMaker model directory: the file
// ModelFileName in it, or, if absent, the same file inside a model.tar.gz
// there (the artifact a training job uploads).
func LoadModelDir(dir string) (*Model, error) {
	path := filepath.Join(dir, ModelFileName)
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		m, err := Load(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return m, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tgz := filepath.Join(dir, "model.tar.gz")
	b, terr := os.ReadFile(tgz)
	if terr != nil {
		return nil, fmt.Errorf("no model: neither %s nor %s exists", path, tgz)
	}
	data, err := extractFromTarGz(b, ModelFileName)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tgz, err)
	}
	m, err := Load(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", tgz, ModelFileName, err)
	}
	return m, nil
}

// maxModelFile bounds the one file LoadModelDir reads out of a
// model.tar.gz into memory; the network's weights are a few MiB.
const maxModelFile = 1 << 30

// extractFromTarGz returns the contents of the regular file called name,
// at any depth, in the gzipped tar b. Errors say what is wrong and in
// which entry, as serving.ExtractTarGz's do for the archives the emulator
// unpacks; a file larger than maxModelFile is refused, never cut short,
// and the whole archive must be intact.
func extractFromTarGz(b []byte, name string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not gzip data: %w", err)
	}
	tr := tar.NewReader(zr)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("archive has no %s (%d entries)", name, n)
		}
		if err != nil {
			return nil, fmt.Errorf("truncated or corrupt after %d entries: %w", n, err)
		}
		if h.Typeflag != tar.TypeReg || path.Base(h.Name) != name {
			continue
		}
		if h.Size > maxModelFile {
			return nil, fmt.Errorf("entry %q: %d bytes, more than the %d a model file may have", h.Name, h.Size, maxModelFile)
		}
		// Read through a limit rather than into make([]byte, h.Size): the
		// header's size is only a claim until the bytes are there.
		data, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err == nil && int64(len(data)) != h.Size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, fmt.Errorf("entry %q: truncated or corrupt after %d of %d bytes: %w", h.Name, len(data), h.Size, err)
		}
		// Read on to the end, where gzip checks its CRC-32 and length: an
		// archive cut short or damaged after this entry is refused too.
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return nil, fmt.Errorf("truncated or corrupt after entry %q: %w", h.Name, err)
		}
		return data, nil
	}
}

// NewContainerLogger returns a Logf that writes lines in the built-in
// algorithm's format, "[MM/DD/YYYY HH:MM:SS INFO <id>] message", so that
// the metric regexes for train:accuracy ("Epoch\[\d+\] Train-accuracy=...")
// and validation:accuracy ("Epoch\[\d+\] Validation-accuracy=...") match.
func NewContainerLogger(w io.Writer, id int) Logf {
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		ts := time.Now().UTC().Format("01/02/2006 15:04:05")
		fmt.Fprintf(w, "[%s INFO %d] %s\n", ts, id, msg)
	}
}
