package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/urfave/cli/v2"

	"github.com/scones/scones/pipeline"
	"github.com/scones/scones/profile"
)

func stageCommand() *cli.Command {
	return &cli.Command{
		Name: "stage",
		Usage: "time and peak RSS of `scones stage` of a full-size archive into a separate `scones emulator` process, " +
			"against the floor `gzip -dc ARCHIVE > /dev/null` on the same file",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "archive", Usage: "the full-size archive (`go run ./fixtures/cmd/gen-fixtures -full PATH`)", Required: true},
			&cli.IntFlag{Name: "runs", Value: 3, Usage: "runs of each (a fresh emulator for every stage run)"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "after the runs, stage once more in this process (pipeline.Stage into a fresh `scones emulator`) with a CPU profile written to `FILE`"},
		},
		Action: func(c *cli.Context) error {
			ctx := c.Context
			archive, err := filepath.Abs(c.String("archive"))
			if err != nil {
				return err
			}
			fi, err := os.Stat(archive)
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "scones-bench-stage")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			bin := filepath.Join(dir, "scones")
			build := exec.Command("go", "build", "-o", bin, "./cmd/scones")
			build.Stderr = os.Stderr
			if err := build.Run(); err != nil {
				return fmt.Errorf("building scones: %w", err)
			}
			timeV := "/usr/bin/time"
			if _, err := os.Stat(timeV); err != nil {
				timeV = ""
			}
			fmt.Printf("archive: %s, %.1f MB\n\n", archive, float64(fi.Size())/1e6)
			fmt.Println("| run | what | wall | peak RSS | emulator RSS after |")
			fmt.Println("| ---: | --- | ---: | ---: | ---: |")
			var floorWall, stageWall []time.Duration
			var floorRSS, stageRSS []int
			for i := 1; i <= c.Int("runs"); i++ {
				// Floor: decompress the same file, nothing else.
				gz := exec.Command("sh", "-c", `exec gzip -dc "$1" > /dev/null`, "sh", archive)
				w, rss, err := runMeasured(gz, timeV)
				if err != nil {
					return fmt.Errorf("gzip -dc: %w", err)
				}
				floorWall, floorRSS = append(floorWall, w), append(floorRSS, rss)
				fmt.Printf("| %d | floor: gzip -dc > /dev/null | %s | %.1f MiB | |\n", i, w.Round(time.Millisecond), float64(rss)/1024)

				w, rss, emuRSS, out, err := stageOnce(ctx, bin, archive, timeV)
				if err != nil {
					return fmt.Errorf("stage: %w\n%s", err, out)
				}
				stageWall, stageRSS = append(stageWall, w), append(stageRSS, rss)
				fmt.Printf("| %d | scones stage (separate process) | %s | %.1f MiB | %.1f MiB |\n", i, w.Round(time.Millisecond), float64(rss)/1024, float64(emuRSS)/1024)
				if i == 1 {
					fmt.Fprintf(os.Stderr, "stage output:\n%s\n", out)
				}
			}
			slices.Sort(floorWall)
			slices.Sort(stageWall)
			fw, sw := floorWall[len(floorWall)/2], stageWall[len(stageWall)/2]
			fmt.Printf("\nmedian: floor %s, stage %s, ratio %.2fx; peak RSS of stage max %.1f MiB (floor max %.1f MiB)\n",
				fw.Round(time.Millisecond), sw.Round(time.Millisecond), sw.Seconds()/fw.Seconds(), float64(maxInt(stageRSS))/1024, float64(maxInt(floorRSS))/1024)
			if path := c.String("cpuprofile"); path != "" {
				if err := profileStage(ctx, bin, archive, path); err != nil {
					return err
				}
			}
			if timeV != "" {
				fmt.Println("peak RSS: \"Maximum resident set size\" of /usr/bin/time -v")
			} else {
				fmt.Println("peak RSS: wait4 rusage ru_maxrss")
			}
			return nil
		},
	}
}

