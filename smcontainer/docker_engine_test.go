//go:build !nodocker

package smcontainer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/scones/scones/sconesdocker"
)

func TestScratchContext(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("binary a"), 0o644)
	os.WriteFile(b, []byte("binary b"), 0o644)
	img := ScratchImage{Repo: "scones/t", Files: map[string]string{"/bin/a": a, "/b": b}, Entrypoint: []string{"/bin/a"}}
	data, tag, err := scratchContext(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(tag) != 16 {
		t.Errorf("tag %q", tag)
	}
	got := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		got[h.Name] = string(body)
		if want := int64(0o755); h.Name == "Dockerfile" {
			want = 0o644
			if h.Mode != want {
				t.Errorf("%s mode %o", h.Name, h.Mode)
			}
		} else if h.Mode != want {
			t.Errorf("%s mode %o", h.Name, h.Mode)
		}
	}
	if len(got) != 3 || got["a"] != "binary a" || got["b"] != "binary b" || got["Dockerfile"] != img.Dockerfile() {
		t.Errorf("context %q", got)
	}
	if _, tag2, _ := scratchContext(img); tag2 != tag {
		t.Errorf("tag not stable: %s then %s", tag, tag2)
	}
	os.WriteFile(b, []byte("binary B"), 0o644)
	if _, tag3, _ := scratchContext(img); tag3 == tag {
		t.Error("tag unchanged by new contents")
	}
	img.Files["/other/a"] = b
	if _, _, err := scratchContext(img); err == nil || !strings.Contains(err.Error(), "share the base name a") {
		t.Errorf("duplicate base names: %v", err)
	}
}

func TestDockerUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err := BuildScratchImage(context.Background(), ScratchImage{Repo: "scones/unreachable"})
	if err == nil || !strings.HasPrefix(err.Error(), "smcontainer: docker: ") || !strings.Contains(err.Error(), "DOCKER_HOST=unix:///nonexistent/docker.sock") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

// dockerFake returns a docker-mode Runner mapping fake:1 to a static
// fakealgo, or skips without a Docker daemon.
func dockerFake(t *testing.T) (*Runner, *client.Client) {
	t.Helper()
	cli, err := sconesdocker.Client(context.Background())
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { cli.Close() })
	staticFakeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fakealgo-static-*")
		if err != nil {
			staticFakeErr = err
			return
		}
		staticFakePath = filepath.Join(dir, "fakealgo")
		cmd := exec.Command("go", "build", "-o", staticFakePath, "./testdata/fakealgo")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticFakeErr = errors.New(string(out))
		}
	})
	if staticFakeErr != nil {
		t.Fatal(staticFakeErr)
	}
	r, err := New(Options{Mode: Docker, StopTimeout: 2 * time.Second,
		Images: map[string]Program{"fake:1": {Name: "smcontainer-test-fakealgo", Path: staticFakePath}}})
	if err != nil {
		t.Fatal(err)
	}
	return r, cli
}

var (
	staticFakeOnce sync.Once
	staticFakePath string
	staticFakeErr  error
)

// noContainers fails if a container of the named job or endpoint is left.
func noContainers(t *testing.T, cli *client.Client, name string) {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", "scones.smcontainer.name="+name)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list.Items {
		t.Errorf("container %s of %s left (%s)", c.ID, name, c.State)
		cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
	}
}

func TestDockerTrainAndServe(t *testing.T) {
	r, cli := dockerFake(t)
	root := t.TempDir()
	writeInput(t, root, map[string]string{})
	var train lines
	if err := r.Train(context.Background(), Spec{Name: "smcontainer-test-job", Kind: "job", Image: "fake:1", Root: root, Output: train.add}); err != nil {
		t.Fatal(err)
	}
	noContainers(t, cli, "smcontainer-test-job")
	if out := train.String(); !strings.Contains(out, "found train/a.png") || !strings.Contains(out, "Epoch[2] Validation-accuracy=0.600000") {
		t.Errorf("train output: %q", out)
	}
	if _, err := os.Stat(filepath.Join(root, "model", "counts.json")); err != nil {
		t.Error(err)
	}
	var serve lines
	inst, err := r.Serve(context.Background(), Spec{Name: "smcontainer-test-ep", Kind: "endpoint", Image: "fake:1", Root: root,
		Output: serve.add, StartupTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	invokeFake(t, inst.URL)
	// The serve log is followed live, before the container stops.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(serve.String(), "fakealgo listening on"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve output: %q", serve.String())
		}
	}
	if err := inst.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inst.Done():
	default:
		t.Error("not done after Stop")
	}
	if err := inst.Stop(context.Background()); err != nil { // again: a no-op
		t.Error(err)
	}
	noContainers(t, cli, "smcontainer-test-ep")
}

