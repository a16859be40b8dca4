package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testHandler answers by the request's path, so that one server serves
// every case of the differential test.
func testHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/small": // no Content-Length, no Content-Type: both settled by the server
		io.WriteString(w, "<html><body>hello</body></html>")
	case "/typed":
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Length", "11")
		io.WriteString(w, "<a>scone</a>"[:11])
	case "/large": // past the hold-back buffer: chunked
		w.Header().Set("Content-Type", "application/octet-stream")
		for range 5 {
			w.Write(bytes.Repeat([]byte("0123456789"), 300))
		}
	case "/large-cl":
		w.Header().Set("Content-Length", "20000")
		for range 4 {
			w.Write(bytes.Repeat([]byte("abcde"), 1000))
		}
	case "/flush":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first ")
		w.(http.Flusher).Flush()
		io.WriteString(w, "second")
	case "/nocontent":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNoContent)
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
			panic(fmt.Sprintf("Write after 204: %v", err))
		}
	case "/notmodified":
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Etag", `"abc"`)
		w.WriteHeader(http.StatusNotModified)
	case "/echo":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Length", strconv.Itoa(len(b)))
		w.Write(b)
	case "/ignore": // leaves the request body unread
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ignored")
	case "/close-body": // closes the body unread
		r.Body.Close()
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "closed")
	case "/conn-close":
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "bye")
	case "/short": // declares more than it writes
		w.Header().Set("Content-Length", "10")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "12345")
	case "/long": // writes more than it declares
		w.Header().Set("Content-Length", "5")
		w.Header().Set("Content-Type", "text/plain")
		if _, err := io.WriteString(w, "1234567890"); !errors.Is(err, http.ErrContentLength) {
			panic(fmt.Sprintf("Write past Content-Length: %v", err))
		}
	case "/headers":
		h := w.Header()
		h["X-Multi"] = []string{"one", "two"}
		h.Set("X-Newline", "a\r\nb")
		h.Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
		h.Set("X-After", "ignored once the header is written")
		w.WriteHeader(http.StatusTeapot) // superfluous
		io.WriteString(w, "created")
	case "/status":
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(code)
	case "/empty":
	case "/identity":
		w.Header().Set("Transfer-Encoding", "identity")
		w.Header().Set("Content-Type", "text/plain")
		w.Write(bytes.Repeat([]byte("i"), 6000))
	default:
		http.NotFound(w, r)
	}
}

type exchange struct {
	name string
	raw  string // what the client sends, at once
	// methods of the requests in raw, in order, to read their responses
	// (a HEAD response has no body whatever its header says)
	methods []string
	// onlyStatus compares status codes alone: the servers word their
	// refusals differently.
	onlyStatus bool
}

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"
}

