package s3

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc64"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

func testEnv(st store.Store) awsapi.Env {
	return awsapi.Env{Region: "us-east-1", AccountID: "000000000000", Store: st, Logger: slog.New(slog.DiscardHandler), Now: time.Now}
}

func TestStagingRecovery(t *testing.T) {
	st := store.NewMemory()
	if _, err := New(testEnv(st)); err != nil {
		t.Fatal(err)
	}
	// Leave what a process killed mid-upload leaves: a marker and chunks.
	st.Update(func(tx store.Tx) error {
		tx.Put(tStaging, "deadbeef", nil)
		tx.Put(tData, chunkKey("deadbeef", 0), []byte("x"))
		tx.Put(tData, chunkKey("deadbeef", 1), []byte("y"))
		tx.Put(tData, chunkKey("keepme", 0), []byte("z"))
		return nil
	})
	if _, err := New(testEnv(st)); err != nil {
		t.Fatal(err)
	}
	var left []string
	st.View(func(tx store.Tx) error {
		tx.Ascend(tData, "", "", func(k string, _ []byte) bool { left = append(left, k); return true })
		tx.Ascend(tStaging, "", "", func(k string, _ []byte) bool { left = append(left, "staging:"+k); return true })
		return nil
	})
	if strings.Join(left, ",") != chunkKey("keepme", 0) {
		t.Fatalf("after recovery: %v", left)
	}
}

func TestLargePutLeavesNoGarbage(t *testing.T) {
	st := store.NewMemory()
	s, err := New(testEnv(st))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	big := bytes.Repeat([]byte("abcdefgh"), 3*chunkSize/8+11)
	for range 3 { // overwrite: old data must be freed
		if _, err := s.PutObject(ctx, "bkt", "k", big, ""); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		st.View(func(tx store.Tx) error {
			tx.Ascend(tData, "", "", func(string, []byte) bool { n++; return true })
			return nil
		})
		return n
	}
	if got := count(); got != 4 {
		t.Fatalf("%d chunks stored for one 3 MiB object, want 4", got)
	}
	// A failed body (truncated) leaves nothing behind either.
	_, err = s.ingest(ctx, io.MultiReader(bytes.NewReader(big), errReader{}), -1, nil)
	if err == nil {
		t.Fatal("ingest of a failing reader succeeded")
	}
	if got := count(); got != 4 {
		t.Fatalf("%d chunks after a failed upload, want 4", got)
	}
	if err := s.DeleteObject(ctx, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 0 {
		t.Fatalf("%d chunks after delete", got)
	}
	var ae *awsapi.Error
	if err := s.DeleteObject(ctx, "nobkt", "k"); !errors.As(err, &ae) || ae.Code != "NoSuchBucket" {
		t.Fatalf("DeleteObject on a missing bucket: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestCheckBucketName(t *testing.T) {
	for _, ok := range []string{"abc", "my-bucket.1", "a1b", "123", strings.Repeat("a", 63)} {
		if err := checkBucketName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ab", "ABC", "a_b", ".ab", "ab.", "-ab", "ab-", "a..b", "a.-b", "a-.b", "10.0.0.1", "xn--ab", "sthree-x", "amzn-s3-demo-x",
		"ab-s3alias", "ab--ol-s3", "ab.mrap", "ab--x-s3", "ab--table-s3", strings.Repeat("a", 64), "a b"} {
		if err := checkBucketName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		h          string
		size       int64
		start, end int64
		ranged     bool
		err        bool
	}{
		{"bytes=0-4", 10, 0, 4, true, false},
		{"bytes=5-", 10, 5, 9, true, false},
		{"bytes=-3", 10, 7, 9, true, false},
		{"bytes=-30", 10, 0, 9, true, false},
		{"bytes=8-100", 10, 8, 9, true, false},
		{"bytes=10-", 10, 0, 0, false, true},
		{"bytes=-0", 10, 0, 0, false, true},
		{"bytes=0-", 0, 0, 0, false, true},
		{"bytes=4-2", 10, 0, 0, false, false},
		{"bytes=0-1,3-4", 10, 0, 0, false, false},
		{"lines=0-1", 10, 0, 0, false, false},
		{"bytes=a-b", 10, 0, 0, false, false},
	} {
		s, e, r, err := parseRange(tc.h, tc.size)
		if (err != nil) != tc.err || r != tc.ranged || (r && (s != tc.start || e != tc.end)) {
			t.Errorf("parseRange(%q, %d) = %d %d %v %v", tc.h, tc.size, s, e, r, err)
		}
		if err != nil && err.Headers["Content-Range"] != "bytes */10" && tc.size == 10 {
			t.Errorf("416 Content-Range %q", err.Headers["Content-Range"])
		}
	}
}

func TestBucketFromHost(t *testing.T) {
	for host, want := range map[string]string{
		"bkt.localhost": "bkt", "bkt.localhost:4566": "bkt", "a.b.c.localhost:1": "a.b.c", "bkt.s3.localhost:9": "bkt",
		"localhost:4566": "", "s3.localhost": "", "127.0.0.1:4566": "", "[::1]:4566": "", "BKT.LOCALHOST": "bkt", "example.com": "",
	} {
		if got := BucketFromHost(host); got != want {
			t.Errorf("BucketFromHost(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestCRC64NVME(t *testing.T) {
	h := newHashes()
	ref := crc64.MakeTable(crc64NVME)
	data := bytes.Repeat([]byte("0123456789abcdefghij"), 500)
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 2047, 2048, 3072, len(data)} {
		for _, split := range []int{0, 1, 5, n / 2} {
			if split > n {
				continue
			}
			x := h.new("CRC64NVME")
			x.Write(data[:split])
			x.Write(data[split:n])
			want := binary.BigEndian.AppendUint64(nil, crc64.Checksum(data[:n], ref))
			if got := x.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("n=%d split=%d: %x, want %x", n, split, got, want)
			}
		}
	}
	// The value S3 documents for "123456789" (CRC-64/NVME check value).
	x := h.new("CRC64NVME")
	x.Write([]byte("123456789"))
	if got := binary.BigEndian.Uint64(x.Sum(nil)); got != 0xae8b14860a799888 {
		t.Fatalf("check value %x", got)
	}
}
