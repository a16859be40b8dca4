// Package smcontainer runs SageMaker-contract images locally: `<image> train`
// reads <root>/input and writes <root>/model, `<image> serve` answers GET
// /ping and POST /invocations on SAGEMAKER_BIND_TO_PORT.
//
// An image URI maps to a Program, a binary that honours the contract. Every
// region's built-in image-classification URI
// (<account>.dkr.ecr.<region>.amazonaws.com/image-classification:1 or
// :latest) maps to the classifier (cmd/image-classifier); Options.Images adds
// more. An unknown image is an *UnknownImageError naming it.
//
// A Runner runs a program in one of two modes:
//
//   - Process (the default): the binary runs as a child process with the ML
//     root moved to a directory on the host (the program's RootEnv
//     variable, SCONES_ML_ROOT for the classifier). The classifier binary is
//     Options.ClassifierPath, else an image-classifier next to the running
//     executable, else built once per Runner from this module (`go build
//     ./cmd/image-classifier` into Options.CacheDir).
//   - Docker: the binary is built static (CGO_ENABLED=0) into an image
//     `FROM scratch` (kept between runs, tagged with a hash of its contents)
//     and runs as a container, as the current user, on the host network
//     with the root bind-mounted at /opt/ml. The Docker Engine API client
//     (github.com/moby/moby/client) honours DOCKER_HOST and the other
//     DOCKER_* variables; binaries built with -tags nodocker leave it out
//     and answer Docker mode with ErrNoDocker.
//
// Every output line is logged through slog with the job or endpoint name and
// handed to Spec.Output.
package smcontainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Mode selects how programs run.
type Mode string

// Modes.
const (
	Process Mode = "process"
	Docker  Mode = "docker"
)

// Environment variables read by OptionsFromEnv.
const (
	EnvMode           = "SCONES_CONTAINER_MODE"    // process (default) or docker
	EnvClassifierPath = "SCONES_CLASSIFIER_PATH"   // a prebuilt image-classifier
	EnvCacheDir       = "SCONES_CONTAINER_CACHE"   // where built binaries go
	EnvModuleDir      = "SCONES_MODULE_DIR"        // the scones module, for go build
	EnvImages         = "SCONES_CONTAINER_IMAGES"  // image=binary[,image=binary...]
	ClassifierRootEnv = "SCONES_ML_ROOT"           // the classifier's root variable
	classifierPackage = "./cmd/image-classifier"   // built from the module
	classifierName    = "image-classifier"         // the program name
	containerRoot     = "/opt/ml"                  // the root inside a container
	portEnv           = "SAGEMAKER_BIND_TO_PORT"   // the serving port variable
	defaultStartup    = 120 * time.Second          // serve readiness timeout
	defaultStop       = 10 * time.Second           // SIGTERM grace period
	modulePath        = "github.com/scones/scones" // this module
)

// HostEnv asks a serving program to listen on 127.0.0.1, set to that by
// every Serve, rather than on the contract's 0.0.0.0: here the program runs
// as a process or in a container on the host's network, where 0.0.0.0
// would open its port to the network (and on macOS ask the user to allow
// it). The image-classifier honours it; a program that does not still
// works.
const HostEnv = "SCONES_SERVE_HOST"

// serveEnv is the environment of `<program> serve`, in either mode: the
// contract's port, and HostEnv.
func serveEnv(port int) map[string]string {
	return map[string]string{portEnv: strconv.Itoa(port), HostEnv: "127.0.0.1"}
}

// Program is a local binary that honours the SageMaker container contract.
type Program struct {
	// Name identifies the program (and its Docker image repository).
	Name string
	// Path is the binary. Empty means build Package from the module.
	Path string
	// Package is the module-relative Go package to build when Path is empty.
	Package string
	// RootEnv is the environment variable that moves the program's ML root
	// in process mode; SCONES_ML_ROOT when empty.
	RootEnv string
}

// Options configures a Runner.
type Options struct {
	Mode Mode
	// ClassifierPath is a prebuilt image-classifier binary (process mode).
	ClassifierPath string
	// CacheDir holds built binaries; default <user cache>/scones/bin.
	CacheDir string
	// ModuleDir is the scones module to build programs from; default: found
	// by walking up from the working directory.
	ModuleDir string
	// Images maps more image URIs to programs (e.g. test containers).
	Images map[string]Program
	// StopTimeout is how long a stopped program gets between SIGTERM and
	// SIGKILL; default 10 s.
	StopTimeout time.Duration
	Logger      *slog.Logger
}

