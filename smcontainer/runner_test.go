package smcontainer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildFake builds testdata/fakealgo once per test binary run.
func buildFake(t testing.TB) string {
	t.Helper()
	fakeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fakealgo-*")
		if err != nil {
			fakeErr = err
			return
		}
		fakePath = filepath.Join(dir, "fakealgo")
		out, err := exec.Command("go", "build", "-o", fakePath, "./testdata/fakealgo").CombinedOutput()
		if err != nil {
			fakeErr = errors.New(string(out))
		}
	})
	if fakeErr != nil {
		t.Fatal(fakeErr)
	}
	return fakePath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fakePath != "" {
		os.RemoveAll(filepath.Dir(fakePath))
	}
	os.Exit(code)
}

var (
	fakeOnce sync.Once
	fakePath string
	fakeErr  error
)

func TestIsImageClassification(t *testing.T) {
	for img, want := range map[string]bool{
		"811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1":      true,
		"811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:latest": true,
		"433757028032.dkr.ecr.us-west-2.amazonaws.com/image-classification:1":      true,
		"390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/image-classification:1":  true,
		"811284229777.dkr.ecr.us-west-2.amazonaws.com/image-classification:1":      false, // wrong account
		"811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:2":      false,
		"811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1":                   false,
		"image-classification:1": false,
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/my-classifier:latest":        false,
		"811284229777.dkr.ecr.us-east-1.amazonaws.com.evil/image-classification:1": false,
	} {
		if got := IsImageClassification(img); got != want {
			t.Errorf("%s: got %v", img, got)
		}
	}
	for region := range imageClassificationRegistries {
		if !IsImageClassification(ImageClassificationURI(region)) {
			t.Errorf("%s: own URI not recognised", region)
		}
	}
}

func TestUnknownImage(t *testing.T) {
	r, _ := New(Options{})
	_, err := r.Resolve("123456789012.dkr.ecr.us-east-1.amazonaws.com/nope:1")
	var ue *UnknownImageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `"123456789012.dkr.ecr.us-east-1.amazonaws.com/nope:1"`) {
		t.Fatalf("err = %v", err)
	}
	if err := r.Train(context.Background(), Spec{Image: "nope", Root: t.TempDir()}); !errors.As(err, &ue) {
		t.Fatalf("train err = %v", err)
	}
}

func fakeRunner(t *testing.T) *Runner {
	r, err := New(Options{Images: map[string]Program{"fake:1": {Name: "fakealgo", Path: buildFake(t)}},
		StopTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func writeInput(t *testing.T, root string, hp map[string]string) {
	os.MkdirAll(filepath.Join(root, "input/config"), 0o755)
	os.MkdirAll(filepath.Join(root, "input/data/train"), 0o755)
	os.MkdirAll(filepath.Join(root, "model"), 0o755)
	b, _ := json.Marshal(hp)
	os.WriteFile(filepath.Join(root, "input/config/hyperparameters.json"), b, 0o644)
	os.WriteFile(filepath.Join(root, "input/data/train/a.png"), []byte("x"), 0o644)
}

// lines collects a job's or endpoint's output lines.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) add(s string) { l.mu.Lock(); l.l = append(l.l, s); l.mu.Unlock() }
func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

// invokeFake checks fakealgo's answer to an invocation at url.
func invokeFake(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url+"/invocations", "image/png", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `{"bytes":5,"model":{"train":1}}` {
		t.Errorf("invocation: %s", b)
	}
}

func TestProcessTrainAndServe(t *testing.T) {
	r := fakeRunner(t)
	root := t.TempDir()
	writeInput(t, root, map[string]string{})
	var out lines
	if err := r.Train(context.Background(), Spec{Name: "job1", Kind: "job", Image: "fake:1", Root: root, Output: out.add}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Epoch[2] Validation-accuracy=0.600000") {
		t.Errorf("output: %q", out.String())
	}
	var serveOut lines
	inst, err := r.Serve(context.Background(), Spec{Name: "ep1", Kind: "endpoint", Image: "fake:1", Root: root, StartupTimeout: 10 * time.Second, Output: serveOut.add})
	if err != nil {
		t.Fatal(err)
	}
	invokeFake(t, inst.URL)
	if !strings.Contains(serveOut.String(), "fakealgo listening on 127.0.0.1:") {
		t.Errorf("serve output %q: want it listening on 127.0.0.1 (HostEnv)", serveOut.String())
	}
	if err := inst.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inst.Done():
	default:
		t.Error("not done after Stop")
	}
}

func TestProcessTrainFailureAndCancel(t *testing.T) {
	r := fakeRunner(t)
	root := t.TempDir()
	writeInput(t, root, map[string]string{"fail": "bad value for epochs"})
	err := r.Train(context.Background(), Spec{Name: "j", Image: "fake:1", Root: root})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "output/failure")); string(b) != "ClientError: bad value for epochs" {
		t.Errorf("failure file %q", b)
	}
	root2 := t.TempDir()
	writeInput(t, root2, map[string]string{"sleep": "30s"})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	if err := r.Train(ctx, Spec{Name: "j2", Image: "fake:1", Root: root2}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("stop took too long")
	}
	if b, _ := os.ReadFile(filepath.Join(root2, "model/partial")); string(b) != "stopped" {
		t.Errorf("SIGTERM not delivered: %q", b)
	}
}

func TestServeFailsWithoutModel(t *testing.T) {
	r := fakeRunner(t)
	_, err := r.Serve(context.Background(), Spec{Name: "ep", Image: "fake:1", Root: t.TempDir(), StartupTimeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited before answering /ping") {
		t.Fatalf("err = %v", err)
	}
}

func TestScratchDockerfile(t *testing.T) {
	got := ScratchImage{Files: map[string]string{"/b": "x/b", "/a": "y/a"}, Entrypoint: []string{"/a", "serve"}, Env: map[string]string{"K": "v"}}.Dockerfile()
	want := "# Generated by smcontainer: static Go binaries on an empty base.\nFROM scratch\nCOPY a /a\nCOPY b /b\nENV K=\"v\"\nENTRYPOINT [\"/a\", \"serve\"]\n"
	if got != want {
		t.Errorf("got\n%s", got)
	}
}
