package s3

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strings"
	"sync"

	"github.com/scones/scones/emulator/awsapi"
)

// checksumAlgorithms lists the checksum algorithms S3 accepts, in the
// spelling of x-amz-checksum-algorithm and of the response elements
// (ChecksumCRC32 ...).
func checksumAlgorithms() [5]string {
	return [5]string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}
}

// crc64NVME is the reflected NVMe polynomial, as crc64.MakeTable wants it.
const crc64NVME = 0x9a6c9329ac4bc9b5

// hashes holds the immutable tables the checksum algorithms need; it is
// built once per Service. Each table is built when first used: together
// they are 60 KiB (hash/crc64 builds its ISO and ECMA tables on the way to
// the NVMe one), which on a machine where a page fault is dear cost a
// start-up that sees only CRC32 half a millisecond (docs/BENCHMARKS.md,
// session 8).
type hashes struct {
	castagnoli func() *crc32.Table
	nvme       func() *[8]crc64.Table // slicing-by-8 tables for CRC64NVME
}

func newHashes() *hashes {
	return &hashes{
		castagnoli: sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }),
		nvme:       sync.OnceValue(nvmeTables),
	}
}

// nvmeTables builds CRC64NVME's slicing-by-8 tables. hash/crc64 only keeps
// such tables for ISO and ECMA and rebuilds them on every large Write for
// other polynomials, so the NVMe ones are built here once.
func nvmeTables() *[8]crc64.Table {
	var t [8]crc64.Table
	t[0] = *crc64.MakeTable(crc64NVME)
	for i := range 256 {
		crc := t[0][i]
		for j := 1; j < 8; j++ {
			crc = t[0][crc&0xff] ^ (crc >> 8)
			t[j][i] = crc
		}
	}
	return &t
}

// crc64NVMEHash is CRC64NVME with precomputed slicing-by-8 tables.
type crc64NVMEHash struct {
	t   *[8]crc64.Table
	crc uint64
}

func (h *crc64NVMEHash) Write(p []byte) (int, error) {
	n := len(p)
	t := h.t
	crc := ^h.crc
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][(crc>>8)&0xff] ^ t[5][(crc>>16)&0xff] ^ t[4][(crc>>24)&0xff] ^
			t[3][(crc>>32)&0xff] ^ t[2][(crc>>40)&0xff] ^ t[1][(crc>>48)&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, v := range p {
		crc = t[0][byte(crc)^v] ^ (crc >> 8)
	}
	h.crc = ^crc
	return n, nil
}

func (h *crc64NVMEHash) Sum(b []byte) []byte { return binary.BigEndian.AppendUint64(b, h.crc) }
func (h *crc64NVMEHash) Reset()              { h.crc = 0 }
func (h *crc64NVMEHash) Size() int           { return 8 }
func (h *crc64NVMEHash) BlockSize() int      { return 1 }

// sum appends algo's checksum of data to dst, in one call that allocates
// nothing (the hash.Hash values of new escape to the heap).
func (h *hashes) sum(dst []byte, algo string, data []byte) []byte {
	switch algo {
	case "CRC32":
		return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(data))
	case "CRC32C":
		return binary.BigEndian.AppendUint32(dst, crc32.Checksum(data, h.castagnoli()))
	case "CRC64NVME":
		c := crc64NVMEHash{t: h.nvme()}
		c.Write(data)
		return c.Sum(dst)
	case "SHA1":
		v := sha1.Sum(data)
		return append(dst, v[:]...)
	case "SHA256":
		v := sha256.Sum256(data)
		return append(dst, v[:]...)
	}
	return dst
}

func (h *hashes) new(algo string) hash.Hash {
	switch algo {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(h.castagnoli())
	case "CRC64NVME":
		return &crc64NVMEHash{t: h.nvme()}
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	}
	return nil
}

// normAlgorithm maps "crc32", "Crc32c", "sha256" ... to the canonical name,
// or "" when the algorithm is unknown.
func normAlgorithm(s string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	for _, a := range checksumAlgorithms() {
		if u == a {
			return a
		}
	}
	return ""
}

// checksumHeader is the request and response header for an algorithm,
// lower-case (as S3 writes it and as trailers name it).
func checksumHeader(algo string) string {
	switch algo {
	case "CRC32":
		return "x-amz-checksum-crc32"
	case "CRC32C":
		return "x-amz-checksum-crc32c"
	case "CRC64NVME":
		return "x-amz-checksum-crc64nvme"
	case "SHA1":
		return "x-amz-checksum-sha1"
	case "SHA256":
		return "x-amz-checksum-sha256"
	}
	return "x-amz-checksum-" + strings.ToLower(algo)
}

// canonicalChecksumHeader is checksumHeader in Go's canonical header form,
// for direct lookups in a request's http.Header.
func canonicalChecksumHeader(algo string) string {
	switch algo {
	case "CRC32":
		return "X-Amz-Checksum-Crc32"
	case "CRC32C":
		return "X-Amz-Checksum-Crc32c"
	case "CRC64NVME":
		return "X-Amz-Checksum-Crc64nvme"
	case "SHA1":
		return "X-Amz-Checksum-Sha1"
	case "SHA256":
		return "X-Amz-Checksum-Sha256"
	}
	return http.CanonicalHeaderKey(checksumHeader(algo))
}

// header returns the first value of a header given in canonical form,
// without http.Header.Get's re-canonicalisation (net/http canonicalises the
// names of a request's headers, and Header.Set those of the in-process
// callers, so the lookup is the same).
func header(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// maxChecksumLen is the longest raw checksum (SHA-256).
const maxChecksumLen = sha256.Size

func checksumLen(algo string) int {
	switch algo {
	case "CRC32", "CRC32C":
		return 4
	case "CRC64NVME":
		return 8
	case "SHA1":
		return 20
	case "SHA256":
		return 32
	}
	return 0
}

// validChecksumValue reports whether v is base64 of the right length.
func validChecksumValue(algo, v string) bool {
	want := checksumLen(algo)
	// The longest valid value is 44 characters; decode on the stack
	// rather than into a new slice.
	var src [64]byte
	var dst [48]byte
	if want == 0 || len(v) > len(src) {
		return false
	}
	n, err := base64.StdEncoding.Decode(dst[:], src[:copy(src[:], v)])
	return err == nil && n == want
}

func badDigest(algo string) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "BadDigest", "The %s you specified did not match the calculated checksum.", algo)
}

func invalidChecksumValue(algo string) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "Value for %s header is invalid.", checksumHeader(algo))
}

// contentMD5 parses a Content-MD5 header into raw bytes.
func contentMD5(v string) ([]byte, *awsapi.Error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(b) != md5.Size {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified is not valid.")
	}
	return b, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
