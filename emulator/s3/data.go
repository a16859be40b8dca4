package s3

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/bits"
	"net/http"
	"sync"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// body is an uploaded payload after it has been read, hashed and (when
// larger than one chunk) staged in the store under id.
type body struct {
	id     string
	size   int64
	md5    [md5.Size]byte
	sums   []rawSum // raw checksums, one per algorithm computed
	inline []byte   // the whole body when it fits in one chunk and nothing was staged
	staged bool
	// sumArr backs sums for the usual one or two algorithms, so that they
	// cost no allocation beyond the body's own.
	sumArr [2]rawSum
}

// rawSum is a body's checksum in one algorithm.
type rawSum struct {
	algo string
	n    int
	v    [maxChecksumLen]byte
}

func (b *body) md5Hex() string { return hex.EncodeToString(b.md5[:]) }

// sum returns the raw checksum computed for algo, or nil.
func (b *body) sum(algo string) []byte {
	for i := range b.sums {
		if b.sums[i].algo == algo {
			return b.sums[i].v[:b.sums[i].n]
		}
	}
	return nil
}

// hashWhole sets b's MD5 and its checksums in algos from data, the whole
// body, with the one-shot functions (no hasher to allocate).
func (s *Service) hashWhole(b *body, data []byte, algos []string) {
	b.md5 = md5.Sum(data)
	for i := range b.initSums(algos) {
		sm := &b.sums[i]
		sm.n = len(s.h.sum(sm.v[:0], sm.algo, data))
	}
}

// initSums prepares b.sums for algos and returns it.
func (b *body) initSums(algos []string) []rawSum {
	if len(algos) <= len(b.sumArr) {
		b.sums = b.sumArr[:len(algos)]
	} else {
		b.sums = make([]rawSum, len(algos))
	}
	for i, a := range algos {
		b.sums[i].algo = a
	}
	return b.sums
}

// readFull reads until p is full or the reader ends. eof reports a clean
// end of input; err is any other failure.
func readFull(r io.Reader, p []byte) (n int, eof bool, err error) {
	for n < len(p) {
		m, e := r.Read(p[n:])
		n += m
		if e == io.EOF {
			return n, true, nil
		}
		if e != nil {
			return n, false, e
		}
	}
	return n, false, nil
}

// bodyError maps a failure to read a request body to an S3 error.
func bodyError(err error) error {
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errIncompleteBody()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return awsapi.Errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
	}
	return awsapi.Errorf(http.StatusBadRequest, "IncompleteBody", "reading the request body: %v", err)
}

// ingest reads r to its end, hashing it with MD5 and each algorithm in
// algos. A body of up to one chunk stays in memory (b.inline) for the
// caller to store in its commit transaction; a larger one is written chunk
// by chunk under a staging marker that the commit must delete (or
// discardStaged must remove on failure).
func (s *Service) ingest(ctx context.Context, r io.Reader, sizeHint int64, algos []string) (*body, error) {
	b := &body{id: newID()}
	bufSize := int64(chunkSize)
	if sizeHint >= 0 && sizeHint < bufSize {
		bufSize = sizeHint
	}
	var carry []byte
	var idx int64
	// One buffer serves every chunk: the store copies what it is given,
	// and only a body that fits in the first read is kept (b.inline).
	var buf []byte
	// The streaming hashers are made only once the body turns out to be
	// longer than one read; a body read in one go (every small PUT) is
	// hashed by the one-shot functions, which allocate nothing.
	var md hash.Hash
	var hs []hash.Hash
	for {
		if err := ctx.Err(); err != nil {
			s.discardStaged(b)
			return nil, err
		}
		if int64(len(buf)) < bufSize {
			buf = make([]byte, bufSize)
		}
		n0 := copy(buf, carry)
		carry = nil
		n, eof, err := readFull(r, buf[n0:])
		n += n0
		if err != nil {
			s.discardStaged(b)
			return nil, bodyError(err)
		}
		if !eof {
			// Full buffer: probe for one more byte to learn whether this
			// chunk is the last.
			var one [1]byte
			m, e2, err := readFull(r, one[:])
			if err != nil {
				s.discardStaged(b)
				return nil, bodyError(err)
			}
			if m == 1 {
				carry = one[:]
			} else {
				eof = e2
			}
		}
		data := buf[:n]
		b.size += int64(n)
		if eof && idx == 0 {
			b.inline = data
			s.hashWhole(b, data, algos)
			return b, nil
		}
		if md == nil {
			md = md5.New()
			hs = make([]hash.Hash, len(algos))
			for i, a := range algos {
				hs[i] = s.h.new(a)
			}
		}
		md.Write(data)
		for _, h := range hs {
			h.Write(data)
		}
		if n > 0 {
			key := chunkKey(b.id, idx)
			first := idx == 0
			if err := s.st.Update(func(tx store.Tx) error {
				if first {
					if err := tx.Put(tStaging, b.id, nil); err != nil {
						return err
					}
				}
				return tx.Put(tData, key, data)
			}); err != nil {
				s.discardStaged(b)
				return nil, fmt.Errorf("s3: staging object data: %w", err)
			}
			b.staged = true
			idx++
		}
		if eof {
			break
		}
		bufSize = chunkSize
	}
	md.Sum(b.md5[:0])
	for i := range b.initSums(algos) {
		b.sums[i].n = len(hs[i].Sum(b.sums[i].v[:0]))
	}
	return b, nil
}

