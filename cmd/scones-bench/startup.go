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
		Usage: "time from process start to the first successful ListBuckets, and idle RSS, of `scones emulator` and moto",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "runs", Value: 10, Usage: "process starts to measure"},
			&cli.BoolFlag{Name: "as-linked", Usage: "run the binaries with the page cache as the linker left it (what `go run` gets) instead of read back from disk"},
		},
		Action: func(c *cli.Context) error {
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
			fmt.Println("| target | runs | ready p50 | ready max | idle RSS p50 | idle RSS max | of which private (RssAnon) p50 |")
			fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
			row := func(name string, start func(port int) *exec.Cmd) error {
				var ready []time.Duration
				var rss, anon []int
				// One start first, not counted: it reads the binary from
				// disk, which the others find in the page cache.
				if _, _, err := measureStartup(c.Context, start); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				for i := 0; i < c.Int("runs"); i++ {
					d, r, err := measureStartup(c.Context, start)
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					ready = append(ready, d)
					rss, anon = append(rss, r.rss), append(anon, r.anon)
				}
				res := result{latencies: ready}
				sortDurations(res.latencies)
				slices.Sort(rss)
				slices.Sort(anon)
				fmt.Printf("| %s | %d | %s | %s | %.1f MiB | %.1f MiB | %.1f MiB |\n", name, len(ready), fmtDur(res.percentile(0.5)), fmtDur(res.latencies[len(ready)-1]),
					float64(rss[len(rss)/2])/1024, float64(rss[len(rss)-1])/1024, float64(anon[len(anon)/2])/1024)
				return nil
			}
			if err := row("scones emulator (the CLI)", func(port int) *exec.Cmd {
				return exec.Command(bin, "emulator", "--addr", "127.0.0.1:"+strconv.Itoa(port))
			}); err != nil {
				return err
			}
			if err := row("scones-emulator (CGO_ENABLED=0, -tags nodocker,urfave_cli_no_docs, as the README builds it)", func(port int) *exec.Cmd {
				return exec.Command(slim, "--addr", "127.0.0.1:"+strconv.Itoa(port))
			}); err != nil {
				return err
			}
			if err := row("scones-emulator (plain go build -tags nodocker, cgo)", func(port int) *exec.Cmd {
				return exec.Command(plain, "--addr", "127.0.0.1:"+strconv.Itoa(port))
			}); err != nil {
				return err
			}
			if err := row("floor: a static Go net/http server answering ListBuckets", func(port int) *exec.Cmd {
				return exec.Command(floor, "127.0.0.1:"+strconv.Itoa(port))
			}); err != nil {
				return err
			}
			if !c.Bool("no-moto") {
				if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
					fmt.Println("| moto server | skipped: moto not installed | | | |")
					return nil
				}
				return row("moto server", func(port int) *exec.Cmd {
					return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
				})
			}
			return nil
		},
	}
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
func measureStartup(ctx context.Context, start func(port int) *exec.Cmd) (time.Duration, memKiB, error) {
	port, err := freePort()
	if err != nil {
		return 0, memKiB{}, err
	}
	cmd := start(port)
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

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}
