// Package emulator is scones' embedded AWS: one HTTP edge that serves every
// emulated service on a single address, routed by the service name in each
// request's SigV4 credential scope (LocalStack's edge-port idea).
//
// The services live in sibling packages (emulator/s3, emulator/iam, ...),
// each built from an awsapi.Env and exposing plain Go methods that the
// other services use in-process. Start runs the edge; the same Server backs
// `scones emulator`, the CLI's embedded default and the tests (on port 0).
package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/faults"
	"github.com/scones/scones/emulator/httpserver"
	"github.com/scones/scones/emulator/iam"
	"github.com/scones/scones/emulator/lambda"
	"github.com/scones/scones/emulator/s3"
	"github.com/scones/scones/emulator/sagemaker"
	"github.com/scones/scones/emulator/sfn"
	"github.com/scones/scones/emulator/store"
	"github.com/scones/scones/emulator/sts"
)

// Defaults for Options fields left empty.
const (
	DefaultAddr      = "127.0.0.1:4566"
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// Options configures a Server. The zero value serves in memory on
// DefaultAddr without checking signatures and without waiting (TimeScale 0).
type Options struct {
	// Addr is the listen address; use "127.0.0.1:0" for a free port.
	Addr string
	// DataDir keeps every service's state in DataDir/state.db across
	// restarts. Empty keeps state in memory.
	DataDir string
	// Sync flushes each write to stable storage (only with DataDir).
	Sync bool
	// Region and AccountID are used in ARNs and responses.
	Region    string
	AccountID string
	// VerifySignatures recomputes SigV4 for every request and refuses a bad
	// one with SignatureDoesNotMatch. Credentials maps access key ids to
	// secrets; nil means {"test": "test"}.
	VerifySignatures bool
	Credentials      map[string]string
	// TimeScale multiplies the waits the emulator performs (Step Functions
	// Wait states and retry intervals): 1 is real time, 0 never waits.
	TimeScale float64
	// Logger receives the emulator's log; nil discards it.
	Logger *slog.Logger
	// Faults are injected from the start; they can be changed at run time
	// through PUT /_scones/faults. FaultSeed makes the coin flips repeatable.
	Faults    []faults.Rule
	FaultSeed uint64
}

// Server is a running emulator.
type Server struct {
	opts     Options
	env      awsapi.Env
	store    store.Store
	services map[string]awsapi.Service
	order    []awsapi.Service
	S3       *s3.Service
	// SageMaker is SageMaker and SageMaker Runtime.
	SageMaker *sagemaker.Service
	Lambda    *lambda.Service
	// StepFunctions runs state machines on the asl engine.
	StepFunctions *sfn.Service
	handler       http.Handler
	faults        *faults.Injector

	mu       sync.Mutex
	http     *httpserver.Server
	listener net.Listener
	url      string
	ready    bool
}

// New builds a Server and its services without listening yet. Handler can
// serve requests at once; Start listens.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Credentials == nil {
		opts.Credentials = map[string]string{"test": "test"}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.TimeScale < 0 {
		return nil, fmt.Errorf("emulator: time scale %v is negative", opts.TimeScale)
	}
	var st store.Store
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("emulator: data dir: %w", err)
		}
		var err error
		st, err = store.OpenBolt(filepath.Join(opts.DataDir, "state.db"), store.BoltOptions{Sync: opts.Sync})
		if err != nil {
			return nil, fmt.Errorf("emulator: %w", err)
		}
	} else {
		st = store.NewMemory()
	}
	injector := faults.New(opts.FaultSeed)
	if err := injector.Set(opts.Faults); err != nil {
		st.Close()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	s := &Server{opts: opts, store: st, services: map[string]awsapi.Service{}, faults: injector}
	s.env = awsapi.Env{
		Region:    opts.Region,
		AccountID: opts.AccountID,
		Store:     st,
		Logger:    opts.Logger,
		BaseURL:   s.URL,
		TimeScale: opts.TimeScale,
		Now:       time.Now,
		Faults:    injector,

		VerifySignatures: opts.VerifySignatures,
	}
	if err := s.newServices(); err != nil {
		st.Close()
		return nil, err
	}
	s.handler = s.router()
	return s, nil
}

// newServices builds every emulated service, dependencies first.
func (s *Server) newServices() error {
	var err error
	if s.S3, err = s3.New(s.env); err != nil {
		return fmt.Errorf("emulator: s3: %w", err)
	}
	s.add(s.S3)
	if s.SageMaker, err = sagemaker.New(s.env, s.S3); err != nil {
		return fmt.Errorf("emulator: sagemaker: %w", err)
	}
	s.add(s.SageMaker)
	if s.Lambda, err = lambda.New(s.env, s.S3); err != nil {
		return fmt.Errorf("emulator: lambda: %w", err)
	}
	s.add(s.Lambda)
	if s.StepFunctions, err = sfn.New(s.env, sfn.Deps{Lambda: lambdaInvoker{s.Lambda}, Service: s.serviceHandler, S3: itemStore{s.S3}}); err != nil {
		return fmt.Errorf("emulator: stepfunctions: %w", err)
	}
	s.add(s.StepFunctions)
	s.add(sts.New(s.env))
	s.add(iam.New(s.env))
	return nil
}

func (s *Server) add(svc awsapi.Service) {
	s.services[svc.Name()] = svc
	s.order = append(s.order, svc)
}

// Start builds a Server and serves it until Close. It returns once the
// server accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := s.Listen(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Listen binds the address and serves in the background.
func (s *Server) Listen(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	s.mu.Lock()
	s.listener = ln
	// A wildcard listener ("0.0.0.0:4566", reported as [::]) is reached on
	// loopback by the processes the emulator starts.
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	s.url = "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
	// httpserver, not net/http's Server: it reads requests with net/http's
	// parser but spares every request the thread hand-offs of net/http's
	// background connection read, a third of the server's CPU for a 3 KB
	// PutObject (see its package doc). Like the net/http server it
	// replaced (session 5), it sets no header timeout: the emulator serves
	// local clients, and a slow-header client holds one goroutine, as an
	// idle one already does.
	s.http = &httpserver.Server{Handler: s.handler, Logger: s.opts.Logger}
	s.ready = true
	srv := s.http
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, httpserver.ErrServerClosed) {
			s.opts.Logger.Error("emulator: serve", "err", err)
		}
	}()
	// Debug, not Info: the commands announce readiness themselves, and a
	// first slog line costs most of a millisecond that the first requests
	// would wait for.
	s.opts.Logger.Debug("emulator listening", "url", s.url)
	return nil
}

// URL is the base URL clients use (http://127.0.0.1:PORT), empty before
// Listen.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Handler serves every service; it is what Listen serves.
func (s *Server) Handler() http.Handler { return s.handler }

// Env is the environment the services were built with.
func (s *Server) Env() awsapi.Env { return s.env }

// Faults is the fault injector of every service.
func (s *Server) Faults() *faults.Injector { return s.faults }

// Service returns the service with the given signing name, or nil.
func (s *Server) Service(name string) awsapi.Service { return s.services[name] }

// Close stops accepting requests, lets in-flight ones finish (up to 10 s),
// shuts the services down and closes the store.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// Shutdown is Close with a caller-chosen deadline.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv := s.http
	s.ready = false
	s.mu.Unlock()
	var errs []error
	if srv != nil {
		errs = append(errs, srv.Shutdown(ctx))
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		if c, ok := s.order[i].(awsapi.Closer); ok {
			errs = append(errs, c.Close(ctx))
		}
	}
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}