func post(path, body string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

var exchanges = []exchange{
	{name: "small body gets a length and a sniffed type", raw: get("/small")},
	{name: "declared type and length", raw: get("/typed")},
	{name: "large body is chunked", raw: get("/large")},
	{name: "large body with a length", raw: get("/large-cl")},
	{name: "flush makes it chunked", raw: get("/flush")},
	{name: "204 has no body", raw: get("/nocontent")},
	{name: "304 drops the type", raw: get("/notmodified")},
	{name: "empty handler", raw: get("/empty")},
	{name: "not found", raw: get("/nowhere")},
	{name: "HEAD keeps the length, drops the body", raw: "HEAD /small HTTP/1.1\r\nHost: x\r\n\r\n", methods: []string{"HEAD"}},
	{name: "HEAD of a large body", raw: "HEAD /large HTTP/1.1\r\nHost: x\r\n\r\n", methods: []string{"HEAD"}},
	{name: "HEAD of a declared length", raw: "HEAD /large-cl HTTP/1.1\r\nHost: x\r\n\r\n", methods: []string{"HEAD"}},
	{name: "echo a body", raw: post("/echo", "scones unlimited")},
	{name: "echo an empty body", raw: post("/echo", "")},
	{name: "echo a chunked body", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"},
	{name: "unread small body is discarded, connection kept", raw: post("/ignore", strings.Repeat("b", 1000)) + get("/small"), methods: []string{"POST", "GET"}},
	{name: "unread large body closes the connection", raw: post("/ignore", strings.Repeat("b", 300<<10))},
	{name: "body closed unread closes the connection", raw: post("/close-body", "some bytes")},
	{name: "pipelined requests", raw: get("/small") + get("/typed") + get("/large"), methods: []string{"GET", "GET", "GET"}},
	{name: "Connection: close from the client", raw: "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
	{name: "Connection: close from the handler", raw: get("/conn-close")},
	{name: "short body closes the connection", raw: get("/short")},
	{name: "long body is cut", raw: get("/long")},
	{name: "headers: many values, line breaks, late changes", raw: get("/headers")},
	{name: "status without body", raw: get("/status?code=202")},
	{name: "unknown status code", raw: get("/status?code=599")},
	{name: "identity transfer encoding", raw: get("/identity")},
	{name: "HTTP/1.0 closes", raw: "GET /small HTTP/1.0\r\n\r\n"},
	{name: "HTTP/1.0 large body", raw: "GET /large HTTP/1.0\r\n\r\n"},
	{name: "HTTP/1.0 keep-alive", raw: "GET /small HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + "GET /typed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", methods: []string{"GET", "GET"}},
	{name: "HTTP/1.0 keep-alive, large body", raw: "GET /large HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
	{name: "Expect: 100-continue, body sent at once", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"},
	{name: "Expect: 100-continue, body not read", raw: "POST /ignore HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"},
	{name: "unknown expectation", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 5\r\n\r\nhello", onlyStatus: true},
	{name: "malformed request line", raw: "GARBAGE\r\n\r\n", onlyStatus: true},
	{name: "missing Host", raw: "GET /small HTTP/1.1\r\n\r\n", onlyStatus: true},
	{name: "header too large", raw: "GET /small HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", onlyStatus: true},
	{name: "unsupported transfer encoding", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", onlyStatus: true},
	{name: "bad chunked framing", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
}

// outcome is what a client saw of one exchange.
type outcome struct {
	responses []seen
	closed    bool // the server closed the connection after them
}

type seen struct {
	status int
	header http.Header
	body   string
	err    string
}

func (o outcome) String() string {
	var b strings.Builder
	for _, r := range o.responses {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range r.header {
				if !yield(k) {
					return
				}
			}
		})
		fmt.Fprintf(&b, "status %d err %q\n", r.status, r.err)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %q\n", k, r.header[k])
		}
		fmt.Fprintf(&b, "  body %d bytes %q\n", len(r.body), truncate(r.body, 80))
	}
	fmt.Fprintf(&b, "closed %v\n", o.closed)
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// run sends ex to the server at addr and reads what comes back.
func run(addr string, ex exchange) outcome {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return outcome{responses: []seen{{err: "dial: " + err.Error()}}}
	}
	defer c.Close()
	go c.Write([]byte(ex.raw)) // may block on a large request the server refuses early
	br := bufio.NewReader(c)
	methods := ex.methods
	if len(methods) == 0 {
		methods = []string{"GET"}
	}
	var o outcome
	for _, m := range methods {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			resp, err := http.ReadResponse(br, &http.Request{Method: m})
			if err != nil {
				o.responses = append(o.responses, seen{err: errClass(err)})
				o.closed = true
				return o
			}
			body, err := io.ReadAll(resp.Body)
			s := seen{status: resp.StatusCode, header: resp.Header, body: string(body)}
			if err != nil {
				s.err = errClass(err)
			}
			delete(s.header, "Date")
			if ex.onlyStatus {
				s.header, s.body = nil, ""
			}
			// Which framing carried the body is part of the wire shape.
			if len(resp.TransferEncoding) > 0 {
				if s.header == nil {
					s.header = http.Header{}
				}
				s.header["Transfer-Encoding"] = resp.TransferEncoding
			}
			if resp.Close && s.header != nil && s.header.Get("Connection") == "" {
				s.header["X-Closes"] = []string{"true"}
			}
			o.responses = append(o.responses, s)
			if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
				break
			}
		}
	}
	// Is the connection still open? A closed one reads EOF (or a reset)
	// at once; an open one times out. The second is generous, for a
	// loaded CI machine: the exchanges run at once (TestSameAsNetHTTP).
	c.SetReadDeadline(time.Now().Add(time.Second))
	var one [1]byte
	_, err = br.Read(one[:])
	var ne net.Error
	o.closed = !(errors.As(err, &ne) && ne.Timeout())
	return o
}

func errClass(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	default:
		return "error"
	}
}

// serve starts srv on a loopback port and returns its address.
func serve(t *testing.T, start func(net.Listener), stop func()) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go start(ln)
	t.Cleanup(stop)
	return ln.Addr().String()
}

// TestSameAsNetHTTP holds this server's responses to net/http's for the
// same handler and the same bytes on the wire: status, header fields but
// Date, body, framing, and whether the connection stays open.
func TestSameAsNetHTTP(t *testing.T) {
	std := &http.Server{Handler: http.HandlerFunc(testHandler), ErrorLog: nil}
	stdAddr := serve(t, func(ln net.Listener) { std.Serve(ln) }, func() { std.Close() })
	own := &Server{Handler: http.HandlerFunc(testHandler)}
	ownAddr := serve(t, func(ln net.Listener) { own.Serve(ln) }, func() { own.Close() })
	// Every exchange at once, against both servers: most wait out the
	// second that tells an open connection.
	want, got := make([]outcome, len(exchanges)), make([]outcome, len(exchanges))
	var wg sync.WaitGroup
	for i, ex := range exchanges {
		wg.Go(func() { want[i] = run(stdAddr, ex) })
		wg.Go(func() { got[i] = run(ownAddr, ex) })
	}
	wg.Wait()
	for i, ex := range exchanges {
		t.Run(ex.name, func(t *testing.T) {
			if got[i].String() != want[i].String() {
				t.Errorf("net/http:\n%s\nhttpserver:\n%s", want[i], got[i])
			}
		})
	}
}

// startOwn serves h with this package's server on a loopback port.
func startOwn(t *testing.T, h http.Handler) (*Server, string, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String(), done
}

func TestHTTP2Refused(t *testing.T) {
	_, addr, _ := startOwn(t, http.HandlerFunc(testHandler))
	o := run(addr, exchange{raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"})
	if len(o.responses) != 1 || o.responses[0].status != http.StatusHTTPVersionNotSupported || !o.closed {
		t.Fatalf("HTTP/2 preface: want 505 and a closed connection, got\n%s", o)
	}
}

// TestExpectContinueWaits sends the body only once the server has asked
// for it, as the AWS CLI does for large uploads.
func TestExpectContinueWaits(t *testing.T) {
	_, addr, _ := startOwn(t, http.HandlerFunc(testHandler))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("want 100 Continue before the body, got %v, %v", resp, err)
	}
	io.WriteString(c, "scones")
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "scones" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

// TestShutdown: an idle connection is closed, a request in flight
// finishes and is answered, Serve returns ErrServerClosed, and no new
// connection is accepted.
func TestShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv, addr, done := startOwn(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		io.WriteString(w, "done")
	}))
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	busy := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			busy <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		busy <- string(b)
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	// The idle connection is closed while the request is in flight.
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: want EOF, got %v", err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if got := <-busy; got != "done" {
		t.Errorf("request in flight: got %q", got)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: want ErrServerClosed, got %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("a connection was accepted after Shutdown")
	}
}

