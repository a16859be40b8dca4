// Package awsapi holds what every emulated service shares: the environment a
// service is built with, the Service interface the edge routes to, and the
// writers for AWS's wire shapes (JSON, REST-JSON, REST-XML and query
// protocol responses and errors).
package awsapi

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scones/scones/emulator/store"
)

// Service is one emulated AWS service behind the edge.
type Service interface {
	// Name is the SigV4 signing name the edge routes on: "s3", "sts",
	// "iam", "lambda", "states", "sagemaker".
	Name() string
	http.Handler
}

// Closer is implemented by services that hold resources (processes,
// goroutines, buffered writes) that must be released on shutdown.
type Closer interface {
	Close(ctx context.Context) error
}

// Env is what a service is built with.
type Env struct {
	Region    string
	AccountID string
	// Store holds all state. A service names its tables "<service>/<what>".
	Store  store.Store
	Logger *slog.Logger
	// BaseURL returns the emulator's own URL (http://127.0.0.1:PORT), for
	// processes the emulator starts (Lambda functions, containers) that
	// must call back into it. It is valid once the server listens.
	BaseURL func() string
	// TimeScale multiplies every wait the emulator itself performs (Step
	// Functions Wait states and retry intervals, ...): 1 is real time, 0
	// does not wait at all.
	TimeScale float64
	// Now returns the current time. Tests may replace it.
	Now func() time.Time
	// VerifySignatures is set when the edge checks every request's
	// signature. S3 then also checks every hex x-amz-content-sha256, the
	// payload hash SigV4 signs; without it, only when the body carries no
	// other digest.
	VerifySignatures bool
	// Faults decides injected failures and latency. Services consult it
	// for calls that do not come through the edge (one service calling
	// another in-process); the edge consults it for every request. It is
	// never nil in an Env built by the emulator.
	Faults FaultChecker
}

// FaultChecker applies injected faults to a call of a service's operation:
// it waits any injected latency and returns the error to fail with, or nil.
type FaultChecker interface {
	Check(ctx context.Context, service, operation string) *Error
}

// FaultInjector is implemented by services that apply fault rules
// themselves, once they know the operation; the edge then leaves their
// requests alone.
type FaultInjector interface {
	InjectsFaults() bool
}

// QueryService is implemented by query-protocol services (IAM, STS). A
// request signed with SigV2 carries no credential scope; the edge routes
// it by its Version parameter, which names the service's API version.
type QueryService interface {
	APIVersion() string
}

// OperationNamer is implemented by REST services so that fault rules and
// logs can name the operation of a request.
type OperationNamer interface {
	Operation(r *http.Request) string
}

// NewRequestID returns a fresh request id in AWS's format (a UUID v4).
// Its bits come from math/rand/v2's generator (ChaCha8, seeded per
// process), not crypto/rand: a request id has to be unique, not secret,
// and math/rand/v2 costs a sixth of crypto/rand's 84 ns per id here, with
// no state to set up on first use, when the first response waits for it.
func NewRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	// Formatted on the stack: one allocation, the string. Every response
	// of every service carries one.
	var u [36]byte
	hex.Encode(u[0:8], b[0:4])
	u[8] = '-'
	hex.Encode(u[9:13], b[4:6])
	u[13] = '-'
	hex.Encode(u[14:18], b[6:8])
	u[18] = '-'
	hex.Encode(u[19:23], b[8:10])
	u[23] = '-'
	hex.Encode(u[24:36], b[10:16])
	return string(u[:])
}

// PercentEncode percent-encodes every byte of s but RFC 3986's unreserved
// characters (A-Z a-z 0-9 - _ . ~), in upper-case hex: a space is %20,
// never "+" (which boto3 would not decode back in a policy). IAM returns
// policy documents so, and query-protocol SigV2 canonicalises parameters
// so.
func PercentEncode(s string) string {
	// url.QueryEscape leaves the same characters alone but writes a space
	// as "+"; mending its output is simpler than a loop of our own.
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// ParseQueryForm reads a query-protocol request (IAM, STS): form-encoded
// parameters from the body of a POST or the URL of a GET. It returns the
// Action and all parameters.
func ParseQueryForm(r *http.Request) (string, url.Values, error) {
	if err := r.ParseForm(); err != nil {
		return "", nil, &Error{Status: http.StatusBadRequest, Code: "MalformedQueryString", Message: "cannot parse form body: " + err.Error()}
	}
	action := r.Form.Get("Action")
	if action == "" {
		return "", nil, &Error{Status: http.StatusBadRequest, Code: "MissingAction", Message: "the request must contain the parameter Action"}
	}
	return action, r.Form, nil
}

// ValidName reports whether name is 1 to max characters of ASCII letters,
// digits, '_' and the bytes of extra: the shape of AWS resource names
// ("[a-zA-Z0-9-_]{1,64}" is ValidName(name, 64, "-")). A regular
// expression with a bounded repetition compiles to a program the size of
// the bound, built at every start of every binary that links it.
func ValidName(name string, max int, extra string) bool {
	if len(name) == 0 || len(name) > max {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}
