package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func startupCommand() *cli.Command {
	return &cli.Command{
		Name:  "startup",
		Usage: "time from process start to the first successful ListBuckets, and idle RSS, of `scones emulator`, a floor, moto and any peers given",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "runs", Value: 10, Usage: "process starts to measure, per target"},
			&cli.BoolFlag{Name: "as-linked", Usage: "run the binaries with the page cache as the linker left it (what `go run` gets) instead of read back from disk"},
			&cli.StringSliceFlag{Name: "peer", Usage: "another server to measure, as `NAME=COMMAND`, the command split at spaces, {port} replaced by the port it is to listen on (repeatable)"},
		},
		Action: func(c *cli.Context) error {
			peers, err := parsePeers(c.StringSlice("peer"))
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "scones-bench")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			bin, err := buildBinary(dir, "scones", "./cmd/scones")
			if err != nil {
				return err
			}
			// As the README builds it: static (no dynamic loader, no libc
			// start-up) and without urfave/cli's man-page writer
			// (blackfriday's init alone allocates 214 KB); and, for
			// comparison, as a plain go build with cgo leaves it.
			slim, err := buildEmulator(dir)
			if err != nil {
				return err
			}
			plain, err := buildBinary(dir, "scones-emulator-plain", "./cmd/scones-emulator", "nodocker")
			if err != nil {
				return err
			}
			floor, err := buildStartupFloor(dir)
			if err != nil {
				return err
			}
			// The Go linker writes its output through a mapping, and the
			// page cache it leaves makes the binary's first runs map
			// several MiB more of it than once it is read back from disk
			// (36.8 against 28.8 MiB resident for the CLI here). An
			// installed binary is read from disk, so by default the runs
			// start from the file as read from disk.
			if !c.Bool("as-linked") {
				for _, b := range []string{bin, slim, plain, floor} {
					if err := dropFromPageCache(b); err != nil {
						return err
					}
				}
			}
			targets := []startupTarget{
				{name: "scones emulator (the CLI)", argv: []string{bin, "emulator", "--addr", "127.0.0.1:{port}"}},
				{name: "scones-emulator (CGO_ENABLED=0, -tags nodocker,urfave_cli_no_docs, as the README builds it)", argv: []string{slim, "--addr", "127.0.0.1:{port}"}},
				{name: "scones-emulator (plain go build -tags nodocker, cgo)", argv: []string{plain, "--addr", "127.0.0.1:{port}"}},
				{name: "floor: a static Go net/http server answering ListBuckets", argv: []string{floor, "127.0.0.1:{port}"}},
			}
			var skipped []string
			if !c.Bool("no-moto") {
				if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
					skipped = append(skipped, "| moto server | skipped: moto not installed | | | | | |")
				} else {
					targets = append(targets, startupTarget{name: "moto server", argv: []string{"python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"}})
				}
			}
			targets = append(targets, peers...)
			// Rounds alternate the targets, so that the machine's drift
			// over the run (large on the VMs measured here) falls on all
			// of them alike. Each target's first start is not counted: it
			// reads the binary from disk, which the others find in the
			// page cache.
			for round := 0; round <= c.Int("runs"); round++ {
				for i := range targets {
					t := &targets[i]
					d, m, err := measureStartup(c.Context, t.argv)
					if err != nil {
						return fmt.Errorf("%s: %w", t.name, err)
					}
					if round > 0 {
						t.ready = append(t.ready, d)
						t.rss, t.anon = append(t.rss, m.rss), append(t.anon, m.anon)
					}
				}
			}
			fmt.Println("| target | runs | ready p50 | ready max | idle RSS p50 | idle RSS max | of which private (RssAnon) p50 |")
			fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
			for _, t := range targets {
				slices.Sort(t.ready)
				slices.Sort(t.rss)
				slices.Sort(t.anon)
				n := len(t.ready)
				fmt.Printf("| %s | %d | %s | %s | %.1f MiB | %.1f MiB | %.1f MiB |\n", t.name, n, fmtDur(result{latencies: t.ready}.percentile(0.5)), fmtDur(t.ready[n-1]),
					float64(t.rss[n/2])/1024, float64(t.rss[n-1])/1024, float64(t.anon[n/2])/1024)
			}
			for _, s := range skipped {
				fmt.Println(s)
			}
			return nil
		},
	}
}

// startupTarget is one server the startup command measures: its command
// line, with {port} for the port it is to listen on, and what was measured.
type startupTarget struct {
	name      string
	argv      []string
	ready     []time.Duration
	rss, anon []int
}

// parsePeers reads --peer values, NAME=COMMAND.
func parsePeers(specs []string) ([]startupTarget, error) {
	var peers []startupTarget
	for _, s := range specs {
		name, command, ok := strings.Cut(s, "=")
		argv := strings.Fields(command)
		if !ok || strings.TrimSpace(name) == "" || len(argv) == 0 {
			return nil, fmt.Errorf("--peer %q: want NAME=COMMAND, as in 'kumo=/usr/local/bin/kumo --port {port}'", s)
		}
		if !strings.Contains(command, "{port}") {
			return nil, fmt.Errorf("--peer %q: the command has no {port}, so it cannot be told where to listen", s)
		}
		peers = append(peers, startupTarget{name: strings.TrimSpace(name), argv: argv})
	}
	return peers, nil
}

// startupFloor is the least a Go program can be ready with: listen, and
// answer every request with an empty ListBuckets. Its start-up is the
// runtime's and net/http's alone, which on a machine where page faults are
// dear (every page a process touches first is one) is most of the time.
const startupFloor = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.ListenAndServe(os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte("<ListAllMyBucketsResult><Buckets></Buckets><Owner><ID>0</ID></Owner></ListAllMyBucketsResult>"))
	}))
}
`

// buildStartupFloor builds startupFloor, statically, into dir.
func buildStartupFloor(dir string) (string, error) {
	src := filepath.Join(dir, "floor-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module startupfloor\n\ngo 1.26\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(startupFloor), 0o644); err != nil {
		return "", err
	}
	return goBuild(src, []string{"CGO_ENABLED=0", "GOFLAGS=-mod=mod"}, dir, "startup-floor", ".")
}

// measureStartup starts a server, polls ListBuckets until it succeeds, and
// reads the process's resident memory one second later (idle).
func measureStartup(ctx context.Context, argv []string) (time.Duration, memKiB, error) {
	port, err := freePort()
	if err != nil {
		return 0, memKiB{}, err
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, "{port}", strconv.Itoa(port))
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	client := s3Client(fmt.Sprintf("http://127.0.0.1:%d", port))
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, memKiB{}, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for {
		if time.Since(t0) > 30*time.Second {
			return 0, memKiB{}, fmt.Errorf("not ready after 30 s")
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := client.ListBuckets(cctx, &s3.ListBucketsInput{}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		cancel()
		if err == nil {
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	ready := time.Since(t0)
	time.Sleep(time.Second)
	return ready, residentKiB(cmd.Process.Pid), nil
}

// memKiB is a process's resident memory: all of it (VmRSS), and the part
// that is its own (RssAnon: heap, stacks), the rest being pages of files it
// maps, mostly its own executable, shared with the page cache.
type memKiB struct{ rss, anon int }

// dropFromPageCache writes path back and evicts it from the page cache,
// so that the next run reads it from disk as a freshly booted machine
// would.
func dropFromPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("evicting %s from the page cache: %w", path, err)
	}
	return nil
}

func residentKiB(pid int) memKiB {
	var m memKiB
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			m.rss = n
		case "RssAnon:":
			m.anon = n
		}
	}
	return m
}
