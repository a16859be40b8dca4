package lambda

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestSplitZipFile(t *testing.T) {
	zip := []byte("PK\x03\x04 some zip bytes")
	// big spans several of zipSplitter's chunks, and not a whole number.
	big := make([]byte, 3*zipChunk+5)
	for i := range big {
		big[i] = byte(i * 7)
	}
	b64 := base64.StdEncoding.EncodeToString(zip)
	bigB64 := base64.StdEncoding.EncodeToString(big)
	// Spoiled after the first chunks, which are decoded in place and must
	// be restored.
	badBig := bigB64[:2*zipChunk+8] + "!" + bigB64[2*zipChunk+9:]
	escBig := bigB64[:2*zipChunk+8] + `\/` + bigB64[2*zipChunk+8:]
	for _, tc := range []struct {
		body string
		zip  []byte // the decoded zip, when fast
		fast bool
	}{
		{`{"FunctionName":"f","Code":{"ZipFile":"` + b64 + `"},"Runtime":"provided.al2023"}`, zip, true},
		{`{"Code": {"ZipFile" :  "` + b64 + `"}}`, zip, true},
		{`{"Code":{"S3Bucket":"b","S3Key":"k"}}`, nil, false},
		{`{"Code":{"ZipFile":"` + b64 + `"},"Description":"\"ZipFile\""}`, zip, true},
		{`{"Description":"ZipFile","Code":{"ZipFile":"` + b64 + `"}}`, nil, false},
		{`{"Description":"ZipFile"}`, nil, false},
		{`{"Code":{"ZipFile":"not base64!"}}`, nil, false},
		{`{"Code":{"ZipFile":"a\/b"}}`, nil, false},
		{`{"Code":{"ZipFile":""}}`, []byte{}, true},
		{`{"Code":{"ZipFile" "x":"` + b64 + `"}}`, nil, false},
		{`{"Code":{"ZipFile":"` + bigB64 + `"},"FunctionName":"f"}`, big, true},
		{`{"Code":{"ZipFile":"` + bigB64 + `"},"Tags":{"ZipFile":"x"}}`, nil, false},
		{`{"Code":{"ZipFile":"` + badBig + `"}}`, nil, false},
		{`{"Code":{"ZipFile":"` + escBig + `"}}`, nil, false},
		{`{"Code":{"ZipFile":"` + bigB64[:2*zipChunk] + "AA==" + bigB64[2*zipChunk:] + `"}}`, nil, false},
		{`{"Code":{"ZipFile":"` + bigB64[:2*zipChunk-4] + "AA==" + bigB64[2*zipChunk:] + `"}}`, nil, false},
		{`{"Code":{"ZipFile":"` + bigB64[:zipChunk+100] + "\n" + bigB64[zipChunk+100:] + `"}}`, nil, false},
		{`{"Code":{"ZipFile":"` + bigB64, nil, false},
	} {
		name := tc.body[:min(len(tc.body), 60)]
		check := func(how string, body, rest []byte, got *uploadedZip) {
			t.Helper()
			if (got != nil) != tc.fast {
				t.Errorf("%s (%s): fast %v, want %v", name, how, got != nil, tc.fast)
				return
			}
			if got == nil {
				if !bytes.Equal(body, []byte(tc.body)) || !bytes.Equal(rest, body) {
					t.Errorf("%s (%s): the body was not left as it was", name, how)
				}
				return
			}
			if !bytes.Equal(got.data, tc.zip) {
				t.Errorf("%s (%s): zip %q, want %q", name, how, got.data[:min(len(got.data), 40)], tc.zip[:min(len(tc.zip), 40)])
			}
			if got.sum != sha256.Sum256(tc.zip) {
				t.Errorf("%s (%s): sum is not the zip's SHA-256", name, how)
			}
			var in CreateFunctionInput
			if err := json.Unmarshal(rest, &in); err != nil {
				t.Errorf("%s (%s): rest %s does not decode: %v", name, how, rest, err)
			}
		}
		body := []byte(tc.body)
		rest, got := splitZipFile(body)
		check("whole", body, rest, got)

		// Read in uneven pieces, so that the key, the quotes and the chunks
		// straddle reads.
		for _, piece := range []int{1, 7, 1000, zipChunk + 3} {
			pr := &pieceReader{data: []byte(tc.body), piece: piece}
			r := httptest.NewRequest(http.MethodPost, "/2015-03-31/functions", pr)
			r.ContentLength = int64(len(tc.body))
			rest, got, err := readCodeBody(r)
			if err != nil {
				t.Fatalf("%s: readCodeBody: %v", name, err)
			}
			check(fmt.Sprintf("read %d bytes at a time", piece), pr.data, rest, got)
		}
	}
}

