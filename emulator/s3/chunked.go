package s3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/scones/scones/emulator/awsapi"
)

// aws-chunked framing, as the SDKs send it over HTTPS (and S3 accepts it
// everywhere):
//
//	<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//	[<trailer name>:<value>\r\n]...\r\n
//
// The signature extensions are not verified (the edge checks the seed
// signature over the headers); trailers are collected so that a trailing
// x-amz-checksum-* can be checked against the decoded data.

func errIncompleteBody() *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "IncompleteBody", "The request body terminated unexpectedly: the aws-chunked stream ended before its final chunk and trailers.")
}

func errChunkFormat(msg string) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "Malformed aws-chunked body: %s", msg)
}

// maxChunkSize bounds one chunk's declared size so that a garbled size line
// cannot make the decoder expect absurd amounts.
const maxChunkSize = 5 << 30

// chunkedReader decodes an aws-chunked body. After Read returns io.EOF,
// Trailers holds the trailing headers (lower-case names).
type chunkedReader struct {
	br       *bufio.Reader
	left     int64 // data bytes left in the current chunk
	inChunk  bool  // a chunk's data (and its CRLF) is pending
	done     bool
	err      error
	Trailers map[string]string
}

func newChunkedReader(r io.Reader) *chunkedReader {
	return &chunkedReader{br: bufio.NewReaderSize(r, 64<<10)}
}

func (c *chunkedReader) fail(e error) (int, error) {
	c.err = e
	return 0, e
}

// line reads one CRLF-terminated line without the terminator.
func (c *chunkedReader) line() ([]byte, error) {
	l, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errChunkFormat("line too long")
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errIncompleteBody()
		}
		return nil, err
	}
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return nil, errChunkFormat("line not terminated by CRLF")
	}
	return l[:len(l)-2], nil
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	for c.left == 0 {
		if c.inChunk {
			l, err := c.line()
			if err != nil {
				return c.fail(err)
			}
			if len(l) != 0 {
				return c.fail(errChunkFormat("chunk data longer than its declared size"))
			}
			c.inChunk = false
		}
		l, err := c.line()
		if err != nil {
			return c.fail(err)
		}
		sizeField, _, _ := bytes.Cut(l, []byte{';'})
		sizeField = bytes.TrimSpace(sizeField)
		if len(sizeField) == 0 || len(sizeField) > 16 {
			return c.fail(errChunkFormat("bad chunk size line " + strconv.Quote(string(l))))
		}
		n, perr := strconv.ParseUint(string(sizeField), 16, 64)
		if perr != nil || n > maxChunkSize {
			return c.fail(errChunkFormat("bad chunk size " + strconv.Quote(string(sizeField))))
		}
		if n == 0 {
			if err := c.readTrailers(); err != nil {
				return c.fail(err)
			}
			c.done = true
			return 0, io.EOF
		}
		c.left = int64(n)
		c.inChunk = true
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			c.err = errIncompleteBody()
			if n > 0 {
				return n, nil
			}
			return 0, c.err
		}
		c.err = err
		return n, err
	}
	return n, nil
}

func (c *chunkedReader) readTrailers() error {
	for {
		l, err := c.line()
		if err != nil {
			return err
		}
		if len(l) == 0 {
			return nil
		}
		name, value, ok := bytes.Cut(l, []byte{':'})
		if !ok || len(name) == 0 {
			return awsapi.Errorf(http.StatusBadRequest, "MalformedTrailerError", "The request contained trailing data that was not well-formed: %q", l)
		}
		if c.Trailers == nil {
			c.Trailers = map[string]string{}
		}
		if len(c.Trailers) >= 16 {
			return awsapi.Errorf(http.StatusBadRequest, "MalformedTrailerError", "too many trailers")
		}
		c.Trailers[strings.ToLower(strings.TrimSpace(string(name)))] = strings.TrimSpace(string(value))
	}
}

// parseRange interprets a Range header against an object of size bytes.
// It returns ranged=false when the header is absent or is not a single
// byte range S3 honours (it then serves the whole object, as S3 does), and
// InvalidRange when the range cannot be satisfied.
func parseRange(h string, size int64) (start, end int64, ranged bool, err *awsapi.Error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, false, nil
	}
	unsatisfiable := &awsapi.Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "InvalidRange",
		Message: "The requested range is not satisfiable", Headers: map[string]string{"Content-Range": "bytes */" + strconv.FormatInt(size, 10)}}
	if a == "" {
		n, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, unsatisfiable
		}
		if n > size {
			n = size
		}
		return size - n, size - 1, true, nil
	}
	s, perr := strconv.ParseInt(a, 10, 64)
	if perr != nil || s < 0 {
		return 0, 0, false, nil
	}
	e := size - 1
	if b != "" {
		v, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || v < s {
			return 0, 0, false, nil
		}
		if v < e {
			e = v
		}
	}
	if s >= size {
		return 0, 0, false, unsatisfiable
	}
	return s, e, true, nil
}
