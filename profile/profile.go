// Package profile decides everything environmental about a scones run:
// which endpoints each AWS service is reached at, region, account, bucket
// and resource names, and where credentials come from. The pipeline only
// ever sees the SDK clients a Profile builds, so the same code runs against
// the embedded emulator, a LocalStack-compatible endpoint, or AWS.
//
// Three profiles exist:
//
//   - local (the default): the embedded emulator, started in-process by the
//     CLI, or a running `scones emulator` given with --endpoint.
//   - localstack: S3, Lambda, Step Functions, IAM and STS at a
//     LocalStack-compatible endpoint (default http://localhost:4566), and
//     SageMaker, control plane and runtime, at the stub endpoint container
//     (cmd/stub-endpoint --serve-sagemaker, default http://localhost:8080),
//     which keeps its data in that endpoint's S3. FunctionEndpoints tells
//     the deployed functions where they see the stub: by default where the
//     CLI sees it.
//   - aws: the SDK's default credential chain and AWS's own endpoints.
//
// A non-aws profile never builds a client without an explicit endpoint, so
// nothing reaches AWS unless the aws profile was chosen.
package profile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Profile names.
const (
	Local      = "local"
	LocalStack = "localstack"
	AWS        = "aws"
)

// Service keys for per-service endpoints, as in AWS_ENDPOINT_URL_<SERVICE>.
const (
	S3               = "s3"
	Lambda           = "lambda"
	StepFunctions    = "sfn"
	SageMaker        = "sagemaker"
	SageMakerRuntime = "sagemaker_runtime"
	IAM              = "iam"
	STS              = "sts"
)

var serviceKeys = []string{S3, Lambda, StepFunctions, SageMaker, SageMakerRuntime, IAM, STS}

// DefaultLocalStackEndpoint is where the localstack profile looks by default.
const DefaultLocalStackEndpoint = "http://localhost:4566"

// DefaultStubEndpoint is where the localstack profile reaches SageMaker
// Runtime by default: the stub endpoint container.
const DefaultStubEndpoint = "http://localhost:8080"

// Names are the resources a deployment creates.
type Names struct {
	Stack                  string `yaml:"stack"`
	SerializeFunction      string `yaml:"serialize_function"`
	ClassifyFunction       string `yaml:"classify_function"`
	FilterFunction         string `yaml:"filter_function"`
	StateMachine           string `yaml:"state_machine"`
	TrainingJobPrefix      string `yaml:"training_job_prefix"`
	Model                  string `yaml:"model"`
	EndpointConfig         string `yaml:"endpoint_config"`
	Endpoint               string `yaml:"endpoint"`
	LambdaRole             string `yaml:"lambda_role"`
	StatesRole             string `yaml:"states_role"`
	SageMakerRole          string `yaml:"sagemaker_role"`
	DataCapturePrefix      string `yaml:"data_capture_prefix"`
	TrainingOutputPrefix   string `yaml:"training_output_prefix"`
	DistributedMapTestList string `yaml:"-"`
}

// DefaultNames are the names used unless the config file says otherwise.
func DefaultNames() Names {
	return Names{
		Stack:                "scones",
		SerializeFunction:    "serializeImageData",
		ClassifyFunction:     "classifyImage",
		FilterFunction:       "filterLowConfidenceInferences",
		StateMachine:         "scones-workflow",
		TrainingJobPrefix:    "scones-image-classification",
		Model:                "scones-image-classifier",
		EndpointConfig:       "scones-image-classifier-config",
		Endpoint:             "scones-image-classifier",
		LambdaRole:           "scones-lambda",
		StatesRole:           "scones-states",
		SageMakerRole:        "scones-sagemaker",
		DataCapturePrefix:    "data_capture",
		TrainingOutputPrefix: "models",
	}
}

// Profile is a resolved profile: everything a command needs to build
// clients and name resources.
type Profile struct {
	Name   string
	Region string
	// Account is the account id when known in advance (local); for aws and
	// localstack it is learnt from STS.
	Account string
	// Endpoints maps service keys to URLs. Empty for aws.
	Endpoints map[string]string
	// FunctionEndpoints maps service keys to the URLs the deployed Lambda
	// functions use, where they differ from what the CLI uses: functions
	// run elsewhere (in LocalStack's or the emulator's container) and may
	// see a service at another address, e.g. the stub endpoint container
	// as http://stub-endpoint:8080 on a Docker network. Deploy sets them
	// as AWS_ENDPOINT_URL_<SERVICE> in every function's environment (see
	// FunctionEnv). Empty for aws and local; for localstack,
	// sagemaker_runtime defaults to Endpoints' (the stub).
	FunctionEndpoints map[string]string
	// AWSProfile names a shared-config profile for credentials (aws only).
	AWSProfile string
	// Bucket is the S3 bucket for data, models and capture. Empty means
	// the default: "scones" locally, sagemaker-<region>-<account> on AWS.
	Bucket string
	// Threshold is the confidence the filter Lambda requires.
	Threshold float64
	// TrainingImage overrides the training and inference image URI.
	TrainingImage string
	// Poll is how often long operations (training jobs, endpoints,
	// executions) are described while waiting: 15 s on AWS, 20 ms
	// elsewhere by default.
	Poll  time.Duration
	Names Names
}

