package httpserver

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// response is the http.ResponseWriter of one request. It follows
// net/http's response (server.go: response, chunkWriter.writeHeader);
// where this file differs, it says so.
type response struct {
	c      *conn
	req    *http.Request
	body   *requestBody
	header http.Header

	status      int
	wroteHeader bool // the status is settled (WriteHeader with a final code)
	committed   bool // the status line and header are in the write buffer
	handlerDone bool
	closeAfter  bool // the connection closes after this response
	chunking    bool
	// contentLength is the body's length as the handler declared it, or
	// as the server settled it for a body it held whole; -1 if unknown.
	contentLength int64
	written       int64
	held          []byte // the body held back until the header is committed

	// The handler's header fields as they were at WriteHeader, serialized,
	// less the ones the server decides on (Content-Length,
	// Transfer-Encoding, Connection), whose values are kept apart. A
	// change to the header map after WriteHeader has no effect, as in
	// net/http.
	fields     []byte
	te         string
	connection string
	hasType    bool // a Content-Type key, even empty, stops sniffing
	hasEnc     bool
	hasDate    bool
}

func (w *response) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header, 8)
	}
	return w.header
}

// Headers the server writes itself; for 304, Content-Type goes too, and
// for 1xx and 204 nothing more (net/http's suppressedHeaders).
var (
	managedHeaders    = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Connection": true}
	managedHeaders304 = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Content-Type": true}
)

func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wroteHeader {
		w.c.srv.logger().Warn("httpserver: superfluous response.WriteHeader call", "code", code, "status", w.status)
		return
	}
	h := w.Header()
	if code < 200 && code != http.StatusSwitchingProtocols {
		// An informational response goes out at once, with the header as
		// it is; the final one follows.
		if w.c.werr != nil {
			return
		}
		b := appendStatusLine(w.c.scratch[:0], w.req.ProtoMinor, code)
		b = appendFields(b, h, nil)
		b = append(b, "\r\n"...)
		w.c.write(b)
		w.c.flush()
		if code == http.StatusContinue {
			w.body.continueSent = true
		}
		return
	}
	w.wroteHeader = true
	w.status = code
	if cl := h["Content-Length"]; len(cl) > 0 {
		if v, err := strconv.ParseInt(cl[0], 10, 64); err == nil && v >= 0 {
			w.contentLength = v
		} else {
			w.c.srv.logger().Warn("httpserver: invalid Content-Length", "value", cl[0])
		}
	}
	if v := h["Transfer-Encoding"]; len(v) > 0 {
		w.te = v[0]
	}
	w.connection = strings.Join(h["Connection"], ", ")
	_, w.hasType = h["Content-Type"]
	w.hasEnc = len(h["Content-Encoding"]) > 0 && h["Content-Encoding"][0] != ""
	_, w.hasDate = h["Date"]
	skip := managedHeaders
	if code == http.StatusNotModified {
		skip = managedHeaders304
	}
	w.fields = appendFields(w.c.fields[:0], h, skip)
	w.c.fields = w.fields[:0]
}

// appendFields appends h's fields, sorted and with line breaks in values
// made spaces, as net/http writes them (http.Header.WriteSubset), less
// the keys in skip. Unlike net/http, other control characters in values
// (a NUL from a decoded URL, say) become spaces too: clients refuse a
// header that holds them, and the whole response with it.
func appendFields(b []byte, h http.Header, skip map[string]bool) []byte {
	start := len(b)
	aw := appendWriter{b: b}
	h.WriteSubset(&aw, skip)
	b = aw.b
	for i := start; i < len(b); i++ {
		if c := b[i]; (c < ' ' && c != '\t' && c != '\r' && c != '\n') || c == 0x7f {
			b[i] = ' '
		}
	}
	return b
}

