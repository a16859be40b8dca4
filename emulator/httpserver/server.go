// Package httpserver serves an http.Handler over plain HTTP/1.x: the
// emulator's front door.
//
// Why not net/http's Server. For every request, net/http's server starts a
// goroutine that reads the connection in the background, so that it can
// cancel the request's context if the client goes away while the handler
// runs; after the handler it stops that read and waits for the goroutine
// to say so. Each of those hand-offs wakes a thread. On the virtual
// machines scones is developed and tested on, and CI runners like them, a
// thread wake-up costs several microseconds: without the hand-offs, the
// emulator's process spends a third less CPU on a 3 KB PutObject, a
// saving about twice what S3's own work for it costs (docs/BENCHMARKS.md,
// session 8). An emulator's clients are local SDKs; the one thing the
// background read buys (a handler told early that its client left) does
// not matter here: AWS itself lets a Lambda invocation or a synchronous
// execution run on when its caller disconnects.
//
// What is net/http's and what is not. Requests are read and framed by
// net/http's own parser, http.ReadRequest: the request line, header syntax,
// Content-Length and chunked bodies. Responses follow net/http's rules,
// which this package restates: a small body is buffered and given a
// Content-Length, a larger one or a flushed one is sent chunked (HTTP/1.1)
// or closed-delimited (HTTP/1.0); HEAD, 1xx, 204 and 304 responses carry no
// body; a missing Content-Type is sniffed; Date is added; an
// `Expect: 100-continue` is answered when the handler first reads the body;
// up to 256 KiB of a body the handler left unread is discarded to keep the
// connection, and beyond that the connection is closed. The differential
// test (server_test.go) holds this server's responses to net/http's for
// the same handlers.
//
// Left out, because nothing in the emulator uses them: TLS, HTTP/2,
// Hijack, trailers, read and write timeouts, and cancelling a request's
// context when its client disconnects mid-handler. The context is
// cancelled when the handler returns, when a response write fails, and
// when the server is closed.
package httpserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultMaxHeaderBytes bounds a request's line and header fields, as
// net/http's http.DefaultMaxHeaderBytes does.
const DefaultMaxHeaderBytes = http.DefaultMaxHeaderBytes

// maxPostHandlerReadBytes is how much of a request body the handler left
// unread the server reads and discards to keep the connection, as
// net/http does.
const maxPostHandlerReadBytes = 256 << 10

// bufferBeforeChunking is how much of a response body is held back, when
// the handler set no Content-Length, in the hope that the handler finishes
// and the length can be sent instead of chunked framing. net/http holds
// 2048 bytes; 4 KiB keeps a 3 KB object in one piece.
const bufferBeforeChunking = 4 << 10

// ErrServerClosed is what Serve returns once Shutdown or Close was called
// (net/http's value, so callers need not tell the two servers apart).
var ErrServerClosed = http.ErrServerClosed

// Server serves Handler on the listeners given to Serve. The zero value
// needs only Handler.
type Server struct {
	Handler http.Handler
	// MaxHeaderBytes bounds the request line and header fields of a
	// request; 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// Logger receives handler panics; nil discards them.
	Logger *slog.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closed    bool
	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
}

// initLocked sets up the server's maps and context; s.mu is held.
func (s *Server) initLocked() {
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
	}
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Shutdown or Close, when it returns ErrServerClosed. It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.initLocked()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var delay time.Duration
	for {
		rwc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				// Out of file descriptors or a transient error: back off as
				// net/http does, 5 ms doubling up to 1 s.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := &conn{srv: s, rwc: rwc}
		c.state.Store(stateIdle)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			rwc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		go c.serve()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// closeListenersLocked marks the server closed and closes its listeners;
// s.mu is held.
func (s *Server) closeListenersLocked() {
	s.initLocked()
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
}

// Shutdown stops accepting connections, closes the idle ones, and waits
// for the others to finish the request they are serving, then closes
// them. It returns ctx's error if ctx ends first; the connections still
// open then stay open (Close ends them).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closeListenersLocked()
	s.mu.Unlock()
	// Polled like net/http's Shutdown: from 1 ms, doubling up to 500 ms.
	wait := time.Millisecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		if s.closeIdle() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			wait = min(2*wait, 500*time.Millisecond)
			timer.Reset(wait)
		}
	}
}

// closeIdle closes every connection waiting for a request and reports
// whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.rwc.Close()
			delete(s.conns, c)
		}
	}
	return len(s.conns) == 0
}

