package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/scones/scones/asl/workflows"
)

// Packager returns the deployment zip of one of the three functions
// (serializeImageData, classifyImage, filterLowConfidenceInferences) for an
// architecture ("x86_64" or "arm64").
type Packager func(ctx context.Context, function, arch string) ([]byte, error)

// DeployOptions adjust deploy.
type DeployOptions struct {
	Package Packager
	// Arch is the functions' architecture; empty means arm64 on AWS and
	// the host's elsewhere (the binaries run on this machine).
	Arch string
	// Train is used when no trained model exists yet.
	Train TrainOptions
	// EndpointInstanceType defaults to ml.m5.large.
	EndpointInstanceType string
}

// Change is one resource deploy looked at.
type Change struct {
	Kind, Name, Action string // Action: created, updated, unchanged
}

// DeployResult lists what deploy did.
type DeployResult struct {
	Changes         []Change
	StateMachineArn string
	AllStateMachine string
	Functions       map[string]string // name -> ARN
}

// Changed reports whether anything was created or updated.
func (r *DeployResult) Changed() bool {
	for _, c := range r.Changes {
		if c.Action != "unchanged" {
			return true
		}
	}
	return false
}

func (r *DeployResult) add(kind, name, action string) {
	r.Changes = append(r.Changes, Change{Kind: kind, Name: name, Action: action})
}

// Deploy creates or updates everything the workflow needs: the bucket, the
// roles, the three functions, the model, endpoint config and endpoint
// (training first when no model exists), and the state machines. It is
// idempotent: a second run changes nothing and says so.
func Deploy(ctx context.Context, e *Env, o DeployOptions) (*DeployResult, error) {
	if o.Package == nil {
		return nil, errors.New("deploy: no Lambda packager given")
	}
	res := &DeployResult{Functions: map[string]string{}}
	steps := []struct {
		name string
		fn   func(context.Context, *Env, DeployOptions, *DeployResult) error
	}{
		{"bucket", deployBucket},
		{"roles", deployRoles},
		{"functions", deployFunctions},
		{"endpoint", deployEndpoint},
		{"state machines", deployStateMachines},
	}
	for _, s := range steps {
		if err := s.fn(ctx, e, o, res); err != nil {
			return res, fmt.Errorf("deploy %s: %w", s.name, err)
		}
	}
	return res, nil
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func deployBucket(ctx context.Context, e *Env, _ DeployOptions, res *DeployResult) error {
	_, err := e.Clients.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(e.Bucket)})
	action := "unchanged"
	if err != nil {
		code := apiCode(err)
		if code != "NotFound" && code != "NoSuchBucket" {
			return fmt.Errorf("HeadBucket %s: %w", e.Bucket, err)
		}
		in := &s3.CreateBucketInput{Bucket: aws.String(e.Bucket)}
		if e.Region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(e.Region)}
		}
		if _, err := e.Clients.S3.CreateBucket(ctx, in); err != nil && apiCode(err) != "BucketAlreadyOwnedByYou" {
			return fmt.Errorf("CreateBucket %s: %w", e.Bucket, err)
		}
		action = "created"
	}
	// Tag the bucket only when deploy created it: a pre-existing bucket of
	// the user's stays theirs, and destroy leaves it alone.
	if action == "created" {
		var set []s3types.Tag
		for k, v := range e.Tags() {
			set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := e.Clients.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(e.Bucket), Tagging: &s3types.Tagging{TagSet: set}}); err != nil {
			return fmt.Errorf("PutBucketTagging %s: %w", e.Bucket, err)
		}
	}
	res.add("bucket", e.Bucket, action)
	return nil
}

// policy documents