type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) { a.b = append(a.b, p...); return len(p), nil }
func (a *appendWriter) WriteString(s string) (int, error) {
	a.b = append(a.b, s...)
	return len(s), nil
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if w.c.werr != nil {
		return 0, w.c.werr
	}
	if !w.committed {
		// With a declared length there is nothing to wait for; otherwise
		// the body is held while it fits, so that a handler that finishes
		// gets a Content-Length instead of chunked framing.
		if w.contentLength == -1 && len(w.held)+len(p) <= bufferBeforeChunking {
			if w.held == nil {
				w.held = w.c.held[:0]
			}
			w.held = append(w.held, p...)
			w.c.held = w.held[:0]
			return len(p), nil
		}
		first := p
		if len(w.held) > 0 {
			first = w.held
		}
		w.commit(first)
		w.writeBody(w.held)
		w.held = nil
	}
	w.writeBody(p)
	if w.c.werr != nil {
		return 0, w.c.werr
	}
	return len(p), nil
}

// Flush sends what the handler wrote so far (http.Flusher).
func (w *response) Flush() {
	w.commitHeld()
	w.c.flush()
}

// commitHeld settles the status (200 if the handler set none), commits
// the header and writes the body held so far.
func (w *response) commitHeld() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.held)
		w.writeBody(w.held)
		w.held = nil
	}
}

// writeBody writes body bytes, framed as the response is; a HEAD
// response's are dropped.
func (w *response) writeBody(p []byte) {
	if len(p) == 0 || w.req.Method == http.MethodHead || !bodyAllowedForStatus(w.status) {
		return
	}
	if w.chunking {
		b := strconv.AppendInt(w.c.scratch[:0], int64(len(p)), 16)
		b = append(b, "\r\n"...)
		w.c.write(b)
		w.c.write(p)
		w.c.write(crlf)
		return
	}
	w.c.write(p)
}

var crlf = []byte("\r\n")

// commit puts the status line and header in the write buffer, settling
// the body's framing and whether the connection stays open, as net/http's
// chunkWriter.writeHeader does. first is the start of the body, which a
// missing Content-Type is sniffed from and which, once the handler is
// done, is the whole body.
func (w *response) commit(first []byte) {
	w.committed = true
	req := w.req
	isHEAD := req.Method == http.MethodHead
	bodyOK := bodyAllowedForStatus(w.status)
	hasTE := w.te != ""
	var setCL, setType, setConn, setTE string
	if w.handlerDone && !hasTE && bodyOK && w.contentLength == -1 && (!isHEAD || len(first) > 0) {
		w.contentLength = int64(len(first))
		setCL = strconv.Itoa(len(first))
	} else if w.contentLength != -1 && bodyOK {
		setCL = strconv.FormatInt(w.contentLength, 10)
	}
	hasCL := w.contentLength != -1
	wants10KeepAlive := req.ProtoMinor == 0 && hasToken(req.Header.Get("Connection"), "keep-alive")
	if wants10KeepAlive && (isHEAD || hasCL || !bodyOK) {
		if w.connection == "" {
			setConn = "keep-alive"
		}
	} else if req.ProtoMinor == 0 || req.Close {
		w.closeAfter = true
	}
	if hasToken(w.connection, "close") {
		w.closeAfter = true
	}
	// A body the client was asked to wait with (Expect: 100-continue) and
	// that was not read to its end is not read now: the connection closes.
	if w.body.needContinue && !w.body.sawEOF {
		w.closeAfter = true
	}
	// Whatever the handler left of the request body is read now, up to
	// maxPostHandlerReadBytes, before the response starts: some clients
	// send their whole request before reading the response.
	// (A body the handler closed unread is read the same way, as
	// net/http's Close of a request body does.)
	tooBig := false
	if req.ContentLength != 0 && !w.closeAfter && !w.body.needContinue && !w.body.sawEOF {
		_, err := io.CopyN(io.Discard, w.body.src, maxPostHandlerReadBytes+1)
		switch err {
		case nil:
			tooBig = true
		case io.EOF:
			w.body.sawEOF = true
		}
		if !w.body.sawEOF {
			w.closeAfter = true
		}
	}
	if bodyOK && !w.hasType && !w.hasEnc && !hasTE && len(first) > 0 {
		setType = http.DetectContentType(first)
	}
	if hasCL && hasTE && w.te != "identity" {
		w.c.srv.logger().Warn("httpserver: WriteHeader with both Transfer-Encoding and Content-Length", "te", w.te, "length", w.contentLength)
		setCL = ""
		hasCL = false
		w.contentLength = -1
	}
	switch {
	case isHEAD || !bodyOK || w.status == http.StatusNoContent:
		// No body, so no framing.
	case hasCL:
	case req.ProtoMinor >= 1:
		if hasTE && w.te == "identity" {
			// The body ends when the connection does.
			w.closeAfter = true
		} else {
			w.chunking = true
			setTE = "chunked"
		}
	default:
		// HTTP/1.0: no chunking; the body ends when the connection does.
		w.closeAfter = true
	}
	connection := w.connection
	if setConn != "" {
		connection = setConn
	}
	if w.closeAfter && (!hasToken(w.connection, "close") || tooBig) {
		connection = ""
		if req.ProtoMinor >= 1 || tooBig {
			connection = "close"
		}
	}
	if w.c.werr != nil {
		return
	}
	b := appendStatusLine(w.c.scratch[:0], req.ProtoMinor, w.status)
	b = append(b, w.fields...)
	if !w.hasDate {
		b = append(b, "Date: "...)
		b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
		b = append(b, "\r\n"...)
	}
	b = appendField(b, "Content-Length", setCL)
	b = appendField(b, "Content-Type", setType)
	b = appendField(b, "Connection", connection)
	b = appendField(b, "Transfer-Encoding", setTE)
	b = append(b, "\r\n"...)
	w.c.write(b)
	w.c.scratch = b[:0]
}

