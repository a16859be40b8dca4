// Package serving is SageMaker Runtime's InvokeEndpoint in front of running
// model containers: it forwards POST /endpoints/{name}/invocations to the
// chosen production variant's container (POST /invocations) over a
// keep-alive HTTP client, answers with AWS's headers and error shapes
// (ValidationError, ModelError with OriginalStatusCode/OriginalMessage/
// LogStreamArn), and records sampled invocations with the variant's data
// capture writer.
//
// The emulator's SageMaker and the stub endpoint container share it.
// Nothing on the invocation path touches a store: the only per-request
// write is the capture buffer.
package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/scones/scones/emulator/sagemaker/capture"
)

// Request and response headers of InvokeEndpoint.
const (
	HeaderCustomAttributes = "X-Amzn-SageMaker-Custom-Attributes"
	HeaderTargetVariant    = "X-Amzn-SageMaker-Target-Variant"
	HeaderInferenceID      = "X-Amzn-SageMaker-Inference-Id"
	HeaderInvokedVariant   = "X-Amzn-Invoked-Production-Variant"
)

// MaxPayload is SageMaker's real-time request payload limit (6 MB).
const MaxPayload = 6 << 20

// DefaultTimeout is how long an invocation may take, as in SageMaker.
const DefaultTimeout = 60 * time.Second

// Variant is one production variant and its running container.
type Variant struct {
	Name   string
	Weight float64
	// URL is the container's base URL; invocations go to URL+"/invocations".
	URL string
	// Capture records sampled invocations; nil when capture is off.
	Capture *capture.Writer
}

// Endpoint is a servable endpoint: its variants, ready to take traffic.
type Endpoint struct {
	Name     string
	Variants []*Variant
}

// Proxy forwards invocations. Its zero value is not usable; use NewProxy.
type Proxy struct {
	AccountID string
	Region    string
	Timeout   time.Duration
	client    *http.Client
}

// NewProxy returns a Proxy with a keep-alive client for local containers.
func NewProxy(accountID, region string) *Proxy {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Proxy{AccountID: accountID, Region: region, Timeout: DefaultTimeout, client: &http.Client{Transport: tr}}
}

// CloseIdle closes idle connections to containers.
func (p *Proxy) CloseIdle() { p.client.CloseIdleConnections() }

// InvocationEndpoint returns the endpoint name of an InvokeEndpoint path,
// /endpoints/{name}/invocations.
func InvocationEndpoint(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/endpoints/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/invocations")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// Error is a SageMaker Runtime error response.
type Error struct {
	Status int
	Code   string // ValidationError, ModelError, InternalFailure, ...
	Body   map[string]any
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Code, e.Body["message"]) }

// ValidationError builds a 400 ValidationError.
func ValidationError(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "ValidationError", Body: map[string]any{"message": fmt.Sprintf(format, args...)}}
}

// EndpointNotFound is SageMaker Runtime's error for an unknown endpoint.
func EndpointNotFound(name, accountID string) *Error {
	return ValidationError("Endpoint %s of account %s not found.", name, accountID)
}