type statement struct {
	Effect    string         `json:"Effect"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Principal map[string]any `json:"Principal,omitempty"`
}

func policyDoc(st ...statement) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": st})
	return string(b)
}

func trustPolicy(service string) string {
	return policyDoc(statement{Effect: "Allow", Action: "sts:AssumeRole", Principal: map[string]any{"Service": service}})
}

func (e *Env) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, e.Region, e.Account, resource)
}

func (e *Env) functionArn(name string) string { return e.arn("lambda", "function:"+name) }

func (e *Env) stateMachineArn(name string) string { return e.arn("states", "stateMachine:"+name) }

func (e *Env) roles() []struct{ name, service, policy string } {
	n := e.Profile.Names
	bucket := "arn:aws:s3:::" + e.Bucket
	fns := []string{}
	for _, f := range []string{n.SerializeFunction, n.ClassifyFunction, n.FilterFunction} {
		fns = append(fns, e.functionArn(f), e.functionArn(f)+":*")
	}
	return []struct{ name, service, policy string }{
		{n.LambdaRole, "lambda.amazonaws.com", policyDoc(
			statement{Effect: "Allow", Action: "s3:GetObject", Resource: bucket + "/*"},
			statement{Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: e.arn("sagemaker", "endpoint/"+strings.ToLower(n.Endpoint))},
			statement{Effect: "Allow", Action: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, Resource: e.arn("logs", "log-group:/aws/lambda/*")},
		)},
		{n.StatesRole, "states.amazonaws.com", policyDoc(
			statement{Effect: "Allow", Action: "lambda:InvokeFunction", Resource: fns},
			statement{Effect: "Allow", Action: "s3:ListBucket", Resource: bucket},
			statement{Effect: "Allow", Action: "s3:GetObject", Resource: bucket + "/*"},
			statement{Effect: "Allow", Action: "s3:PutObject", Resource: bucket + "/runs/*"},
			statement{Effect: "Allow", Action: []string{"states:StartExecution", "states:DescribeExecution", "states:StopExecution"}, Resource: []string{
				e.stateMachineArn(n.StateMachine + "-all"), e.arn("states", "execution:"+n.StateMachine+"-all/*"),
			}},
		)},
		{n.SageMakerRole, "sagemaker.amazonaws.com", policyDoc(
			statement{Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject"}, Resource: bucket + "/*"},
			statement{Effect: "Allow", Action: "s3:ListBucket", Resource: bucket},
			statement{Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "cloudwatch:PutMetricData"}, Resource: "*"},
			statement{Effect: "Allow", Action: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, Resource: e.arn("logs", "log-group:/aws/sagemaker/*")},
		)},
	}
}

const inlinePolicyName = "scones"

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func deployRoles(ctx context.Context, e *Env, _ DeployOptions, res *DeployResult) error {
	for _, r := range e.roles() {
		action := "unchanged"
		_, err := e.Clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.name)})
		if apiCode(err) == "NoSuchEntity" {
			var tags []iamtypes.Tag
			for k, v := range e.Tags() {
				tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			if _, err := e.Clients.IAM.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName: aws.String(r.name), AssumeRolePolicyDocument: aws.String(trustPolicy(r.service)),
				Description: aws.String("scones: " + r.service), Tags: tags,
			}); err != nil {
				return fmt.Errorf("CreateRole %s: %w", r.name, err)
			}
			action = "created"
		} else if err != nil {
			return fmt.Errorf("GetRole %s: %w", r.name, err)
		}
		cur, err := e.Clients.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(r.name), PolicyName: aws.String(inlinePolicyName)})
		doc := ""
		if err == nil {
			doc, _ = url.QueryUnescape(aws.ToString(cur.PolicyDocument))
		} else if apiCode(err) != "NoSuchEntity" {
			return fmt.Errorf("GetRolePolicy %s: %w", r.name, err)
		}
		if !sameJSON(doc, r.policy) {
			if _, err := e.Clients.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(r.name), PolicyName: aws.String(inlinePolicyName), PolicyDocument: aws.String(r.policy)}); err != nil {
				return fmt.Errorf("PutRolePolicy %s: %w", r.name, err)
			}
			if action == "unchanged" {
				action = "updated"
			}
		}
		res.add("role", r.name, action)
	}
	return nil
}

func (e *Env) roleArn(ctx context.Context, name string) (string, error) {
	out, err := e.Clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("GetRole %s: %w", name, err)
	}
	return aws.ToString(out.Role.Arn), nil
}

// Arch is the function architecture deploy uses by default.
func (e *Env) Arch(override string) string {
	if override != "" {
		return override
	}
	if e.Profile.Name == "aws" {
		return "arm64"
	}
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

func codeSha256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func deployFunctions(ctx context.Context, e *Env, o DeployOptions, res *DeployResult) error {
	n := e.Profile.Names
	role, err := e.roleArn(ctx, n.LambdaRole)
	if err != nil {
		return err
	}
	arch := e.Arch(o.Arch)
	fns := []struct {
		name, source string
		env          map[string]string
	}{
		{n.SerializeFunction, "serializeImageData", map[string]string{}},
		{n.ClassifyFunction, "classifyImage", map[string]string{"ENDPOINT_NAME": n.Endpoint}},
		{n.FilterFunction, "filterLowConfidenceInferences", map[string]string{"THRESHOLD": fmt.Sprint(e.Profile.Threshold)}},
	}
	endpoints := e.Profile.FunctionEnv()
	for _, f := range fns {
		maps.Copy(f.env, endpoints)
		zip, err := o.Package(ctx, f.source, arch)
		if err != nil {
			return fmt.Errorf("packaging %s: %w", f.source, err)
		}
		action, arn, err := e.deployFunction(ctx, f.name, role, arch, zip, f.env)
		if err != nil {
			return err
		}
		res.Functions[f.source] = arn
		res.add("function", f.name, action)
	}
	return nil
}

const functionTimeout = 30

func (e *Env) deployFunction(ctx context.Context, name, role, arch string, zip []byte, env map[string]string) (action, arn string, err error) {
	cur, err := e.Clients.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if apiCode(err) == "ResourceNotFoundException" {
		var out *lambda.CreateFunctionOutput
		err := retryWhile(ctx, e, "InvalidParameterValueException", "cannot be assumed", func() error {
			var err error
			out, err = e.Clients.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
				FunctionName:  aws.String(name),
				Runtime:       lambdatypes.RuntimeProvidedal2023,
				Handler:       aws.String("bootstrap"),
				Role:          aws.String(role),
				Code:          &lambdatypes.FunctionCode{ZipFile: zip},
				Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(arch)},
				Timeout:       aws.Int32(functionTimeout),
				MemorySize:    aws.Int32(128),
				Environment:   &lambdatypes.Environment{Variables: env},
				Tags:          e.Tags(),
			})
			return err
		})
		if err != nil {
			return "", "", fmt.Errorf("CreateFunction %s: %w", name, err)
		}
		if err := lambda.NewFunctionActiveV2Waiter(e.Clients.Lambda).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 5*time.Minute, func(o *lambda.FunctionActiveV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = e.poll(0), max(e.poll(0), 5*time.Second)
		}); err != nil {
			return "", "", fmt.Errorf("waiting for %s to be active: %w", name, err)
		}
		return "created", aws.ToString(out.FunctionArn), nil
	}
	if err != nil {
		return "", "", fmt.Errorf("GetFunction %s: %w", name, err)
	}
	c := cur.Configuration
	action = "unchanged"
	if aws.ToString(c.CodeSha256) != codeSha256(zip) || !slices.Contains(c.Architectures, lambdatypes.Architecture(arch)) {
		if _, err := e.Clients.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName: aws.String(name), ZipFile: zip, Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(arch)},
		}); err != nil {
			return "", "", fmt.Errorf("UpdateFunctionCode %s: %w", name, err)
		}
		if err := e.waitFunctionUpdated(ctx, name); err != nil {
			return "", "", err
		}
		action = "updated"
	}
	var curEnv map[string]string
	if c.Environment != nil {
		curEnv = c.Environment.Variables
	}
	if aws.ToString(c.Role) != role || aws.ToInt32(c.Timeout) != functionTimeout || !maps.Equal(curEnv, env) {
		if _, err := e.Clients.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(name), Role: aws.String(role), Timeout: aws.Int32(functionTimeout),
			Environment: &lambdatypes.Environment{Variables: env},
		}); err != nil {
			return "", "", fmt.Errorf("UpdateFunctionConfiguration %s: %w", name, err)
		}
		if err := e.waitFunctionUpdated(ctx, name); err != nil {
			return "", "", err
		}
		action = "updated"
	}
	return action, aws.ToString(c.FunctionArn), nil
}

func (e *Env) waitFunctionUpdated(ctx context.Context, name string) error {
	err := lambda.NewFunctionUpdatedV2Waiter(e.Clients.Lambda).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 5*time.Minute, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = e.poll(0), max(e.poll(0), 5*time.Second)
	})
	if err != nil {
		return fmt.Errorf("waiting for %s to update: %w", name, err)
	}
	return nil
}

// retryWhile retries fn while it fails with code and a message containing
// substr: IAM roles take seconds to become assumable on AWS.
func retryWhile(ctx context.Context, e *Env, code, substr string, fn func() error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := fn()
		if err == nil || apiCode(err) != code || !strings.Contains(err.Error(), substr) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func isSageMakerNotFound(err error) bool {
	return apiCode(err) == "ValidationException" && strings.Contains(err.Error(), "ould not find") ||
		apiCode(err) == "ResourceNotFound"
}

func deployEndpoint(ctx context.Context, e *Env, o DeployOptions, res *DeployResult) error {
	n := e.Profile.Names
	image, err := e.TrainingImage()
	if err != nil {
		return err
	}
	role, err := e.roleArn(ctx, n.SageMakerRole)
	if err != nil {
		return err
	}
	_, err = e.Clients.SageMaker.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: aws.String(n.Model)})
	switch {
	case err == nil:
		res.add("model", n.Model, "unchanged")
	case isSageMakerNotFound(err):
		job, artifact, err := e.LatestModelArtifact(ctx)
		if err != nil {
			return err
		}
		if artifact == "" {
			e.printf("no trained model yet: training one\n")
			tr, err := train(ctx, e, o.Train) // the roles step already ran
			if err != nil {
				return err
			}
			job, artifact = tr.JobName, tr.ModelArtifact
			res.add("training job", job, "created")
		}
		if _, err := e.Clients.SageMaker.CreateModel(ctx, &sagemaker.CreateModelInput{
			ModelName:        aws.String(n.Model),
			ExecutionRoleArn: aws.String(role),
			PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String(artifact)},
			Tags:             smTags(e.Tags()),
		}); err != nil {
			return fmt.Errorf("CreateModel %s: %w", n.Model, err)
		}
		res.add("model", n.Model, "created")
	default:
		return fmt.Errorf("DescribeModel %s: %w", n.Model, err)
	}

	instance := o.EndpointInstanceType
	if instance == "" {
		instance = "ml.m5.large"
	}
	_, err = e.Clients.SageMaker.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: aws.String(n.EndpointConfig)})
	switch {
	case err == nil:
		res.add("endpoint config", n.EndpointConfig, "unchanged")
	case isSageMakerNotFound(err):
		if _, err := e.Clients.SageMaker.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{
			EndpointConfigName: aws.String(n.EndpointConfig),
			ProductionVariants: []smtypes.ProductionVariant{{
				VariantName: aws.String("AllTraffic"), ModelName: aws.String(n.Model),
				InitialInstanceCount: aws.Int32(1), InstanceType: smtypes.ProductionVariantInstanceType(instance),
				InitialVariantWeight: aws.Float32(1),
			}},
			DataCaptureConfig: &smtypes.DataCaptureConfig{
				EnableCapture:             aws.Bool(true),
				InitialSamplingPercentage: aws.Int32(100),
				DestinationS3Uri:          aws.String(e.s3URI(n.DataCapturePrefix)),
				CaptureOptions:            []smtypes.CaptureOption{{CaptureMode: smtypes.CaptureModeInput}, {CaptureMode: smtypes.CaptureModeOutput}},
				// What the SageMaker Python SDK sends by default: JSON and CSV
				// payloads are captured as text, everything else as base64.
				CaptureContentTypeHeader: &smtypes.CaptureContentTypeHeader{
					JsonContentTypes: []string{"application/json"},
					CsvContentTypes:  []string{"text/csv"},
				},
			},
			Tags: smTags(e.Tags()),
		}); err != nil {
			return fmt.Errorf("CreateEndpointConfig %s: %w", n.EndpointConfig, err)
		}
		res.add("endpoint config", n.EndpointConfig, "created")
	default:
		return fmt.Errorf("DescribeEndpointConfig %s: %w", n.EndpointConfig, err)
	}

	ep, err := e.Clients.SageMaker.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(n.Endpoint)})
	switch {
	case err == nil && ep.EndpointStatus == smtypes.EndpointStatusFailed:
		return fmt.Errorf("endpoint %s is Failed: %s; run destroy, then deploy again", n.Endpoint, aws.ToString(ep.FailureReason))
	case err == nil:
		res.add("endpoint", n.Endpoint, "unchanged")
	case isSageMakerNotFound(err):
		if _, err := e.Clients.SageMaker.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{
			EndpointName: aws.String(n.Endpoint), EndpointConfigName: aws.String(n.EndpointConfig), Tags: smTags(e.Tags()),
		}); err != nil {
			return fmt.Errorf("CreateEndpoint %s: %w", n.Endpoint, err)
		}
		res.add("endpoint", n.Endpoint, "created")
	default:
		return fmt.Errorf("DescribeEndpoint %s: %w", n.Endpoint, err)
	}
	return e.waitEndpoint(ctx, n.Endpoint)
}

func (e *Env) waitEndpoint(ctx context.Context, name string) error {
	last := smtypes.EndpointStatus("")
	for {
		ep, err := e.Clients.SageMaker.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("DescribeEndpoint %s: %w", name, err)
		}
		if ep.EndpointStatus != last {
			e.printf("  endpoint %s: %s\n", name, ep.EndpointStatus)
			last = ep.EndpointStatus
		}
		switch ep.EndpointStatus {
		case smtypes.EndpointStatusInService:
			return nil
		case smtypes.EndpointStatusFailed:
			return fmt.Errorf("endpoint %s failed: %s", name, aws.ToString(ep.FailureReason))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(e.poll(0)):
		}
	}
}

func deployStateMachines(ctx context.Context, e *Env, _ DeployOptions, res *DeployResult) error {
	n := e.Profile.Names
	role, err := e.roleArn(ctx, n.StatesRole)
	if err != nil {
		return err
	}
	subs := workflows.Substitutions{
		SerializeImageDataArn:            res.Functions["serializeImageData"],
		ClassifyImageArn:                 res.Functions["classifyImage"],
		FilterLowConfidenceInferencesArn: res.Functions["filterLowConfidenceInferences"],
	}
	for _, sm := range []struct {
		name   string
		render func(workflows.Substitutions) ([]byte, error)
		arn    *string
	}{
		{n.StateMachine, workflows.Single, &res.StateMachineArn},
		{n.StateMachine + "-all", workflows.All, &res.AllStateMachine},
	} {
		def, err := sm.render(subs)
		if err != nil {
			return err
		}
		arn := e.stateMachineArn(sm.name)
		*sm.arn = arn
		cur, err := e.Clients.SFN.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		switch {
		case apiCode(err) == "StateMachineDoesNotExist":
			var tags []sfntypes.Tag
			for k, v := range e.Tags() {
				tags = append(tags, sfntypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			out, err := e.Clients.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
				Name: aws.String(sm.name), Definition: aws.String(string(def)), RoleArn: aws.String(role),
				Type: sfntypes.StateMachineTypeStandard, Tags: tags,
			})
			if err != nil {
				return fmt.Errorf("CreateStateMachine %s: %w", sm.name, err)
			}
			*sm.arn = aws.ToString(out.StateMachineArn)
			res.add("state machine", sm.name, "created")
		case err != nil:
			return fmt.Errorf("DescribeStateMachine %s: %w", sm.name, err)
		case !sameJSON(aws.ToString(cur.Definition), string(def)) || aws.ToString(cur.RoleArn) != role:
			if _, err := e.Clients.SFN.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
				StateMachineArn: aws.String(arn), Definition: aws.String(string(def)), RoleArn: aws.String(role),
			}); err != nil {
				return fmt.Errorf("UpdateStateMachine %s: %w", sm.name, err)
			}
			res.add("state machine", sm.name, "updated")
		default:
			res.add("state machine", sm.name, "unchanged")
		}
	}
	return nil
}
