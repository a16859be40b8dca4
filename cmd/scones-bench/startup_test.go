package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePeers(t *testing.T) {
	got, err := parsePeers([]string{"kumo=/opt/kumo --port {port}", " cloudemu = ./cloudemu -addr 127.0.0.1:{port} "})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].name != "kumo" || !slices.Equal(got[0].argv, []string{"/opt/kumo", "--port", "{port}"}) ||
		got[1].name != "cloudemu" || !slices.Equal(got[1].argv, []string{"./cloudemu", "-addr", "127.0.0.1:{port}"}) {
		t.Fatalf("parsed %+v", got)
	}
	for spec, want := range map[string]string{
		"kumo":                "want NAME=COMMAND",
		"=/opt/kumo {port}":   "want NAME=COMMAND",
		"kumo=  ":             "want NAME=COMMAND",
		"kumo=/opt/kumo -p 1": "has no {port}",
	} {
		if _, err := parsePeers([]string{spec}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parsePeers(%q) = %v, want an error with %q", spec, err, want)
		}
	}
}
