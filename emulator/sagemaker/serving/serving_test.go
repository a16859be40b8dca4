package serving

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scones/scones/emulator/sagemaker/capture"
)

func TestInvocationEndpoint(t *testing.T) {
	for path, want := range map[string]string{
		"/endpoints/bikes/invocations":   "bikes",
		"/endpoints/a-b-1/invocations":   "a-b-1",
		"/endpoints//invocations":        "",
		"/endpoints/a/b/invocations":     "",
		"/endpoints/bikes":               "",
		"/2015-03-31/functions/x/invoke": "",
	} {
		got, ok := InvocationEndpoint(path)
		if got != want || ok != (want != "") {
			t.Errorf("%s: %q %v", path, got, ok)
		}
	}
}

type putter struct{ n int }

func (p *putter) Put(context.Context, string, string, []byte) error { p.n++; return nil }

func TestInvokeProxiesAndCaptures(t *testing.T) {
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/invocations" {
			t.Errorf("path %s", r.URL.Path)
		}
		body, _ := io.ReadAll(r.Body)
		if string(body) == "bad" {
			http.Error(w, "unsupported body", http.StatusUnsupportedMediaType)
			return
		}
		if string(body) == "crash" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(HeaderCustomAttributes, "seen="+r.Header.Get(HeaderCustomAttributes)+",accept="+r.Header.Get("Accept"))
		w.Write([]byte(`[0.25, 0.75]`))
	}))
	defer model.Close()
	p := &putter{}
	cfg, _ := capture.ConfigFrom(&capture.DataCaptureConfig{InitialSamplingPercentage: ptr(100), DestinationS3Uri: "s3://b/c",
		CaptureOptions: []capture.CaptureOption{{CaptureMode: "InputAndOutput"}}})
	w, _ := capture.NewWriter(cfg, p, capture.Options{Endpoint: "ep", Variant: "v1", FlushInterval: -1})
	ep := &Endpoint{Name: "ep", Variants: []*Variant{{Name: "v1", Weight: 1, URL: model.URL, Capture: w}}}
	proxy := NewProxy("111122223333", "eu-west-1")
	do := func(body string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/endpoints/ep/invocations", strings.NewReader(body))
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		proxy.Invoke(rec, r, ep)
		return rec
	}
	rec := do("img", map[string]string{"Content-Type": "image/png", "Accept": "application/json", HeaderCustomAttributes: "a=1", HeaderInferenceID: "i1"})
	if rec.Code != 200 || rec.Body.String() != `[0.25, 0.75]` || rec.Header().Get(HeaderInvokedVariant) != "v1" ||
		rec.Header().Get(HeaderCustomAttributes) != "seen=a=1,accept=application/json" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("ok: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	if w.Pending() != 1 {
		t.Errorf("pending %d", w.Pending())
	}
	for body, status := range map[string]int{"bad": 415, "crash": 500} {
		rec = do(body, nil)
		var e map[string]any
		json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != 424 || rec.Header().Get("x-amzn-ErrorType") != "ModelError" || e["OriginalStatusCode"] != float64(status) ||
			!strings.HasPrefix(e["LogStreamArn"].(string), "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/sagemaker/Endpoints/ep") {
			t.Errorf("%s: %d %s", body, rec.Code, rec.Body)
		}
	}
	if w.Pending() != 1 {
		t.Errorf("failed invocations were captured: %d", w.Pending())
	}
	rec = do("x", map[string]string{HeaderTargetVariant: "nope"})
	if rec.Code != 400 || rec.Header().Get("x-amzn-ErrorType") != "ValidationError" {
		t.Errorf("target variant: %d %s", rec.Code, rec.Body)
	}
	big := strings.Repeat("x", MaxPayload+1)
	if rec = do(big, nil); rec.Code != 400 {
		t.Errorf("too large: %d", rec.Code)
	}
	model.Close()
	if rec = do("x", nil); rec.Code != 424 {
		t.Errorf("container down: %d %s", rec.Code, rec.Body)
	}
	w.Close(context.Background())
	if p.n != 1 {
		t.Errorf("files %d", p.n)
	}
}

func TestPickByWeight(t *testing.T) {
	ep := &Endpoint{Name: "e", Variants: []*Variant{{Name: "a", Weight: 3}, {Name: "b", Weight: 1}}}
	n := map[string]int{}
	for range 4000 {
		v, err := pick(ep, "")
		if err != nil {
			t.Fatal(err)
		}
		n[v.Name]++
	}
	if n["a"] < 2700 || n["a"] > 3300 {
		t.Errorf("weights: %v", n)
	}
}

func ptr(n int) *int { return &n }