// discardStaged removes the chunks a failed upload staged.
func (s *Service) discardStaged(b *body) {
	if b == nil || !b.staged {
		return
	}
	s.st.Update(func(tx store.Tx) error {
		deleteChunks(tx, b.id, b.size)
		return tx.Delete(tStaging, b.id)
	})
	b.staged = false
}

// commitBody stores b's data inside the caller's transaction: the inline
// chunk, or the release of the staging marker.
func commitBody(tx store.Tx, b *body) error {
	if b.staged {
		return tx.Delete(tStaging, b.id)
	}
	if len(b.inline) > 0 {
		if cap(b.inline) == len(b.inline) {
			// ingest made b.inline for this body alone (sized from its
			// known length) and nothing reads it after the commit, so the
			// store may keep it as it is.
			return store.PutOwned(tx, tData, chunkKey(b.id, 0), b.inline)
		}
		// A small body of unknown length sits in a chunk-sized buffer:
		// store a copy of just its bytes.
		return tx.Put(tData, chunkKey(b.id, 0), b.inline)
	}
	return nil
}

func deleteChunks(tx store.Tx, id string, size int64) error {
	for i := range chunkCount(size) {
		if err := tx.Delete(tData, chunkKey(id, i)); err != nil {
			return err
		}
	}
	return nil
}

func deleteSegments(tx store.Tx, segs []segment) error {
	for _, sg := range segs {
		if err := deleteChunks(tx, sg.ID, sg.Size); err != nil {
			return err
		}
	}
	return nil
}

// recoverStaging drops data staged by uploads that never committed (the
// process died mid-upload).
func (s *Service) recoverStaging() error {
	return s.st.Update(func(tx store.Tx) error {
		var ids []string
		tx.Ascend(tStaging, "", "", func(k string, _ []byte) bool { ids = append(ids, k); return true })
		for _, id := range ids {
			var keys []string
			tx.Ascend(tData, id+"/", "", func(k string, _ []byte) bool { keys = append(keys, k); return true })
			for _, k := range keys {
				if err := tx.Delete(tData, k); err != nil {
					return err
				}
			}
			if err := tx.Delete(tStaging, id); err != nil {
				return err
			}
		}
		return nil
	})
}

var errDataGone = errors.New("s3: object data changed while it was being read")

// copyRange copies object bytes starting at offset off into p, reading
// from as many chunks as needed. It returns the number of bytes copied.
func copyRange(tx store.Tx, segs []segment, off int64, p []byte) (int, error) {
	n := 0
	var segStart int64
	for _, sg := range segs {
		if n == len(p) {
			break
		}
		segEnd := segStart + sg.Size
		if off+int64(n) >= segEnd {
			segStart = segEnd
			continue
		}
		for n < len(p) && off+int64(n) < segEnd {
			rel := off + int64(n) - segStart
			idx := rel / chunkSize
			v, ok := tx.Get(tData, chunkKey(sg.ID, idx))
			within := rel - idx*chunkSize
			if !ok || within >= int64(len(v)) {
				return n, errDataGone
			}
			n += copy(p[n:], v[within:])
		}
		segStart = segEnd
	}
	return n, nil
}

// streamRange writes bytes [off, end] of an object to w, one chunk per
// read transaction so that no store lock is held while writing to the
// network. head holds bytes already read from off on (may be empty).
func (s *Service) streamRange(w io.Writer, segs []segment, off, end int64, head []byte) error {
	if len(head) > 0 {
		if _, err := w.Write(head); err != nil {
			return err
		}
		off += int64(len(head))
	}
	if off > end {
		return nil
	}
	buf := getBuf(min(end-off+1, chunkSize))
	defer putBuf(buf)
	for off <= end {
		p := (*buf)[:min(end-off+1, chunkSize)]
		n, err := s.readAt(segs, off, p)
		if err != nil {
			return err
		}
		if n == 0 {
			return errDataGone
		}
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

// readAt copies object bytes from off into p in one read transaction. (A
// function of its own so that the closure captures copies, not the
// caller's loop variables, which would then live on the heap.)
func (s *Service) readAt(segs []segment, off int64, p []byte) (int, error) {
	var n int
	err := s.st.View(func(tx store.Tx) error {
		var err error
		n, err = copyRange(tx, segs, off, p)
		return err
	})
	return n, err
}

// Buffers that GET reads object data into before writing it out are
// recycled, in power-of-two classes from 4 KiB up to chunkSize. (An
// uploaded body is not: the store keeps it.)
const (
	minBufShift = 12
	bufClasses  = chunkShift - minBufShift + 1
)

var bufPools [bufClasses]sync.Pool

func bufClass(n int64) int {
	if n <= 1<<minBufShift {
		return 0
	}
	return bits.Len64(uint64(n-1)) - minBufShift
}

// getBuf returns a buffer of length n (0 < n <= chunkSize); give it back
// with putBuf once nothing refers to it. Its bytes are not zeroed.
func getBuf(n int64) *[]byte {
	c := bufClass(n)
	if p, _ := bufPools[c].Get().(*[]byte); p != nil {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, 1<<(minBufShift+c))
	return &b
}

// putBuf recycles a buffer from getBuf; nil is ignored.
func putBuf(p *[]byte) {
	if p != nil {
		bufPools[bufClass(int64(cap(*p)))].Put(p)
	}
}
