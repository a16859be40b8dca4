package classifier

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeHTTP(t *testing.T) {
	m, _ := trainSmall(t, 3)
	srv := httptest.NewServer(NewHandler(m))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ping: %d", resp.StatusCode)
	}

	src := synthImage(testRNG(), 1)
	post := func(ct string, body []byte, accept string) (int, []byte) {
		req, _ := http.NewRequest("POST", srv.URL+"/invocations", bytes.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	want, _ := m.Predict(src)
	for _, c := range []struct {
		name, ct string
		body     []byte
		tol      float64
	}{
		{"png rgba", "image/png", encodePNG(t, src), 1e-6},
		{"png rgb", "image/png", encodePNG(t, toRGB(src)), 1e-6},
		{"x-image png", "application/x-image", encodePNG(t, src), 1e-6},
		{"jpeg", "image/jpeg", encodeJPEG(t, src), 0.5},
		{"x-image jpeg", "application/x-image", encodeJPEG(t, src), 0.5},
	} {
		code, body := post(c.ct, c.body, "application/json")
		if code != 200 {
			t.Fatalf("%s: %d %s", c.name, code, body)
		}
		var probs []float64
		if err := json.Unmarshal(body, &probs); err != nil || len(probs) != 2 {
			t.Fatalf("%s: body %s: %v", c.name, body, err)
		}
		if math.Abs(probs[0]+probs[1]-1) > 1e-5 || math.Abs(probs[1]-want[1]) > c.tol {
			t.Fatalf("%s: probs %v, direct predict %v", c.name, probs, want)
		}
	}
	for _, c := range []struct {
		name, ct string
		body     []byte
		accept   string
		code     int
		msg      string
	}{
		{"garbage png", "image/png", []byte("definitely not a png"), "", 400, "decode png"},
		{"truncated png", "image/png", encodePNG(t, src)[:60], "", 400, "decode png"},
		{"garbage x-image", "application/x-image", []byte("hello"), "", 400, "not a PNG or JPEG"},
		{"empty body", "image/png", nil, "", 400, "empty"},
		{"wrong type", "text/csv", []byte("1,2,3"), "", 415, "unsupported content type"},
		{"bad accept", "image/png", encodePNG(t, src), "text/csv", 406, "application/json"},
	} {
		code, body := post(c.ct, c.body, c.accept)
		if code != c.code || !strings.Contains(string(body), c.msg) {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.name, code, body, c.code, c.msg)
		}
	}
	resp, err = http.Get(srv.URL + "/invocations")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("GET /invocations: %d", resp.StatusCode)
	}
}

func TestDecodeImageContentTypes(t *testing.T) {
	png := encodePNG(t, synthImage(testRNG(), 0))
	for _, ct := range []string{"image/png", "IMAGE/PNG; charset=binary", "application/x-image", ""} {
		if _, err := DecodeImage(ct, png); err != nil {
			t.Errorf("%q: %v", ct, err)
		}
	}
	if _, err := DecodeImage("image/jpeg", png); err == nil {
		t.Error("PNG bytes accepted as image/jpeg")
	}
}

// TestRunTrainingContract runs the SageMaker training contract end to end
// on a synthetic channel tree, then serves the result from the model dir.
func TestRunTrainingContract(t *testing.T) {
	hp := `{"num_classes":"2","num_training_samples":"48","image_shape":"3,32,32","epochs":"2","mini_batch_size":"16","num_layers":"18","seed":"5"}`
	root := writeChannelTree(t, t.TempDir(), 48, 16, hp)
	var log bytes.Buffer
	if err := RunTraining(context.Background(), root, NewContainerLogger(&log, 1)); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	out := log.String()
	for _, want := range []string{"] Epoch[0] Train-accuracy=", "] Epoch[1] Validation-accuracy=", "num_layers=18", "INFO 1]"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "output", "failure")); err == nil {
		t.Error("failure file written on success")
	}
	m, err := LoadModelDir(filepath.Join(root, "model"))
	if err != nil {
		t.Fatal(err)
	}
	if m.NumClasses() != 2 {
		t.Fatal("classes")
	}
	// Bad hyperparameters: failure file and no model.
	root2 := writeChannelTree(t, t.TempDir(), 8, 4, `{"num_classes":"2","num_training_samples":"8","bogus":"1"}`)
	err = RunTraining(context.Background(), root2, NewContainerLogger(io.Discard, 1))
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("err = %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(root2, "output", "failure"))
	if !strings.Contains(string(b), "unknown hyperparameter(s) bogus") {
		t.Fatalf("failure file: %q", b)
	}
}
