package integration

// Helpers shared by the peer cross-checks (moto_test.go, localstack_test.go):
// a pipeline.Env pointed at a peer, the stage/deploy/destroy suite run
// through the pipeline's own functions, and the wire probes that issue the
// same SDK calls to a peer and to the scones emulator and list where they
// disagree.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/scones/scones/asl/workflows"
	"github.com/scones/scones/cifar"
	"github.com/scones/scones/fixtures"
	"github.com/scones/scones/pipeline"
	"github.com/scones/scones/profile"
)

// peerTarget describes what a peer backend serves, so the suite runs the parts
// it can.
type peerTarget struct {
	name string
	url  string
	// sageMaker: the peer serves the SageMaker control plane (moto does;
	// LocalStack only on its Ultimate tier).
	sageMaker bool
	// lambda: the peer accepts CreateFunction and reports functions
	// Active without pulling a runtime image (moto does: it only needs
	// Docker to invoke).
	lambda bool
}

// peerEnv builds a pipeline.Env whose every client talks to url, through
// the localstack profile as the CLI resolves it (`--profile localstack
// --endpoint url`). The localstack profile sends SageMaker to the stub
// endpoint container; a peer that serves SageMaker itself gets it too, by
// setting the profile's endpoints as a scones.yaml would.
func peerEnv(t *testing.T, ctx context.Context, url string) *pipeline.Env {
	t.Helper()
	p, err := profile.Resolve(profile.Options{Profile: profile.LocalStack, Endpoint: url, ConfigPath: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	p.Endpoints[profile.SageMaker] = url
	p.Endpoints[profile.SageMakerRuntime] = url
	env, err := pipeline.NewEnv(ctx, p, nil, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func peerFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startMoto starts `python3 -m moto.server` on a free port of 127.0.0.1
// and returns its URL. The server's process group, which this call
// created, is killed when the test ends. The test skips when python3 or
// moto's server mode is missing.
func startMoto(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("moto cross-check skipped: python3 is not on PATH; install python3 and `pip install 'moto[server]'` to run it")
	}
	out, err := exec.Command(py, "-c", "import moto, moto.server, flask, werkzeug; print(moto.__version__)").CombinedOutput()
	if err != nil {
		t.Skipf("moto cross-check skipped: moto's server mode is not importable by %s (%s); `pip install 'moto[server]'` to run it", py, peerLastLine(string(out)))
	}
	t.Logf("moto %s", strings.TrimSpace(string(out)))
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := peerFreePort(t)
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		logPath := t.TempDir() + "/moto.log"
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("starting moto: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait(); logf.Close() }()
		pgid := cmd.Process.Pid
		stop := func() {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
			}
		}
		if err := peerWaitHTTP(base+"/moto-api/", 30*time.Second, exited); err != nil {
			stop()
			log, _ := os.ReadFile(logPath)
			lastErr = fmt.Errorf("%v; moto's log:\n%s", err, log)
			continue // most likely the port was taken in between: try another
		}
		t.Cleanup(stop)
		return base
	}
	t.Fatalf("moto did not start: %v", lastErr)
	return ""
}

func peerLastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func peerWaitHTTP(url string, timeout time.Duration, exited <-chan error) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before answering (%v)", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("no answer on " + url + " within " + timeout.String())
}

// s3Objects maps every key of the bucket to its ETag, quotes included.
func peerS3Objects(t *testing.T, ctx context.Context, env *pipeline.Env) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(env.Clients.S3, &s3.ListObjectsV2Input{Bucket: aws.String(env.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("%s: ListObjectsV2: %v", env.Profile.Endpoints[profile.S3], err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToString(o.ETag)
		}
	}
	return out
}

func peerGetObject(t *testing.T, ctx context.Context, env *pipeline.Env, key string) []byte {
	t.Helper()
	out, err := env.Clients.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stageSuite stages the committed fixture archive on the peer and on the
// emulator, then checks the peer's bucket: the layout, the manifests, and
// that every object equals the emulator's (same keys, same ETags, and an
// ETag that is the MD5 of the bytes). A second stage uploads nothing.
func stageSuite(t *testing.T, ctx context.Context, p *peerTarget, penv, emu *pipeline.Env) {
	archive, err := fixtures.WriteCommitted(t.TempDir(), fixtures.MiniPython)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]*pipeline.StageResult{}
	for name, env := range map[string]*pipeline.Env{p.name: penv, "emulator": emu} {
		r, err := pipeline.Stage(ctx, env, pipeline.StageOptions{Source: archive, CreateBucket: true})
		if err != nil {
			t.Fatalf("stage on %s: %v", name, err)
		}
		res[name] = r
	}
	r := res[p.name]
	if c := r.Counts; len(c["train"]) != 2 || c["train"][0] != 120 || c["train"][1] != 120 || c["test"][0] != 25 || c["test"][1] != 25 {
		t.Fatalf("stage on %s: counts %v; want train [120 120], test [25 25]", p.name, c)
	}
	if r.Uploaded != 292 || r.Unchanged != 0 {
		t.Errorf("stage on %s: uploaded %d, unchanged %d; want 292 and 0", p.name, r.Uploaded, r.Unchanged)
	}

	objs := peerS3Objects(t, ctx, penv)
	counts := map[string]int{}
	for k := range objs {
		switch {
		case strings.HasPrefix(k, "train/") && strings.HasSuffix(k, ".png"):
			counts["train"]++
		case strings.HasPrefix(k, "test/") && strings.HasSuffix(k, ".png"):
			counts["test"]++
		case k == "train.lst" || k == "test.lst":
			counts[k]++
		default:
			t.Errorf("%s: unexpected object %s", p.name, k)
		}
	}
	if counts["train"] != 240 || counts["test"] != 50 || counts["train.lst"] != 1 || counts["test.lst"] != 1 {
		t.Errorf("%s: bucket holds %v; want 240 train PNGs, 50 test PNGs, train.lst and test.lst", p.name, counts)
	}

	// The manifests: row<TAB>class<TAB>filename, every file staged.
	for split, want := range map[string]int{"train": 240, "test": 50} {
		body := peerGetObject(t, ctx, penv, split+".lst")
		entries, err := cifar.ParseManifest(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %s.lst: %v", p.name, split, err)
		}
		if len(entries) != want {
			t.Errorf("%s: %s.lst has %d entries, want %d", p.name, split, len(entries), want)
		}
		perClass := [2]int{}
		for _, e := range entries {
			if e.Class < 0 || e.Class > 1 {
				t.Errorf("%s: %s.lst: class %d for %s", p.name, split, e.Class, e.Filename)
				continue
			}
			perClass[e.Class]++
			if _, ok := objs[split+"/"+e.Filename]; !ok {
				t.Errorf("%s: %s.lst names %s, which is not in the bucket", p.name, split, e.Filename)
			}
		}
		if perClass[0] != want/2 || perClass[1] != want/2 {
			t.Errorf("%s: %s.lst classes %v, want %d of each", p.name, split, perClass, want/2)
		}
		if emuBody := peerGetObject(t, ctx, emu, split+".lst"); !bytes.Equal(body, emuBody) {
			t.Errorf("%s.lst differs between %s and the emulator", split, p.name)
		}
	}

	// Same objects, same ETags, on both; the ETag is the MD5 of the bytes.
	emuObjs := peerS3Objects(t, ctx, emu)
	if len(emuObjs) != len(objs) {
		t.Errorf("%s holds %d objects, the emulator %d", p.name, len(objs), len(emuObjs))
	}
	for k, etag := range objs {
		if emuObjs[k] != etag {
			t.Errorf("%s: ETag %s on %s, %s on the emulator", k, etag, p.name, emuObjs[k])
		}
	}
	for _, k := range []string{"train.lst", peerFirstKey(objs, "train/"), peerFirstKey(objs, "test/")} {
		sum := md5.Sum(peerGetObject(t, ctx, penv, k))
		if want := `"` + hex.EncodeToString(sum[:]) + `"`; objs[k] != want {
			t.Errorf("%s: %s ETag %s, want the MD5 of its bytes %s", p.name, k, objs[k], want)
		}
	}

	again, err := pipeline.Stage(ctx, penv, pipeline.StageOptions{Source: archive})
	if err != nil {
		t.Fatalf("re-stage on %s: %v", p.name, err)
	}
	if again.Uploaded != 0 || again.Unchanged != 292 {
		t.Errorf("re-stage on %s: uploaded %d, unchanged %d; want 0 and 292 (ETag = MD5)", p.name, again.Uploaded, again.Unchanged)
	}
}

func peerFirstKey(m map[string]string, prefix string) string {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return prefix
	}
	return keys[0]
}

// deploySuite runs pipeline.Deploy on the peer (it trains first: the peer's
// training job stands in for the classifier), checks what it created
// through the peer's own API, deploys again (nothing may change: the
// policy documents, definitions and tags read back must compare equal),
// then destroys and checks that nothing tagged is left.
func deploySuite(t *testing.T, ctx context.Context, p *peerTarget, env *pipeline.Env) {
	dep, err := pipeline.Deploy(ctx, env, pipeline.DeployOptions{Package: packager})
	if err != nil {
		t.Fatalf("deploy on %s: %v", p.name, err)
	}
	created := map[string]int{}
	for _, c := range dep.Changes {
		if c.Action == "created" {
			created[c.Kind]++
		}
	}
	for kind, n := range map[string]int{"role": 3, "function": 3, "training job": 1, "model": 1, "endpoint config": 1, "endpoint": 1, "state machine": 2} {
		if created[kind] != n {
			t.Errorf("deploy on %s created %d %s, want %d: %+v", p.name, created[kind], kind, n, dep.Changes)
		}
	}
	names := env.Profile.Names
	sm := env.Clients.SageMaker

	// The state machine: the definition reads back as deployed.
	want, err := workflows.Single(workflows.Substitutions{
		SerializeImageDataArn:            dep.Functions["serializeImageData"],
		ClassifyImageArn:                 dep.Functions["classifyImage"],
		FilterLowConfidenceInferencesArn: dep.Functions["filterLowConfidenceInferences"],
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := env.Clients.SFN.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(dep.StateMachineArn)})
	if err != nil {
		t.Fatalf("DescribeStateMachine: %v", err)
	}
	if !peerJSONEqual(aws.ToString(d.Definition), string(want)) {
		t.Errorf("%s: the definition read back is not the one deployed:\n%s", p.name, aws.ToString(d.Definition))
	}
	if d.Status != "ACTIVE" || d.Type != "STANDARD" || !strings.HasSuffix(aws.ToString(d.RoleArn), ":role/"+names.StatesRole) {
		t.Errorf("%s: state machine status %s type %s role %s", p.name, d.Status, d.Type, aws.ToString(d.RoleArn))
	}

	// The endpoint config carries the data capture deploy asked for.
	ec, err := sm.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: aws.String(names.EndpointConfig)})
	if err != nil {
		t.Fatalf("DescribeEndpointConfig: %v", err)
	}
	dc := ec.DataCaptureConfig
	if dc == nil || !aws.ToBool(dc.EnableCapture) || aws.ToInt32(dc.InitialSamplingPercentage) != 100 ||
		aws.ToString(dc.DestinationS3Uri) != "s3://"+env.Bucket+"/"+names.DataCapturePrefix || len(dc.CaptureOptions) != 2 {
		t.Errorf("%s: endpoint config data capture = %+v", p.name, dc)
	}
	if len(ec.ProductionVariants) != 1 || aws.ToString(ec.ProductionVariants[0].VariantName) != "AllTraffic" || aws.ToString(ec.ProductionVariants[0].ModelName) != names.Model {
		t.Errorf("%s: production variants %+v", p.name, ec.ProductionVariants)
	}
	ep, err := sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(names.Endpoint)})
	if err != nil || ep.EndpointStatus != smtypes.EndpointStatusInService {
		t.Fatalf("%s: endpoint after deploy: %v %v", p.name, ep, err)
	}
	tags, err := sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: ep.EndpointArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != pipeline.TagKey || aws.ToString(tags.Tags[0].Value) != names.Stack {
		t.Errorf("%s: endpoint tags %v %v", p.name, tags, err)
	}

	// The roles: an inline policy that GetRolePolicy returns URL-encoded.
	for _, role := range []string{names.LambdaRole, names.StatesRole, names.SageMakerRole} {
		pol, err := env.Clients.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("scones")})
		if err != nil {
			t.Fatalf("%s: GetRolePolicy %s: %v", p.name, role, err)
		}
		raw := aws.ToString(pol.PolicyDocument)
		doc, err := url.QueryUnescape(raw)
		var v struct{ Version string }
		if err != nil || json.Unmarshal([]byte(doc), &v) != nil || v.Version != "2012-10-17" {
			t.Errorf("%s: role %s policy document %.80q does not decode to a policy: %v", p.name, role, raw, err)
		}
	}

	// A second deploy finds everything in place.
	second, err := pipeline.Deploy(ctx, env, pipeline.DeployOptions{Package: packager})
	if err != nil {
		t.Fatalf("second deploy on %s: %v", p.name, err)
	}
	if second.Changed() {
		t.Errorf("second deploy on %s changed things: %+v", p.name, second.Changes)
	}

	found, err := pipeline.Destroy(ctx, env, pipeline.DestroyOptions{})
	if err != nil {
		t.Fatalf("destroy on %s: %v", p.name, err)
	}
	removed := map[string]int{}
	for _, f := range found {
		removed[f.Kind]++
	}
	for kind, n := range map[string]int{"role": 3, "function": 3, "model": 1, "endpoint config": 1, "endpoint": 1, "state machine": 2, "bucket": 1} {
		if removed[kind] != n {
			t.Errorf("destroy on %s removed %d %s, want %d: %v", p.name, removed[kind], kind, n, removed)
		}
	}
	left, err := pipeline.FindTagged(ctx, env)
	if err != nil || len(left) != 0 {
		t.Errorf("after destroy on %s: %d tagged resources left (%v)", p.name, len(left), err)
	}
	if _, err := env.Clients.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(env.Bucket)}); err == nil {
		t.Errorf("after destroy on %s: bucket %s still there", p.name, env.Bucket)
	}
}

// outcome renders an SDK error as "<Code> <HTTP status>", or "ok".
func peerOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	code := "?"
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return fmt.Sprintf("%s %d", code, status)
}

// errMessage is the error's message as the service sent it.
func peerErrMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// jsonEqual reports whether a and b are the same JSON value, as deploy
// compares definitions and policies.
func peerJSONEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}
