// Command image-classifier is the scones image classifier packaged to
// SageMaker's training and inference container contract.
//
//	image-classifier train [--ml-root DIR]
//	image-classifier serve [--ml-root DIR] [--addr HOST:PORT]
//
// train reads <root>/input/config/{hyperparameters,inputdataconfig,
// resourceconfig}.json and the train, validation, train_lst and
// validation_lst channels under <root>/input/data, logs per-epoch
// "Epoch[N] Train-accuracy=..." and "Epoch[N] Validation-accuracy=..." lines
// like the built-in algorithm, and writes <root>/model/image-classifier.model.
// On failure it writes the reason to <root>/output/failure and exits 1.
//
// serve loads the model from <root>/model (the model file, or a
// model.tar.gz containing it) and answers GET /ping and POST /invocations.
// It listens on 0.0.0.0:8080, or on the port in SAGEMAKER_BIND_TO_PORT and
// the address in SCONES_SERVE_HOST (which scones' runner sets to 127.0.0.1
// when the program runs on the host, as a process or on its network), or
// on --addr (e.g. 127.0.0.1:0 for tests). Once listening it prints one line
// "image-classifier listening on <host:port>" to stdout.
//
// The root defaults to /opt/ml. --ml-root or the SCONES_ML_ROOT environment
// variable move it (the flag wins), so the binary can run as a plain
// process. SIGTERM or SIGINT stops training (writing the failure file) or
// shuts the server down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/scones/scones/classifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: image-classifier train|serve [--ml-root DIR] [--addr HOST:PORT]")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	cmd := args[0]
	fsFlags := flag.NewFlagSet("image-classifier "+cmd, flag.ContinueOnError)
	fsFlags.SetOutput(stderr)
	root := fsFlags.String("ml-root", "", "SageMaker root directory (default $"+classifier.MLRootEnv+" or "+classifier.DefaultMLRoot+")")
	addr := fsFlags.String("addr", "", "serve: listen address (default ${SCONES_SERVE_HOST:-0.0.0.0}:${SAGEMAKER_BIND_TO_PORT:-8080})")
	if err := fsFlags.Parse(args[1:]); err != nil {
		return 2
	}
	if fsFlags.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fsFlags.Args())
		usage(stderr)
		return 2
	}
	if *root == "" {
		*root = os.Getenv(classifier.MLRootEnv)
	}
	if *root == "" {
		*root = classifier.DefaultMLRoot
	}
	switch cmd {
	case "train":
		logf := classifier.NewContainerLogger(stdout, os.Getpid())
		if err := classifier.RunTraining(ctx, *root, logf); err != nil {
			fmt.Fprintf(stderr, "training failed: %v\n", err)
			return 1
		}
		return 0
	case "serve":
		if err := serve(ctx, *root, *addr, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "serve: %v\n", err)
			return 1
		}
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n", cmd)
		usage(stderr)
		return 2
	}
}

func serve(ctx context.Context, root, addr string, stdout, stderr io.Writer) error {
	dir := filepath.Join(root, "model")
	m, err := classifier.LoadModelDir(dir)
	if err != nil {
		return err
	}
	if addr == "" {
		port := os.Getenv("SAGEMAKER_BIND_TO_PORT")
		if port == "" {
			port = "8080"
		}
		host := os.Getenv("SCONES_SERVE_HOST")
		if host == "" {
			host = "0.0.0.0"
		}
		addr = net.JoinHostPort(host, port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h, w := m.InputSize()
	fmt.Fprintf(stderr, "loaded model from %s: %d classes, %dx%d input, %d parameters\n", dir, m.NumClasses(), h, w, m.NumParams())
	fmt.Fprintf(stdout, "image-classifier listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: classifier.NewHandler(m), ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
