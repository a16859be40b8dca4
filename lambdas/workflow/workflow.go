// Package workflow holds the handlers of the three Scones Unlimited Lambdas
// (serializeImageData, classifyImage, filterLowConfidenceInferences) and the
// event shapes they share. Each lambdas/<name> main package is a few lines
// that build AWS clients from the SDK's default configuration and hand one
// of these handlers to aws-lambda-go (through package lambdas/handler), so
// the handlers are unit-testable with real HTTP peers and the binaries are
// byte-identical locally and on AWS.
//
// # Shapes
//
// The Go Lambdas emit clean JSON: {"statusCode": 200, "body": {...}} with
// body an object and inferences a number array. They accept the quirky
// shapes of the reference Python Lambdas too: body as a JSON string (even a
// JSON string of the whole previous event, as the reference classifier
// returned), inferences as a string such as "[0.93, 0.07]", and image_data
// as a base64 string, possibly in Python's bytes repr "b'...'".
//
// # Errors
//
// Every failure is an *Error whose Type becomes the errorType of Lambda's
// error JSON (handler.New converts it to aws-lambda-go's
// messages.InvokeResponse_Error, the one error value whose type aws-lambda-go
// reports verbatim; for any other error it reports the Go type's name). The
// low-confidence failure has errorType THRESHOLD_CONFIDENCE_NOT_MET, which
// the state machine matches on.
package workflow

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // image.DecodeConfig validates JPEG input
	_ "image/png"  // image.DecodeConfig validates PNG input
	"strconv"
	"strings"

	"github.com/aws/smithy-go"
)

// Error types reported in Lambda's error JSON.
const (
	// ErrThresholdNotMet is filterLowConfidenceInferences' designed failure.
	ErrThresholdNotMet = "THRESHOLD_CONFIDENCE_NOT_MET"
	// ErrInvalidEvent: a key is missing or has the wrong type.
	ErrInvalidEvent = "InvalidEvent"
	// ErrInvalidImage: the data is not a PNG or JPEG image.
	ErrInvalidImage = "InvalidImage"
	// ErrConfiguration: the function's environment is wrong (ENDPOINT_NAME,
	// THRESHOLD).
	ErrConfiguration = "InvalidConfiguration"
	// ErrInvalidModelResponse: the endpoint did not answer with a JSON
	// array of probabilities.
	ErrInvalidModelResponse = "InvalidModelResponse"
)

// Error is a handler failure with the errorType Lambda reports.
type Error struct {
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// awsError turns an SDK error into an *Error typed by the AWS error code
// (NoSuchBucket, NoSuchKey, ValidationError, ModelError...), with what was
// being done in the message.
func awsError(what string, err error) *Error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &Error{Type: ae.ErrorCode(), Message: what + ": " + ae.ErrorCode() + ": " + ae.ErrorMessage()}
	}
	return &Error{Type: "ServiceError", Message: what + ": " + err.Error()}
}

// Body is the workflow's payload, passed from Lambda to Lambda.
type Body struct {
	ImageData  string    `json:"image_data"`
	S3Bucket   string    `json:"s3_bucket"`
	S3Key      string    `json:"s3_key"`
	Inferences []float64 `json:"inferences"`
}

// Response is every function's output: {"statusCode": 200, "body": {...}}.
type Response struct {
	StatusCode int  `json:"statusCode"`
	Body       Body `json:"body"`
}

func ok(b Body) Response {
	if b.Inferences == nil {
		b.Inferences = []float64{}
	}
	return Response{StatusCode: 200, Body: b}
}

// HandlerFunc is a workflow handler: a raw event in, a response out.
type HandlerFunc func(ctx context.Context, event json.RawMessage) (Response, error)

// DecodeBody reads a workflow body from an event in any accepted shape:
// {"body": {...}}, {"body": "<json>"}, the reference classifier's
// {"body": "{\"body\": {...}, \"inferences\": \"[...]\"}"}, or the body's
// fields at the top level. Fields beside "body" override those inside it.
func DecodeBody(event []byte) (Body, error) {
	return decodeBody(event, 0)
}

