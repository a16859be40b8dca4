package sconescontainer

import (
	"context"
	"io"

	"github.com/scones/scones/sconesdocker"
)

// Image building and the stub service live in package sconesdocker, which
// needs no testcontainers-go (so the scones CLI links none); these are the
// same, under the names this package has always had.

// Image and build constants (see package sconesdocker).
const (
	DefaultImage       = sconesdocker.DefaultImage
	ContentHashLabel   = sconesdocker.ContentHashLabel
	DockerfilePath     = sconesdocker.DockerfilePath
	DefaultStubImage   = sconesdocker.DefaultStubImage
	StubDockerfilePath = sconesdocker.StubDockerfilePath
	StubServiceName    = sconesdocker.StubServiceName
)

// ErrDockerUnavailable is wrapped by the errors of Run, RunStubEndpoint,
// BuildImage and BuildStubImage when no Docker daemon can be reached.
var ErrDockerUnavailable = sconesdocker.ErrDockerUnavailable

type (
	// BuildOption configures BuildImage and BuildStubImage.
	BuildOption = sconesdocker.BuildOption
	// StubConfig is what the stub serves and where it reaches S3.
	StubConfig = sconesdocker.StubConfig
	// StubServiceOptions configures StartStubService.
	StubServiceOptions = sconesdocker.StubServiceOptions
)

// BuildImage builds the emulator image: see sconesdocker.BuildImage.
func BuildImage(ctx context.Context, moduleDir string, opts ...BuildOption) (string, error) {
	return sconesdocker.BuildImage(ctx, moduleDir, opts...)
}

// BuildStubImage builds the stub endpoint image (see RunStubEndpoint):
// see sconesdocker.BuildStubImage.
func BuildStubImage(ctx context.Context, moduleDir string, opts ...BuildOption) (string, error) {
	return sconesdocker.BuildStubImage(ctx, moduleDir, opts...)
}

// WithImageTag sets the repo:tag of the built image.
func WithImageTag(tag string) BuildOption { return sconesdocker.WithImageTag(tag) }

// WithBuildLog sends the build's progress to w.
func WithBuildLog(w io.Writer) BuildOption { return sconesdocker.WithBuildLog(w) }

// WithCacheDir sets where the image's binaries are compiled.
func WithCacheDir(dir string) BuildOption { return sconesdocker.WithCacheDir(dir) }

// StartStubService runs the long-lived stub SageMaker service: see
// sconesdocker.StartStubService.
func StartStubService(ctx context.Context, image string, o StubServiceOptions) (started bool, err error) {
	return sconesdocker.StartStubService(ctx, image, o)
}

// StopStubService removes StartStubService's container: see
// sconesdocker.StopStubService.
func StopStubService(ctx context.Context, name string) (removed bool, err error) {
	return sconesdocker.StopStubService(ctx, name)
}
