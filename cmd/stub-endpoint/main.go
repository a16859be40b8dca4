// Command stub-endpoint serves SageMaker for backends that have S3 but no
// SageMaker (the localstack profile), in one of two modes.
//
// With --serve-sagemaker it is the emulator's whole SageMaker service
// (package emulator/sagemaker: training jobs, models, endpoint configs,
// endpoints, tags, InvokeEndpoint and data capture) on its own, keeping
// its state in memory, or with --data-dir in DIR/state.db across restarts
// (endpoints that were in service start again), and reading and writing
// training data, models and capture files in the S3 at --s3-endpoint
// through aws-sdk-go-v2. Point the profile's sagemaker and
// sagemaker_runtime endpoints at it.
//
// Otherwise it is a SageMaker endpoint for one model. It serves SageMaker
// Runtime's InvokeEndpoint
//
//	POST /endpoints/{name}/invocations
//
// and the SageMaker container contract paths (GET /ping, POST
// /invocations), forwarding each invocation to the model's serving
// container, which it starts itself as a local process (the classifier by
// default: the built-in image-classification image maps to it), or to an
// already running container given by --model-url. Sampled invocations are
// written as SageMaker data-capture files to S3 through an aws-sdk-go-v2 S3
// client (BaseEndpoint --s3-endpoint, path-style), with the same writer the
// emulator uses.
//
// Its image is built FROM scratch from this binary and the classifier's
// (see Dockerfile). Configuration is by flags or the environment variables
// named in each flag's help; credentials come from the usual AWS_*
// variables. SIGTERM stops it after writing every buffered capture record.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/faults"
	"github.com/scones/scones/emulator/sagemaker"
	"github.com/scones/scones/emulator/sagemaker/capture"
	"github.com/scones/scones/emulator/sagemaker/s3client"
	"github.com/scones/scones/emulator/sagemaker/serving"
	"github.com/scones/scones/emulator/store"
	"github.com/scones/scones/smcontainer"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], log); err != nil {
		log.Error("stub-endpoint failed", "err", err)
		os.Exit(1)
	}
}

