package lambda

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
)

// A CreateFunction or UpdateFunctionCode body carries the zip as a base64
// string of a few MB. encoding/json takes tens of milliseconds over that,
// which dominated a cold start, and every pass over the MBs (a scan, a
// copy, an allocation the kernel must fault in, the SHA-256) costs about a
// millisecond more. So the "ZipFile" member is cut out of the body as it
// is read: each chunk of base64 is decoded into a small buffer, hashed and
// copied back over the base64 it came from while it is still in the L1
// cache, and the body's own memory ends up holding the zip.

// zipFileKey is the member zipSplitter cuts out.
var zipFileKey = []byte(`"ZipFile"`)

// zipChunk is how much base64 zipSplitter decodes at a time: a multiple
// of 4, small enough that the decoded bytes are still in the L1 cache when
// they are hashed and copied into place.
const zipChunk = 8 << 10

// uploadedZip is a zip cut out of a request body, and its SHA-256. Its
// memory is the service's own: nothing else holds the body.
type uploadedZip struct {
	data []byte
	sum  [32]byte
	// at is where, in the rest of the body, the emptied string was.
	at int
}

// restore puts the zip back into rest as the base64 string it was cut
// from.
func (upload *uploadedZip) restore(rest []byte) []byte {
	enc := base64.StdEncoding
	b := make([]byte, 0, len(rest)+enc.EncodedLen(len(upload.data)))
	b = append(b, rest[:upload.at]...)
	b = enc.AppendEncode(b, upload.data)
	return append(b, rest[upload.at:]...)
}

// decodeCodeBody reads a CreateFunction or UpdateFunctionCode body into a
// new T; zipField points at T's ZipFile (the member the fast path is for).
// readCodeBody cuts out the first "ZipFile" member it sees, wherever it
// is. Decoding the rest tells whether that was T's: the field must come
// back as the emptied string. When it was another (an environment
// variable or a tag of that name), the body is put back as it came and
// decoded whole, zip and all.
func decodeCodeBody[T any](r *http.Request, zipField func(*T) *[]byte) (*T, *uploadedZip, error) {
	rest, zip, err := readCodeBody(r)
	if err != nil {
		return nil, nil, err
	}
	in := new(T)
	if err := unmarshal(rest, in); err != nil {
		return nil, nil, err
	}
	if zip == nil {
		return in, nil, nil
	}
	if f := zipField(in); *f != nil && len(*f) == 0 {
		*f = zip.data
		return in, zip, nil
	}
	in = new(T)
	if err := unmarshal(zip.restore(rest), in); err != nil {
		return nil, nil, err
	}
	return in, nil, nil
}

// owned returns the zip, which the service may go on reading after the
// request (a Go caller's ZipFile it may not), or nil for no upload.
func (upload *uploadedZip) owned() []byte {
	if upload == nil {
		return nil
	}
	return upload.data
}

// readCodeBody reads a CreateFunction or UpdateFunctionCode body. It
// returns the body with the "ZipFile" member's string emptied and the zip
// it held, or the whole body and a nil zip when the member is absent,
// appears twice or is not a plain base64 string: encoding/json then
// decodes it all.
func readCodeBody(r *http.Request) (rest []byte, zip *uploadedZip, err error) {
	if r.ContentLength <= 0 || r.ContentLength > maxBody {
		body, err := readBody(r)
		if err != nil {
			return nil, nil, err
		}
		rest, zip = splitZipFile(body)
		return rest, zip, nil
	}
	// Decode as the body arrives, while the client is still sending.
	z := zipSplitter{body: make([]byte, r.ContentLength)}
	for z.n < len(z.body) {
		m, err := r.Body.Read(z.body[z.n:])
		if m > 0 {
			z.advance(z.n + m)
		}
		if err == io.EOF && z.n < len(z.body) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, nil, errReadingBody(err)
		}
	}
	rest, zip = z.finish()
	return rest, zip, nil
}

// splitZipFile is readCodeBody for a body read already.
func splitZipFile(body []byte) (rest []byte, zip *uploadedZip) {
	z := zipSplitter{body: body}
	z.advance(len(body))
	return z.finish()
}

