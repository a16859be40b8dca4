// Package lambdapkg builds Lambda deployment packages: a Go main package
// compiled to a static `bootstrap` (CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath, -ldflags "-s -w", no VCS stamp) and zipped alone, for the
// provided.al2023 (or provided.al2) runtime.
//
// The zip is deterministic: one entry, fixed mtime, mode 0755, Deflate. A Go
// build with -trimpath is reproducible, so the same sources give the same
// bytes and the same CodeSha256 (base64 SHA-256 of the zip, as Lambda
// reports it), which lets deploy skip unchanged functions.
//
// Build packages one function; BuildAll packages the three workflow
// Lambdas (what `scones package` runs). Arch "" builds for the host, which
// is what the embedded emulator runs; "arm64" or "x86_64" build for AWS.
//
// Builds are cached by content: the key hashes the Go version, target, build
// flags, go.mod, go.sum and every non-test file in the directory of the
// package and of each module package it imports (files in their
// subdirectories, such as //go:embed trees, are not hashed). A repeat Build of
// unchanged sources reuses the cached zip: it runs `go env` but not the
// compiler.
package lambdapkg

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Functions returns the workflow's Lambdas, each a main package under
// lambdas/ in the scones module, in workflow order.
func Functions() []string {
	return []string{"serializeImageData", "classifyImage", "filterLowConfidenceInferences"}
}

// Options says what to build.
type Options struct {
	// Function is the name of one of Functions (built from
	// lambdas/<Function>), or a package directory: absolute, or relative
	// to the module root ("./emulator/lambda/testdata/echo").
	Function string
	// Arch is the Lambda architecture: "x86_64" or "arm64" build for
	// linux, as AWS runs them; "" builds for the host OS and architecture,
	// for the emulator to run locally.
	Arch string
	// OutDir receives <name>.zip (name is the package directory's base
	// name). Empty means the cache directory itself.
	OutDir string
	// ModuleDir is the module root; empty finds it with `go env GOMOD`
	// from the current directory.
	ModuleDir string
	// CacheDir keeps built zips by content key; empty means
	// <user cache dir>/scones/lambdapkg.
	CacheDir string
}

// Artifact is one built package.
type Artifact struct {
	Function string
	ZipPath  string
	// CodeSha256 is base64(SHA-256(zip)), Lambda's CodeSha256.
	CodeSha256 string
	Size       int64
}

// Build builds one function and returns its zip's path and CodeSha256.
func Build(ctx context.Context, opts Options) (zipPath, codeSha256 string, err error) {
	a, err := build(ctx, opts)
	if err != nil {
		return "", "", err
	}
	return a.ZipPath, a.CodeSha256, nil
}

