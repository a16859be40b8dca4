package lambda

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kflate "github.com/klauspost/compress/flate"
)

// unpacked is one code version's directory, unpacked once. It is removed
// once no function or version has the code (dropCode) and no process
// started from it is left.
type unpacked struct {
	once sync.Once
	dir  string
	err  error
	// Guarded by Service.mu.
	done    bool // once has run
	users   int  // instances started from dir and not yet reaped
	dropped bool // the store no longer has the code
}

// codePath unpacks the code with this CodeSha256 (once) and returns its
// directory. zipBytes is the code if the caller has it, else nil: it is
// then read from the store.
func (s *Service) codePath(codeSha256 string, zipBytes []byte) (string, error) {
	key := codeKey(codeSha256)
	s.mu.Lock()
	if s.codeDir == "" {
		dir, err := os.MkdirTemp("", "scones-lambda-")
		if err != nil {
			s.mu.Unlock()
			return "", errService("code directory: %v", err)
		}
		s.codeDir = dir
	}
	codeDir := s.codeDir
	u := s.unpacked[key]
	if u == nil {
		u = &unpacked{}
		s.unpacked[key] = u
	}
	s.mu.Unlock()
	u.once.Do(func() { u.dir, u.err = s.unpack(codeSha256, zipBytes, filepath.Join(codeDir, key)) })
	s.mu.Lock()
	u.done = true
	if u.err != nil && s.unpacked[key] == u {
		delete(s.unpacked, key) // let the next invocation try again
	}
	s.mu.Unlock()
	s.removeIfUnused(key, u)
	return u.dir, u.err
}

// useCode returns the unpacked code for an instance about to start, which
// must call releaseCode once its process is reaped.
func (s *Service) useCode(codeSha256 string) (string, error) {
	dir, err := s.codePath(codeSha256, nil)
	if err != nil {
		return "", err
	}
	key := codeKey(codeSha256)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.unpacked[key]
	if u == nil || u.dir != dir {
		return "", errNotFound("Function code %s was deleted.", codeSha256)
	}
	u.users++
	return dir, nil
}

// releaseCode ends an instance's use of its code.
func (s *Service) releaseCode(codeSha256 string) {
	key := codeKey(codeSha256)
	s.mu.Lock()
	u := s.unpacked[key]
	if u != nil {
		u.users--
	}
	s.mu.Unlock()
	if u != nil {
		s.removeIfUnused(key, u)
	}
}

// dropCode notes that the store no longer has these codes (gcCode deleted
// them): each one's directory goes as soon as no process runs from it.
func (s *Service) dropCode(codes ...string) {
	for _, codeSha256 := range codes {
		key := codeKey(codeSha256)
		s.mu.Lock()
		u := s.unpacked[key]
		if u != nil {
			u.dropped = true
		}
		s.mu.Unlock()
		if u != nil {
			s.removeIfUnused(key, u)
		}
	}
}

// removeIfUnused removes u's directory when its code was dropped, its
// unpacking is over and no instance uses it.
func (s *Service) removeIfUnused(key string, u *unpacked) {
	s.mu.Lock()
	if !u.dropped || !u.done || u.users > 0 || s.unpacked[key] != u {
		s.mu.Unlock()
		return
	}
	delete(s.unpacked, key)
	// Moved aside under the lock, so that the same code stored again
	// unpacks into a free path and is not caught by the removal.
	gone := u.dir
	if gone != "" {
		aside := gone + ".removed-" + awsRandomHex(4)
		if os.Rename(gone, aside) == nil {
			gone = aside
		}
	}
	s.mu.Unlock()
	if gone != "" {
		if err := os.RemoveAll(gone); err != nil {
			s.log.Warn("lambda: removing unpacked code", "dir", gone, "err", err)
		}
	}
}

// prepareCode unpacks new code in the background, so that the first
// invocation after a deploy does not pay for the unzip. zipBytes is the
// code just stored, which spares reading it back.
func (s *Service) prepareCode(codeSha256 string, zipBytes []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if u := s.unpacked[codeKey(codeSha256)]; u != nil {
		u.dropped = false // stored again while a process still ran from it
	}
	s.async.Add(1)
	go func() {
		defer s.async.Done()
		if _, err := s.codePath(codeSha256, zipBytes); err != nil {
			s.log.Warn("lambda: unpacking code", "code_sha256", codeSha256, "err", err)
		}
	}()
}