func maxInt(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

var maxRSSLine = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// runMeasured runs cmd to its end and returns its wall time and peak RSS in
// KiB: from /usr/bin/time -v when timeV is set, else from wait4's rusage.
func runMeasured(cmd *exec.Cmd, timeV string) (time.Duration, int, error) {
	var stderr bytes.Buffer
	if timeV != "" {
		cmd.Args = append([]string{timeV, "-v"}, cmd.Args...)
		cmd.Path = timeV
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	} else {
		cmd.Stderr = io.MultiWriter(cmd.Stderr, &stderr)
	}
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %s", err, lastBytes(stderr.Bytes(), 2000))
	}
	if timeV != "" {
		m := maxRSSLine.FindSubmatch(stderr.Bytes())
		if m == nil {
			return 0, 0, fmt.Errorf("no maximum RSS in /usr/bin/time output: %s", lastBytes(stderr.Bytes(), 2000))
		}
		n, _ := strconv.Atoi(string(m[1]))
		return wall, n, nil
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return wall, 0, fmt.Errorf("no rusage")
	}
	return wall, int(ru.Maxrss), nil
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// stageOnce starts a fresh `scones emulator` and stages the archive into it
// from a second process, whose wall time and peak RSS it returns.
func stageOnce(ctx context.Context, bin, archive, timeV string) (wall time.Duration, rss, emuRSS int, out []byte, err error) {
	port, err := freePort()
	if err != nil {
		return
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	emu := exec.Command(bin, "emulator", "--addr", "127.0.0.1:"+strconv.Itoa(port))
	emu.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	if err = emu.Start(); err != nil {
		return
	}
	defer func() { emu.Process.Kill(); emu.Wait() }()
	client := s3Client(url)
	for t0 := time.Now(); ; {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, e := client.ListBuckets(cctx, &s3.ListBucketsInput{}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		cancel()
		if e == nil {
			break
		}
		if time.Since(t0) > 30*time.Second {
			err = fmt.Errorf("emulator not ready after 30 s: %w", e)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	cache := filepath.Join(filepath.Dir(bin), "cache")
	st := exec.Command(bin, "--profile", "local", "--endpoint", url, "stage", "--source", archive, "--create-bucket", "--cache-dir", cache)
	st.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	var stdout bytes.Buffer
	st.Stdout = &stdout
	wall, rss, err = runMeasured(st, timeV)
	out = stdout.Bytes()
	emuRSS = residentKiB(emu.Process.Pid).rss
	return
}

// profileStage stages the archive from this process into a fresh `scones
// emulator` with a CPU profile of the stage side, and times Go's own gzip
// decompression of the file (the floor for a Go reader).
func profileStage(ctx context.Context, bin, archive, path string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	t0 := time.Now()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err == nil {
		_, err = io.Copy(io.Discard, zr)
	}
	f.Close()
	if err != nil {
		return fmt.Errorf("compress/gzip: %w", err)
	}
	fmt.Printf("Go compress/gzip to io.Discard, same file: %s\n", time.Since(t0).Round(time.Millisecond))

	port, err := freePort()
	if err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	emu := exec.Command(bin, "emulator", "--addr", "127.0.0.1:"+strconv.Itoa(port))
	if err := emu.Start(); err != nil {
		return err
	}
	defer func() { emu.Process.Kill(); emu.Wait() }()
	p, err := profile.Resolve(profile.Options{Profile: profile.Local, Endpoint: url})
	if err != nil {
		return err
	}
	var env *pipeline.Env
	for t0 := time.Now(); ; {
		if env, err = pipeline.NewEnv(ctx, p, nil, io.Discard); err == nil {
			break
		}
		if time.Since(t0) > 30*time.Second {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop, err := startCPUProfile(path)
	if err != nil {
		return err
	}
	t0 = time.Now()
	_, err = pipeline.Stage(ctx, env, pipeline.StageOptions{Source: archive, CreateBucket: true, CacheDir: filepath.Join(filepath.Dir(bin), "cache")})
	stop()
	if err != nil {
		return fmt.Errorf("in-process stage: %w", err)
	}
	fmt.Printf("in-process stage (profiled to %s): %s\n", path, time.Since(t0).Round(time.Millisecond))
	return nil
}
