package sconesdocker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Image and build constants.
const (
	// DefaultImage is the repo:tag BuildImage gives the image unless
	// WithImageTag says otherwise.
	DefaultImage = "scones-emulator:dev"
	// ContentHashLabel is the image label holding the SHA-256 of the build
	// context (Dockerfile and binaries). BuildImage skips the Docker build
	// when the image already carries the hash of the context it would send.
	ContentHashLabel = "scones.content-hash"
	// DockerfilePath is where the emulator's Dockerfile lives in the
	// scones module.
	DockerfilePath = "build/emulator/Dockerfile"
	// DefaultStubImage is the repo:tag BuildStubImage gives the stub
	// endpoint image unless WithImageTag says otherwise.
	DefaultStubImage = "scones-stub-endpoint:dev"
	// StubDockerfilePath is where the stub endpoint's Dockerfile lives in
	// the scones module.
	StubDockerfilePath = "build/stub-endpoint/Dockerfile"

	// EmulatorTags are the build tags of scones-emulator wherever it is
	// built to be run (README, images, benchmarks): no Docker mode, no
	// urfave/cli man-page writer.
	EmulatorTags = "nodocker,urfave_cli_no_docs"

	modulePath = "github.com/scones/scones"
	binDir     = "rootfs/usr/local/bin"
)

// program is a binary built into an image, with its build tags.
type program struct{ name, pkg, tags string }

// imageSpec is what BuildImage and BuildStubImage differ in.
type imageSpec struct {
	defaultTag string
	dockerfile string // path in the module
	title      string // org.opencontainers.image.title
	programs   []program
}

// The emulator image runs scones-emulator, the server alone, built without
// Docker mode (there is no Docker daemon inside the container): it starts
// in a few milliseconds and links none of the CLI's SDK clients.
var emulatorSpec = imageSpec{
	defaultTag: DefaultImage, dockerfile: DockerfilePath, title: "scones emulator",
	programs: []program{
		{"scones-emulator", "./cmd/scones-emulator", EmulatorTags},
		{"image-classifier", "./cmd/image-classifier", ""},
	},
}

// The stub endpoint image serves SageMaker, or one model as a SageMaker
// endpoint (see cmd/stub-endpoint), running the classifier as a
// subprocess.
var stubSpec = imageSpec{
	defaultTag: DefaultStubImage, dockerfile: StubDockerfilePath, title: "scones stub SageMaker endpoint",
	programs: []program{
		{"stub-endpoint", "./cmd/stub-endpoint", "nodocker"},
		{"image-classifier", "./cmd/image-classifier", ""},
	},
}

// BuildOption configures BuildImage.
type BuildOption func(*buildConfig)

type buildConfig struct {
	tag      string
	log      io.Writer
	cacheDir string
}

// WithImageTag names the built image (repo:tag); default DefaultImage.
func WithImageTag(tag string) BuildOption { return func(c *buildConfig) { c.tag = tag } }

// WithBuildLog receives the output of go build and of the Docker build;
// default io.Discard.
func WithBuildLog(w io.Writer) BuildOption { return func(c *buildConfig) { c.log = w } }

// WithCacheDir is where the static binaries are linked; default
// <user cache dir>/scones/sconescontainer. Keeping them there lets go build
// skip relinking unchanged binaries. Concurrent BuildImage calls for
// different module trees should use different cache directories.
func WithCacheDir(dir string) BuildOption { return func(c *buildConfig) { c.cacheDir = dir } }

// BuildImage builds the emulator image from the scones module in moduleDir
// (empty: the module containing the working directory) and returns its
// repo:tag, DefaultImage unless WithImageTag says otherwise.
//
// It compiles cmd/scones-emulator (-tags nodocker,urfave_cli_no_docs) and
// cmd/image-classifier static for Linux on the Docker daemon's architecture,
// packs them with build/emulator/Dockerfile into a deterministic tar, and
// hashes it. If an image with that tag already carries the hash in its
// scones.content-hash label, nothing more is done; otherwise the tar is sent
// to Docker (the Engine API's build, the classic builder) and the image it
// replaces under the tag is removed when no container uses it. Without a
// reachable Docker daemon the error wraps ErrDockerUnavailable.
func BuildImage(ctx context.Context, moduleDir string, opts ...BuildOption) (string, error) {
	return buildImage(ctx, emulatorSpec, moduleDir, opts)
}

