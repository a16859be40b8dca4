package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// freePort asks the kernel for a free 127.0.0.1 port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// process is a server this process started, on its own port.
type process struct {
	cmd *exec.Cmd
	url string
}

// startProcess starts name with args (in which "PORT" stands for a free
// port) and waits until GET readyPath answers, for at most 30 s.
func startProcess(ctx context.Context, name string, args []string, readyPath string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "PORT", strconv.Itoa(port))
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.url + readyPath)
		if err == nil {
			resp.Body.Close()
			return p, nil
		}
		select {
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.stop()
	return nil, fmt.Errorf("%s did not answer within 30 s", name)
}

func (p *process) stop() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

// startMoto starts moto server on a free port and waits until it answers.
// script, when non-empty, is a python file run instead of `-m moto.server`
// (the patched server in ../shared/tools).
func startMoto(ctx context.Context, script string) (*process, error) {
	if _, err := exec.LookPath("python3"); err != nil {
		return nil, fmt.Errorf("python3 not installed")
	}
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		return nil, fmt.Errorf("moto not installed (python3 -c 'import moto.server' failed)")
	}
	args := []string{"-m", "moto.server", "-H", "127.0.0.1", "-p", "PORT"}
	if script != "" {
		args = []string{script, "-H", "127.0.0.1", "-p", "PORT"}
	}
	m, err := startProcess(ctx, "python3", args, "/moto-api/")
	if err != nil {
		return nil, fmt.Errorf("moto server: %w", err)
	}
	return m, nil
}