// zipSplitter finds the first "ZipFile" key of a body as the body is read,
// and decodes and hashes the base64 string after it in place. A failure
// (the key followed by something else than a string, anything but base64
// in the string, a second "ZipFile" after it) gives the body back as it
// was, for encoding/json to decode or refuse.
type zipSplitter struct {
	body []byte // the whole body, of which body[:n] is read
	n    int
	// While seeking the key: body[:seen] holds none.
	seen int
	// Once the key is found: the string starts at start (> 0); r is the
	// next base64 byte to decode, w the next decoded byte to write,
	// w-start is 3/4 of r-start so writes never reach unread input. quote
	// is the closing quote, once seen.
	start, r, w, quote int
	h                  hash.Hash
	failed             bool
	buf                [zipChunk / 4 * 3]byte
}

// advance takes in body[:n], decoding every whole chunk of the string
// that has arrived. The string's last chunk waits for finish.
func (z *zipSplitter) advance(n int) {
	z.n = n
	if z.failed || z.quote > 0 || (z.start == 0 && !z.seek()) {
		return
	}
	for {
		src := z.body[z.r:min(z.r+zipChunk, z.n)]
		if q := bytes.IndexByte(src, '"'); q >= 0 {
			z.quote = z.r + q
			return
		}
		if len(src) < zipChunk {
			return // wait for the rest of the chunk
		}
		m, err := base64.StdEncoding.Decode(z.buf[:], src)
		// A chunk before the last decodes whole: an escape, padding or a
		// newline inside the string (whose bytes base64 skips) would not.
		if err != nil || m != len(z.buf) {
			z.fail()
			return
		}
		z.h.Write(z.buf[:m])
		copy(z.body[z.w:], z.buf[:m])
		z.r += len(src)
		z.w += m
	}
}

// seek looks for the key and the string's opening quote in body[:n].
func (z *zipSplitter) seek() bool {
	i := bytes.Index(z.body[z.seen:z.n], zipFileKey)
	if i < 0 {
		z.seen = max(z.seen, z.n-len(zipFileKey)+1)
		return false
	}
	i += z.seen
	z.seen = i
	j := i + len(zipFileKey)
	for colon := false; ; j++ {
		if j == z.n {
			return false // wait for more
		}
		switch c := z.body[j]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == ':' && !colon:
			colon = true
		case c == '"' && colon:
			z.start, z.r, z.w = j+1, j+1, j+1
			z.h = sha256.New()
			return true
		default:
			z.failed = true
			return false
		}
	}
}

// finish decodes the string's last chunk once the whole body is read, and
// returns the body without the string, and the zip.
func (z *zipSplitter) finish() (rest []byte, zip *uploadedZip) {
	if z.failed || z.quote == 0 {
		z.fail()
		return z.body, nil
	}
	src := z.body[z.r:z.quote]
	// base64 skips line breaks, which a JSON string may not hold raw.
	if bytes.ContainsAny(src, "\\\r\n") || bytes.Index(z.body[z.quote:], zipFileKey) >= 0 {
		z.fail()
		return z.body, nil
	}
	m, err := base64.StdEncoding.Decode(z.buf[:], src)
	if err != nil {
		z.fail()
		return z.body, nil
	}
	z.h.Write(z.buf[:m])
	copy(z.body[z.w:], z.buf[:m])
	z.w += m
	zip = &uploadedZip{data: z.body[z.start:z.w:z.w], at: z.start}
	z.h.Sum(zip.sum[:0])
	rest = make([]byte, 0, z.start+len(z.body)-z.quote)
	rest = append(append(rest, z.body[:z.start]...), z.body[z.quote:]...)
	return rest, zip
}

// fail gives up, restoring the base64 of the chunks decoded so far: whole
// chunks without padding, which encode back to exactly the text they came
// from.
func (z *zipSplitter) fail() {
	if z.w > z.start {
		base64.StdEncoding.Encode(z.body[z.start:], bytes.Clone(z.body[z.start:z.w]))
	}
	z.failed = true
	z.start, z.r, z.w, z.quote = 0, 0, 0, 0
}