func (s *Service) unpack(codeSha256 string, data []byte, dir string) (string, error) {
	if data == nil {
		var err error
		if data, err = s.readZip(codeSha256); err != nil {
			return "", err
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", errService("stored code %s does not unzip: %v", codeSha256, err)
	}
	// klauspost/compress's inflate is about an eighth faster than the
	// standard library's on a Go bootstrap (33 against 38 ms for 6.3 MB
	// here), and the inflate is most of a cold start with new code.
	zr.RegisterDecompressor(zip.Deflate, kflate.NewReader)
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", errService("unpacking code: %v", err)
	}
	for _, f := range zr.File {
		name := filepath.FromSlash(f.Name)
		if !filepath.IsLocal(name) {
			os.RemoveAll(tmp)
			return "", errService("code %s has an entry outside its root: %q", codeSha256, f.Name)
		}
		dst := filepath.Join(tmp, name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return "", errService("unpacking code: %v", err)
			}
			continue
		}
		if err := extract(f, dst); err != nil {
			os.RemoveAll(tmp)
			return "", errService("unpacking code: %v", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", errService("unpacking code: %v", err)
	}
	return dir, nil
}

// extract writes one entry keeping its permission bits, as Lambda does:
// an entry zipped without the executable bit cannot run.
func extract(f *zip.File, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	mode := f.Mode().Perm()
	if f.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%s: symbolic links are not supported", f.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode|0o400)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(rc, MaxUnzippedSize)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// pool holds the instances of one function version at one revision.
type pool struct {
	key     string
	cfg     FunctionConfiguration
	env     []string // the process environment, without AWS_LAMBDA_RUNTIME_API
	idle    []*instance
	all     map[*instance]struct{}
	retired bool
}

func poolKey(c *FunctionConfiguration) string {
	return c.FunctionName + "\x00" + c.Version + "\x00" + c.RevisionId
}

// retire stops the instances of a function's version ("" for all
// versions): idle ones now, busy ones when they finish.
func (s *Service) retire(name, version string) {
	var kill []*instance
	s.mu.Lock()
	for k, p := range s.pools {
		if p.cfg.FunctionName != name || (version != "" && p.cfg.Version != version) {
			continue
		}
		p.retired = true
		delete(s.pools, k)
		for _, inst := range p.idle {
			delete(p.all, inst)
			kill = append(kill, inst)
		}
		p.idle = nil
	}
	s.mu.Unlock()
	for _, inst := range kill {
		inst.kill()
	}
}

// acquire reserves a concurrency slot for cfg and returns a warm instance,
// or nil when the caller must start one in the returned pool.
func (s *Service) acquire(cfg *FunctionConfiguration, reserved *int) (*pool, *instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errService("the Lambda service is shutting down")
	}
	name := cfg.FunctionName
	if reserved != nil && s.busy[name] >= *reserved {
		return nil, nil, throttleError(ReasonReserved)
	}
	if s.totalBusy >= AccountConcurrency {
		return nil, nil, throttleError(ReasonAccount)
	}
	s.busy[name]++
	s.totalBusy++
	key := poolKey(cfg)
	p := s.pools[key]
	if p == nil {
		p = &pool{key: key, cfg: *cfg, env: s.processEnv(cfg), all: map[*instance]struct{}{}}
		s.pools[key] = p
	}
	for len(p.idle) > 0 {
		inst := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if inst.idleTimer != nil {
			inst.idleTimer.Stop()
		}
		select {
		case <-inst.exited:
			delete(p.all, inst) // died while idle: start afresh
			continue
		default:
		}
		return p, inst, nil
	}
	return p, nil, nil
}

// release returns the slot, and the instance to its pool's idle list if it
// can serve again.
func (s *Service) release(p *pool, inst *instance, healthy bool) {
	s.mu.Lock()
	s.busy[p.cfg.FunctionName]--
	if s.busy[p.cfg.FunctionName] == 0 {
		delete(s.busy, p.cfg.FunctionName)
	}
	s.totalBusy--
	if inst == nil {
		s.mu.Unlock()
		return
	}
	if healthy && !p.retired && !s.closed {
		p.idle = append(p.idle, inst)
		inst.idleTimer = time.AfterFunc(IdleTimeout, func() { s.reap(p, inst) })
		s.mu.Unlock()
		return
	}
	delete(p.all, inst)
	s.mu.Unlock()
	inst.kill()
}

// reap stops an instance that stayed idle for IdleTimeout.
func (s *Service) reap(p *pool, inst *instance) {
	s.mu.Lock()
	for i, o := range p.idle {
		if o == inst {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			delete(p.all, inst)
			s.mu.Unlock()
			inst.kill()
			return
		}
	}
	s.mu.Unlock()
}

// processEnv is the Lambda environment of cfg's processes.
func (s *Service) processEnv(cfg *FunctionConfiguration) []string {
	var stream [16]byte
	rand.Read(stream[:])
	env := []string{
		"AWS_LAMBDA_FUNCTION_NAME=" + cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(cfg.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION=" + cfg.Version,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + cfg.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + s.env.Now().UTC().Format("2006/01/02") + "/[" + cfg.Version + "]" + hex.EncodeToString(stream[:]),
		"AWS_REGION=" + s.env.Region,
		"AWS_DEFAULT_REGION=" + s.env.Region,
		"_HANDLER=" + cfg.Handler,
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_ENDPOINT_URL=" + s.env.BaseURL(),
	}
	if cfg.Environment != nil {
		for k, v := range cfg.Environment.Variables {
			env = append(env, k+"="+v) // later entries win in exec
		}
	}
	return env
}

// instance is one running bootstrap process and its Runtime API.
type instance struct {
	s       *Service
	p       *pool
	id      string
	dir     string
	cmd     *exec.Cmd
	srv     *http.Server
	logW    *os.File // the parent's copy of the output pipe, for flush markers
	started time.Time

	work       chan *invocation // the next invocation, taken by /next
	stop       chan struct{}    // closed by kill
	stopOnce   sync.Once
	exited     chan struct{} // closed once the process has been reaped
	exitErr    error
	initFailed chan struct{} // closed on /runtime/init/error
	initOnce   sync.Once
	initErr    []byte
	logDone    chan struct{} // closed when the output pipe is drained
	flushed    chan string   // flush markers seen by the log reader

	ready   atomic.Bool // asked for an invocation at least once
	initDur atomic.Int64
	cur     atomic.Pointer[invocation]
	logMu   sync.Mutex
	initLog []byte
	served  int // invocations handed out, guarded by logMu
	// idleTimer is guarded by Service.mu.
	idleTimer *time.Timer
}

// entrypointError is a bootstrap that cannot start.
type entrypointError struct{ msg string }

func (e *entrypointError) Error() string { return e.msg }

// maxInvocationLog bounds the output kept per invocation.
const maxInvocationLog = 64 * 1024

const flushMarker = "\x00scones-lambda-flush "

func (s *Service) startInstance(p *pool) (*instance, error) {
	dir, err := s.useCode(p.cfg.CodeSha256)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			s.releaseCode(p.cfg.CodeSha256)
		}
	}()
	boot := filepath.Join(dir, "bootstrap")
	if st, err := os.Stat(boot); err != nil || st.IsDir() {
		return nil, &entrypointError{fmt.Sprintf("Couldn't find valid bootstrap(s): [%s]", boot)}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errService("runtime API listener: %v", err)
	}
	inst := &instance{
		s: s, p: p, id: awsRandomHex(8), dir: dir, started: time.Now(),
		work: make(chan *invocation, 1), stop: make(chan struct{}), exited: make(chan struct{}),
		initFailed: make(chan struct{}), logDone: make(chan struct{}), flushed: make(chan string, 4),
	}
	inst.srv = &http.Server{Handler: inst, ReadHeaderTimeout: time.Minute}
	pr, pw, err := os.Pipe()
	if err != nil {
		ln.Close()
		return nil, errService("output pipe: %v", err)
	}
	inst.logW = pw
	cmd := exec.Command(boot)
	cmd.Dir = dir
	cmd.Env = append(append(make([]string, 0, len(p.env)+2), p.env...),
		"LAMBDA_TASK_ROOT="+dir, "LAMBDA_RUNTIME_DIR="+dir, "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	cmd.Stdout, cmd.Stderr = pw, pw
	setProcessGroup(cmd)
	inst.cmd = cmd
	go inst.srv.Serve(ln)
	if err := cmd.Start(); err != nil {
		inst.srv.Close()
		pr.Close()
		pw.Close()
		return nil, &entrypointError{fmt.Sprintf("Couldn't start bootstrap %s: %v", boot, err)}
	}
	started = true // inst.wait releases the code
	s.mu.Lock()
	p.all[inst] = struct{}{}
	s.instances.Add(1)
	closed := s.closed
	s.mu.Unlock()
	go inst.readLogs(pr)
	go inst.wait()
	if closed {
		inst.kill()
		return nil, errService("the Lambda service is shutting down")
	}
	s.log.Debug("lambda: started instance", "function", p.cfg.FunctionName, "version", p.cfg.Version, "instance", inst.id, "pid", cmd.Process.Pid)
	return inst, nil
}

func awsRandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// wait reaps the process and cleans the instance up.
func (inst *instance) wait() {
	err := inst.cmd.Wait()
	inst.exitErr = err
	close(inst.exited)
	inst.kill()
	inst.s.mu.Lock()
	delete(inst.p.all, inst)
	inst.s.mu.Unlock()
	<-inst.logDone
	inst.s.releaseCode(inst.p.cfg.CodeSha256)
	inst.s.instances.Done()
}

// kill stops the process (and anything it started) and the Runtime API.
func (inst *instance) kill() {
	inst.stopOnce.Do(func() {
		close(inst.stop)
		killProcess(inst.cmd)
		inst.srv.Close()
		inst.logW.Close()
	})
}

// readLogs forwards the process's output to the emulator's log and to the
// current invocation's log.
func (inst *instance) readLogs(r *os.File) {
	defer close(inst.logDone)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	fn := inst.p.cfg.FunctionName
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, flushMarker) {
			select {
			case inst.flushed <- line[len(flushMarker):]:
			default:
			}
			continue
		}
		inv := inst.cur.Load()
		reqID := "init"
		inst.logMu.Lock()
		if inv != nil {
			reqID = inv.id
			if len(inv.log) > maxInvocationLog {
				// An idle instance's background output lands on its last
				// invocation: keep only what a tail can show.
				inv.log = append(inv.log[:0], inv.log[len(inv.log)-tailSize:]...)
			}
			inv.log = append(append(inv.log, line...), '\n')
		} else if len(inst.initLog) < 64*1024 {
			inst.initLog = append(append(inst.initLog, line...), '\n')
		}
		inst.logMu.Unlock()
		inst.s.log.Info("["+fn+" "+reqID+"] "+line, "function", fn, "request_id", reqID)
	}
}