// TestShutdownDeadlineThenClose: Shutdown gives up at its deadline, and
// Close then cancels the context of the request still running.
func TestShutdownDeadlineThenClose(t *testing.T) {
	entered := make(chan struct{})
	cancelled := make(chan error, 1)
	srv, addr, _ := startOwn(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		cancelled <- r.Context().Err()
	}))
	go http.Get("http://" + addr + "/")
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: want DeadlineExceeded, got %v", err)
	}
	srv.Close()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler context: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not cancel the request's context")
	}
}

// TestPanic: a handler's panic closes its connection without a response,
// is logged (http.ErrAbortHandler is not), and the server serves on.
func TestPanic(t *testing.T) {
	var logged bytes.Buffer
	var mu sync.Mutex
	srv, addr, _ := startOwn(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic("scones burnt")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, "fine")
	}))
	srv.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil))
	for _, path := range []string{"/panic", "/abort"} {
		if resp, err := http.Get("http://" + addr + path); err == nil {
			resp.Body.Close()
			t.Errorf("%s: got a response, %d", path, resp.StatusCode)
		}
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "fine" {
		t.Errorf("after the panics: %q", b)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "scones burnt") || strings.Count(logged.String(), "panic serving") != 1 {
		t.Errorf("want the one panic logged, got %q", logged.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestWriteFailureCancels: once the client is gone and a write fails, the
// handler's writes fail and its context is cancelled.
func TestWriteFailureCancels(t *testing.T) {
	result := make(chan error, 1)
	_, addr, _ := startOwn(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 10000 {
			if _, err := w.Write(chunk); err != nil {
				select {
				case <-r.Context().Done():
					result <- nil
				default:
					result <- fmt.Errorf("write failed (%v) but the context is live", err)
				}
				return
			}
		}
		result <- errors.New("640 MB written to a closed connection")
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, get("/"))
	c.Read(make([]byte, 100))
	c.Close()
	select {
	case err := <-result:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler still writing")
	}
}