// BuildAll builds every function in Functions into opts.OutDir (Function is
// ignored). It is what `scones package` runs.
func BuildAll(ctx context.Context, opts Options) ([]Artifact, error) {
	var out []Artifact
	for _, fn := range Functions() {
		o := opts
		o.Function = fn
		a, err := build(ctx, o)
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

// goTarget maps a Lambda architecture to GOOS and GOARCH.
func goTarget(arch string) (goos, goarch string, err error) {
	switch arch {
	case "":
		return runtime.GOOS, runtime.GOARCH, nil
	case "x86_64", "amd64":
		return "linux", "amd64", nil
	case "arm64", "aarch64":
		return "linux", "arm64", nil
	}
	return "", "", fmt.Errorf("lambdapkg: architecture %q is not one of x86_64, arm64 (or empty for the host)", arch)
}

type goEnv struct {
	version, gomod string
}

func readGoEnv(ctx context.Context, dir string) (goEnv, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOVERSION", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return goEnv{}, fmt.Errorf("lambdapkg: go env: %w%s", err, stderrOf(err))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return goEnv{}, fmt.Errorf("lambdapkg: go env printed %q", out)
	}
	return goEnv{version: strings.TrimSpace(lines[0]), gomod: strings.TrimSpace(lines[1])}, nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

func build(ctx context.Context, opts Options) (Artifact, error) {
	goos, goarch, err := goTarget(opts.Arch)
	if err != nil {
		return Artifact{}, err
	}
	if opts.Function == "" {
		return Artifact{}, errors.New("lambdapkg: Options.Function is empty: name one of " + strings.Join(Functions(), ", ") + " or a package directory")
	}
	start := opts.ModuleDir
	if start == "" {
		if start, err = os.Getwd(); err != nil {
			return Artifact{}, err
		}
	}
	env, err := readGoEnv(ctx, start)
	if err != nil {
		return Artifact{}, err
	}
	if env.gomod == "" || env.gomod == os.DevNull {
		return Artifact{}, fmt.Errorf("lambdapkg: %s is not inside a Go module: run from the scones module or set Options.ModuleDir", start)
	}
	modDir := filepath.Dir(env.gomod)
	modPath, err := modulePath(env.gomod)
	if err != nil {
		return Artifact{}, err
	}
	pkgDir := opts.Function
	if !strings.ContainsAny(pkgDir, `/\`) {
		pkgDir = filepath.Join(modDir, "lambdas", pkgDir)
	} else if !filepath.IsAbs(pkgDir) {
		pkgDir = filepath.Join(modDir, pkgDir)
	}
	if st, err := os.Stat(pkgDir); err != nil || !st.IsDir() {
		return Artifact{}, fmt.Errorf("lambdapkg: no package directory %s for function %q (functions: %s)", pkgDir, opts.Function, strings.Join(Functions(), ", "))
	}
	name := filepath.Base(pkgDir)

	flags := []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w"}
	h := sha256.New()
	fmt.Fprintf(h, "lambdapkg v1\n%s\n%s/%s\n%q\n", env.version, goos, goarch, flags)
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, filepath.Join(modDir, f), f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Artifact{}, err
		}
	}
	if err := hashPackages(h, modDir, modPath, pkgDir); err != nil {
		return Artifact{}, err
	}
	key := hex.EncodeToString(h.Sum(nil))[:32]

	cacheDir := opts.CacheDir
	if cacheDir == "" {
		ucd, err := os.UserCacheDir()
		if err != nil {
			ucd = os.TempDir()
		}
		cacheDir = filepath.Join(ucd, "scones", "lambdapkg")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("lambdapkg: %w", err)
	}
	cached := filepath.Join(cacheDir, name+"-"+key+".zip")
	zipBytes, err := os.ReadFile(cached)
	if err != nil {
		if zipBytes, err = compile(ctx, modDir, pkgDir, goos, goarch, flags); err != nil {
			return Artifact{}, fmt.Errorf("lambdapkg: building %s: %w", opts.Function, err)
		}
		if err := writeAtomic(cached, zipBytes); err != nil {
			return Artifact{}, err
		}
	}
	zipPath := cached
	if opts.OutDir != "" {
		if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
			return Artifact{}, fmt.Errorf("lambdapkg: %w", err)
		}
		zipPath = filepath.Join(opts.OutDir, name+".zip")
		if old, err := os.ReadFile(zipPath); err != nil || !bytes.Equal(old, zipBytes) {
			if err := writeAtomic(zipPath, zipBytes); err != nil {
				return Artifact{}, err
			}
		}
	}
	sum := sha256.Sum256(zipBytes)
	return Artifact{Function: name, ZipPath: zipPath, CodeSha256: base64.StdEncoding.EncodeToString(sum[:]), Size: int64(len(zipBytes))}, nil
}

// compile runs go build into a temporary directory and zips the binary.
func compile(ctx context.Context, modDir, pkgDir, goos, goarch string, flags []string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "scones-lambdapkg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	rel, err := filepath.Rel(modDir, pkgDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("package %s is outside the module at %s", pkgDir, modDir)
	}
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", bin, "./"+filepath.ToSlash(rel))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = modDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	return Zip(exe)
}

// Zip packs exe as the single entry "bootstrap" (mode 0755, fixed mtime).
func Zip(exe []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(exe); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("lambdapkg: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("lambdapkg: %w", err)
	}
	return nil
}

func modulePath(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("lambdapkg: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("lambdapkg: no module line in %s", gomod)
}

func hashFile(h io.Writer, path, label string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "file %s %d\n", label, len(data))
	h.Write(data)
	return nil
}

// hashPackages hashes the Go sources of pkgDir and, transitively, of every
// package of the module it imports. Files that do not build for any target
// are included too: a false cache miss is cheap, a false hit is not.
func hashPackages(h io.Writer, modDir, modPath, pkgDir string) error {
	seen := map[string]bool{}
	queue := []string{pkgDir}
	var dirs []string
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if seen[dir] {
			continue
		}
		seen[dir] = true
		dirs = append(dirs, dir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("lambdapkg: %w", err)
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, n), nil, parser.ImportsOnly)
			if err != nil {
				continue // go build will report it
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if p == modPath || strings.HasPrefix(p, modPath+"/") {
					queue = append(queue, filepath.Join(modDir, filepath.FromSlash(strings.TrimPrefix(p, modPath))))
				}
			}
		}
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		rel, _ := filepath.Rel(modDir, dir)
		// Everything in the directory except tests and subdirectories:
		// sources, assembly, and files a //go:embed may name.
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("lambdapkg: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			if err := hashFile(h, filepath.Join(dir, e.Name()), filepath.ToSlash(filepath.Join(rel, e.Name()))); err != nil {
				return fmt.Errorf("lambdapkg: %w", err)
			}
		}
	}
	return nil
}
