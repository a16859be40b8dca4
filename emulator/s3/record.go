package s3

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Tables. Every byte of S3 state lives in these, so the store's backend
// (memory or bbolt under --data-dir) decides durability.
const (
	tBuckets = "s3/buckets" // bucket name -> record (created, region, tags)
	tObjects = "s3/objects" // bucket + "/" + key -> record
	tData    = "s3/data"    // data id + "/" + chunk index (8 hex) -> bytes
	tUploads = "s3/uploads" // bucket + "/" + key + "\x00" + upload id -> record
	tParts   = "s3/parts"   // upload id + "/" + part number (5 digits) -> record
	tStaging = "s3/staging" // data id -> "" while a large body is being written
)

// chunkSize is the unit object data is stored and read in: a GET copies at
// most one chunk out of a transaction at a time, and a PUT of up to one
// chunk is a single transaction.
const (
	chunkShift = 20
	chunkSize  = 1 << chunkShift
)

// segment is one run of object data: the whole body of a single-part
// object, or one part of a multipart object.
type segment struct {
	ID       string // data id; chunks live under tData ID/00000000...
	Size     int64
	MD5      string // hex, for parts
	Checksum string // base64 checksum of this segment in the record's algorithm
}

// record is the one encoding used for objects, buckets, uploads and parts:
// each uses the fields it needs.
type record struct {
	Size               int64
	ETag               string // unquoted
	Modified           int64  // unix nanoseconds
	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	Expires            string
	Meta               [][2]string // lower-case names without x-amz-meta-
	Tags               [][2]string
	Checksums          [][2]string // algorithm (CRC32, ...) -> base64
	ChecksumAlgorithm  string      // uploads and objects: the algorithm
	ChecksumType       string      // FULL_OBJECT or COMPOSITE
	Multipart          bool
	Region             string // buckets
	Segments           []segment
}

const recordVersion = 1

type enc struct{ b []byte }

func (e *enc) u(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) s(v string) { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) i(v int64)  { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) pairs(p [][2]string) {
	e.u(uint64(len(p)))
	for _, kv := range p {
		e.s(kv[0])
		e.s(kv[1])
	}
}

// marshal encodes r into a new slice that nothing else refers to (so it
// can go to store.PutOwned).
func (r *record) marshal() []byte {
	e := enc{b: make([]byte, 0, r.encodedSizeHint())}
	e.b = append(e.b, recordVersion)
	e.i(r.Size)
	e.s(r.ETag)
	e.i(r.Modified)
	e.s(r.ContentType)
	e.s(r.ContentEncoding)
	e.s(r.ContentDisposition)
	e.s(r.ContentLanguage)
	e.s(r.CacheControl)
	e.s(r.Expires)
	e.pairs(r.Meta)
	e.pairs(r.Tags)
	e.pairs(r.Checksums)
	e.s(r.ChecksumAlgorithm)
	e.s(r.ChecksumType)
	if r.Multipart {
		e.u(1)
	} else {
		e.u(0)
	}
	e.s(r.Region)
	e.u(uint64(len(r.Segments)))
	for _, sg := range r.Segments {
		e.s(sg.ID)
		e.i(sg.Size)
		e.s(sg.MD5)
		e.s(sg.Checksum)
	}
	return e.b
}

// encodedSizeHint is about the length of r's encoding, so that marshal
// allocates once: 64 bytes cover the fixed fields and length prefixes of a
// record whose strings are shorter than 128 bytes.
func (r *record) encodedSizeHint() int {
	n := 64 + len(r.ETag) + len(r.ContentType) + len(r.ContentEncoding) + len(r.ContentDisposition) +
		len(r.ContentLanguage) + len(r.CacheControl) + len(r.Expires) + len(r.ChecksumAlgorithm) +
		len(r.ChecksumType) + len(r.Region)
	for _, p := range [...][][2]string{r.Meta, r.Tags, r.Checksums} {
		for _, kv := range p {
			n += 4 + len(kv[0]) + len(kv[1])
		}
	}
	for _, sg := range r.Segments {
		n += 24 + len(sg.ID) + len(sg.MD5) + len(sg.Checksum)
	}
	return n
}

var errCorrupt = errors.New("s3: corrupt record in store")

// dec decodes an encoding held both as bytes (b, what is left to decode)
// and as one string copy of the whole (str): every string decoded is a
// substring of str, so decoding a record allocates its strings once, not
// once per field.
type dec struct {
	b   []byte
	str string
	err error
}

func newDec(b []byte) dec { return dec{b: b, str: string(b)} }

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) s() string {
	n := d.u()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return ""
	}
	off := len(d.str) - len(d.b)
	v := d.str[off : off+int(n)]
	d.b = d.b[n:]
	return v
}

