package cifar_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/fixtures"
)

// fixtureServer serves the committed python archive and records requests.
type fixtureServer struct {
	*httptest.Server
	data []byte
	mu   sync.Mutex
	reqs []*http.Request
	// hook, if set, handles a request instead of the default (return true).
	hook func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newFixtureServer(t *testing.T) *fixtureServer {
	t.Helper()
	data, err := fixtures.Committed(fixtures.MiniPython)
	if err != nil {
		t.Fatal(err)
	}
	s := &fixtureServer{data: data}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		n := len(s.reqs)
		s.mu.Unlock()
		if s.hook != nil && s.hook(n, w, r) {
			return
		}
		w.Header().Set("ETag", `"fixture-1"`)
		http.ServeContent(w, r, "a.tar.gz", time.Unix(1238544000, 0), bytes.NewReader(s.data))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fixtureServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func (s *fixtureServer) req(i int) *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[i]
}

func (s *fixtureServer) checksum() cifar.Checksum {
	h := md5.Sum(s.data)
	return cifar.Checksum{Size: int64(len(s.data)), MD5: hex.EncodeToString(h[:])}
}

func TestKnownChecksums(t *testing.T) {
	c, ok := cifar.KnownChecksum(cifar.PythonURL)
	if !ok || c.Size != 169001437 || c.MD5 != "eb9058c3a382ffc7106e4002c42a8d85" {
		t.Fatalf("python: %v", c)
	}
	c, ok = cifar.KnownChecksum("http://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz")
	if !ok || c.Size != 168513733 || c.MD5 != "03b5dce01913d631647c71ecec9e9cb8" {
		t.Fatalf("binary: %v", c)
	}
	if _, ok := cifar.KnownChecksum("https://example.com/cifar-100-python.tar.gz"); ok {
		t.Fatal("unknown URL has a checksum")
	}
	if got := cifar.CachePath("/c", cifar.PythonURL); got != "/c/cifar-100-python.tar.gz" {
		t.Fatal(got)
	}
	a, b := cifar.CachePath("/c", "http://a/x/cifar.tar.gz"), cifar.CachePath("/c", "http://b/x/cifar.tar.gz")
	if a == b || !strings.HasSuffix(a, "-cifar.tar.gz") {
		t.Fatalf("cache paths %s %s", a, b)
	}
}

func TestDownloadCacheHit(t *testing.T) {
	s := newFixtureServer(t)
	cache := t.TempDir()
	url := s.URL + "/cifar-100-python.tar.gz"
	var calls int
	p, err := cifar.Download(context.Background(), url, cache, s.checksum(), func(done, total int64) {
		calls++
		if total != int64(len(s.data)) {
			t.Errorf("total %d", total)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatal("no progress reported")
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.data) {
		t.Fatal("cached file differs")
	}
	p2, err := cifar.Download(context.Background(), url, cache, s.checksum(), nil)
	if err != nil || p2 != p {
		t.Fatalf("second download: %v %s", err, p2)
	}
	if n := s.count(); n != 1 {
		t.Fatalf("%d requests, want 1 (cache hit)", n)
	}
	// Open on the URL uses the same cache and reads the archive.
	a, err := cifar.Open(context.Background(), url, cifar.WithCacheDir(cache), cifar.WithChecksum(s.checksum()))
	if err != nil {
		t.Fatal(err)
	}
	if a.Path() != p || s.count() != 1 {
		t.Fatalf("Open downloaded again (%d requests) or used %s", s.count(), a.Path())
	}
	if len(collect(t, a)) != fixtures.MiniDataset().Train.Len()+fixtures.MiniDataset().Test.Len() {
		t.Fatal("record count")
	}
	// Without a checksum, a custom URL is cached and reused too.
	url2 := s.URL + "/other.tar.gz"
	if _, err := cifar.Download(context.Background(), url2, cache, cifar.Checksum{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cifar.Download(context.Background(), url2, cache, cifar.Checksum{}, nil); err != nil {
		t.Fatal(err)
	}
	if n := s.count(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestDownloadChecksumMismatch(t *testing.T) {
	s := newFixtureServer(t)
	cache := t.TempDir()
	url := s.URL + "/x.tar.gz"
	bad := s.checksum()
	bad.MD5 = strings.Repeat("0", 32)
	_, err := cifar.Download(context.Background(), url, cache, bad, nil)
	if !errors.Is(err, cifar.ErrChecksum) || !strings.Contains(err.Error(), "want "+bad.MD5) {
		t.Fatalf("want a checksum error, got %v", err)
	}
	t.Log(err)
	if left, _ := filepath.Glob(filepath.Join(cache, "*")); len(left) != 0 {
		t.Fatalf("files left in the cache: %v", left)
	}
	// The bad file is not reused: the next call downloads again, and fails again.
	if _, err := cifar.Download(context.Background(), url, cache, bad, nil); !errors.Is(err, cifar.ErrChecksum) {
		t.Fatal(err)
	}
	if s.count() != 2 {
		t.Fatalf("%d requests, want 2", s.count())
	}
	// Wrong size is caught from the response header, before the body.
	wrongSize := s.checksum()
	wrongSize.Size++
	if _, err := cifar.Download(context.Background(), url, cache, wrongSize, nil); !errors.Is(err, cifar.ErrChecksum) || !strings.Contains(err.Error(), "server offers") {
		t.Fatalf("wrong size: %v", err)
	}
	// A cached file that no longer verifies is fetched again, not used.
	good := s.checksum()
	p, err := cifar.Download(context.Background(), url, cache, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(s.data)
	corrupt[1000] ^= 1
	os.WriteFile(p, corrupt, 0o644)
	n := s.count()
	if _, err := cifar.Download(context.Background(), url, cache, good, nil); err != nil {
		t.Fatal(err)
	}
	if s.count() != n+1 {
		t.Fatal("corrupted cache entry was not fetched again")
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.data) {
		t.Fatal("cache not repaired")
	}
}

func TestDownloadResume(t *testing.T) {
	s := newFixtureServer(t)
	half := len(s.data) / 2
	// The first response sends half the file and drops the connection.
	s.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		w.Header().Set("ETag", `"fixture-1"`)
		w.Header().Set("Content-Length", itoa(len(s.data)))
		w.WriteHeader(http.StatusOK)
		w.Write(s.data[:half])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return true
	}
	cache := t.TempDir()
	p, err := cifar.Download(context.Background(), s.URL+"/x.tar.gz", cache, s.checksum(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.data) {
		t.Fatal("resumed file differs")
	}
	if s.count() != 2 {
		t.Fatalf("%d requests, want 2", s.count())
	}
	r := s.req(1)
	if got, want := r.Header.Get("Range"), "bytes="+itoa(half)+"-"; got != want {
		t.Fatalf("second request Range %q, want %q", got, want)
	}
	if r.Header.Get("If-Range") != `"fixture-1"` {
		t.Fatalf("If-Range %q", r.Header.Get("If-Range"))
	}
}

func TestDownloadResumeAcrossRuns(t *testing.T) {
	s := newFixtureServer(t)
	cache := t.TempDir()
	url := s.URL + "/x.tar.gz"
	// A previous run was stopped after 1,000 bytes.
	part := cifar.CachePath(cache, url) + ".part"
	os.WriteFile(part, s.data[:1000], 0o644)
	var first int64 = -1
	p, err := cifar.Download(context.Background(), url, cache, s.checksum(), func(done, total int64) {
		if first < 0 {
			first = done
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.data) {
		t.Fatal("file differs")
	}
	if got := s.req(0).Header.Get("Range"); got != "bytes=1000-" {
		t.Fatalf("Range %q", got)
	}
	if first != 1000 {
		t.Fatalf("progress started at %d, want 1000", first)
	}
	// A server that ignores Range gets a full restart, still correct.
	os.Remove(p)
	os.WriteFile(part, []byte("garbage that is not the start of the file"), 0o644)
	s.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Write(s.data)
		return true
	}
	p, err = cifar.Download(context.Background(), url, cache, s.checksum(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.data) {
		t.Fatal("file differs after a range-ignoring server")
	}
}

func TestDownloadServerError(t *testing.T) {
	s := newFixtureServer(t)
	s.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "the disk is on fire", http.StatusInternalServerError)
		return true
	}
	_, err := cifar.Download(context.Background(), s.URL+"/x.tar.gz", t.TempDir(), cifar.Checksum{}, nil)
	if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") || !strings.Contains(err.Error(), "the disk is on fire") {
		t.Fatalf("want a 500 error, got %v", err)
	}
	t.Log(err)
	if s.count() != 1 {
		t.Fatalf("%d requests: status errors are not retried", s.count())
	}
	s.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		http.NotFound(w, r)
		return true
	}
	_, err = cifar.Open(context.Background(), s.URL+"/missing.tar.gz", cifar.WithCacheDir(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Fatalf("want a 404 error, got %v", err)
	}
}

func TestDownloadCancelKeepsPart(t *testing.T) {
	s := newFixtureServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	s.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", itoa(len(s.data)))
		w.Write(s.data[:5000])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	}
	cache := t.TempDir()
	url := s.URL + "/x.tar.gz"
	_, err := cifar.Download(ctx, url, cache, s.checksum(), func(done, total int64) {
		if done >= 5000 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	fi, err := os.Stat(cifar.CachePath(cache, url) + ".part")
	if err != nil || fi.Size() != 5000 {
		t.Fatalf("partial file: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