// OptionsFromEnv reads Mode, ClassifierPath, CacheDir, ModuleDir and Images
// from the SCONES_* environment variables. SCONES_CONTAINER_IMAGES maps
// more images to local binaries: "image=/path/to/binary,image2=/path2".
func OptionsFromEnv() Options {
	o := Options{
		Mode:           Mode(os.Getenv(EnvMode)),
		ClassifierPath: os.Getenv(EnvClassifierPath),
		CacheDir:       os.Getenv(EnvCacheDir),
		ModuleDir:      os.Getenv(EnvModuleDir),
	}
	for _, kv := range strings.Split(os.Getenv(EnvImages), ",") {
		img, bin, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || img == "" || bin == "" {
			continue
		}
		if o.Images == nil {
			o.Images = map[string]Program{}
		}
		o.Images[img] = Program{Name: filepath.Base(bin), Path: bin}
	}
	return o
}

// Runner runs programs. It is safe for concurrent use.
type Runner struct {
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	builds map[string]*build // by program name + mode
}

type build struct {
	once sync.Once
	path string // binary, or image tag in docker mode
	err  error
}

// New returns a Runner.
func New(opts Options) (*Runner, error) {
	switch opts.Mode {
	case "":
		opts.Mode = Process
	case Process, Docker:
	default:
		return nil, fmt.Errorf("smcontainer: unknown mode %q (want process or docker)", opts.Mode)
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = defaultStop
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Runner{opts: opts, log: opts.Logger, builds: map[string]*build{}}, nil
}

// Mode is the Runner's mode.
func (r *Runner) Mode() Mode { return r.opts.Mode }

// Resolve maps an image URI to its program.
func (r *Runner) Resolve(image string) (Program, error) {
	if p, ok := r.opts.Images[image]; ok {
		if p.Name == "" {
			p.Name = filepath.Base(p.Path)
		}
		if p.RootEnv == "" {
			p.RootEnv = ClassifierRootEnv
		}
		return p, nil
	}
	if IsImageClassification(image) || image == classifierName || strings.HasPrefix(image, "scones/"+classifierName+":") {
		return Program{Name: classifierName, Path: r.opts.ClassifierPath, Package: classifierPackage, RootEnv: ClassifierRootEnv}, nil
	}
	return Program{}, &UnknownImageError{Image: image}
}

// Spec says what to run.
type Spec struct {
	// Name is the job or endpoint name, used to label log lines.
	Name string
	// Kind labels the log attribute: "job" or "endpoint".
	Kind  string
	Image string
	// Root is the ML root on the host (input/, model/, output/).
	Root string
	// Env is added to the program's environment.
	Env map[string]string
	// Output receives every output line (stdout and stderr). It may be nil
	// and must be safe for concurrent calls.
	Output func(line string)
	// StartupTimeout bounds how long Serve waits for /ping; default 120 s.
	StartupTimeout time.Duration
}

// Train runs `<program> train` to completion. A non-zero exit is an
// *ExitError; cancelling ctx stops the program (SIGTERM, then SIGKILL after
// StopTimeout) and returns ctx's error.
func (r *Runner) Train(ctx context.Context, spec Spec) error {
	prog, err := r.Resolve(spec.Image)
	if err != nil {
		return err
	}
	if r.opts.Mode == Docker {
		return r.dockerTrain(ctx, prog, spec)
	}
	bin, err := r.binary(ctx, prog)
	if err != nil {
		return err
	}
	cmd := r.command(ctx, prog, bin, spec, "train", nil)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("smcontainer: start %s train: %w", prog.Name, err)
	}
	err = cmd.Wait()
	cmd.Stdout.(*lineWriter).Close()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Code: ee.ExitCode()}
	}
	return err
}

// ExitError is a program's non-zero exit.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return "exit code: " + strconv.Itoa(e.Code) }

// command builds the exec.Cmd of a process-mode run: environment, output
// logging, and SIGTERM-then-SIGKILL on ctx cancellation.
func (r *Runner) command(ctx context.Context, prog Program, bin string, spec Spec, verb string, extraEnv map[string]string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, verb)
	cmd.Env = os.Environ()
	cmd.Env = append(cmd.Env, prog.RootEnv+"="+spec.Root)
	for k, v := range spec.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range extraEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = spec.Root
	dieWithParent(cmd)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = r.opts.StopTimeout
	out := r.lineWriter(spec, verb)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

// lineWriter logs each output line with the job/endpoint name and passes
// it to spec.Output. Close emits a last unterminated line.
func (r *Runner) lineWriter(spec Spec, verb string) *lineWriter {
	kind := spec.Kind
	if kind == "" {
		kind = "name"
	}
	return &lineWriter{emit: func(line string) {
		r.log.Info("["+spec.Name+"] "+line, kind, spec.Name, "cmd", verb)
		if spec.Output != nil {
			spec.Output(line)
		}
	}}
}

type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 1<<20 { // a runaway line: emit it in pieces
		w.emit(string(w.buf))
		w.buf = nil
	}
	return len(p), nil
}

// Close emits what is left.
func (w *lineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
	return nil
}

// Instance is a serving program.
type Instance struct {
	// URL is where /ping and /invocations answer (http://127.0.0.1:PORT).
	URL string

	stop func(context.Context) error
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// Done is closed when the program exits.
func (i *Instance) Done() <-chan struct{} { return i.done }

// Err is the program's exit error once Done is closed.
func (i *Instance) Err() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.err
}

