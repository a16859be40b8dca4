package integration

// The wire probes: the same SDK calls, issued to a peer and to the scones
// emulator, each answer reduced to an observation ("ok", "<Code>
// <status>", a field's value). compareProbes lists every observation on
// which the two disagree, annotated from motoDifferences (moto_test.go)
// with which side AWS agrees with.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"net/url"
	"sort"
	"strings"
	"testing"
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

	"github.com/scones/scones/asl/workflows"
	"github.com/scones/scones/pipeline"
)

// observations are one backend's answers, by probe name.
type observations struct {
	account string
	order   []string
	vals    map[string]string
}

func (o *observations) set(key string, v any) {
	if o.vals == nil {
		o.vals = map[string]string{}
	}
	if _, ok := o.vals[key]; !ok {
		o.order = append(o.order, key)
	}
	s := fmt.Sprint(v)
	if o.account != "" {
		s = strings.ReplaceAll(s, o.account, "<account>")
	}
	o.vals[key] = s
}

func (o *observations) err(key string, err error) { o.set(key, peerOutcome(err)) }

const probePrefix = "scones-probe"

// probePeer issues every probe call to env. sageMaker and lambda say whether
// the backend serves those services.
func probePeer(t *testing.T, ctx context.Context, env *pipeline.Env, sageMaker, withLambda bool) *observations {
	o := &observations{account: env.Account}
	probeSTS(ctx, env, o)
	probeS3(ctx, env, o)
	roleArn := probeIAM(ctx, env, o)
	probeSFN(ctx, env, o, roleArn)
	if sageMaker {
		probeSageMaker(ctx, env, o, roleArn)
	}
	if withLambda {
		probeLambda(t, ctx, env, o, roleArn)
	}
	cleanupProbeRole(ctx, env)
	return o
}

func probeSTS(ctx context.Context, env *pipeline.Env, o *observations) {
	id, err := env.Clients.STS.GetCallerIdentity(ctx, nil)
	o.err("sts GetCallerIdentity", err)
	if err == nil {
		o.set("sts GetCallerIdentity Arn", aws.ToString(id.Arn))
		o.set("sts GetCallerIdentity UserId", aws.ToString(id.UserId))
		o.set("sts GetCallerIdentity Account is 12 digits", len(aws.ToString(id.Account)) == 12)
	}
}