func appendField(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, k...)
	b = append(b, ": "...)
	b = append(b, v...)
	return append(b, "\r\n"...)
}

// finish completes the response once the handler has returned.
func (w *response) finish() {
	w.handlerDone = true
	w.commitHeld()
	if w.chunking {
		w.c.write([]byte("0\r\n\r\n"))
	}
	if w.req.Method != http.MethodHead && w.contentLength != -1 && bodyAllowedForStatus(w.status) && w.contentLength != w.written {
		// Too short a body: the client would read the next response as
		// its end.
		w.closeAfter = true
	}
	w.c.flush()
}

// write appends to the connection's write buffer; after the first error
// it does nothing, and the request's context is cancelled.
func (c *conn) write(p []byte) {
	if c.werr != nil {
		return
	}
	if _, err := c.bw.Write(p); err != nil {
		c.writeFailed(err)
	}
}

func (c *conn) flush() {
	if c.werr != nil {
		return
	}
	if err := c.bw.Flush(); err != nil {
		c.writeFailed(err)
	}
}

// writeFailed records the connection's first write error and cancels the
// request in flight: its client is gone.
func (c *conn) writeFailed(err error) {
	c.werr = err
	if c.cancel != nil {
		c.cancel()
	}
}

// requestBody is the request's Body as the handler sees it: it asks for
// the body when the client waits to be asked (Expect: 100-continue), and
// notes whether it was read to its end or closed, which decides whether
// the connection can carry another request.
type requestBody struct {
	src          io.ReadCloser
	w            *response
	needContinue bool // the client sent Expect: 100-continue
	continueSent bool
	sawEOF       bool
	closed       bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.sawEOF {
		return 0, io.EOF
	}
	if b.needContinue && !b.continueSent {
		b.continueSent = true
		if !b.w.committed {
			b.w.c.write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
			b.w.c.flush()
		}
	}
	n, err := b.src.Read(p)
	if err == io.EOF {
		b.sawEOF = true
	}
	return n, err
}

// Close ends reading; unlike net/http's body, it reads nothing more
// (commit and finish decide what happens to the rest).
func (b *requestBody) Close() error {
	b.closed = true
	return nil
}

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

func appendStatusLine(b []byte, protoMinor, code int) []byte {
	if protoMinor >= 1 {
		b = append(b, "HTTP/1.1 "...)
	} else {
		b = append(b, "HTTP/1.0 "...)
	}
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if text := http.StatusText(code); text != "" {
		b = append(b, text...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	return append(b, "\r\n"...)
}

// hasToken reports whether token is one of v's comma-separated elements,
// ignoring case and spaces.
func hasToken(v, token string) bool {
	for e := range strings.SplitSeq(v, ",") {
		if asciiEqualFold(strings.TrimSpace(e), token) {
			return true
		}
	}
	return false
}
