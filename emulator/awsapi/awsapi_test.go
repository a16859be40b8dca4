package awsapi

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewRequestID(t *testing.T) {
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if !uuid4.MatchString(id) {
			t.Fatalf("NewRequestID() = %q, not a UUID v4", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID() repeated %q", id)
		}
		seen[id] = true
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewRequestID()
	}
}

func TestValidName(t *testing.T) {
	for _, c := range []struct {
		name  string
		max   int
		extra string
		want  bool
	}{
		{"fn_1-a", 64, "-", true},
		{"", 64, "-", false},
		{strings.Repeat("a", 64), 64, "-", true},
		{strings.Repeat("a", 65), 64, "-", false},
		{"a.b", 64, "-", false},
		{"a.b@c+d=e,f", 64, "+=,.@-", true},
		{"a b", 64, "+=,.@-", false},
		{"é", 64, "-", false},
	} {
		if got := ValidName(c.name, c.max, c.extra); got != c.want {
			t.Errorf("ValidName(%q, %d, %q) = %v", c.name, c.max, c.extra, got)
		}
	}
}

// Spaces, '+', '/' and non-ASCII are percent-encoded, upper-case; RFC
// 3986's unreserved characters are left alone.
func TestPercentEncode(t *testing.T) {
	if got := PercentEncode("a b+c/d~e_f.g-h\u00e9"); got != "a%20b%2Bc%2Fd~e_f.g-h%C3%A9" {
		t.Errorf("PercentEncode = %q", got)
	}
}