func TestDockerTrainFailureAndCancel(t *testing.T) {
	r, cli := dockerFake(t)
	root := t.TempDir()
	writeInput(t, root, map[string]string{"fail": "bad value for epochs"})
	var out lines
	err := r.Train(context.Background(), Spec{Name: "smcontainer-test-fail", Image: "fake:1", Root: root, Output: out.add})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "output/failure")); string(b) != "ClientError: bad value for epochs" {
		t.Errorf("failure file %q", b)
	}
	if !strings.Contains(out.String(), "training failed: ClientError: bad value for epochs") { // stderr
		t.Errorf("output %q", out.String())
	}
	noContainers(t, cli, "smcontainer-test-fail")

	root2 := t.TempDir()
	writeInput(t, root2, map[string]string{"sleep": "30s"})
	ctx, cancel := context.WithCancel(context.Background())
	var out2 lines
	var cancelled time.Time
	go func() { // cancel once the container runs
		defer cancel()
		running := make(client.Filters).Add("label", "scones.smcontainer.name=smcontainer-test-cancel").Add("status", "running")
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if list, err := cli.ContainerList(context.Background(), client.ContainerListOptions{Filters: running}); err == nil && len(list.Items) > 0 {
				time.Sleep(300 * time.Millisecond) // for fakealgo to catch SIGTERM
				break
			}
		}
		cancelled = time.Now()
	}()
	if err := r.Train(ctx, Spec{Name: "smcontainer-test-cancel", Image: "fake:1", Root: root2, Output: out2.add}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(cancelled); d > 5*time.Second {
		t.Errorf("stop took %v", d)
	}
	if b, _ := os.ReadFile(filepath.Join(root2, "model/partial")); string(b) != "stopped" {
		t.Errorf("SIGTERM not delivered: %q", b)
	}
	if !strings.Contains(out2.String(), "stopping on SIGTERM") {
		t.Errorf("output %q", out2.String())
	}
	noContainers(t, cli, "smcontainer-test-cancel")
}

func TestDockerServeFailures(t *testing.T) {
	r, cli := dockerFake(t)
	var out lines
	_, err := r.Serve(context.Background(), Spec{Name: "smcontainer-test-nomodel", Image: "fake:1", Root: t.TempDir(), Output: out.add, StartupTimeout: 30 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited before answering /ping (exit code: 1)") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(out.String(), "no model:") {
		t.Errorf("output %q", out.String())
	}
	noContainers(t, cli, "smcontainer-test-nomodel")

	// A crash while serving ends the instance with the exit code.
	root := t.TempDir()
	writeInput(t, root, map[string]string{})
	os.WriteFile(filepath.Join(root, "model", "counts.json"), []byte(`{}`), 0o644)
	inst, err := r.Serve(context.Background(), Spec{Name: "smcontainer-test-crash", Image: "fake:1", Root: root, StartupTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	http.Post(inst.URL+"/invocations", "text/plain", strings.NewReader("crash-now"))
	var ee *ExitError
	select {
	case <-inst.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("crash not noticed")
	}
	if !errors.As(inst.Err(), &ee) || ee.Code != 3 {
		t.Errorf("err = %v", inst.Err())
	}
	inst.Stop(context.Background())
	noContainers(t, cli, "smcontainer-test-crash")

	// A container that cannot start is removed.
	ref, err := BuildScratchImage(context.Background(), ScratchImage{Repo: "scones/smcontainer-test-broken",
		Files: map[string]string{"/x": staticFakePath}, Entrypoint: []string{"/no-such-binary"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	b := &build{path: ref}
	b.once.Do(func() {})
	r.builds["docker/broken"] = b
	r.opts.Images["broken:1"] = Program{Name: "broken", Path: staticFakePath}
	err = r.Train(context.Background(), Spec{Name: "smcontainer-test-broken", Image: "broken:1", Root: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "smcontainer: start container") {
		t.Fatalf("err = %v", err)
	}
	noContainers(t, cli, "smcontainer-test-broken")
}

func TestBuildScratchImage(t *testing.T) {
	_, cli := dockerFake(t)
	ctx := context.Background()
	// An error the build output reports (not the HTTP status).
	_, err := BuildScratchImage(ctx, ScratchImage{Repo: "scones/smcontainer-test-empty"})
	if err == nil || !strings.Contains(err.Error(), "smcontainer: build image scones/smcontainer-test-empty: Step 1/1 : FROM scratch: No image was generated") {
		t.Fatalf("err = %v", err)
	}
	// A rebuild with new contents removes the old tag.
	const repo = "scones/smcontainer-test-prune"
	t.Cleanup(func() {
		list, _ := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", repo)})
		for _, im := range list.Items {
			cli.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	})
	f := filepath.Join(t.TempDir(), "f")
	var refs []string
	for _, content := range []string{"one", "two"} {
		os.WriteFile(f, []byte(content), 0o644)
		ref, err := BuildScratchImage(ctx, ScratchImage{Repo: repo, Files: map[string]string{"/f": f}})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if again, err := BuildScratchImage(ctx, ScratchImage{Repo: repo, Files: map[string]string{"/f": f}}); err != nil || again != refs[1] {
		t.Errorf("rebuild: %s, %v", again, err)
	}
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", repo)})
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, im := range list.Items {
		tags = append(tags, im.RepoTags...)
	}
	if len(tags) != 1 || tags[0] != refs[1] || refs[0] == refs[1] {
		t.Errorf("tags %v after building %v", tags, refs)
	}
}
