package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
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

// moto is a running moto server that this process started.
type moto struct {
	cmd *exec.Cmd
	url string
}

// startMoto starts moto server on a free port and waits until it answers.
// script, when non-empty, is a python file run instead of `-m moto.server`
// (the patched server in ../shared/tools).
func startMoto(ctx context.Context, script string) (*moto, error) {
	if _, err := exec.LookPath("python3"); err != nil {
		return nil, fmt.Errorf("python3 not installed")
	}
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		return nil, fmt.Errorf("moto not installed (python3 -c 'import moto.server' failed)")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	if script != "" {
		args = []string{script, "-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	}
	cmd := exec.Command("python3", args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &moto{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		select {
		case <-ctx.Done():
			m.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	m.stop()
	return nil, fmt.Errorf("moto server did not answer within 30 s")
}

func (m *moto) stop() {
	m.cmd.Process.Kill()
	m.cmd.Wait()
}
