package lambda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
)

func TestSplitZipFile(t *testing.T) {
	zip := []byte("PK\x03\x04 some zip bytes")
	b64 := base64.StdEncoding.EncodeToString(zip)
	for _, tc := range []struct {
		body string
		fast bool
	}{
		{`{"FunctionName":"f","Code":{"ZipFile":"` + b64 + `"},"Runtime":"provided.al2023"}`, true},
		{`{"Code": {"ZipFile" :  "` + b64 + `"}}`, true},
		{`{"Code":{"S3Bucket":"b","S3Key":"k"}}`, false},
		{`{"Code":{"ZipFile":"` + b64 + `"},"Description":"\"ZipFile\""}`, true},
		{`{"Description":"ZipFile","Code":{"ZipFile":"` + b64 + `"}}`, false},
		{`{"Description":"ZipFile"}`, false},
		{`{"Code":{"ZipFile":"not base64!"}}`, false},
		{`{"Code":{"ZipFile":"a\/b"}}`, false},
	} {
		rest, got, fast := splitZipFile([]byte(tc.body))
		if fast != tc.fast {
			t.Errorf("%s: fast %v, want %v", tc.body, fast, tc.fast)
			continue
		}
		var in CreateFunctionInput
		if err := json.Unmarshal(rest, &in); err != nil {
			if tc.fast {
				t.Errorf("%s: rest %s does not decode: %v", tc.body, rest, err)
			}
			continue
		}
		if fast {
			in.Code.ZipFile = got
		}
		if bytes.Contains([]byte(tc.body), []byte(b64)) && !bytes.Equal(in.Code.ZipFile, zip) {
			t.Errorf("%s: zip %q", tc.body, in.Code.ZipFile)
		}
	}
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
