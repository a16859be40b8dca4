package sconesdocker

import (
	"strings"
	"testing"
)

func TestReadBuildOutput(t *testing.T) {
	for stream, want := range map[string]string{
		`{"stream":"Step 1/2 : FROM scratch\n"}{"stream":"\n"}{"stream":"Successfully tagged x:y\n"}`: "",
		`{"stream":"Step 1/2 : FROM scratch\n"}` + "\n" + `{"stream":"Step 2/2 : COPY a /a\n"}` + "\n" +
			`{"errorDetail":{"message":"COPY failed: no such file"},"error":"COPY failed: no such file"}`: "Step 2/2 : COPY a /a: COPY failed: no such file",
		`{"error":"old daemon says no"}`: "old daemon says no",
		`{"stream":"Step 1/2`:            "reading the build output: unexpected EOF",
	} {
		var log strings.Builder
		err := ReadBuildOutput(strings.NewReader(stream), &log)
		if got := ""; err != nil {
			got = err.Error()
			if got != want {
				t.Errorf("%s: got %q, want %q", stream, got, want)
			}
		} else if want != "" {
			t.Errorf("%s: no error, want %q", stream, want)
		}
		if strings.Contains(stream, "Step 1/2 : FROM scratch\\n\"}") && !strings.Contains(log.String(), "Step 1/2 : FROM scratch\n") {
			t.Errorf("%s: log %q lacks the build's text", stream, log.String())
		}
	}
}
