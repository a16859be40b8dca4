// Package faults injects failures and latency into the emulator, per
// service and operation, so that tests can prove a workflow survives what
// AWS does on a bad day: throttling, 5xx faults, slow responses.
//
// A rule matches a service's signing name ("lambda", "s3", ...) and an
// operation ("Invoke", "PutObject", ...; empty or "*" matches all). When a
// rule matches, the call waits Latency, then fails with probability Rate
// with the rule's error. Rules apply to HTTP requests at the edge and to
// the in-process calls services make to each other (Step Functions invoking
// Lambda), so a fault looks the same whichever way the call came.
package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scones/scones/emulator/awsapi"
)

// Rule is one injected fault.
type Rule struct {
	Service   string `json:"service"`
	Operation string `json:"operation,omitempty"`
	// Rate is the probability (0..1) that a matching call fails.
	Rate float64 `json:"rate"`
	// Code and Status are the AWS error returned, e.g.
	// TooManyRequestsException/429 or ServiceException/500.
	Code    string `json:"code,omitempty"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// Latency is added to every matching call, failing or not.
	Latency Duration `json:"latency,omitempty"`
}

// Duration is a time.Duration that reads and writes as "150ms" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "150ms" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("latency %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("latency: want a duration string like \"150ms\"")
	}
	*d = Duration(n)
	return nil
}

// Validate checks a rule and fills defaults.
func (r *Rule) Validate() error {
	if r.Service == "" {
		return fmt.Errorf("fault rule: service is required")
	}
	if r.Rate < 0 || r.Rate > 1 {
		return fmt.Errorf("fault rule for %s: rate %v must be between 0 and 1", r.Service, r.Rate)
	}
	if r.Latency < 0 {
		return fmt.Errorf("fault rule for %s: latency must not be negative", r.Service)
	}
	if r.Rate > 0 && r.Code == "" {
		r.Code = "ServiceUnavailable"
	}
	if r.Rate > 0 && r.Status == 0 {
		r.Status = http.StatusServiceUnavailable
		if r.Code == "TooManyRequestsException" || r.Code == "ThrottlingException" {
			r.Status = http.StatusTooManyRequests
		}
	}
	if r.Rate > 0 && (r.Status < 400 || r.Status > 599) {
		return fmt.Errorf("fault rule for %s: status %d is not an error status", r.Service, r.Status)
	}
	if r.Message == "" {
		r.Message = "fault injected by the scones emulator"
	}
	return nil
}

func (r *Rule) matches(service, op string) bool {
	return r.Service == service && (r.Operation == "" || r.Operation == "*" || r.Operation == op)
}

// Injector holds the active rules. Make one with New; a nil *Injector
// injects nothing.
type Injector struct {
	// active is whether rules is non-empty: every request of every
	// service calls Check, and without rules it returns without taking mu.
	active atomic.Bool
	mu     sync.Mutex
	rules  []Rule
	rng    *rand.Rand
	stats  map[string]int
}

// New returns an injector whose coin flips follow seed.
func New(seed uint64) *Injector {
	return &Injector{rng: rand.New(rand.NewPCG(seed, 0xfa017)), stats: map[string]int{}}
}

// Set replaces the rules after validating all of them.
func (in *Injector) Set(rules []Rule) error {
	for i := range rules {
		if err := rules[i].Validate(); err != nil {
			return err
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = append([]Rule(nil), rules...)
	in.active.Store(len(in.rules) > 0)
	return nil
}

// Rules returns a copy of the active rules.
func (in *Injector) Rules() []Rule {
	if in == nil {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Rule(nil), in.rules...)
}

// Injected returns how many faults were injected per "service:operation".
func (in *Injector) Injected() map[string]int {
	if in == nil {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]int, len(in.stats))
	for k, v := range in.stats {
		out[k] = v
	}
	return out
}

// Check applies the rules to a call: it sleeps for their latency and
// returns the error to fail with, or nil.
func (in *Injector) Check(ctx context.Context, service, op string) *awsapi.Error {
	if in == nil || !in.active.Load() {
		return nil
	}
	in.mu.Lock()
	if len(in.rules) == 0 {
		in.mu.Unlock()
		return nil
	}
	var delay time.Duration
	var fail *awsapi.Error
	for i := range in.rules {
		r := &in.rules[i]
		if !r.matches(service, op) {
			continue
		}
		delay += time.Duration(r.Latency)
		if fail == nil && r.Rate > 0 && in.rng.Float64() < r.Rate {
			fail = &awsapi.Error{Status: r.Status, Code: r.Code, Message: r.Message, Fault: r.Status >= 500}
			in.stats[service+":"+op]++
		}
	}
	in.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return fail
}
