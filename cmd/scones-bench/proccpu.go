package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// procCPU is the CPU time (user + system) of this process and of every
// process below it, by command name, read from /proc.
type procCPU map[string]time.Duration

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux this runs on.
const clockTick = 10 * time.Millisecond

// parseStat reads /proc/PID/stat: the process, its parent, its command
// and its CPU time (user + system).
func parseStat(s string) (pid, ppid int, comm string, cpu time.Duration, ok bool) {
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return 0, 0, "", 0, false
	}
	pid, _ = strconv.Atoi(strings.TrimSpace(s[:open]))
	f := strings.Fields(s[close+1:])
	if len(f) < 13 {
		return 0, 0, "", 0, false
	}
	// Fields after the command: state ppid ... utime(12) stime(13), 1-based from state.
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return pid, ppid, s[open+1 : close], time.Duration(ut+st) * clockTick, true
}

// processCPU is the CPU time (user + system) process pid has used; 0 for
// pid 0 or a process that is gone.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	_, _, _, cpu, _ := parseStat(string(b))
	return cpu
}

func readProcCPU() procCPU {
	type proc struct {
		ppid int
		comm string
		cpu  time.Duration
	}
	procs := map[int]proc{}
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		pid, ppid, comm, cpu, ok := parseStat(string(b))
		if !ok {
			continue
		}
		procs[pid] = proc{ppid: ppid, comm: comm, cpu: cpu}
	}
	self := os.Getpid()
	in := map[int]bool{self: true}
	for changed := true; changed; {
		changed = false
		for pid, p := range procs {
			if !in[pid] && in[p.ppid] {
				in[pid], changed = true, true
			}
		}
	}
	out := procCPU{}
	for pid := range in {
		p, ok := procs[pid]
		if !ok {
			continue
		}
		name := p.comm
		if pid == self {
			name = "scones-bench (emulator + client)"
		}
		out[name] += p.cpu
	}
	return out
}

// printCPUPerOp prints the CPU used between two readings, by process name,
// per operation. Processes that started and ended in between are missed.
func printCPUPerOp(before, after procCPU, ops int, wall time.Duration) {
	if ops == 0 {
		return
	}
	var names []string
	for n := range after {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return after[names[i]]-before[names[i]] > after[names[j]]-before[names[j]] })
	fmt.Println("| process | CPU s | cores busy | CPU per execution |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	var total time.Duration
	for _, n := range names {
		d := after[n] - before[n]
		if d <= 0 {
			continue
		}
		total += d
		fmt.Printf("| %s | %.2f | %.2f | %s |\n", n, d.Seconds(), d.Seconds()/wall.Seconds(), fmtDur(d/time.Duration(ops)))
	}
	fmt.Printf("| total | %.2f | %.2f | %s |\n", total.Seconds(), total.Seconds()/wall.Seconds(), fmtDur(total/time.Duration(ops)))
}
