package faults

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func TestRateAndMatching(t *testing.T) {
	in := New(1)
	if err := in.Set([]Rule{{Service: "lambda", Operation: "Invoke", Rate: 0.2, Code: "TooManyRequestsException"}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	failed := 0
	for i := 0; i < 10000; i++ {
		if e := in.Check(ctx, "lambda", "Invoke"); e != nil {
			failed++
			if e.Code != "TooManyRequestsException" || e.Status != 429 {
				t.Fatalf("error = %+v", e)
			}
		}
	}
	if failed < 1800 || failed > 2200 {
		t.Errorf("%d of 10000 failed at rate 0.2", failed)
	}
	if in.Check(ctx, "lambda", "GetFunction") != nil || in.Check(ctx, "s3", "Invoke") != nil {
		t.Error("rule matched another operation or service")
	}
	if got := in.Injected()["lambda:Invoke"]; got != failed {
		t.Errorf("Injected = %d, want %d", got, failed)
	}
}

func TestLatency(t *testing.T) {
	in := New(1)
	in.Set([]Rule{{Service: "s3", Latency: Duration(20 * time.Millisecond)}})
	t0 := time.Now()
	if in.Check(context.Background(), "s3", "GetObject") != nil {
		t.Fatal("latency-only rule failed the call")
	}
	if d := time.Since(t0); d < 20*time.Millisecond {
		t.Errorf("waited %s, want >= 20ms", d)
	}
}

func TestValidate(t *testing.T) {
	for _, bad := range []Rule{{Rate: 0.5}, {Service: "s3", Rate: 2}, {Service: "s3", Rate: 0.5, Status: 200}, {Service: "s3", Latency: -1}} {
		if err := New(1).Set([]Rule{bad}); err == nil {
			t.Errorf("rule %+v accepted", bad)
		}
	}
	var r Rule
	if err := json.Unmarshal([]byte(`{"service":"lambda","rate":0.1,"latency":"5ms"}`), &r); err != nil || time.Duration(r.Latency) != 5*time.Millisecond {
		t.Fatalf("decode: %+v %v", r, err)
	}
	if err := json.Unmarshal([]byte(`{"service":"lambda","latency":"soon"}`), &r); err == nil {
		t.Error("bad latency accepted")
	}
	var nilInjector *Injector
	if nilInjector.Check(context.Background(), "s3", "x") != nil {
		t.Error("nil injector injected")
	}
}