// flushLogs waits until the log reader has read everything the process
// wrote before now (a marker written after it comes out of the pipe last).
func (inst *instance) flushLogs(id string) {
	select {
	case <-inst.stop:
		select {
		case <-inst.logDone:
		case <-time.After(200 * time.Millisecond):
		}
		return
	default:
	}
	if _, err := inst.logW.Write([]byte("\n" + flushMarker + id + "\n")); err != nil {
		return
	}
	timeout := time.After(200 * time.Millisecond)
	for {
		select {
		case got := <-inst.flushed:
			if got == id {
				return
			}
		case <-inst.logDone:
			return
		case <-timeout:
			return
		}
	}
}

// invocation is one request handed to an instance.
type invocation struct {
	id            string
	arn           string
	payload       []byte
	timeout       time.Duration
	clientContext string
	picked        chan struct{} // closed by /next once deadline is set
	deadline      time.Time
	pickedAt      time.Time
	result        chan invokeResult
	once          sync.Once
	log           []byte // guarded by the instance's logMu
	initLog       []byte // the instance's init output, for its first invocation
}

type invokeResult struct {
	payload []byte
	funcErr bool
	// healthy says the instance may serve another invocation.
	healthy bool
	status  string // REPORT status: "", "timeout", "error"
}

func (inv *invocation) deliver(r invokeResult) bool {
	ok := false
	inv.once.Do(func() {
		inv.result <- r
		ok = true
	})
	return ok
}