// options are the stub's settings.
type options struct {
	addr, endpoint, variant       string
	image, modelDataURL, modelDir string
	modelURL, root                string
	s3Endpoint, region, account   string
	captureConfig                 string
	captureDest, captureModes     string
	captureJSON, captureCSV       string
	captureSampling               int
	serveSageMaker                bool
	dataDir                       string
	flushInterval, startupTimeout time.Duration
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(os.Getenv(name))
	return v
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func parse(args []string) (*options, error) {
	var o options
	fs := flag.NewFlagSet("stub-endpoint", flag.ContinueOnError)
	region := env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1"))
	fs.StringVar(&o.addr, "addr", env("STUB_ADDR", "0.0.0.0:8080"), "listen address ($STUB_ADDR)")
	fs.BoolVar(&o.serveSageMaker, "serve-sagemaker", envBool("STUB_SERVE_SAGEMAKER"), "serve the whole SageMaker API (training, models, endpoints, InvokeEndpoint) over the S3 at --s3-endpoint, instead of one model ($STUB_SERVE_SAGEMAKER)")
	fs.StringVar(&o.dataDir, "data-dir", env("STUB_DATA_DIR", ""), "with --serve-sagemaker: keep SageMaker's state in DIR/state.db across restarts; in memory without ($STUB_DATA_DIR)")
	fs.StringVar(&o.endpoint, "endpoint-name", env("STUB_ENDPOINT_NAME", ""), "endpoint name served ($STUB_ENDPOINT_NAME, required)")
	fs.StringVar(&o.variant, "variant", env("STUB_VARIANT", "AllTraffic"), "production variant name ($STUB_VARIANT)")
	fs.StringVar(&o.image, "image", env("STUB_IMAGE", smcontainer.ImageClassificationURI(region)), "model image URI, mapped to a local program ($STUB_IMAGE)")
	fs.StringVar(&o.modelDataURL, "model-data-url", env("STUB_MODEL_DATA_URL", ""), "s3:// URL of model.tar.gz ($STUB_MODEL_DATA_URL)")
	fs.StringVar(&o.modelDir, "model-dir", env("STUB_MODEL_DIR", ""), "local model directory instead of --model-data-url ($STUB_MODEL_DIR)")
	fs.StringVar(&o.modelURL, "model-url", env("STUB_MODEL_URL", ""), "forward to this running model container instead of starting one ($STUB_MODEL_URL)")
	fs.StringVar(&o.root, "ml-root", env("STUB_ML_ROOT", ""), "ML root of the model container (default a new temp dir) ($STUB_ML_ROOT)")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", env("AWS_ENDPOINT_URL_S3", env("AWS_ENDPOINT_URL", "")), "S3 endpoint URL ($AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL)")
	fs.StringVar(&o.region, "region", region, "AWS region ($AWS_REGION)")
	fs.StringVar(&o.account, "account-id", env("STUB_ACCOUNT_ID", "000000000000"), "account id in error messages ($STUB_ACCOUNT_ID)")
	fs.StringVar(&o.captureConfig, "data-capture-config", env("STUB_DATA_CAPTURE_CONFIG", ""), "DataCaptureConfig as SageMaker's JSON ($STUB_DATA_CAPTURE_CONFIG); overrides the --capture-* flags")
	fs.StringVar(&o.captureDest, "capture-destination", env("STUB_CAPTURE_DESTINATION", ""), "s3:// capture destination; empty disables capture ($STUB_CAPTURE_DESTINATION)")
	fs.IntVar(&o.captureSampling, "capture-sampling", envInt("STUB_CAPTURE_SAMPLING", 100), "capture sampling percentage ($STUB_CAPTURE_SAMPLING)")
	fs.StringVar(&o.captureModes, "capture-modes", env("STUB_CAPTURE_MODES", "Input,Output"), "capture options ($STUB_CAPTURE_MODES)")
	fs.StringVar(&o.captureJSON, "capture-json-content-types", env("STUB_CAPTURE_JSON_CONTENT_TYPES", "application/json"), "content types captured as JSON ($STUB_CAPTURE_JSON_CONTENT_TYPES)")
	fs.StringVar(&o.captureCSV, "capture-csv-content-types", env("STUB_CAPTURE_CSV_CONTENT_TYPES", "text/csv"), "content types captured as CSV ($STUB_CAPTURE_CSV_CONTENT_TYPES)")
	fs.DurationVar(&o.flushInterval, "capture-flush-interval", envDuration("STUB_CAPTURE_FLUSH_INTERVAL", capture.DefaultFlushInterval), "how often capture files are written ($STUB_CAPTURE_FLUSH_INTERVAL)")
	fs.DurationVar(&o.startupTimeout, "startup-timeout", envDuration("STUB_STARTUP_TIMEOUT", 2*time.Minute), "how long the model container may take to answer /ping")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.serveSageMaker {
		if o.endpoint != "" || o.modelDataURL != "" || o.modelDir != "" || o.modelURL != "" {
			return nil, errors.New("--serve-sagemaker serves the endpoints its CreateEndpoint calls make: drop --endpoint-name and --model-*")
		}
		return &o, nil
	}
	if o.dataDir != "" {
		return nil, errors.New("--data-dir keeps the state of --serve-sagemaker; one model's endpoint has none")
	}
	if o.endpoint == "" {
		return nil, errors.New("--endpoint-name (or STUB_ENDPOINT_NAME) is required")
	}
	if o.modelURL == "" && o.modelDataURL == "" && o.modelDir == "" {
		return nil, errors.New("one of --model-data-url, --model-dir or --model-url is required")
	}
	return &o, nil
}

// captureConfig builds the DataCaptureConfig from the flags, or nil.
func (o *options) dataCapture() (*capture.DataCaptureConfig, error) {
	if o.captureConfig != "" {
		var c capture.DataCaptureConfig
		if err := json.Unmarshal([]byte(o.captureConfig), &c); err != nil {
			return nil, fmt.Errorf("--data-capture-config: %w", err)
		}
		return &c, nil
	}
	if o.captureDest == "" {
		return nil, nil
	}
	c := &capture.DataCaptureConfig{InitialSamplingPercentage: &o.captureSampling, DestinationS3Uri: o.captureDest,
		CaptureContentTypeHeader: &capture.CaptureContentTypeHeader{CsvContentTypes: split(o.captureCSV), JsonContentTypes: split(o.captureJSON)}}
	for _, m := range split(o.captureModes) {
		c.CaptureOptions = append(c.CaptureOptions, capture.CaptureOption{CaptureMode: m})
	}
	return c, nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	if o.serveSageMaker {
		return serveSageMaker(ctx, o, log)
	}
	log = log.With("endpoint", o.endpoint)
	dc, err := o.dataCapture()
	if err != nil {
		return err
	}
	var s3c *s3.Client
	if dc.Enabled() || o.modelDataURL != "" {
		if s3c, err = o.s3Client(ctx); err != nil {
			return err
		}
	}

	variant := &serving.Variant{Name: o.variant, Weight: 1, URL: strings.TrimSuffix(o.modelURL, "/")}
	var inst *smcontainer.Instance
	if o.modelURL == "" {
		inst, err = startModel(ctx, o, s3c, log)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			inst.Stop(sctx)
		}()
		variant.URL = inst.URL
	}
	var writer *capture.Writer
	if dc.Enabled() {
		cc, err := capture.ConfigFrom(dc)
		if err != nil {
			return fmt.Errorf("data capture: %w", err)
		}
		writer, err = capture.NewWriter(cc, sagemaker.CapturePutter(s3client.New(s3c)), capture.Options{Endpoint: o.endpoint, Variant: o.variant,
			FlushInterval: o.flushInterval, Logger: log})
		if err != nil {
			return err
		}
		variant.Capture = writer
		log.Info("data capture on", "destination", dc.DestinationS3Uri, "flush", o.flushInterval)
	}
	ep := &serving.Endpoint{Name: o.endpoint, Variants: []*serving.Variant{variant}}
	proxy := serving.NewProxy(o.account, o.region)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /endpoints/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		if name := r.PathValue("name"); name != o.endpoint {
			serving.WriteError(w, serving.EndpointNotFound(name, o.account))
			return
		}
		proxy.Invoke(w, r, ep)
	})
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) { proxy.Invoke(w, r, ep) })
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(variant.URL + "/ping")
		if err != nil {
			http.Error(w, "model container unreachable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	})
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	log.Info("stub endpoint listening", "addr", ln.Addr().String(), "model", variant.URL)
	return serve(ctx, ln, mux, func(ctx context.Context) error {
		if writer != nil {
			if err := writer.Close(ctx); err != nil {
				return fmt.Errorf("writing capture records: %w", err)
			}
		}
		return nil
	})
}

// serve answers on ln until ctx ends, then shuts the server down and runs
// closeFn (which writes what is buffered) within 30 s.
func serve(ctx context.Context, ln net.Listener, h http.Handler, closeFn func(context.Context) error) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, closeFn(sctx))
}