func TestReadCodeBodyShort(t *testing.T) {
	body := `{"Code":{"ZipFile":"QUJD"}}`
	r := httptest.NewRequest(http.MethodPost, "/2015-03-31/functions", strings.NewReader(body))
	r.ContentLength = int64(len(body)) + 10
	if _, _, err := readCodeBody(r); err == nil {
		t.Errorf("a body shorter than its Content-Length was read without error")
	}
}

// pieceReader reads data at most piece bytes at a time.
type pieceReader struct {
	data  []byte
	off   int
	piece int
}

func (p *pieceReader) Read(b []byte) (int, error) {
	if p.off == len(p.data) {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), p.piece)], p.data[p.off:])
	p.off += n
	return n, nil
}

func TestParseRef(t *testing.T) {
	s := &Service{}
	s.env.Region, s.env.AccountID = "us-east-1", "000000000000"
	for in, want := range map[[2]string]ref{
		{"f", ""}:    {"f", ""},
		{"f:3", ""}:  {"f", "3"},
		{"f", "3"}:   {"f", "3"},
		{"f:3", "3"}: {"f", "3"},
		{"arn:aws:lambda:us-east-1:000000000000:function:f", ""}:         {"f", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", ""}: {"f", "$LATEST"},
		{"000000000000:function:f:2", ""}:                                {"f", "2"},
	} {
		got, err := s.parseRef(in[0], in[1])
		if err != nil || got != want {
			t.Errorf("parseRef(%q, %q) = %v, %v; want %v", in[0], in[1], got, err, want)
		}
	}
	for _, in := range [][2]string{{"f:1", "2"}, {"arn:aws:lambda:eu-west-1:000000000000:function:f", ""}, {"f:prod", ""}, {"bad name", ""}, {"a:b:c:d:e", ""}} {
		if got, err := s.parseRef(in[0], in[1]); err == nil {
			t.Errorf("parseRef(%q, %q) = %v, want an error", in[0], in[1], got)
		}
	}
}

// FuzzCodeBody checks the ZipFile fast path against encoding/json, which
// decodes the body whole: decodeCodeBody must refuse what it refuses and
// decode everything else, the zip included, exactly as it does. Bodies in
// which a key differs from "ZipFile" only in case or by escapes are left
// out: encoding/json matches such keys to the field, AWS does not, and
// the fast path sides with AWS.
func FuzzCodeBody(f *testing.F) {
	b64 := base64.StdEncoding.EncodeToString([]byte("PK\x03\x04 some zip bytes"))
	for _, body := range []string{
		`{"FunctionName":"f","Code":{"ZipFile":"` + b64 + `"},"Runtime":"provided.al2023"}`,
		`{"Code":{"S3Bucket":"b","S3Key":"k"},"Environment":{"Variables":{"ZipFile":"QUJD"}}}`,
		`{"Code":{"S3Bucket":"b"},"Tags":{"ZipFile":"QUJD"},"Description":"ZipFile"}`,
		`{"Code":{"ZipFile":""}}`,
		`{"Code":{"ZipFile":"QUJD"},"Tags":{"ZipFile":"x"}}`,
		`{"Code":{"ZipFile":"QU` + "\n" + `JD"}}`,
		`{"ZipFile":"QUJD","Publish":true}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if n := bytes.Count(body, []byte(`"ZipFile"`)); n != bytes.Count(bytes.ToLower(body), []byte(`"zipfile"`)) || bytes.Contains(body, []byte(`\u`)) {
			return
		}
		request := func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/2015-03-31/functions", bytes.NewReader(bytes.Clone(body)))
			r.ContentLength = int64(len(body))
			return r
		}
		check := func(what string, got, want any, gerr, werr error) {
			t.Helper()
			if (gerr != nil) != (werr != nil) {
				t.Fatalf("%s of %q: error %v, encoding/json %v", what, body, gerr, werr)
			}
			if gerr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%s of %q:\n%+v\nencoding/json:\n%+v", what, body, got, want)
			}
		}
		var wantCreate CreateFunctionInput
		werr := unmarshal(bytes.Clone(body), &wantCreate)
		create, _, err := decodeCodeBody(request(), func(in *CreateFunctionInput) *[]byte { return &in.Code.ZipFile })
		var gotCreate CreateFunctionInput
		if create != nil {
			gotCreate = *create
		}
		check("CreateFunction", gotCreate, wantCreate, err, werr)

		var wantUpdate UpdateFunctionCodeInput
		werr = unmarshal(bytes.Clone(body), &wantUpdate)
		update, _, err := decodeCodeBody(request(), func(in *UpdateFunctionCodeInput) *[]byte { return &in.ZipFile })
		var gotUpdate UpdateFunctionCodeInput
		if update != nil {
			gotUpdate = *update
		}
		check("UpdateFunctionCode", gotUpdate, wantUpdate, err, werr)
	})
}