func (i *Instance) exited(err error) {
	i.mu.Lock()
	i.err = err
	i.mu.Unlock()
	close(i.done)
}

// Stop stops the program (SIGTERM, then SIGKILL after the stop timeout) and
// waits for it to exit.
func (i *Instance) Stop(ctx context.Context) error { return i.stop(ctx) }

// Serve starts `<program> serve` and returns once GET /ping answers 200.
// The instance runs until Stop, independent of ctx, which bounds only the
// start.
func (r *Runner) Serve(ctx context.Context, spec Spec) (*Instance, error) {
	prog, err := r.Resolve(spec.Image)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var inst *Instance
	if r.opts.Mode == Docker {
		inst, err = r.dockerServe(ctx, prog, spec, port)
	} else {
		inst, err = r.processServe(ctx, prog, spec, port)
	}
	if err != nil {
		return nil, err
	}
	timeout := spec.StartupTimeout
	if timeout <= 0 {
		timeout = defaultStartup
	}
	if err := waitPing(ctx, inst, timeout); err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), r.opts.StopTimeout+5*time.Second)
		defer cancel()
		inst.Stop(sctx)
		return nil, err
	}
	return inst, nil
}

func (r *Runner) processServe(ctx context.Context, prog Program, spec Spec, port int) (*Instance, error) {
	bin, err := r.binary(ctx, prog)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	cmd := r.command(runCtx, prog, bin, spec, "serve", serveEnv(port))
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("smcontainer: start %s serve: %w", prog.Name, err)
	}
	inst := &Instance{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		cmd.Stdout.(*lineWriter).Close()
		inst.exited(err)
	}()
	inst.stop = func(ctx context.Context) error {
		cancel()
		select {
		case <-inst.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return inst, nil
}

// waitPing polls /ping until it answers 200, the program exits or the
// timeout passes.
func waitPing(ctx context.Context, inst *Instance, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, inst.URL+"/ping", nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "GET /ping answered " + resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-inst.done:
			return fmt.Errorf("the serving container exited before answering /ping (%v)", inst.Err())
		case <-ctx.Done():
			return fmt.Errorf("the serving container did not pass the /ping health check within %v (%s)", timeout, last)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("smcontainer: pick a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// binary returns the program's binary for process mode, building it once
// per Runner when needed.
func (r *Runner) binary(ctx context.Context, prog Program) (string, error) {
	if prog.Path != "" {
		return prog.Path, nil
	}
	if prog.Name == classifierName {
		if exe, err := os.Executable(); err == nil {
			if p := filepath.Join(filepath.Dir(exe), classifierName); isExecutable(p) {
				return p, nil
			}
		}
	}
	return r.buildOnce(ctx, "process/"+prog.Name, func() (string, error) {
		return r.goBuild(ctx, prog, false)
	})
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func (r *Runner) buildOnce(_ context.Context, key string, fn func() (string, error)) (string, error) {
	r.mu.Lock()
	b := r.builds[key]
	if b == nil {
		b = &build{}
		r.builds[key] = b
	}
	r.mu.Unlock()
	b.once.Do(func() { b.path, b.err = fn() })
	return b.path, b.err
}

// goBuild builds prog.Package from the module into the cache directory
// (atomically, so concurrent builders do not clash).
func (r *Runner) goBuild(ctx context.Context, prog Program, static bool) (string, error) {
	if prog.Package == "" {
		return "", fmt.Errorf("smcontainer: program %s has neither a path nor a package to build", prog.Name)
	}
	mod, err := r.moduleDir()
	if err != nil {
		return "", err
	}
	cache := r.opts.CacheDir
	if cache == "" {
		uc, err := os.UserCacheDir()
		if err != nil {
			uc = os.TempDir()
		}
		cache = filepath.Join(uc, "scones", "bin")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("smcontainer: cache dir: %w", err)
	}
	name := prog.Name
	if static {
		name += "-static"
	}
	out := filepath.Join(cache, name)
	tmp, err := os.CreateTemp(cache, name+".*.tmp")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp.Name(), prog.Package)
	cmd.Dir = mod
	cmd.Env = os.Environ()
	if static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0", "GOOS=linux")
	}
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("smcontainer: go build %s (set %s to a prebuilt binary instead): %v\n%s", prog.Package, EnvClassifierPath, err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	r.log.Info("built container program", "program", prog.Name, "path", out, "static", static, "took", time.Since(start).Round(time.Millisecond))
	return out, nil
}

// moduleDir finds the scones module to build from.
func (r *Runner) moduleDir() (string, error) {
	if r.opts.ModuleDir != "" {
		return r.opts.ModuleDir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module "+modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("smcontainer: cannot find the %s module above the working directory to build the classifier; set %s or %s", modulePath, EnvClassifierPath, EnvModuleDir)
		}
		dir = parent
	}
}
