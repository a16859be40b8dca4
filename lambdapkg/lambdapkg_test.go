package lambdapkg_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"testing"
	"time"

	"github.com/scones/scones/lambdapkg"
)

func TestBuildDeterministicAndCached(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	ctx := context.Background()
	cache := t.TempDir()
	out := t.TempDir()
	start := time.Now()
	path, sum, err := lambdapkg.Build(ctx, lambdapkg.Options{Function: "filterLowConfidenceInferences", Arch: "arm64", OutDir: out, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first build %v", time.Since(start))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	if got := base64.StdEncoding.EncodeToString(h[:]); got != sum {
		t.Errorf("CodeSha256 %s, zip hashes to %s", sum, got)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip entries %v, want only bootstrap with mode 0755", zr.File)
	}
	rc, _ := zr.File[0].Open()
	head := make([]byte, 20)
	rc.Read(head)
	rc.Close()
	// ELF, machine EM_AARCH64 (183).
	if !bytes.HasPrefix(head, []byte("\x7fELF")) || head[18] != 183 {
		t.Errorf("bootstrap is not a linux arm64 ELF: % x", head)
	}

	start = time.Now()
	path2, sum2, err := lambdapkg.Build(ctx, lambdapkg.Options{Function: "filterLowConfidenceInferences", Arch: "arm64", OutDir: t.TempDir(), CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cached build took %v", d)
	}
	if sum2 != sum || path2 == path {
		t.Errorf("second build %s %s, want same hash in a new place", path2, sum2)
	}
	// A fresh cache rebuilds, and the build is reproducible.
	_, sum3, err := lambdapkg.Build(ctx, lambdapkg.Options{Function: "filterLowConfidenceInferences", Arch: "arm64", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if sum3 != sum {
		t.Errorf("rebuild hash %s != %s: build not reproducible", sum3, sum)
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	for _, o := range []lambdapkg.Options{
		{Function: "noSuchFunction"},
		{Function: "classifyImage", Arch: "sparc"},
		{},
	} {
		if _, _, err := lambdapkg.Build(ctx, o); err == nil {
			t.Errorf("Build(%+v) succeeded", o)
		} else {
			t.Log(err)
		}
	}
}