// BuildStubImage builds the stub SageMaker endpoint image (see
// sconescontainer.RunStubEndpoint) from the scones module in moduleDir, as BuildImage
// does, with cmd/stub-endpoint, cmd/image-classifier and
// build/stub-endpoint/Dockerfile. It returns DefaultStubImage unless
// WithImageTag says otherwise.
func BuildStubImage(ctx context.Context, moduleDir string, opts ...BuildOption) (string, error) {
	return buildImage(ctx, stubSpec, moduleDir, opts)
}

func buildImage(ctx context.Context, spec imageSpec, moduleDir string, opts []BuildOption) (string, error) {
	cfg := buildConfig{tag: spec.defaultTag, log: io.Discard}
	for _, o := range opts {
		o(&cfg)
	}
	if _, _, ok := splitTag(cfg.tag); !ok {
		return "", fmt.Errorf("sconesdocker: image tag %q: want repo:tag", cfg.tag)
	}
	mod, err := findModule(ctx, moduleDir)
	if err != nil {
		return "", err
	}
	if cfg.cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		cfg.cacheDir = filepath.Join(base, "scones", "sconescontainer")
	}

	cli, err := Client(ctx)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	ver, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", fmt.Errorf("sconesdocker: docker version: %w", err)
	}
	if ver.Os != "" && ver.Os != "linux" {
		return "", fmt.Errorf("sconesdocker: the Docker daemon runs %s containers; the emulator image needs linux", ver.Os)
	}
	arch := ver.Arch
	if arch == "" {
		return "", errors.New("sconesdocker: the Docker daemon did not report its architecture")
	}

	bins := filepath.Join(cfg.cacheDir, "linux_"+arch)
	if err := goBuild(ctx, mod, bins, arch, spec.programs, cfg.log); err != nil {
		return "", err
	}
	dockerfile, err := os.ReadFile(filepath.Join(mod, spec.dockerfile))
	if err != nil {
		return "", fmt.Errorf("sconesdocker: %w", err)
	}
	tarFile, sum, err := writeContext(dockerfile, bins, spec.programs)
	if err != nil {
		return "", err
	}
	defer os.Remove(tarFile.Name())
	defer tarFile.Close()

	old, err := cli.ImageInspect(ctx, cfg.tag)
	switch {
	case err == nil:
		if old.Config != nil && old.Config.Labels[ContentHashLabel] == sum {
			fmt.Fprintf(cfg.log, "sconesdocker: %s is up to date (%s %s)\n", cfg.tag, ContentHashLabel, sum)
			return cfg.tag, nil
		}
	case errdefs.IsNotFound(err):
	default:
		return "", fmt.Errorf("sconesdocker: inspect %s: %w", cfg.tag, err)
	}

	if _, err := tarFile.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("sconesdocker: %w", err)
	}
	start := time.Now()
	err = Build(ctx, cli, tarFile, cfg.tag, map[string]string{
		ContentHashLabel:                  sum,
		"org.opencontainers.image.title":  spec.title,
		"org.opencontainers.image.source": modulePath,
	}, cfg.log)
	if err != nil {
		return "", fmt.Errorf("sconesdocker: docker build %s: %w", cfg.tag, err)
	}
	fmt.Fprintf(cfg.log, "sconesdocker: built %s in %v\n", cfg.tag, time.Since(start).Round(time.Millisecond))

	// The replaced image is now untagged; remove it with its untagged
	// parents (the classic builder's intermediate images), unless a
	// container still uses it (then Docker refuses, and it stays).
	if old.ID != "" {
		if now, err := cli.ImageInspect(ctx, cfg.tag); err == nil && now.ID != old.ID {
			if _, err := cli.ImageRemove(ctx, old.ID, client.ImageRemoveOptions{PruneChildren: true}); err == nil {
				fmt.Fprintf(cfg.log, "sconesdocker: removed the previous %s (%s)\n", cfg.tag, old.ID)
			}
		}
	}
	return cfg.tag, nil
}