// Close stops accepting connections, closes every connection and cancels
// the context of every request in flight.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closeListenersLocked()
	for c := range s.conns {
		c.state.Store(stateClosed)
		c.rwc.Close()
		delete(s.conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	return nil
}

// Connection states: a connection is idle while it waits for the first
// byte of a request, which Shutdown may close it in; active from then
// until its response is written; closed once Shutdown or Close took it.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

// conn is one client connection.
type conn struct {
	srv        *Server
	rwc        net.Conn
	remoteAddr string
	state      atomic.Int32
	lr         limitReader
	br         *bufio.Reader
	bw         *bufio.Writer
	// werr is the first error writing to the connection; once set,
	// nothing more is written and the connection closes.
	werr error
	// ctx is the connection's, a child of the server's: each request's
	// context is made from it, so that requests on different connections
	// do not all take the server context's lock to register and leave.
	ctx context.Context
	// cancel ends the context of the request in flight.
	cancel context.CancelFunc
	// Buffers each response reuses: the status line and header as
	// written, the handler's fields, the body held before commit.
	scratch, fields, held []byte
}

// limitReader reads the connection, at most remain bytes: the bound on a
// request's header, lifted once the header is read.
type limitReader struct {
	r      io.Reader
	remain int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.remain <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.remain {
		p = p[:l.remain]
	}
	n, err := l.r.Read(p)
	l.remain -= int64(n)
	return n, err
}

var errHeaderTooLarge = errors.New("httpserver: request header too large")

func (c *conn) serve() {
	defer func() {
		if p := recover(); p != nil && p != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			c.srv.logger().Error("httpserver: panic serving "+c.remoteAddr, "panic", p, "stack", string(buf))
		}
		c.rwc.Close()
		c.srv.mu.Lock()
		delete(c.srv.conns, c)
		c.srv.mu.Unlock()
	}()
	maxHeader := int64(c.srv.MaxHeaderBytes)
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	c.remoteAddr = c.rwc.RemoteAddr().String()
	ctx, cancel := context.WithCancel(c.srv.ctx)
	defer cancel()
	c.ctx = ctx
	c.lr.r = c.rwc
	c.br = bufio.NewReaderSize(&c.lr, 4<<10)
	c.bw = bufio.NewWriterSize(c.rwc, 4<<10)
	c.scratch = make([]byte, 0, 512)
	c.fields = make([]byte, 0, 512)
	for {
		// Idle until a request's first byte arrives: Shutdown closes
		// connections in this state.
		c.lr.remain = math.MaxInt64
		if _, err := c.br.Peek(1); err != nil {
			return
		}
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return // Shutdown or Close took it
		}
		// The 4 KiB of slack is net/http's: bufio may have read that much
		// ahead of the header.
		c.lr.remain = maxHeader + 4096 - int64(c.br.Buffered())
		req, err := http.ReadRequest(c.br)
		if err != nil {
			c.refuse(err)
			return
		}
		c.lr.remain = math.MaxInt64
		keep, unread := c.serveRequest(req)
		if !keep {
			if unread {
				c.closeWriteAndWait()
			}
			return
		}
		if !c.state.CompareAndSwap(stateActive, stateIdle) {
			return
		}
	}
}

// refuse answers a request that could not be read, as net/http does, and
// the connection then closes.
func (c *conn) refuse(err error) {
	switch {
	case errors.Is(err, errHeaderTooLarge):
		c.writeError(http.StatusRequestHeaderFieldsTooLarge, "")
		c.closeWriteAndWait()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isNetError(err):
		// The client closed the connection, or it broke: nobody to answer.
	case strings.HasPrefix(err.Error(), "unsupported transfer encoding"), strings.HasPrefix(err.Error(), "too many transfer encodings"):
		// net/http's parser says so with an unexported error type; its
		// server answers 501, as RFC 9112 asks.
		c.writeError(http.StatusNotImplemented, err.Error())
	default:
		c.writeError(http.StatusBadRequest, err.Error())
	}
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// rstAvoidanceDelay is how long a connection closed with request bytes
// still unread waits after its response, as net/http's does: closing at
// once would make the kernel answer those bytes with a reset, which can
// destroy the response before the client reads it.
const rstAvoidanceDelay = 500 * time.Millisecond

// closeWriteAndWait sends what is buffered, half-closes the connection and
// waits rstAvoidanceDelay before the caller closes it.
func (c *conn) closeWriteAndWait() {
	c.flush()
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		time.Sleep(rstAvoidanceDelay)
	}
}

// writeError writes a plain-text error response naming the problem; the
// connection is closed after it. (net/http names fewer problems; an
// emulator's user is better served by the parser's own words.)
func (c *conn) writeError(code int, detail string) {
	text := http.StatusText(code)
	if detail != "" {
		text += ": " + detail
	}
	b := make([]byte, 0, 160+len(text))
	b = appendStatusLine(b, 1, code)
	// The detail can quote the request: nosniff keeps a browser from
	// reading it as anything but text.
	b = append(b, "Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, text...)
	c.rwc.Write(b)
}

// serveRequest runs the handler for req and writes its response. It
// reports whether the connection can carry another request and, if not,
// whether request bytes were left unread on it.
func (c *conn) serveRequest(req *http.Request) (keep, unread bool) {
	if req.ProtoMajor != 1 {
		c.writeError(http.StatusHTTPVersionNotSupported, "")
		return false, false
	}
	if req.ProtoMinor >= 1 && req.Host == "" && req.Method != http.MethodConnect {
		c.writeError(http.StatusBadRequest, "missing required Host header")
		return false, false
	}
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	c.cancel = cancel
	req.RemoteAddr = c.remoteAddr
	w := &response{c: c, contentLength: -1}
	body := &requestBody{src: req.Body, w: w}
	w.body = body
	if v := req.Header["Expect"]; len(v) > 0 {
		if len(v) == 1 && asciiEqualFold(v[0], "100-continue") {
			if req.ProtoMinor >= 1 && req.ContentLength != 0 {
				body.needContinue = true
			}
		} else {
			c.writeError(http.StatusExpectationFailed, "")
			return false, req.ContentLength != 0
		}
	}
	req.Body = body
	req = req.WithContext(ctx)
	w.req = req
	c.srv.Handler.ServeHTTP(w, req)
	w.finish()
	// A body not read to its end, nor discarded at commit (a handler that
	// read on after writing its header), leaves bytes on the wire that are
	// not a request: the connection closes.
	unread = req.ContentLength != 0 && !body.sawEOF
	return c.werr == nil && !w.closeAfter && !unread, unread
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// asciiEqualFold is strings.EqualFold for ASCII alone, as net/http
// compares header tokens: Unicode folding would take "\u212Aeep-alive"
// (Kelvin sign) for keep-alive.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
