package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func stripes(label, phase int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			on := (y+phase)/2%2 == 0
			if label == 1 {
				on = (x+phase)/2%2 == 0
			}
			v := uint8(40)
			if on {
				v = 200
			}
			img.SetNRGBA(x, y, color.NRGBA{v, v / 2, 255 - v, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// makeRoot writes a SageMaker tree with a small synthetic data set.
func makeRoot(t *testing.T, hp string) string {
	root := t.TempDir()
	for _, ch := range []string{"train", "validation"} {
		var lst strings.Builder
		for i := 0; i < 32; i++ {
			name := fmt.Sprintf("%s_%d.png", ch, i)
			writeFile(t, filepath.Join(root, "input", "data", ch, name), stripes(i%2, i/2%4))
			fmt.Fprintf(&lst, "%d\t%d\t%s\n", i, i%2, name)
		}
		writeFile(t, filepath.Join(root, "input", "data", ch+"_lst", ch+".lst"), []byte(lst.String()))
	}
	writeFile(t, filepath.Join(root, "input", "config", "hyperparameters.json"), []byte(hp))
	writeFile(t, filepath.Join(root, "input", "config", "inputdataconfig.json"),
		[]byte(`{"train":{"ContentType":"application/x-image"},"validation":{"ContentType":"application/x-image"},"train_lst":{"ContentType":"application/x-image"},"validation_lst":{"ContentType":"application/x-image"}}`))
	writeFile(t, filepath.Join(root, "input", "config", "resourceconfig.json"), []byte(`{"current_host":"algo-1","hosts":["algo-1"]}`))
	return root
}

const goodHP = `{"num_classes":"2","num_training_samples":"32","image_shape":"3,32,32","epochs":"3","mini_batch_size":"16"}`

func TestTrainAndServeInProcess(t *testing.T) {
	root := makeRoot(t, goodHP)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"train", "--ml-root", root}, &out, &errb); code != 0 {
		t.Fatalf("train exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "Epoch[2] Validation-accuracy=") {
		t.Fatalf("log:\n%s", out.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--ml-root", root, "--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no listening line: %v (exit %d)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	addr := strings.TrimSpace(strings.TrimPrefix(line, "image-classifier listening on "))
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("listening on %q, want 127.0.0.1 (SCONES_SERVE_HOST)", addr)
	}
	resp, err := http.Post("http://"+addr+"/invocations", "image/png", bytes.NewReader(stripes(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var probs []float64
	json.NewDecoder(resp.Body).Decode(&probs)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(probs) != 2 {
		t.Fatalf("invocations: %d %v", resp.StatusCode, probs)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d", code)
	}
}

func TestTrainFailureWritesReason(t *testing.T) {
	root := makeRoot(t, `{"num_classes":"2","num_training_samples":"32","epochs":"many"}`)
	t.Setenv("SCONES_ML_ROOT", root) // the environment variable moves the root too
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"train"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	b, err := os.ReadFile(filepath.Join(root, "output", "failure"))
	if err != nil || !strings.Contains(string(b), "epochs") {
		t.Fatalf("failure file %q: %v", b, err)
	}
	if !strings.Contains(errb.String(), "epochs") {
		t.Fatalf("stderr: %s", errb.String())
	}
}

func TestServeWithoutModel(t *testing.T) {
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--ml-root", t.TempDir(), "--addr", "127.0.0.1:0"}, io.Discard, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "no model") {
		t.Fatalf("stderr: %s", errb.String())
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"predict"}, {"train", "--bogus"}, {"train", "extra"}} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestBinaryContract builds the binary and runs it as a subprocess, the way
// the SageMaker emulator does: train, then serve on 127.0.0.1:0 with
// SAGEMAKER_BIND_TO_PORT ignored in favour of --addr, then SIGTERM.
func TestBinaryContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped under -short")
	}
	bin := filepath.Join(t.TempDir(), "image-classifier")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root := makeRoot(t, goodHP)
	cmd := exec.Command(bin, "train")
	cmd.Env = append(os.Environ(), "SCONES_ML_ROOT="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	// As scones' runner starts it on the host: the contract's port
	// variable, and SCONES_SERVE_HOST so as not to listen on every address.
	srv := exec.Command(bin, "serve", "--ml-root", root)
	srv.Env = append(os.Environ(), "SAGEMAKER_BIND_TO_PORT=0", "SCONES_SERVE_HOST=127.0.0.1")
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "image-classifier listening on "))
	resp, err := http.Get("http://" + addr + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ping %d", resp.StatusCode)
	}
	srv.Process.Signal(syscall.SIGTERM)
	errc := make(chan error, 1)
	go func() { errc <- srv.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
}