// File is the shape of scones.yaml.
type File struct {
	Profiles map[string]FileProfile `yaml:"profiles"`
	Names    *Names                 `yaml:"names"`
}

// FileProfile is one profile's settings in scones.yaml.
type FileProfile struct {
	Region    string            `yaml:"region"`
	Account   string            `yaml:"account"`
	Endpoint  string            `yaml:"endpoint"`
	Endpoints map[string]string `yaml:"endpoints"`
	// FunctionEndpoints: see Profile.FunctionEndpoints.
	FunctionEndpoints map[string]string `yaml:"function_endpoints"`
	AWSProfile        string            `yaml:"aws_profile"`
	Bucket            string            `yaml:"bucket"`
	Threshold         float64           `yaml:"threshold"`
	TrainingImage     string            `yaml:"training_image"`
	PollInterval      string            `yaml:"poll_interval"`
}

// Options are the command-line settings that pick and adjust a profile.
// Empty fields leave the profile's value alone.
type Options struct {
	Profile    string
	ConfigPath string // "" looks for ./scones.yaml and skips it when absent
	Endpoint   string
	Region     string
	Bucket     string
}

// ErrUnknownProfile is returned for a profile name that is none of local,
// localstack or aws.
var ErrUnknownProfile = errors.New("unknown profile")

// Resolve builds the profile from defaults, the config file and options,
// in that order of precedence (later wins).
func Resolve(o Options) (*Profile, error) {
	name := o.Profile
	if name == "" {
		name = Local
	}
	if name != Local && name != LocalStack && name != AWS {
		return nil, fmt.Errorf("%w %q: choose local, localstack or aws", ErrUnknownProfile, name)
	}
	p := &Profile{Name: name, Region: "us-east-1", Threshold: 0.93, Names: DefaultNames(), Endpoints: map[string]string{}, Poll: 20 * time.Millisecond}
	if name == AWS {
		p.Poll = 15 * time.Second
	}
	if name == Local {
		p.Account = "000000000000"
	}
	if name == LocalStack {
		for _, k := range serviceKeys {
			p.Endpoints[k] = DefaultLocalStackEndpoint
		}
		p.Endpoints[SageMaker] = DefaultStubEndpoint
		p.Endpoints[SageMakerRuntime] = DefaultStubEndpoint
		p.Account = "000000000000"
	}
	if err := p.applyFile(o.ConfigPath); err != nil {
		return nil, err
	}
	if o.Endpoint != "" {
		if err := p.UseEndpoint(o.Endpoint); err != nil {
			return nil, err
		}
	}
	if o.Region != "" {
		p.Region = o.Region
	}
	if o.Bucket != "" {
		p.Bucket = o.Bucket
	}
	if p.Name == LocalStack && p.FunctionEndpoints[SageMakerRuntime] == "" {
		// The functions' one service outside the LocalStack-compatible
		// endpoint (which points them at itself for the rest): by default
		// where the CLI sees it, right when they run on this machine (as
		// under scones-emulator); function_endpoints says otherwise.
		if err := p.SetFunctionEndpoint(SageMakerRuntime, p.Endpoints[SageMakerRuntime]); err != nil {
			return nil, fmt.Errorf("sagemaker_runtime endpoint: %w", err)
		}
	}
	if p.Threshold <= 0 || p.Threshold >= 1 {
		return nil, fmt.Errorf("threshold %v: must be between 0 and 1", p.Threshold)
	}
	return p, nil
}

