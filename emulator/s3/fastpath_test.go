package s3

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// parseQueryCases are query strings for the checks below (and the seeds of
// FuzzParseQuery).
var parseQueryCases = []string{
	"x-id=PutObject", "uploads", "uploads&uploads", "a=1&b=2&a=3", "list-type=2&prefix=a%2Fb&delimiter=%2F",
	"k=a+b", "k", "k=", "=v", "&&a=1&", "a=%zz", "a=1;b=2", "response-content-type=text%2Fplain",
	"versionId=null&x-id=GetObject&partNumber=1&extra=1&more=2",
}

// compareParseQuery reads raw with parseQuery and with url.ParseQuery and
// fails t where they differ: an error on one side only, or other keys or
// values (in order). It returns both readings when they agree on one, and
// nils otherwise.
func compareParseQuery(t testing.TB, raw string) ([][2]string, url.Values) {
	t.Helper()
	want, werr := url.ParseQuery(raw)
	got, gerr := parseQuery(nil, raw)
	if (werr != nil) != (gerr != nil) {
		t.Errorf("%q: error %v, url.ParseQuery %v", raw, gerr, werr)
		return nil, nil
	}
	if werr != nil {
		return nil, nil
	}
	m := url.Values{}
	for _, kv := range got {
		m[kv[0]] = append(m[kv[0]], kv[1])
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("%q: %v, url.ParseQuery %v", raw, m, want)
		return nil, nil
	}
	return got, want
}

// parseQuery must read a query string exactly as url.ParseQuery does, and
// has and get must answer from what it read.
func TestParseQueryMatchesURL(t *testing.T) {
	for _, raw := range parseQueryCases {
		got, want := compareParseQuery(t, raw)
		if want == nil {
			continue
		}
		req := &request{q: got}
		for k := range want {
			if !req.has(k) || req.get(k) != want.Get(k) {
				t.Errorf("%q: has/get %q = %v/%q, want %q", raw, k, req.has(k), req.get(k), want.Get(k))
			}
		}
	}
}

// The one-shot checksums of a body read in one go must equal the
// streaming hashers' (used for longer bodies).
func TestOneShotSums(t *testing.T) {
	h := newHashes()
	data := bytes.Repeat([]byte("scones checksum "), 300)
	for _, a := range checksumAlgorithms() {
		hs := h.new(a)
		hs.Write(data)
		if got, want := h.sum(nil, a, data), hs.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("%s: one-shot %x, streaming %x", a, got, want)
		}
		if len(h.sum(nil, a, data)) != checksumLen(a) {
			t.Errorf("%s: length %d", a, len(h.sum(nil, a, data)))
		}
	}
}

func TestValidChecksumValue(t *testing.T) {
	h := newHashes()
	for _, a := range checksumAlgorithms() {
		v := b64(h.sum(nil, a, []byte("x")))
		if !validChecksumValue(a, v) {
			t.Errorf("%s: %q refused", a, v)
		}
		for _, bad := range []string{"", "!!!!", v[:len(v)-4], v + "AAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			if validChecksumValue(a, bad) {
				t.Errorf("%s: %q accepted", a, bad)
			}
		}
	}
}

func TestUnmarshalData(t *testing.T) {
	rec := &record{Size: 7, ETag: "0123", Modified: 5, ContentType: "text/plain", Expires: "x",
		Meta: [][2]string{{"a", "b"}}, Tags: [][2]string{{"t", "v"}, {"u", "w"}}, Checksums: [][2]string{{"CRC32", "AAAAAA=="}},
		ChecksumAlgorithm: "CRC32", ChecksumType: "COMPOSITE", Multipart: true, Region: "r",
		Segments: []segment{{ID: "id1", Size: 3, MD5: "m1", Checksum: "c1"}, {ID: "id2", Size: 4, MD5: "m2", Checksum: "c2"}}}
	etag, segs, err := unmarshalData(rec.marshal())
	if err != nil || etag != "0123" || !reflect.DeepEqual(segs, []segment{{ID: "id1", Size: 3}, {ID: "id2", Size: 4}}) {
		t.Fatalf("unmarshalData = %q, %v, %v", etag, segs, err)
	}
	full, err := unmarshalRecord(rec.marshal())
	if err != nil || !reflect.DeepEqual(full, rec) {
		t.Fatalf("unmarshalRecord = %+v, %v", full, err)
	}
	enc := rec.marshal()
	for i := 1; i < len(enc); i++ {
		if _, _, err := unmarshalData(enc[:i]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
}

func TestIsIPv4(t *testing.T) {
	for s, want := range map[string]bool{"192.168.5.4": true, "1.2.3.4": true, "1.2.3": false, "1.2.3.4.5": false,
		"1..3.4": false, "1.2.3.4a": false, "1234.2.3.4": false, "bucket": false, "a.b.c.d": false} {
		if isIPv4(s) != want {
			t.Errorf("isIPv4(%q) = %v", s, !want)
		}
	}
}

func TestBufPool(t *testing.T) {
	for _, n := range []int64{1, 3072, 4096, 4097, 65536, 100000, chunkSize} {
		p := getBuf(n)
		if int64(len(*p)) != n || cap(*p) < len(*p) || cap(*p) > 2*int(max(n, 4096)) {
			t.Errorf("getBuf(%d): len %d cap %d", n, len(*p), cap(*p))
		}
		putBuf(p)
		if q := getBuf(n); int64(len(*q)) != n {
			t.Errorf("getBuf(%d) after putBuf: len %d", n, len(*q))
		}
	}
	putBuf(nil)
}

func TestHTTPTime(t *testing.T) {
	for _, ns := range []int64{0, 1, 1e9 - 1, 1e9, -1, 1764115200123456789, 1764115200999999999, 1764115201000000000} {
		want := time.Unix(0, ns).UTC().Format(http.TimeFormat)
		for range 2 { // the second call is answered from the cache
			if got := httpTime(ns); got != want {
				t.Errorf("httpTime(%d) = %q, want %q", ns, got, want)
			}
		}
	}
}

func TestChunkKey(t *testing.T) {
	for _, c := range []struct {
		id   string
		idx  int64
		want string
	}{{"x", 0, "x/00000000"}, {"ab", 0x1234abcd, "ab/1234abcd"}, {"0123456789abcdef01234567", 5119, "0123456789abcdef01234567/000013ff"}} {
		if got := chunkKey(c.id, c.idx); got != c.want {
			t.Errorf("chunkKey(%q, %d) = %q, want %q", c.id, c.idx, got, c.want)
		}
	}
}
