package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scones/scones/emulator"
)

// The test binary runs main when asked to, so that the tests below drive
// the real program: its flags, its signal handling, its exit code.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("SCONES_EMULATOR_ARGS"); ok {
		os.Args = append([]string{"scones-emulator"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestStopsCleanlyOnSignal: on SIGINT or SIGTERM, scones-emulator says it
// is stopping, closes its store and exits 0; what it acknowledged is there
// when the data dir is opened again.
func TestStopsCleanlyOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "SCONES_EMULATOR_ARGS=--addr 127.0.0.1:0 --data-dir "+dir)
			// Read only once the process has exited, when exec's copy of it
			// is done.
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			url, ok := strings.CutPrefix(strings.TrimSpace(line), "scones emulator serving on ")
			if err != nil || !ok {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("first line %q, %v; stderr:\n%s", line, err, stderr.String())
			}
			// An unsigned request goes to S3: CreateBucket.
			req, _ := http.NewRequest(http.MethodPut, url+"/signal-kept", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("CreateBucket: %s", resp.Status)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("after %v: %v; stderr:\n%s", sig, err, stderr.String())
				}
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 15 s after %v; stderr:\n%s", sig, stderr.String())
			}
			if !strings.Contains(stderr.String(), "stopping emulator") {
				t.Errorf("stderr does not say it is stopping:\n%s", stderr.String())
			}
			// The store was closed: it opens at once (bolt would wait on the
			// lock of a store still open) and holds the bucket.
			srv, err := emulator.Start(context.Background(), emulator.Options{Addr: "127.0.0.1:0", DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			head, _ := http.NewRequest(http.MethodHead, srv.URL()+"/signal-kept", nil)
			resp, err = http.DefaultClient.Do(head)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("HeadBucket after the restart: %s", resp.Status)
			}
		})
	}
}