// WriteError writes e in SageMaker Runtime's REST-JSON error shape.
func WriteError(w http.ResponseWriter, e *Error) {
	body, _ := json.Marshal(e.Body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-ErrorType", e.Code)
	if h.Get("x-amzn-RequestId") == "" {
		h.Set("x-amzn-RequestId", uuid.NewString())
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}

func (p *Proxy) logGroup(endpoint string) string { return "/aws/sagemaker/Endpoints/" + endpoint }

// modelError is the 424 answer when the container returns non-2xx.
func (p *Proxy) modelError(endpoint string, status int, msg string) *Error {
	kind, code := "client", "CLIENT_ERROR_FROM_MODEL"
	if status >= 500 {
		kind, code = "server", "SERVER_ERROR_FROM_MODEL"
	}
	group := p.logGroup(endpoint)
	return &Error{Status: http.StatusFailedDependency, Code: "ModelError", Body: map[string]any{
		"ErrorCode":          code,
		"LogStreamArn":       fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", p.Region, p.AccountID, group),
		"Message":            fmt.Sprintf("Received %s error (%d) from primary with message \"%s\". See https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logEventViewer:group=%s in account %s for more information.", kind, status, msg, p.Region, p.Region, group, p.AccountID),
		"OriginalMessage":    msg,
		"OriginalStatusCode": status,
	}}
}

// pick chooses the variant: the target variant when named, else by weight.
func pick(ep *Endpoint, target string) (*Variant, *Error) {
	if target != "" {
		for _, v := range ep.Variants {
			if v.Name == target {
				return v, nil
			}
		}
		return nil, ValidationError("The variant %s is not found for endpoint %s.", target, ep.Name)
	}
	if len(ep.Variants) == 1 {
		return ep.Variants[0], nil
	}
	if len(ep.Variants) == 0 {
		return nil, ValidationError("Endpoint %s has no production variants in service.", ep.Name)
	}
	var total float64
	for _, v := range ep.Variants {
		total += v.Weight
	}
	if total <= 0 {
		return ep.Variants[rand.IntN(len(ep.Variants))], nil
	}
	x := rand.Float64() * total
	for _, v := range ep.Variants {
		if x < v.Weight {
			return v, nil
		}
		x -= v.Weight
	}
	return ep.Variants[len(ep.Variants)-1], nil
}

// Invoke serves one InvokeEndpoint request for ep.
func (p *Proxy) Invoke(w http.ResponseWriter, r *http.Request, ep *Endpoint) {
	if err := p.invoke(w, r, ep); err != nil {
		WriteError(w, err)
	}
}

func (p *Proxy) invoke(w http.ResponseWriter, r *http.Request, ep *Endpoint) *Error {
	if r.Method != http.MethodPost {
		return ValidationError("InvokeEndpoint must be a POST request.")
	}
	v, e := pick(ep, r.Header.Get(HeaderTargetVariant))
	if e != nil {
		return e
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.Timeout)
	defer cancel()
	req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, v.URL+"/invocations", bytes.NewReader(body))
	if rerr != nil {
		return &Error{Status: 500, Code: "InternalFailure", Body: map[string]any{"message": rerr.Error()}}
	}
	inCT := r.Header.Get("Content-Type")
	if inCT != "" {
		req.Header.Set("Content-Type", inCT)
	}
	if a := r.Header.Get("Accept"); a != "" {
		req.Header.Set("Accept", a)
	}
	if ca := r.Header.Get(HeaderCustomAttributes); ca != "" {
		req.Header.Set(HeaderCustomAttributes, ca)
	}
	when := time.Now()
	resp, derr := p.client.Do(req)
	if derr != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return p.modelError(ep.Name, 0, "Your invocation timed out while waiting for a response from container primary.")
		}
		return p.modelError(ep.Name, 0, "the model container is not reachable: "+derr.Error())
	}
	out, rerr2 := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr2 != nil {
		return p.modelError(ep.Name, resp.StatusCode, "reading the model container's response: "+rerr2.Error())
	}
	if !capture.IsSuccess(resp.StatusCode) {
		return p.modelError(ep.Name, resp.StatusCode, strings.TrimSpace(string(out)))
	}
	outCT := resp.Header.Get("Content-Type")
	if v.Capture != nil && v.Capture.Sample() {
		v.Capture.Record(capture.Event{Time: when, InferenceID: r.Header.Get(HeaderInferenceID),
			InputContentType: inCT, Input: body, OutputContentType: outCT, Output: out})
	}
	h := w.Header()
	if outCT != "" {
		h.Set("Content-Type", outCT)
	}
	if ca := resp.Header.Get(HeaderCustomAttributes); ca != "" {
		h.Set(HeaderCustomAttributes, ca)
	}
	h.Set(HeaderInvokedVariant, v.Name)
	h.Set("x-amzn-RequestId", uuid.NewString())
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	return nil
}

func readBody(r *http.Request) ([]byte, *Error) {
	if r.ContentLength > MaxPayload {
		return nil, ValidationError("Request payload of %d bytes exceeds the maximum of %d bytes.", r.ContentLength, MaxPayload)
	}
	n := r.ContentLength
	if n < 0 {
		n = 512
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+1))
	if _, err := io.Copy(buf, io.LimitReader(r.Body, MaxPayload+1)); err != nil {
		return nil, ValidationError("Cannot read the request body: %v", err)
	}
	if buf.Len() > MaxPayload {
		return nil, ValidationError("Request payload exceeds the maximum of %d bytes.", MaxPayload)
	}
	return buf.Bytes(), nil
}
