package s3_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/scones/scones/emulator"
)

func startServer(t testing.TB, opts emulator.Options) *emulator.Server {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	srv, err := emulator.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// newClient is aws-sdk-go-v2's S3 client with the settings
// config.LoadDefaultConfig gives (request checksums and response
// validation "when supported"), path-style. A bare aws.Config leaves both
// unset, and then the SDK sends no checksums at all, so they are set here
// explicitly.
func newClient(url string, opts ...func(*s3.Options)) *s3.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported}
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
		// Objects without a checksum (a multipart upload created without
		// one) are legitimate; don't log each read of one.
		o.DisableLogOutputChecksumValidationSkipped = true
	}}, opts...)...)
}

// env is a running emulator with clients over HTTP and HTTPS.
type env struct {
	srv   *emulator.Server
	url   string
	c     *s3.Client // plain HTTP
	tls   *s3.Client // HTTPS: the SDK sends aws-chunked bodies with trailers
	tlsTS *httptest.Server
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv := startServer(t, emulator.Options{})
	ts := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{
		srv: srv, url: srv.URL(), c: newClient(srv.URL()),
		tls:   newClient(ts.URL, func(o *s3.Options) { o.HTTPClient = ts.Client() }),
		tlsTS: ts,
	}
}

func (e *env) bucket(t testing.TB, name string) string {
	t.Helper()
	if _, err := e.c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// apiCode returns the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	if got := apiCode(err); got != code {
		t.Fatalf("want error %s, got %q (%v)", code, got, err)
	}
}

// raw sends an unsigned request to the emulator (signatures are not
// checked by default; unsigned requests route to S3).
func raw(t testing.TB, method, url string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

type xmlError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

func wantXMLError(t testing.TB, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var e xmlError
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not S3 XML: %v: %s", err, body)
	}
	if e.Code != code || e.Message == "" || e.RequestID == "" {
		t.Fatalf("error %+v, want code %s with message and request id", e, code)
	}
	if resp.Header.Get("x-amz-request-id") != e.RequestID {
		t.Fatalf("x-amz-request-id %q differs from body RequestId %q", resp.Header.Get("x-amz-request-id"), e.RequestID)
	}
}

// localhostDialer dials 127.0.0.1:port for every address, so that
// virtual-host-style names like bkt.localhost:port reach the emulator.
func localhostClient(port string) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, "127.0.0.1:"+port)
	}}}
}