// s3Client is the S3 client for --s3-endpoint (path style), with the
// credentials of the environment.
func (o *options) s3Client(ctx context.Context) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.region))
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.s3Endpoint != "" {
			so.BaseEndpoint = aws.String(o.s3Endpoint)
		}
		so.UsePathStyle = true
	}), nil
}

// serveSageMaker serves the emulator's SageMaker service alone, over the
// S3 at --s3-endpoint; GET /ping answers 200 once it listens.
func serveSageMaker(ctx context.Context, o *options, log *slog.Logger) error {
	s3c, err := o.s3Client(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	st := store.NewMemory()
	if o.dataDir != "" {
		if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
			ln.Close()
			return fmt.Errorf("--data-dir: %w", err)
		}
		if st, err = store.OpenBolt(filepath.Join(o.dataDir, "state.db"), store.BoltOptions{Sync: true}); err != nil {
			ln.Close()
			return fmt.Errorf("--data-dir: %w", err)
		}
	}
	defer st.Close()
	env := awsapi.Env{Region: o.region, AccountID: o.account, Store: st, Logger: log,
		BaseURL: func() string { return base }, TimeScale: 1, Now: time.Now, Faults: faults.New(0)}
	svc, err := sagemaker.New(env, s3client.New(s3c), sagemaker.WithCaptureFlushInterval(o.flushInterval))
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("/", svc)
	log.Info("stub SageMaker listening", "addr", ln.Addr().String(), "s3", o.s3Endpoint, "region", o.region, "account", o.account)
	return serve(ctx, ln, mux, func(ctx context.Context) error { return svc.Close(ctx) })
}

// startModel fetches the model and starts its serving program.
func startModel(ctx context.Context, o *options, s3c *s3.Client, log *slog.Logger) (*smcontainer.Instance, error) {
	root := o.root
	if root == "" {
		os.MkdirAll(os.TempDir(), 0o1777)
		var err error
		if root, err = os.MkdirTemp("", "stub-endpoint-"); err != nil {
			return nil, err
		}
	}
	modelDir := filepath.Join(root, "model")
	if err := os.MkdirAll(modelDir, 0o755); err != nil {
		return nil, err
	}
	switch {
	case o.modelDir != "":
		modelDir = o.modelDir
		root = filepath.Dir(modelDir)
		if filepath.Base(modelDir) != "model" {
			return nil, fmt.Errorf("--model-dir %s: the directory must be named model (it is <root>/model)", modelDir)
		}
	case o.modelDataURL != "":
		bucket, key, err := capture.ParseS3URI(o.modelDataURL)
		if err != nil {
			return nil, err
		}
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return nil, fmt.Errorf("Failed to download model data from URL: %q: %w", o.modelDataURL, err)
		}
		data, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			return nil, err
		}
		if err := serving.ExtractTarGz(data, modelDir); err != nil {
			return nil, fmt.Errorf("model data %s: %w", o.modelDataURL, err)
		}
	}
	ro := smcontainer.OptionsFromEnv()
	ro.Logger = log
	runner, err := smcontainer.New(ro)
	if err != nil {
		return nil, err
	}
	return runner.Serve(ctx, smcontainer.Spec{Name: o.endpoint + "/" + o.variant, Kind: "endpoint", Image: o.image, Root: root,
		StartupTimeout: o.startupTimeout})
}