// splitTag splits repo:tag, where repo may hold a registry host:port.
func splitTag(ref string) (repo, tag string, ok bool) {
	i := strings.LastIndexByte(ref, ':')
	if i <= 0 || i == len(ref)-1 || strings.ContainsRune(ref[i+1:], '/') {
		return "", "", false
	}
	return ref[:i], ref[i+1:], true
}

// findModule returns the root of the scones module: dir, or the module of
// the working directory when dir is empty.
func findModule(ctx context.Context, dir string) (string, error) {
	if dir == "" {
		cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("sconesdocker: go env GOMOD: %w%s", err, stderrOf(err))
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			return "", errors.New("sconesdocker: the working directory is not in a Go module; pass the scones module directory")
		}
		dir = filepath.Dir(gomod)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("sconesdocker: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("sconesdocker: %s is not the scones module: %w", abs, err)
	}
	if got := moduleLine(data); got != modulePath {
		return "", fmt.Errorf("sconesdocker: %s holds module %q, not %s", abs, got, modulePath)
	}
	if _, err := os.Stat(filepath.Join(abs, DockerfilePath)); err != nil {
		return "", fmt.Errorf("sconesdocker: %w", err)
	}
	return abs, nil
}

// moduleLine returns the module path declared in a go.mod.
func moduleLine(gomod []byte) string {
	for line := range strings.SplitSeq(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// goBuild links every program static for linux/arch into dir, one go
// build per set of build tags. The output paths are stable, so go build
// leaves an up-to-date binary alone.
func goBuild(ctx context.Context, mod, dir, arch string, progs []program, log io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sconesdocker: %w", err)
	}
	byTags := map[string][]string{}
	var order []string
	for _, p := range progs {
		if _, ok := byTags[p.tags]; !ok {
			order = append(order, p.tags)
		}
		byTags[p.tags] = append(byTags[p.tags], p.pkg)
	}
	for _, tags := range order {
		args := []string{"build", "-trimpath", "-ldflags=-s -w", "-tags=" + tags, "-o", dir + string(filepath.Separator)}
		if err := runGo(ctx, mod, arch, append(args, byTags[tags]...), log); err != nil {
			return err
		}
	}
	return nil
}

func runGo(ctx context.Context, mod, arch string, args []string, log io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout = log
	cmd.Stderr = io.MultiWriter(log, &stderr)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sconesdocker: go %s (GOOS=linux GOARCH=%s CGO_ENABLED=0) in %s: %w\n%s", strings.Join(args, " "), arch, mod, err, strings.TrimSpace(stderr.String()))
	}
	fmt.Fprintf(log, "sconesdocker: go build for linux/%s took %v\n", arch, time.Since(start).Round(time.Millisecond))
	return nil
}

// writeContext writes the Docker build context as a tar to a temporary
// file and returns it with the SHA-256 of its bytes (ContextTar), so the
// same Dockerfile and binaries always hash the same.
func writeContext(dockerfile []byte, bins string, progs []program) (*os.File, string, error) {
	f, err := os.CreateTemp("", "scones-emulator-context-*.tar")
	if err != nil {
		return nil, "", fmt.Errorf("sconesdocker: %w", err)
	}
	fail := func(err error) (*os.File, string, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, "", fmt.Errorf("sconesdocker: build context: %w", err)
	}
	ct := NewContextTar(f)
	if err := ct.Bytes("Dockerfile", 0o644, dockerfile); err != nil {
		return fail(err)
	}
	for _, d := range []string{"rootfs/", "rootfs/usr/", "rootfs/usr/local/", binDir + "/"} {
		if err := ct.Dir(d, 0o755); err != nil {
			return fail(err)
		}
	}
	for _, p := range progs {
		if err := ct.File(binDir+"/"+p.name, 0o755, filepath.Join(bins, p.name)); err != nil {
			return fail(err)
		}
	}
	// The sticky, world-writable /tmp that scratch lacks.
	if err := ct.Dir("rootfs/tmp/", 0o1777); err != nil {
		return fail(err)
	}
	sum, err := ct.Close()
	if err != nil {
		return fail(err)
	}
	return f, sum, nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