func probeS3(ctx context.Context, env *pipeline.Env, o *observations) {
	c := env.Clients.S3
	bucket := aws.String(probePrefix + "-bucket")
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bucket})
	o.err("s3 HeadBucket (no such bucket)", err)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("k")})
	o.err("s3 GetObject (no such bucket)", err)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
	o.err("s3 CreateBucket", err)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
	o.err("s3 CreateBucket again (own bucket, us-east-1)", err)
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
	o.err("s3 GetBucketTagging (no tags)", err)
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(pipeline.TagKey), Value: aws.String("probe")}}}})
	o.err("s3 PutBucketTagging", err)
	if tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket}); err == nil {
		o.set("s3 GetBucketTagging TagSet", len(tags.TagSet))
	}

	body := []byte("row\tclass\tfile\n")
	sum := md5.Sum(body)
	crc := crc32.ChecksumIEEE(body)
	crcB64 := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("a/1.lst"), Body: bytes.NewReader(body),
		ContentType: aws.String("text/plain"), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32})
	o.err("s3 PutObject (CRC32 checksum)", err)
	if err == nil {
		o.set("s3 PutObject ETag is the quoted MD5", aws.ToString(put.ETag) == `"`+hex.EncodeToString(sum[:])+`"`)
		o.set("s3 PutObject ChecksumCRC32 echoed", aws.ToString(put.ChecksumCRC32) == crcB64)
	}
	for _, k := range []string{"a/2.png", "b/3.png"} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(k), Body: bytes.NewReader([]byte(k))})
		o.err("s3 PutObject (no checksum asked)", err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("a/1.lst")})
	o.err("s3 GetObject", err)
	if err == nil {
		got.Body.Close()
		o.set("s3 GetObject ContentType", aws.ToString(got.ContentType))
		o.set("s3 GetObject ETag is the quoted MD5", aws.ToString(got.ETag) == `"`+hex.EncodeToString(sum[:])+`"`)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("missing")})
	o.err("s3 GetObject (no such key)", err)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("missing")})
	o.err("s3 HeadObject (no such key)", err)

	l1, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(2)})
	o.err("s3 ListObjectsV2 MaxKeys=2", err)
	if err == nil {
		o.set("s3 ListObjectsV2 MaxKeys=2 page 1", fmt.Sprintf("keys=%s KeyCount=%d IsTruncated=%v token=%v", peerKeysOf(l1.Contents), aws.ToInt32(l1.KeyCount), aws.ToBool(l1.IsTruncated), l1.NextContinuationToken != nil))
		if len(l1.Contents) > 0 {
			o.set("s3 ListObjectsV2 StorageClass", l1.Contents[0].StorageClass)
			o.set("s3 ListObjectsV2 Owner (FetchOwner unset)", l1.Contents[0].Owner != nil)
		}
		l2, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(2), ContinuationToken: l1.NextContinuationToken})
		o.err("s3 ListObjectsV2 page 2", err)
		if err == nil {
			o.set("s3 ListObjectsV2 MaxKeys=2 page 2", fmt.Sprintf("keys=%s KeyCount=%d IsTruncated=%v", peerKeysOf(l2.Contents), aws.ToInt32(l2.KeyCount), aws.ToBool(l2.IsTruncated)))
		}
	}
	ld, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/")})
	if err == nil {
		var ps []string
		for _, p := range ld.CommonPrefixes {
			ps = append(ps, aws.ToString(p.Prefix))
		}
		o.set("s3 ListObjectsV2 Delimiter=/ CommonPrefixes", ps)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket})
	o.err("s3 DeleteBucket (not empty)", err)
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Quiet: aws.Bool(true), Objects: []s3types.ObjectIdentifier{
		{Key: aws.String("a/1.lst")}, {Key: aws.String("a/2.png")}, {Key: aws.String("b/3.png")}, {Key: aws.String("never-there")}}}})
	o.err("s3 DeleteObjects (Quiet)", err)
	if err == nil {
		o.set("s3 DeleteObjects (Quiet) Deleted/Errors", fmt.Sprintf("%d/%d", len(del.Deleted), len(del.Errors)))
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket})
	o.err("s3 DeleteBucket", err)
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bucket})
	o.err("s3 HeadBucket (deleted)", err)
}

func peerKeysOf(objs []s3types.Object) string {
	var ks []string
	for _, x := range objs {
		ks = append(ks, aws.ToString(x.Key))
	}
	return strings.Join(ks, ",")
}

const probePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::scones/*"},{"Effect":"Allow","Action":"sagemaker:InvokeEndpoint","Resource":"arn:aws:sagemaker:us-east-1:000000000000:endpoint/scones+x y"}]}`

func probeIAM(ctx context.Context, env *pipeline.Env, o *observations) string {
	c := env.Clients.IAM
	role := aws.String(probePrefix + "-role")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"lambda.amazonaws.com"}}]}`
	_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: role})
	o.err("iam GetRole (no such role)", err)
	cr, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(trust),
		Description: aws.String("probe"), Tags: []iamtypes.Tag{{Key: aws.String(pipeline.TagKey), Value: aws.String("probe")}}})
	o.err("iam CreateRole", err)
	arn := ""
	if err == nil {
		arn = aws.ToString(cr.Role.Arn)
		o.set("iam CreateRole Arn", arn)
		o.set("iam CreateRole Path", aws.ToString(cr.Role.Path))
		o.set("iam CreateRole RoleId prefix", aws.ToString(cr.Role.RoleId)[:4])
		o.set("iam CreateRole Tags echoed", len(cr.Role.Tags))
		o.set("iam CreateRole AssumeRolePolicyDocument form", peerDocForm(aws.ToString(cr.Role.AssumeRolePolicyDocument), trust))
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(trust)})
	o.err("iam CreateRole again", err)
	gr, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: role})
	o.err("iam GetRole", err)
	if err == nil {
		o.set("iam GetRole AssumeRolePolicyDocument form", peerDocForm(aws.ToString(gr.Role.AssumeRolePolicyDocument), trust))
		o.set("iam GetRole Tags", len(gr.Role.Tags))
		o.set("iam GetRole MaxSessionDuration", aws.ToInt32(gr.Role.MaxSessionDuration))
	}
	_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: role, PolicyName: aws.String("scones")})
	o.err("iam GetRolePolicy (no such policy)", err)
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role, PolicyName: aws.String("scones"), PolicyDocument: aws.String(probePolicy)})
	o.err("iam PutRolePolicy", err)
	gp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: role, PolicyName: aws.String("scones")})
	o.err("iam GetRolePolicy", err)
	if err == nil {
		o.set("iam GetRolePolicy PolicyDocument form", peerDocForm(aws.ToString(gp.PolicyDocument), probePolicy))
	}
	tags, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: role})
	o.err("iam ListRoleTags", err)
	if err == nil {
		o.set("iam ListRoleTags Tags", len(tags.Tags))
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
	o.err("iam DeleteRole (inline policy still attached)", err)
	return arn
}

// docForm says how a returned policy document relates to the one sent:
// "url-encoded" (RFC 3986, as AWS documents), "raw", or how it differs.
func peerDocForm(got, sent string) string {
	if got == sent {
		return "raw, byte-identical"
	}
	dec, err := url.QueryUnescape(got)
	switch {
	case err != nil:
		return "undecodable: " + err.Error()
	case dec == sent && strings.HasPrefix(got, "%7B"):
		if strings.Contains(got, "+") {
			return "url-encoded (space as +), decodes byte-identical"
		}
		return "url-encoded, decodes byte-identical"
	case dec == sent:
		return "decodes byte-identical"
	default:
		return fmt.Sprintf("decodes to something else: %.60q", dec)
	}
}

func cleanupProbeRole(ctx context.Context, env *pipeline.Env) {
	role := aws.String(probePrefix + "-role")
	env.Clients.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String("scones")})
	env.Clients.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
}

func probeSFN(ctx context.Context, env *pipeline.Env, o *observations, roleArn string) {
	c := env.Clients.SFN
	fn := func(name string) string {
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", env.Region, env.Account, name)
	}
	def, _ := workflows.Single(workflows.Substitutions{SerializeImageDataArn: fn("a"), ClassifyImageArn: fn("b"), FilterLowConfidenceInferencesArn: fn("c")})
	name := probePrefix + "-sm"
	arn := fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", env.Region, env.Account, name)
	_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	o.err("sfn DescribeStateMachine (no such machine)", err)

	v, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(string(def)), Type: sfntypes.StateMachineTypeStandard})
	o.err("sfn ValidateStateMachineDefinition", err)
	if err == nil {
		o.set("sfn ValidateStateMachineDefinition Result", v.Result)
		o.set("sfn ValidateStateMachineDefinition Diagnostics", len(v.Diagnostics))
	}
	bad := strings.Replace(string(def), `"Next": "ClassifyImage"`, `"Next": "Nowhere"`, 1)
	v, err = c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(bad)})
	if err == nil {
		codes := []string{}
		for _, d := range v.Diagnostics {
			codes = append(codes, string(d.Severity)+" "+aws.ToString(d.Code)+" at "+aws.ToString(d.Location))
		}
		o.set("sfn ValidateStateMachineDefinition (Next to a missing state)", fmt.Sprint(v.Result, " ", codes))
	}

	tags := []sfntypes.Tag{{Key: aws.String(pipeline.TagKey), Value: aws.String("probe")}}
	cr, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(string(def)),
		RoleArn: aws.String(roleArn), Type: sfntypes.StateMachineTypeStandard, Tags: tags})
	o.err("sfn CreateStateMachine", err)
	if err == nil {
		o.set("sfn CreateStateMachine Arn", aws.ToString(cr.StateMachineArn))
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(string(def)),
		RoleArn: aws.String(roleArn), Type: sfntypes.StateMachineTypeStandard, Tags: tags})
	o.err("sfn CreateStateMachine again (same definition)", err)
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(strings.Replace(string(def), "Scones Unlimited", "Scones", 1)),
		RoleArn: aws.String(roleArn), Type: sfntypes.StateMachineTypeStandard})
	o.err("sfn CreateStateMachine again (other definition)", err)
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name + "-bad"), Definition: aws.String(bad), RoleArn: aws.String(roleArn)})
	o.err("sfn CreateStateMachine (Next to a missing state)", err)
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	o.err("sfn DescribeStateMachine", err)
	if err == nil {
		o.set("sfn DescribeStateMachine Definition byte-identical", aws.ToString(d.Definition) == string(def))
		o.set("sfn DescribeStateMachine Status/Type", fmt.Sprint(d.Status, "/", d.Type))
		o.set("sfn DescribeStateMachine RoleArn as sent", aws.ToString(d.RoleArn) == roleArn)
		lc := "absent"
		if d.LoggingConfiguration != nil {
			lc = string(d.LoggingConfiguration.Level)
		}
		o.set("sfn DescribeStateMachine LoggingConfiguration.Level", lc)
		o.set("sfn DescribeStateMachine TracingConfiguration", d.TracingConfiguration != nil)
		o.set("sfn DescribeStateMachine RevisionId", d.RevisionId != nil)
	}
	lt, err := c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	o.err("sfn ListTagsForResource", err)
	if err == nil {
		o.set("sfn ListTagsForResource Tags", len(lt.Tags))
	}
	_, err = c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)})
	o.err("sfn DeleteStateMachine", err)
	d, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err == nil {
		o.set("sfn DescribeStateMachine (just deleted)", d.Status)
	} else {
		o.err("sfn DescribeStateMachine (just deleted)", err)
	}
	_, err = c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn + "-never")})
	o.err("sfn DeleteStateMachine (no such machine)", err)
}

func probeSageMaker(ctx context.Context, env *pipeline.Env, o *observations, roleArn string) {
	c := env.Clients.SageMaker
	model, config, endpoint := probePrefix+"-model", probePrefix+"-config", probePrefix+"-endpoint"
	_, err := c.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: aws.String(model)})
	o.set("sagemaker DescribeModel (no such model)", peerOutcome(err)+": "+peerErrMessage(err))
	_, err = c.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: aws.String(config)})
	o.set("sagemaker DescribeEndpointConfig (no such config)", peerOutcome(err)+": "+peerErrMessage(err))
	_, err = c.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(endpoint)})
	o.set("sagemaker DescribeEndpoint (no such endpoint)", peerOutcome(err)+": "+peerErrMessage(err))
	_, err = c.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(probePrefix + "-job")})
	o.set("sagemaker DescribeTrainingJob (no such job)", peerOutcome(err)+": "+peerErrMessage(err))
	lj, err := c.ListTrainingJobs(ctx, &sagemaker.ListTrainingJobsInput{NameContains: aws.String(probePrefix), StatusEquals: smtypes.TrainingJobStatusCompleted,
		SortBy: smtypes.SortByCreationTime, SortOrder: smtypes.SortOrderDescending, MaxResults: aws.Int32(1)})
	o.err("sagemaker ListTrainingJobs (as LatestModelArtifact)", err)
	if err == nil {
		o.set("sagemaker ListTrainingJobs (none)", len(lj.TrainingJobSummaries))
	}

	tags := []smtypes.Tag{{Key: aws.String(pipeline.TagKey), Value: aws.String("probe")}}
	artifact := "s3://" + probePrefix + "-nowhere/model.tar.gz"
	image := "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
	cm, err := c.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String(model), ExecutionRoleArn: aws.String(roleArn),
		PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String(artifact)}, Tags: tags})
	o.err("sagemaker CreateModel", err)
	if err == nil {
		o.set("sagemaker CreateModel ModelArn", aws.ToString(cm.ModelArn))
	}
	_, err = c.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String(model), ExecutionRoleArn: aws.String(roleArn),
		PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String(artifact)}})
	o.set("sagemaker CreateModel again", peerOutcome(err)+": "+peerErrMessage(err))
	dm, err := c.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: aws.String(model)})
	if err == nil && dm.PrimaryContainer != nil {
		o.set("sagemaker DescribeModel PrimaryContainer.Mode", dm.PrimaryContainer.Mode)
		o.set("sagemaker DescribeModel EnableNetworkIsolation", aws.ToBool(dm.EnableNetworkIsolation))
	}

	ce, err := c.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{
		EndpointConfigName: aws.String(config),
		ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String(model),
			InitialInstanceCount: aws.Int32(1), InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large, InitialVariantWeight: aws.Float32(1)}},
		DataCaptureConfig: &smtypes.DataCaptureConfig{EnableCapture: aws.Bool(true), InitialSamplingPercentage: aws.Int32(100),
			DestinationS3Uri: aws.String("s3://" + env.Bucket + "/data_capture"),
			CaptureOptions:   []smtypes.CaptureOption{{CaptureMode: smtypes.CaptureModeInput}, {CaptureMode: smtypes.CaptureModeOutput}}},
		Tags: tags,
	})
	o.err("sagemaker CreateEndpointConfig", err)
	if err == nil {
		o.set("sagemaker CreateEndpointConfig EndpointConfigArn", aws.ToString(ce.EndpointConfigArn))
	}
	_, err = c.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String(config + "-nomodel"),
		ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String(model + "-never"),
			InitialInstanceCount: aws.Int32(1), InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large}}})
	o.set("sagemaker CreateEndpointConfig (no such model)", peerOutcome(err)+": "+peerErrMessage(err))
	dc, err := c.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: aws.String(config)})
	o.err("sagemaker DescribeEndpointConfig", err)
	if err == nil {
		if d := dc.DataCaptureConfig; d != nil {
			var modes []string
			for _, m := range d.CaptureOptions {
				modes = append(modes, string(m.CaptureMode))
			}
			o.set("sagemaker DescribeEndpointConfig DataCaptureConfig", fmt.Sprintf("enable=%v pct=%d dest=%s modes=%v", aws.ToBool(d.EnableCapture), aws.ToInt32(d.InitialSamplingPercentage), aws.ToString(d.DestinationS3Uri), modes))
			o.set("sagemaker DescribeEndpointConfig CaptureContentTypeHeader", d.CaptureContentTypeHeader != nil)
		} else {
			o.set("sagemaker DescribeEndpointConfig DataCaptureConfig", "absent")
		}
		if len(dc.ProductionVariants) == 1 {
			v := dc.ProductionVariants[0]
			o.set("sagemaker DescribeEndpointConfig variant", fmt.Sprintf("%s model=%s n=%d %s weight=%v", aws.ToString(v.VariantName), aws.ToString(v.ModelName), aws.ToInt32(v.InitialInstanceCount), v.InstanceType, aws.ToFloat32(v.InitialVariantWeight)))
		}
	}

	start := time.Now()
	cep, err := c.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String(endpoint), EndpointConfigName: aws.String(config), Tags: tags})
	o.err("sagemaker CreateEndpoint", err)
	if err == nil {
		o.set("sagemaker CreateEndpoint EndpointArn", aws.ToString(cep.EndpointArn))
	}
	ep, err := c.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(endpoint)})
	o.err("sagemaker DescribeEndpoint", err)
	if err == nil {
		st := string(ep.EndpointStatus)
		if time.Since(start) > 2*time.Second {
			st += " (slow answer)"
		}
		o.set("sagemaker DescribeEndpoint status right after CreateEndpoint", st)
		if s := ep.DataCaptureConfig; s != nil {
			o.set("sagemaker DescribeEndpoint DataCaptureConfig", fmt.Sprintf("enable=%v status=%s pct=%d dest=%s", aws.ToBool(s.EnableCapture), s.CaptureStatus, aws.ToInt32(s.CurrentSamplingPercentage), aws.ToString(s.DestinationS3Uri)))
		} else {
			o.set("sagemaker DescribeEndpoint DataCaptureConfig", "absent")
		}
		o.set("sagemaker DescribeEndpoint ProductionVariants (right after create)", len(ep.ProductionVariants))
	}
	_, err = c.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String(endpoint), EndpointConfigName: aws.String(config)})
	o.set("sagemaker CreateEndpoint again", peerOutcome(err)+": "+peerErrMessage(err))
	for what, arn := range map[string]*string{"endpoint": cep.EndpointArn, "endpoint config": ce.EndpointConfigArn, "model": cm.ModelArn} {
		if arn == nil {
			continue
		}
		lt, err := c.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: arn})
		o.err("sagemaker ListTags "+what, err)
		if err == nil {
			o.set("sagemaker ListTags "+what+" Tags", len(lt.Tags))
		}
	}
	le, err := c.ListEndpoints(ctx, &sagemaker.ListEndpointsInput{NameContains: aws.String(probePrefix)})
	o.err("sagemaker ListEndpoints", err)
	if err == nil {
		o.set("sagemaker ListEndpoints count", len(le.Endpoints))
	}
	_, err = c.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String(config + "-never")})
	o.set("sagemaker DeleteEndpointConfig (no such config)", peerOutcome(err)+": "+peerErrMessage(err))
	_, err = c.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String(endpoint)})
	o.err("sagemaker DeleteEndpoint", err)
	ep, err = c.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(endpoint)})
	if err == nil {
		o.set("sagemaker DescribeEndpoint (just deleted)", ep.EndpointStatus)
	} else {
		o.set("sagemaker DescribeEndpoint (just deleted)", peerOutcome(err))
	}
	_, err = c.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String(config)})
	o.err("sagemaker DeleteEndpointConfig", err)
	_, err = c.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: aws.String(model)})
	o.err("sagemaker DeleteModel", err)
	_, err = c.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: aws.String(model)})
	o.set("sagemaker DeleteModel again", peerOutcome(err)+": "+peerErrMessage(err))
	// Let an endpoint still being deleted go before the next probe.
	for i := 0; i < 50; i++ {
		if _, err := c.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(endpoint)}); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func probeLambda(t *testing.T, ctx context.Context, env *pipeline.Env, o *observations, roleArn string) {
	c := env.Clients.Lambda
	name := aws.String(probePrefix + "-fn")
	_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: name})
	o.err("lambda GetFunction (no such function)", err)
	zip, err := packager(ctx, "filterLowConfidenceInferences", "")
	if err != nil {
		t.Fatalf("building a Lambda zip for the probes: %v", err)
	}
	sum := peerSHA256B64(zip)
	cf, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: name, Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String(roleArn), Code: &lambdatypes.FunctionCode{ZipFile: zip}, Timeout: aws.Int32(30), MemorySize: aws.Int32(128),
		Environment: &lambdatypes.Environment{Variables: map[string]string{"THRESHOLD": "0.93"}}, Tags: map[string]string{pipeline.TagKey: "probe"}})
	o.err("lambda CreateFunction", err)
	if err == nil {
		o.set("lambda CreateFunction State", cf.State)
		o.set("lambda CreateFunction CodeSha256 is base64(SHA-256(zip))", aws.ToString(cf.CodeSha256) == sum)
		o.set("lambda CreateFunction Architectures (none asked)", cf.Architectures)
	}
	gf, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: name})
	if err == nil {
		o.set("lambda GetFunction Environment", gf.Configuration.Environment != nil && gf.Configuration.Environment.Variables["THRESHOLD"] == "0.93")
		o.set("lambda GetFunction Tags", gf.Tags[pipeline.TagKey])
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: name})
	o.err("lambda DeleteFunction", err)
}

func peerSHA256B64(b []byte) string {
	h := peerSHA256(b)
	return base64.StdEncoding.EncodeToString(h[:])
}

// compareProbes lists the observations on which peer and emulator
// disagree, each with what motoDifferences says of it, and returns the
// keys of those that motoDifferences does not list.
func compareProbes(t *testing.T, peerName string, peer, emu *observations, known map[string]string) (unlisted []string) {
	keys := append([]string(nil), emu.order...)
	for _, k := range peer.order {
		if _, ok := emu.vals[k]; !ok {
			keys = append(keys, k)
		}
	}
	var lines []string
	for _, k := range keys {
		pv, pok := peer.vals[k]
		ev, eok := emu.vals[k]
		if !pok {
			pv = "(not observed)"
		}
		if !eok {
			ev = "(not observed)"
		}
		if pv == ev {
			continue
		}
		verdict, ok := known[k]
		if !ok {
			verdict = "NOT IN THE LIST: check which side AWS agrees with"
			unlisted = append(unlisted, k)
		}
		lines = append(lines, fmt.Sprintf("%s\n      %-9s %s\n      %-9s %s\n      => %s", k, peerName+":", pv, "emulator:", ev, verdict))
	}
	for k := range known {
		if peer.vals[k] == emu.vals[k] && (peer.vals[k] != "" || emu.vals[k] != "") {
			lines = append(lines, k+"\n      now agree ("+peer.vals[k]+"): drop it from the list")
		}
	}
	sort.Strings(lines)
	t.Logf("%d observations, %d disagreements between %s and the emulator:\n  %s", len(keys), len(lines), peerName, strings.Join(lines, "\n  "))
	return unlisted
}

func peerSHA256(b []byte) [32]byte { return sha256.Sum256(b) }

// peerContract is what the pipeline relies on, per probe: every backend must
// answer so. A probe a backend was not asked (a service it does not serve)
// is not checked.
var peerContract = []struct {
	key, why string
	ok       func(v string) bool
}{
	{"sts GetCallerIdentity Account is 12 digits", "NewEnv learns the account (ARNs, bucket name) from it", obsIs("true")},
	{"s3 HeadBucket (no such bucket)", "stage and deploy create the bucket on NotFound or NoSuchBucket", obsOneOf("NotFound 404", "NoSuchBucket 404")},
	{"s3 PutObject ETag is the quoted MD5", "stage skips unchanged objects by ETag = MD5", obsIs("true")},
	{"s3 GetObject ETag is the quoted MD5", "stage skips unchanged objects by ETag = MD5", obsIs("true")},
	{"s3 ListObjectsV2 MaxKeys=2 page 1", "stage and destroy page with the SDK paginator (IsTruncated + NextContinuationToken)", obsIs("keys=a/1.lst,a/2.png KeyCount=2 IsTruncated=true token=true")},
	{"s3 ListObjectsV2 MaxKeys=2 page 2", "stage and destroy page with the SDK paginator", obsIs("keys=b/3.png KeyCount=1 IsTruncated=false")},
	{"s3 DeleteObjects (Quiet)", "destroy empties the bucket with DeleteObjects", obsIs("ok")},
	{"s3 DeleteBucket", "destroy removes the bucket", obsIs("ok")},
	{"iam GetRole (no such role)", "deploy creates a role on NoSuchEntity", obsPrefix("NoSuchEntity")},
	{"iam GetRolePolicy (no such policy)", "deploy puts the policy on NoSuchEntity", obsPrefix("NoSuchEntity")},
	{"iam GetRolePolicy PolicyDocument form", "deploy URL-decodes the document (url.QueryUnescape) and compares it as JSON", obsContains("byte-identical")},
	{"iam CreateRole Arn", "deploy passes the role ARN to Lambda, SageMaker and Step Functions", obsIs("arn:aws:iam::<account>:role/" + probePrefix + "-role")},
	{"sfn DescribeStateMachine (no such machine)", "deploy creates a state machine on StateMachineDoesNotExist", obsPrefix("StateMachineDoesNotExist")},
	{"sfn CreateStateMachine", "deploy creates the workflow", obsIs("ok")},
	{"sfn DescribeStateMachine RoleArn as sent", "deploy updates the machine when the role differs", obsIs("true")},
	{"sfn ListTagsForResource Tags", "destroy finds state machines by tag", obsIs("1")},
	{"sagemaker DescribeModel (no such model)", "deploy creates the model when isSageMakerNotFound", sageMakerNotFound},
	{"sagemaker DescribeEndpointConfig (no such config)", "deploy creates the config when isSageMakerNotFound", sageMakerNotFound},
	{"sagemaker DescribeEndpoint (no such endpoint)", "deploy creates the endpoint when isSageMakerNotFound", sageMakerNotFound},
	{"sagemaker ListTrainingJobs (as LatestModelArtifact)", "deploy looks for a trained model first", obsIs("ok")},
	{"sagemaker DescribeEndpointConfig DataCaptureConfig", "monitor reads what the endpoint captured to s3://<bucket>/data_capture", obsContains("enable=true pct=100 dest=s3://scones/data_capture modes=[Input Output]")},
	{"sagemaker ListTags endpoint config Tags", "destroy finds SageMaker resources by tag", obsIs("1")},
	{"lambda GetFunction (no such function)", "deploy creates a function on ResourceNotFoundException", obsPrefix("ResourceNotFoundException")},
	{"lambda CreateFunction CodeSha256 is base64(SHA-256(zip))", "a second deploy compares CodeSha256 to skip unchanged code", obsIs("true")},
	{"lambda GetFunction Tags", "destroy finds functions by tag", obsIs("probe")},
}

func obsIs(want string) func(string) bool { return func(v string) bool { return v == want } }

func obsOneOf(want ...string) func(string) bool {
	return func(v string) bool {
		for _, w := range want {
			if v == w {
				return true
			}
		}
		return false
	}
}

func obsPrefix(p string) func(string) bool {
	return func(v string) bool { return strings.HasPrefix(v, p) }
}

func obsContains(s string) func(string) bool {
	return func(v string) bool { return strings.Contains(v, s) }
}

// sageMakerNotFound mirrors pipeline.isSageMakerNotFound.
func sageMakerNotFound(v string) bool {
	return strings.HasPrefix(v, "ValidationException") && strings.Contains(v, "ould not find") || strings.HasPrefix(v, "ResourceNotFound")
}

// checkContract fails the test for every observation of o that the
// pipeline could not work with.
func checkPeerContract(t *testing.T, backend string, o *observations) {
	t.Helper()
	for _, c := range peerContract {
		v, ok := o.vals[c.key]
		if !ok {
			continue
		}
		if !c.ok(v) {
			t.Errorf("%s: %s = %q, which the pipeline cannot work with (%s)", backend, c.key, v, c.why)
		}
	}
}