func errorPayload(errorType, message string) []byte {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{message, errorType})
	return b
}

// normalizeError returns a function's posted error as Lambda's error JSON:
// the body itself when it is one, else built from the body's text and the
// Lambda-Runtime-Function-Error-Type header.
func normalizeError(body []byte, headerType, defaultType string) []byte {
	var e map[string]any
	if json.Unmarshal(body, &e) == nil && (e["errorType"] != nil || e["errorMessage"] != nil) {
		if e["errorType"] == nil {
			e["errorType"] = cmpOr(headerType, defaultType)
			body, _ = json.Marshal(e)
		}
		return body
	}
	return errorPayload(cmpOr(headerType, defaultType), strings.TrimSpace(string(body)))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// await waits for inv's outcome on inst. ok is false when ctx ended first;
// the invocation then goes on and the caller must await it again.
func (inst *instance) await(done <-chan struct{}, inv *invocation) (invokeResult, bool) {
	if !isClosed(inv.picked) {
		// Init (for a new instance) plus the wait for /next: bounded by
		// AWS's init limit plus the function's timeout.
		t := time.NewTimer(InitTimeout + inv.timeout)
		defer t.Stop()
		select {
		case <-inv.picked:
		case <-inst.exited:
			select {
			case <-inv.picked:
			default:
				return inst.exitResult(inv), true
			}
		case <-inst.initFailed:
			inst.kill()
			return invokeResult{payload: inst.initErr, funcErr: true, status: "error"}, true
		case <-t.C:
			inst.kill()
			return inst.timeoutResult(inv), true
		case <-done:
			return invokeResult{}, false
		}
	}
	t := time.NewTimer(time.Until(inv.deadline))
	defer t.Stop()
	select {
	case r := <-inv.result:
		return r, true
	case <-inst.exited:
		select {
		case r := <-inv.result:
			return r, true
		default:
		}
		return inst.exitResult(inv), true
	case <-t.C:
		inst.kill()
		select {
		case r := <-inv.result:
			return r, true
		default:
		}
		return inst.timeoutResult(inv), true
	case <-done:
		return invokeResult{}, false
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (inst *instance) timeoutResult(inv *invocation) invokeResult {
	inv.once.Do(func() {}) // a late response is dropped
	msg := fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, inv.timeout.Seconds())
	return invokeResult{payload: errorPayload("Sandbox.Timedout", msg), funcErr: true, status: "timeout"}
}

func (inst *instance) exitResult(inv *invocation) invokeResult {
	inv.once.Do(func() {})
	why := "Runtime exited without providing a reason"
	if inst.exitErr != nil {
		why = "Runtime exited with error: " + inst.exitErr.Error()
	}
	return invokeResult{payload: errorPayload("Runtime.ExitError", "RequestId: "+inv.id+" Error: "+why), funcErr: true, status: "error"}
}

// Runtime API paths.
const (
	runtimePrefix = "/2018-06-01/runtime/"
	invocationAPI = runtimePrefix + "invocation/"
)

// ServeHTTP is the instance's Runtime API.
func (inst *instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == invocationAPI+"next" && r.Method == http.MethodGet:
		inst.next(w, r)
	case path == runtimePrefix+"init/error" && r.Method == http.MethodPost:
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		inst.initOnce.Do(func() {
			inst.initErr = normalizeError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"), "Runtime.InitError")
			close(inst.initFailed)
		})
		writeRuntimeJSON(w, http.StatusAccepted, []byte(`{"status":"OK"}`))
	case strings.HasPrefix(path, invocationAPI) && r.Method == http.MethodPost:
		id, kind, _ := strings.Cut(strings.TrimPrefix(path, invocationAPI), "/")
		inv := inst.cur.Load()
		if inv == nil || inv.id != id || (kind != "response" && kind != "error") {
			io.Copy(io.Discard, io.LimitReader(r.Body, MaxSyncPayload+1))
			writeRuntimeJSON(w, http.StatusBadRequest, errorPayload("InvalidRequestID", "Invalid request ID: "+id))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxSyncPayload+1))
		if err != nil {
			writeRuntimeJSON(w, http.StatusBadRequest, errorPayload("InvalidRequest", err.Error()))
			return
		}
		res := invokeResult{payload: body, healthy: true}
		switch {
		case len(body) > MaxSyncPayload:
			res = invokeResult{funcErr: true, healthy: true, status: "error", payload: errorPayload("Function.ResponseSizeTooLarge",
				fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxSyncPayload))}
		case kind == "error":
			res = invokeResult{funcErr: true, healthy: true, status: "error",
				payload: normalizeError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"), "Unhandled")}
		}
		if !inv.deliver(res) {
			writeRuntimeJSON(w, http.StatusBadRequest, errorPayload("InvalidStateTransition", "a result was already reported for "+id))
			return
		}
		writeRuntimeJSON(w, http.StatusAccepted, []byte(`{"status":"OK"}`))
	default:
		writeRuntimeJSON(w, http.StatusNotFound, errorPayload("InvalidRequest", "the Runtime API has no "+r.Method+" "+path))
	}
}

func writeRuntimeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// next hands the runtime its next invocation, blocking while idle.
func (inst *instance) next(w http.ResponseWriter, r *http.Request) {
	if !inst.ready.Load() {
		inst.initDur.Store(int64(time.Since(inst.started)))
		inst.ready.Store(true)
	}
	var inv *invocation
	select {
	case inv = <-inst.work:
	case <-inst.stop:
		writeRuntimeJSON(w, http.StatusInternalServerError, errorPayload("Runtime.Stopped", "the instance is stopping"))
		return
	case <-r.Context().Done():
		return
	}
	now := time.Now()
	inv.pickedAt = now
	inv.deadline = now.Add(inv.timeout)
	inst.logMu.Lock()
	if inst.served == 0 {
		inv.initLog, inst.initLog = inst.initLog, nil
	}
	inst.served++
	inst.logMu.Unlock()
	inst.cur.Store(inv)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), awsRandomHex(12), awsRandomHex(8)))
	if inv.clientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
	}
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	close(inv.picked)
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}