// skip passes over a string without copying it.
func (d *dec) skip() {
	n := d.u()
	if d.err != nil {
		return
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return
	}
	d.b = d.b[n:]
}

func (d *dec) skipPairs() {
	n := d.u()
	for i := uint64(0); i < n && d.err == nil; i++ {
		d.skip()
		d.skip()
	}
}

func (d *dec) pairs() [][2]string {
	n := d.u()
	if n == 0 || d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	p := make([][2]string, n)
	for i := range p {
		p[i][0] = d.s()
		p[i][1] = d.s()
	}
	return p
}

// unmarshalRecord decodes a record; the result shares nothing with b, so
// it outlives the transaction b came from.
func unmarshalRecord(b []byte) (*record, error) {
	if len(b) == 0 || b[0] != recordVersion {
		return nil, errCorrupt
	}
	d := newDec(b[1:])
	r := &record{}
	r.Size = d.i()
	r.ETag = d.s()
	r.Modified = d.i()
	r.ContentType = d.s()
	r.ContentEncoding = d.s()
	r.ContentDisposition = d.s()
	r.ContentLanguage = d.s()
	r.CacheControl = d.s()
	r.Expires = d.s()
	r.Meta = d.pairs()
	r.Tags = d.pairs()
	r.Checksums = d.pairs()
	r.ChecksumAlgorithm = d.s()
	r.ChecksumType = d.s()
	r.Multipart = d.u() == 1
	r.Region = d.s()
	n := d.u()
	if n > uint64(len(d.b)) {
		return nil, errCorrupt
	}
	if n > 0 {
		r.Segments = make([]segment, n)
		for i := range r.Segments {
			r.Segments[i] = segment{ID: d.s(), Size: d.i(), MD5: d.s(), Checksum: d.s()}
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := checkSizes(r.Size, r.Segments); err != nil {
		return nil, err
	}
	return r, nil
}

// checkSizes refuses a record whose sizes disagree: a negative size, or
// segments that do not add up to the object's size. Every record written
// agrees; one that does not was damaged in the store, and serving it
// would send a body of another length than its Content-Length.
func checkSizes(size int64, segs []segment) error {
	if size < 0 {
		return fmt.Errorf("%w: size %d", errCorrupt, size)
	}
	left := size
	for i, sg := range segs {
		if sg.Size < 0 || sg.Size > left {
			return fmt.Errorf("%w: segment %d of %d bytes where %d of the object's %d remain", errCorrupt, i, sg.Size, left, size)
		}
		left -= sg.Size
	}
	if left != 0 {
		return fmt.Errorf("%w: segments add up to %d bytes, the object has %d", errCorrupt, size-left, size)
	}
	return nil
}

// unmarshalData decodes only what replacing or deleting an object (or a
// part) needs: its ETag, for conditional writes, and the ids and sizes of
// its data segments. It copies far less than unmarshalRecord, and a PUT
// over an existing key does it every time.
func unmarshalData(b []byte) (etag string, segs []segment, err error) {
	if len(b) == 0 || b[0] != recordVersion {
		return "", nil, errCorrupt
	}
	d := newDec(b[1:])
	// The fields in marshal's order; only the ETag and the segments'
	// ids and sizes are kept.
	size := d.i()
	etag = d.s()
	d.i() // Modified
	// ContentType, ContentEncoding, ContentDisposition, ContentLanguage,
	// CacheControl, Expires
	for range 6 {
		d.skip()
	}
	d.skipPairs() // Meta
	d.skipPairs() // Tags
	d.skipPairs() // Checksums
	d.skip()      // ChecksumAlgorithm
	d.skip()      // ChecksumType
	d.u()         // Multipart
	d.skip()      // Region
	n := d.u()
	if n > uint64(len(d.b)) {
		return "", nil, errCorrupt
	}
	if n > 0 {
		segs = make([]segment, n)
		for i := range segs {
			segs[i] = segment{ID: d.s(), Size: d.i()}
			d.skip() // MD5
			d.skip() // Checksum
		}
	}
	if d.err != nil {
		return "", nil, d.err
	}
	if err := checkSizes(size, segs); err != nil {
		return "", nil, err
	}
	return etag, segs, nil
}

func (r *record) checksum(algo string) string {
	for _, c := range r.Checksums {
		if c[0] == algo {
			return c[1]
		}
	}
	return ""
}

func objectKey(bucket, key string) string { return bucket + "/" + key }

func chunkKey(id string, idx int64) string {
	const hexd = "0123456789abcdef"
	var x [8]byte
	for i := range x {
		x[i] = hexd[(idx>>uint(28-4*i))&0xf]
	}
	// One allocation: a concatenation reads string(x[:]) in place.
	return id + "/" + string(x[:])
}

func chunkCount(size int64) int64 {
	if size <= 0 {
		return 0
	}
	return (size + chunkSize - 1) / chunkSize
}
