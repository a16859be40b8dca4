package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/lambdas/workflow"
)

// ThresholdError is the error type the filter Lambda fails with when the
// top confidence is not above the threshold: the designed failure.
const ThresholdError = "THRESHOLD_CONFIDENCE_NOT_MET"

// RunOptions adjust run.
type RunOptions struct {
	Count       int
	Concurrency int
	// Seed picks the images; 0 picks a random seed.
	Seed int64
	// Poll is how often a running execution is described.
	Poll time.Duration
	// Progress shows a progress bar on a terminal (plain lines elsewhere).
	Progress bool
}

// Execution is one workflow execution and what came of it.
type Execution struct {
	Key        string    `json:"key"`
	TrueClass  int       `json:"true_class"`
	Arn        string    `json:"execution_arn"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Cause      string    `json:"cause,omitempty"`
	Inferences []float64 `json:"inferences,omitempty"`
	Duration   float64   `json:"duration_seconds"`
}

// Predicted is the argmax class, or -1 without inferences.
func (x Execution) Predicted() int {
	best, cls := -1.0, -1
	for i, p := range x.Inferences {
		if p > best {
			best, cls = p, i
		}
	}
	return cls
}

// RunSummary counts how the executions ended.
type RunSummary struct {
	Succeeded       int     `json:"succeeded"`
	FailedThreshold int     `json:"failed_threshold"`
	FailedOther     int     `json:"failed_other"`
	Accuracy        float64 `json:"accuracy_on_succeeded"`
	PerSecond       float64 `json:"executions_per_second"`
}

// RunResult is run's outcome.
type RunResult struct {
	Executions []Execution
	Summary    RunSummary
}

// ReadManifest reads and parses a staged .lst manifest.
func (e *Env) ReadManifest(ctx context.Context, key string) ([]cifar.ManifestEntry, error) {
	out, err := e.Clients.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("reading s3://%s/%s (has the data been staged? run `scones stage`): %w", e.Bucket, key, err)
	}
	defer out.Body.Close()
	entries, err := cifar.ParseManifest(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", e.Bucket, key, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("s3://%s/%s has no entries: no test images to run on; stage data first", e.Bucket, key)
	}
	return entries, nil
}

// Run starts o.Count executions of the workflow on random test images,
// waits for all of them, and summarises. Threshold failures are the
// designed outcome; only other failures are errors.
func Run(ctx context.Context, e *Env, o RunOptions) (*RunResult, error) {
	if o.Count <= 0 {
		return nil, fmt.Errorf("--count %d: want at least 1", o.Count)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	entries, err := e.ReadManifest(ctx, "test.lst")
	if err != nil {
		return nil, err
	}
	seed := o.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5c0e5))
	arn := e.stateMachineArn(e.Profile.Names.StateMachine)
	if _, err := e.Clients.SFN.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		return nil, fmt.Errorf("state machine %s: %w (run deploy first)", e.Profile.Names.StateMachine, err)
	}
	execs := make([]Execution, o.Count)
	for i := range execs {
		ent := entries[rng.IntN(len(entries))]
		execs[i] = Execution{Key: "test/" + ent.Filename, TrueClass: ent.Class}
	}
	bar := newProgress(e.Out, o.Progress, o.Count, "executions")
	start := time.Now()
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for i := range execs {
		wg.Add(1)
		sem <- struct{}{}
		go func(x *Execution) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := e.execute(ctx, arn, x, o.Poll); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				x.Status, x.Error, x.Cause = "ERROR", "scones.ClientError", err.Error()
			}
			bar.Add(1)
		}(&execs[i])
	}
	wg.Wait()
	bar.Finish()
	res := &RunResult{Executions: execs}
	res.Summary = summarize(execs, time.Since(start))
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

func summarize(execs []Execution, elapsed time.Duration) RunSummary {
	var s RunSummary
	correct := 0
	for _, x := range execs {
		switch {
		case x.Status == string(sfntypes.ExecutionStatusSucceeded):
			s.Succeeded++
			if x.Predicted() == x.TrueClass {
				correct++
			}
		case x.Error == ThresholdError:
			s.FailedThreshold++
		default:
			s.FailedOther++
		}
	}
	if s.Succeeded > 0 {
		s.Accuracy = float64(correct) / float64(s.Succeeded)
	}
	if elapsed > 0 {
		s.PerSecond = float64(len(execs)) / elapsed.Seconds()
	}
	return s
}

func (e *Env) execute(ctx context.Context, arn string, x *Execution, poll time.Duration) error {
	input, _ := json.Marshal(map[string]string{"s3_bucket": e.Bucket, "s3_key": x.Key})
	t0 := time.Now()
	out, err := e.Clients.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(string(input))})
	if err != nil {
		return fmt.Errorf("StartExecution: %w", err)
	}
	x.Arn = aws.ToString(out.ExecutionArn)
	d, err := e.waitExecution(ctx, out.ExecutionArn, poll, time.Millisecond)
	if err != nil {
		return err
	}
	x.Duration = time.Since(t0).Seconds()
	x.Status = string(d.Status)
	x.Error, x.Cause = aws.ToString(d.Error), aws.ToString(d.Cause)
	if d.Status == sfntypes.ExecutionStatusSucceeded {
		x.Inferences = inferencesFrom([]byte(aws.ToString(d.Output)))
	} else {
		x.Inferences = e.lastInferences(ctx, x.Arn)
	}
	return nil
}

// waitExecution describes an execution until it has ended, polling from
// first and backing off to the profile's interval (poll overrides it):
// local executions end in milliseconds, AWS ones in seconds.
func (e *Env) waitExecution(ctx context.Context, arn *string, poll, first time.Duration) (*sfn.DescribeExecutionOutput, error) {
	wait, limit := first, e.poll(poll)
	for {
		d, err := e.Clients.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			return nil, fmt.Errorf("DescribeExecution: %w", err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning && d.Status != sfntypes.ExecutionStatusPendingRedrive {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		if wait = 2 * wait; wait > limit {
			wait = limit
		}
	}
}

// inferencesFrom reads body.inferences from a Lambda output with the
// functions' own decoder, so every shape they accept (body as a JSON
// string, inferences as a string) is read here too.
func inferencesFrom(out []byte) []float64 {
	b, err := workflow.DecodeBody(out)
	if err != nil {
		return nil
	}
	return b.Inferences
}

// lastInferences finds, for a failed execution, the inferences the
// classify step produced: the output of the latest successful task.
func (e *Env) lastInferences(ctx context.Context, arn string) []float64 {
	h, err := e.Clients.SFN.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: true, MaxResults: 100})
	if err != nil {
		return nil
	}
	for _, ev := range h.Events {
		if ev.TaskSucceededEventDetails != nil {
			var env struct {
				Payload json.RawMessage `json:"Payload"`
			}
			out := []byte(aws.ToString(ev.TaskSucceededEventDetails.Output))
			if json.Unmarshal(out, &env) == nil && len(env.Payload) > 0 {
				out = env.Payload
			}
			if inf := inferencesFrom(out); inf != nil {
				return inf
			}
		}
	}
	return nil
}

// PrintRun writes the table of executions and the summary.
func PrintRun(w io.Writer, r *RunResult, classNames []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTRUE\tINFERENCES\tSTATUS\tERROR")
	execs := append([]Execution(nil), r.Executions...)
	sort.SliceStable(execs, func(i, j int) bool { return execs[i].Key < execs[j].Key })
	for _, x := range execs {
		inf := make([]string, len(x.Inferences))
		for i, p := range x.Inferences {
			inf[i] = strconv.FormatFloat(p, 'f', 3, 64)
		}
		name := strconv.Itoa(x.TrueClass)
		if x.TrueClass >= 0 && x.TrueClass < len(classNames) {
			name = classNames[x.TrueClass]
		}
		fmt.Fprintf(tw, "%s\t%s\t[%s]\t%s\t%s\n", x.Key, name, strings.Join(inf, ", "), x.Status, x.Error)
	}
	tw.Flush()
	s := r.Summary
	fmt.Fprintf(w, "\n%d executions: %d succeeded, %d failed by threshold (%s), %d failed otherwise; accuracy on succeeded %.3f; %.1f executions/s\n",
		len(r.Executions), s.Succeeded, s.FailedThreshold, ThresholdError, s.FailedOther, s.Accuracy, s.PerSecond)
}

// progress is a progress bar on a terminal and periodic plain lines
// elsewhere (a bar's redraws make a mess of CI logs).
type progress interface {
	Add(int) error
	Finish() error
}

func newProgress(w io.Writer, enabled bool, total int, what string) progress {
	if !enabled {
		return nopProgress{}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	}
	return &lineProgress{w: w, total: total, what: what, every: time.Second, last: time.Now()}
}

type nopProgress struct{}

func (nopProgress) Add(int) error { return nil }
func (nopProgress) Finish() error { return nil }

type lineProgress struct {
	mu          sync.Mutex
	w           io.Writer
	done, total int
	what        string
	every       time.Duration
	last        time.Time
}

func (p *lineProgress) Add(n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if time.Since(p.last) >= p.every {
		p.last = time.Now()
		fmt.Fprintf(p.w, "  %s %s\n", p.what, p.count())
	}
	return nil
}

func (p *lineProgress) Finish() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "  %s %s done\n", p.what, p.count())
	return nil
}

func (p *lineProgress) count() string {
	if p.total < 0 {
		return fmt.Sprint(p.done)
	}
	return fmt.Sprintf("%d/%d", p.done, p.total)
}
