package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// FuzzChunked feeds arbitrary bytes to the aws-chunked decoder: it must not
// panic, and whatever it decodes must re-frame and decode to the same bytes.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"))
	f.Add([]byte("5;chunk-signature=abc\r\nhello\r\n0;chunk-signature=def\r\n\r\n"))
	f.Add([]byte("3\r\nabc\r\n"))
	f.Add([]byte("ffffffffff\r\n"))
	f.Add([]byte("0\r\nbad trailer\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		cr := newChunkedReader(bytes.NewReader(in))
		out, err := io.ReadAll(cr)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if len(out) > 0 {
			fmt.Fprintf(&b, "%x\r\n", len(out))
			b.Write(out)
			b.WriteString("\r\n")
		}
		b.WriteString("0\r\n\r\n")
		again, err := io.ReadAll(newChunkedReader(&b))
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("re-framed body decoded to %q, %v; want %q", again, err, out)
		}
	})
}

func FuzzRange(f *testing.F) {
	for _, s := range []string{"bytes=0-4", "bytes=-5", "bytes=5-", "bytes=9-3", "bytes=0-0,2-3", "items=0-1", "bytes=-0", "bytes= 1 - 2"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		start, end, ranged, err := parseRange(h, size)
		if err != nil {
			if err.Code != "InvalidRange" || err.Status != 416 {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if ranged && (start < 0 || end < start || end >= size) {
			t.Fatalf("parseRange(%q, %d) = %d-%d", h, size, start, end)
		}
	})
}

func FuzzXMLBodies(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>`))
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`))
	f.Add([]byte(`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet/></Tagging>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if c, err := parseCompleteMultipartUpload(in); err == nil {
			for i := 1; i < len(c.Parts); i++ {
				if c.Parts[i].PartNumber <= c.Parts[i-1].PartNumber {
					t.Fatalf("parts out of order accepted")
				}
			}
			if len(c.Parts) == 0 {
				t.Fatal("empty part list accepted")
			}
		}
		if d, err := parseDelete(in); err == nil {
			if len(d.Objects) == 0 || len(d.Objects) > 1000 {
				t.Fatalf("%d objects accepted", len(d.Objects))
			}
		}
		if tags, err := parseTagging(in, 10); err == nil && len(tags) > 10 {
			t.Fatalf("%d tags accepted", len(tags))
		}
	})
}

func TestRecordRoundTrip(t *testing.T) {
	r := &record{Size: 5, ETag: "abc-2", Modified: 1234567890123, ContentType: "a/b", ContentEncoding: "gzip",
		Meta: [][2]string{{"a", "1"}}, Tags: [][2]string{{"t", "v"}}, Checksums: [][2]string{{"CRC32", "xx"}},
		ChecksumAlgorithm: "CRC32", ChecksumType: "COMPOSITE", Multipart: true, Region: "r",
		Segments: []segment{{ID: "id1", Size: 5, MD5: "m", Checksum: "c"}, {ID: "id2", Size: 0}}}
	got, err := unmarshalRecord(r.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(r) {
		t.Fatalf("round trip:\n%v\n%v", got, r)
	}
	if _, err := unmarshalRecord(r.marshal()[:10]); err == nil {
		t.Fatal("truncated record decoded")
	}
	// Sizes that disagree are refused by both decoders, with the reason.
	for _, c := range []struct {
		size int64
		segs []segment
		want string
	}{
		{42, r.Segments, "segments add up to 5 bytes, the object has 42"},
		{-1, nil, "size -1"},
		{5, []segment{{ID: "a", Size: 6}}, "segment 0 of 6 bytes where 5 of the object's 5 remain"},
		{5, []segment{{ID: "a", Size: 7}, {ID: "b", Size: -2}}, "segment 0 of 7 bytes"},
		{3, []segment{{ID: "a", Size: 1 << 62}, {ID: "b", Size: 1 << 62}}, "segment 0 of"},
	} {
		bad := *r
		bad.Size, bad.Segments = c.size, c.segs
		_, err := unmarshalRecord(bad.marshal())
		_, _, derr := unmarshalData(bad.marshal())
		if err == nil || !strings.Contains(err.Error(), c.want) || derr == nil || derr.Error() != err.Error() {
			t.Errorf("size %d, segments %v: unmarshalRecord %v, unmarshalData %v; want %q", c.size, c.segs, err, derr, c.want)
		}
	}
}

// FuzzRecord feeds arbitrary bytes to the record decoders, which read what
// the store holds (with --data-dir, a bbolt file on disk): they must not
// panic, must accept and refuse alike, must agree on what both decode, and
// a record they accept must come back the same from its own encoding.
func FuzzRecord(f *testing.F) {
	for _, r := range []*record{
		{},
		{Size: 3072, ETag: "04f572bbd6486641b06a5dec4e1d54b2", Modified: 1764115200123456789, ContentType: "image/png",
			Checksums: [][2]string{{"CRC32", "1hezDw=="}}, ChecksumAlgorithm: "CRC32", ChecksumType: "FULL_OBJECT",
			Segments: []segment{{ID: "0123456789abcdef01234567", Size: 3072}}},
		{Size: 7, ETag: "abc-2", Meta: [][2]string{{"a", "b"}}, Tags: [][2]string{{"t", "v"}}, Multipart: true, Region: "r",
			Segments: []segment{{ID: "p1", Size: 3, MD5: "m1", Checksum: "c1"}, {ID: "p2", Size: 4, MD5: "m2"}}},
	} {
		f.Add(r.marshal())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := unmarshalRecord(b)
		etag, segs, derr := unmarshalData(b)
		if (err == nil) != (derr == nil) {
			t.Fatalf("unmarshalRecord: %v; unmarshalData: %v", err, derr)
		}
		if err != nil {
			if !errors.Is(err, errCorrupt) || !errors.Is(derr, errCorrupt) {
				t.Fatalf("not errCorrupt: %v, %v", err, derr)
			}
			return
		}
		if etag != rec.ETag || len(segs) != len(rec.Segments) {
			t.Fatalf("unmarshalData %q %v, unmarshalRecord %q %v", etag, segs, rec.ETag, rec.Segments)
		}
		for i, sg := range segs {
			if sg.ID != rec.Segments[i].ID || sg.Size != rec.Segments[i].Size {
				t.Fatalf("segment %d: unmarshalData %v, unmarshalRecord %v", i, sg, rec.Segments[i])
			}
		}
		again, err := unmarshalRecord(rec.marshal())
		if err != nil || !reflect.DeepEqual(again, rec) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, rec)
		}
	})
}

// FuzzParseQuery checks the S3 router's query parser against
// url.ParseQuery, whose reading it must match exactly: the same error or
// none, and the same keys and values in the same order.
func FuzzParseQuery(f *testing.F) {
	for _, raw := range parseQueryCases {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) { compareParseQuery(t, raw) })
}