func (p *Profile) applyFile(path string) error {
	explicit := path != ""
	if !explicit {
		path = "scones.yaml"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("config file: %w", err)
	}
	var f File
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if f.Names != nil {
		p.Names = mergeNames(p.Names, *f.Names)
	}
	fp, ok := f.Profiles[p.Name]
	if !ok {
		return nil
	}
	if fp.Region != "" {
		p.Region = fp.Region
	}
	if fp.Account != "" {
		p.Account = fp.Account
	}
	if fp.Endpoint != "" {
		if p.Name == AWS {
			return fmt.Errorf("config file %s: profile aws cannot set endpoint", path)
		}
		for _, k := range serviceKeys {
			p.Endpoints[k] = fp.Endpoint
		}
	}
	for k, v := range fp.Endpoints {
		if !contains(serviceKeys, k) {
			return fmt.Errorf("config file %s: profile %s: unknown service %q in endpoints (known: %s)", path, p.Name, k, strings.Join(sortedCopy(serviceKeys), ", "))
		}
		p.Endpoints[k] = v
	}
	if len(fp.FunctionEndpoints) > 0 && p.Name == AWS {
		return fmt.Errorf("config file %s: profile aws cannot set function_endpoints: it would send the functions' AWS traffic elsewhere", path)
	}
	for k, v := range fp.FunctionEndpoints {
		if err := p.SetFunctionEndpoint(k, v); err != nil {
			return fmt.Errorf("config file %s: profile %s: function_endpoints: %w", path, p.Name, err)
		}
	}
	if fp.AWSProfile != "" {
		p.AWSProfile = fp.AWSProfile
	}
	if fp.Bucket != "" {
		p.Bucket = fp.Bucket
	}
	if fp.Threshold != 0 {
		p.Threshold = fp.Threshold
	}
	if fp.TrainingImage != "" {
		p.TrainingImage = fp.TrainingImage
	}
	if fp.PollInterval != "" {
		d, err := time.ParseDuration(fp.PollInterval)
		if err != nil || d <= 0 {
			return fmt.Errorf("config file %s: profile %s: poll_interval %q: want a positive duration such as 5s", path, p.Name, fp.PollInterval)
		}
		p.Poll = d
	}
	return nil
}

func mergeNames(base, over Names) Names {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&base.Stack, over.Stack)
	set(&base.SerializeFunction, over.SerializeFunction)
	set(&base.ClassifyFunction, over.ClassifyFunction)
	set(&base.FilterFunction, over.FilterFunction)
	set(&base.StateMachine, over.StateMachine)
	set(&base.TrainingJobPrefix, over.TrainingJobPrefix)
	set(&base.Model, over.Model)
	set(&base.EndpointConfig, over.EndpointConfig)
	set(&base.Endpoint, over.Endpoint)
	set(&base.LambdaRole, over.LambdaRole)
	set(&base.StatesRole, over.StatesRole)
	set(&base.SageMakerRole, over.SageMakerRole)
	set(&base.DataCapturePrefix, over.DataCapturePrefix)
	set(&base.TrainingOutputPrefix, over.TrainingOutputPrefix)
	return base
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func sortedCopy(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}

// UseEndpoint points every service the profile serves from one endpoint at
// url: all of them for local, all but SageMaker (the stub endpoint) for
// localstack. The aws profile refuses, so AWS traffic never goes elsewhere.
func (p *Profile) UseEndpoint(url string) error {
	if p.Name == AWS {
		return fmt.Errorf("--endpoint cannot be used with the aws profile: it would send AWS traffic elsewhere; use the local or localstack profile")
	}
	if !isHTTPURL(url) {
		return fmt.Errorf("--endpoint %q: want a URL such as http://127.0.0.1:4566", url)
	}
	for _, k := range serviceKeys {
		if p.Name == LocalStack && (k == SageMaker || k == SageMakerRuntime) {
			continue
		}
		p.Endpoints[k] = url
	}
	return nil
}

func isHTTPURL(url string) bool {
	return strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")
}

// SetFunctionEndpoint makes the deployed functions reach service (a
// service key such as "sagemaker_runtime") at url. The aws profile refuses.
func (p *Profile) SetFunctionEndpoint(service, url string) error {
	if p.Name == AWS {
		return fmt.Errorf("the aws profile cannot point functions at %s: it would send their AWS traffic elsewhere", url)
	}
	if !contains(serviceKeys, service) {
		return fmt.Errorf("unknown service %q (known: %s)", service, strings.Join(sortedCopy(serviceKeys), ", "))
	}
	if !isHTTPURL(url) {
		return fmt.Errorf("%s: %q: want a URL such as http://stub-endpoint:8080", service, url)
	}
	if p.FunctionEndpoints == nil {
		p.FunctionEndpoints = map[string]string{}
	}
	p.FunctionEndpoints[service] = url
	return nil
}

// FunctionEnv is the environment that points the deployed functions'
// AWS SDK clients at FunctionEndpoints: AWS_ENDPOINT_URL_<SERVICE>, the
// service-specific variable every AWS SDK reads (sagemaker_runtime becomes
// AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME). Empty when none are set.
func (p *Profile) FunctionEnv() map[string]string {
	env := map[string]string{}
	for k, v := range p.FunctionEndpoints {
		env["AWS_ENDPOINT_URL_"+strings.ToUpper(k)] = v
	}
	return env
}

// BucketName is the bucket to use once the account is known.
func (p *Profile) BucketName(account string) string {
	if p.Bucket != "" {
		return p.Bucket
	}
	if p.Name == AWS {
		return "sagemaker-" + p.Region + "-" + account
	}
	return "scones"
}