func decodeBody(raw []byte, depth int) (Body, error) {
	var b Body
	if depth > 4 {
		return b, errorf(ErrInvalidEvent, "body is nested too deeply")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		// A JSON string holding JSON (the reference's json.dumps body).
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return b, errorf(ErrInvalidEvent, "body is not valid JSON: %v", err)
		}
		raw = []byte(s)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return b, errorf(ErrInvalidEvent, "event must be a JSON object, got %s", truncate(string(raw), 40))
	}
	if fields == nil {
		return b, errorf(ErrInvalidEvent, "event is null")
	}
	if inner, ok := fields["body"]; ok && string(inner) != "null" {
		var err error
		if b, err = decodeBody(inner, depth+1); err != nil {
			return b, err
		}
	}
	if v, ok := fields["image_data"]; ok {
		s, err := stringField("image_data", v)
		if err != nil {
			return b, err
		}
		if s != "" {
			b.ImageData = s
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"s3_bucket", &b.S3Bucket}, {"s3_key", &b.S3Key}} {
		if v, ok := fields[f.name]; ok {
			s, err := stringField(f.name, v)
			if err != nil {
				return b, err
			}
			if s != "" {
				*f.dst = s
			}
		}
	}
	if v, ok := fields["inferences"]; ok {
		inf, err := parseInferences(v)
		if err != nil {
			return b, err
		}
		if len(inf) > 0 || b.Inferences == nil {
			b.Inferences = inf
		}
	}
	return b, nil
}

func stringField(name string, v json.RawMessage) (string, error) {
	if string(v) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errorf(ErrInvalidEvent, "%s must be a string, got %s", name, truncate(string(v), 40))
	}
	return s, nil
}

// parseInferences accepts a number array, a string holding one ("[0.93,
// 0.07]", the reference's quirk) or null.
func parseInferences(v json.RawMessage) ([]float64, error) {
	if string(v) == "null" {
		return nil, nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		v = json.RawMessage(s)
	}
	var inf []float64
	if err := json.Unmarshal(v, &inf); err != nil {
		return nil, errorf(ErrInvalidEvent, "inferences must be an array of numbers (or a string holding one), got %s", truncate(string(v), 60))
	}
	return inf, nil
}

// DecodeImage decodes base64 image data (standard or URL alphabet, padded
// or not, possibly in Python's bytes repr b'...') and checks it is a PNG or
// JPEG image. It returns the bytes and their MIME type.
func DecodeImage(data string) ([]byte, string, error) {
	s := strings.TrimSpace(data)
	if len(s) >= 3 && (strings.HasPrefix(s, "b'") && strings.HasSuffix(s, "'") || strings.HasPrefix(s, `b"`) && strings.HasSuffix(s, `"`)) {
		s = s[2 : len(s)-1]
	}
	var img []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if img, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, "", errorf(ErrInvalidImage, "image_data is not base64: %v", err)
	}
	typ, err := CheckImage(img)
	return img, typ, err
}

// CheckImage reports the MIME type of a PNG or JPEG image, or an
// InvalidImage error for anything else (including a truncated header).
func CheckImage(img []byte) (string, error) {
	var typ string
	switch {
	case bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")):
		typ = "image/png"
	case bytes.HasPrefix(img, []byte("\xff\xd8\xff")):
		typ = "image/jpeg"
	default:
		return "", errorf(ErrInvalidImage, "data is not a PNG or JPEG image (%d bytes starting %q)", len(img), truncate(string(img), 8))
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(img)); err != nil {
		return "", errorf(ErrInvalidImage, "data has a %s signature but does not decode: %v", typ, err)
	}
	return typ, nil
}

// ParseThreshold reads the THRESHOLD setting; empty means def.
func ParseThreshold(s string, def float64) (float64, error) {
	if strings.TrimSpace(s) == "" {
		return def, nil
	}
	t, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || t < 0 || t > 1 {
		return 0, errorf(ErrConfiguration, "THRESHOLD must be a number between 0 and 1, got %q", s)
	}
	return t, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
