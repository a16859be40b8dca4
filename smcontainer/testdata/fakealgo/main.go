// Command fakealgo is a tiny SageMaker-contract program for tests: train
// counts the files of each input channel and writes the counts as its model
// (or fails as told by its hyperparameters); serve answers /ping and
// /invocations with a JSON document computed from the model and the body.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	root := os.Getenv("SCONES_ML_ROOT")
	if root == "" {
		root = "/opt/ml"
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fakealgo train|serve")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "train":
		if err := train(root); err != nil {
			os.MkdirAll(filepath.Join(root, "output"), 0o755)
			os.WriteFile(filepath.Join(root, "output", "failure"), []byte(err.Error()), 0o644)
			fmt.Fprintln(os.Stderr, "training failed:", err)
			os.Exit(1)
		}
	case "serve":
		serve(root)
	}
}

func train(root string) error {
	var hp map[string]string
	b, err := os.ReadFile(filepath.Join(root, "input/config/hyperparameters.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &hp); err != nil {
		return fmt.Errorf("ClientError: hyperparameters.json: %v", err)
	}
	if hp["fail"] != "" {
		return fmt.Errorf("ClientError: %s", hp["fail"])
	}
	if d := hp["sleep"]; d != "" {
		dur, _ := time.ParseDuration(d)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		select {
		case <-time.After(dur):
		case <-sig:
			os.WriteFile(filepath.Join(root, "model", "partial"), []byte("stopped"), 0o644)
			fmt.Println("stopping on SIGTERM")
			os.Exit(0)
		}
	}
	counts := map[string]int{}
	data := filepath.Join(root, "input/data")
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(data, p)
			counts[filepath.Dir(rel)]++
			fmt.Println("found", rel)
		}
		return nil
	})
	for e := range 3 {
		fmt.Printf("Epoch[%d] Train-accuracy=%f\n", e, 0.5+0.1*float64(e))
		fmt.Printf("Epoch[%d] Validation-accuracy=%f\n", e, 0.4+0.1*float64(e))
	}
	model, _ := json.Marshal(counts)
	os.MkdirAll(filepath.Join(root, "model"), 0o755)
	return os.WriteFile(filepath.Join(root, "model", "counts.json"), model, 0o644)
}

func serve(root string) {
	model, err := os.ReadFile(filepath.Join(root, "model", "counts.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "no model:", err)
		os.Exit(1)
	}
	port := os.Getenv("SAGEMAKER_BIND_TO_PORT")
	if port == "" {
		port = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) == "crash-now" {
			os.Exit(3)
		}
		if r.Header.Get("Content-Type") == "application/x-reject" {
			http.Error(w, "rejected: unsupported content type", http.StatusUnsupportedMediaType)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if ca := r.Header.Get("X-Amzn-SageMaker-Custom-Attributes"); ca != "" {
			w.Header().Set("X-Amzn-SageMaker-Custom-Attributes", "echo:"+ca)
		}
		fmt.Fprintf(w, `{"bytes":%d,"model":%s}`, len(body), model)
	})
	host := os.Getenv("SCONES_SERVE_HOST")
	if host == "" {
		host = "0.0.0.0"
	}
	addr := net.JoinHostPort(host, port)
	fmt.Println("fakealgo listening on", addr)
	srv := &http.Server{Addr: addr, Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		srv.Close()
	}()
	srv.ListenAndServe()
}
