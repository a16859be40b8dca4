package httpserver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bytesConn is a connection whose client sent in and then stopped; what
// the server writes is kept.
type bytesConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *bytesConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *bytesConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *bytesConn) Close() error                { return nil }
func (c *bytesConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4566} }
func (c *bytesConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *bytesConn) SetDeadline(time.Time) error      { return nil }
func (c *bytesConn) SetReadDeadline(time.Time) error  { return nil }
func (c *bytesConn) SetWriteDeadline(time.Time) error { return nil }

// served is what the fuzz handler saw of one request.
type served struct {
	method, path string
	body         []byte
}

// fuzzHandler behaves by path, the ways the emulator's handlers do:
// echo the body, ignore it, stream, set a status.
func fuzzHandler(log *[]served) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := served{method: r.Method, path: r.URL.Path}
		defer func() { *log = append(*log, s) }()
		switch {
		case strings.HasPrefix(r.URL.Path, "/echo"):
			s.body, _ = io.ReadAll(r.Body)
			w.Write(s.body)
		case strings.HasPrefix(r.URL.Path, "/half"):
			b := make([]byte, 7)
			n, _ := r.Body.Read(b)
			w.Write(b[:n])
		case strings.HasPrefix(r.URL.Path, "/stream"):
			w.Header().Set("Content-Type", "text/plain")
			for i := range 3 {
				w.Write(bytes.Repeat([]byte{'a' + byte(i)}, 3000))
				w.(http.Flusher).Flush()
			}
		case strings.HasPrefix(r.URL.Path, "/status"):
			code, err := strconv.Atoi(r.URL.Query().Get("c"))
			if err != nil || code < 100 || code > 999 {
				code = 400
			}
			w.Header().Set("X-Query", r.URL.RawQuery)
			w.WriteHeader(code)
			w.Write([]byte("status body"))
		case strings.HasPrefix(r.URL.Path, "/length"):
			w.Header().Set("Content-Length", r.URL.Query().Get("n"))
			w.Write([]byte("0123456789"))
		default:
			w.Header().Set("X-Path", r.URL.Path)
		}
	})
}

// FuzzServeConn feeds arbitrary bytes to one connection: the server must
// not panic or stop, must answer every request its handler served with a
// well-formed response, in order, and echo bodies exactly.
func FuzzServeConn(f *testing.F) {
	for _, ex := range exchanges {
		f.Add([]byte(ex.raw))
	}
	f.Add([]byte(get("/stream") + "HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n" + get("/status?c=103") + get("/length?n=4")))
	f.Add([]byte("POST /half HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n" + get("/x")))
	f.Add([]byte("PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc" + get("/status?c=304")))
	f.Fuzz(func(t *testing.T, in []byte) {
		var log []served
		var panics bytes.Buffer
		srv := &Server{Handler: fuzzHandler(&log), Logger: slog.New(slog.NewTextHandler(&panics, nil)), MaxHeaderBytes: 4096}
		srv.mu.Lock()
		srv.initLocked()
		srv.mu.Unlock()
		bc := &bytesConn{in: bytes.NewReader(in)}
		c := &conn{srv: srv, rwc: bc}
		done := make(chan struct{})
		go func() { defer close(done); c.serve() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("serving %q took over 10 s:\n%s", in, buf[:runtime.Stack(buf, true)])
		}
		if strings.Contains(panics.String(), "panic") {
			t.Fatalf("panic serving %q:\n%s", in, panics.String())
		}
		br := bufio.NewReader(&bc.out)
		for i, s := range log {
			var resp *http.Response
			for {
				var err error
				resp, err = http.ReadResponse(br, &http.Request{Method: s.method})
				if err != nil {
					t.Fatalf("response %d (%s %s) of %q: %v\nwire: %q", i, s.method, s.path, in, err, bc.out.String())
				}
				if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
					break
				}
				io.Copy(io.Discard, resp.Body)
			}
			body, err := io.ReadAll(resp.Body)
			// A body shorter than its declared length ends the connection
			// early: that response is the last.
			if err != nil && !(i == len(log)-1 && errors.Is(err, io.ErrUnexpectedEOF)) {
				t.Fatalf("response %d (%s %s) body of %q: %v\nwire: %q", i, s.method, s.path, in, err, bc.out.String())
			}
			if strings.HasPrefix(s.path, "/echo") && s.method != http.MethodHead && bodyAllowedForStatus(resp.StatusCode) && !bytes.Equal(body, s.body) {
				t.Fatalf("echo %d of %q: sent back %q, read %q", i, in, body, s.body)
			}
		}
	})
}
