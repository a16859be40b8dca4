package sconescontainer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	"github.com/scones/scones/sconescontainer"
)

// classifierImage is the built-in image-classification image, which the
// emulator runs as the image-classifier binary inside the container.
const classifierImage = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"

// testSageMaker trains the classifier on a few PNGs, deploys it and
// invokes the endpoint, all inside the container.
func testSageMaker(t *testing.T, img string) {
	ctx := t.Context()
	ctr := run(t, img, sconescontainer.WithTimeScale(0))
	cfg, err := ctr.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sm := sagemaker.NewFromConfig(cfg)
	rt := sagemakerruntime.NewFromConfig(cfg)
	const bucket, n = "sagemaker-data", 8
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, split := range []string{"train", "validation"} {
		var lst strings.Builder
		for i := range 2 * n {
			name := fmt.Sprintf("img_%03d.png", i)
			put(split+"/"+name, classPNG(t, i%2, rng))
			fmt.Fprintf(&lst, "%d\t%d\t%s\n", i, i%2, name)
		}
		put(split+".lst", []byte(lst.String()))
	}
	channel := func(name, uri string) smtypes.Channel {
		return smtypes.Channel{ChannelName: aws.String(name), ContentType: aws.String("application/x-image"),
			DataSource: &smtypes.DataSource{S3DataSource: &smtypes.S3DataSource{S3DataType: smtypes.S3DataTypeS3Prefix,
				S3Uri: aws.String(uri), S3DataDistributionType: smtypes.S3DataDistributionFullyReplicated}}}
	}
	role := aws.String("arn:aws:iam::000000000000:role/sagemaker")
	if _, err := sm.CreateTrainingJob(ctx, &sagemaker.CreateTrainingJobInput{
		TrainingJobName:        aws.String("in-container"),
		RoleArn:                role,
		AlgorithmSpecification: &smtypes.AlgorithmSpecification{TrainingImage: aws.String(classifierImage), TrainingInputMode: smtypes.TrainingInputModeFile},
		HyperParameters: map[string]string{"image_shape": "3,32,32", "num_classes": "2", "num_training_samples": fmt.Sprint(2 * n),
			"epochs": "2", "mini_batch_size": "8", "learning_rate": "0.01", "seed": "1"},
		InputDataConfig: []smtypes.Channel{
			channel("train", "s3://"+bucket+"/train/"), channel("validation", "s3://"+bucket+"/validation/"),
			channel("train_lst", "s3://"+bucket+"/train.lst"), channel("validation_lst", "s3://"+bucket+"/validation.lst"),
		},
		OutputDataConfig:  &smtypes.OutputDataConfig{S3OutputPath: aws.String("s3://" + bucket + "/models")},
		ResourceConfig:    &smtypes.ResourceConfig{InstanceType: smtypes.TrainingInstanceTypeMlM5Xlarge, InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(5)},
		StoppingCondition: &smtypes.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(600)},
	}); err != nil {
		t.Fatal(err)
	}
	var job *sagemaker.DescribeTrainingJobOutput
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		job, err = sm.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("in-container")})
		if err != nil {
			t.Fatal(err)
		}
		if s := job.TrainingJobStatus; s != smtypes.TrainingJobStatusInProgress && s != smtypes.TrainingJobStatusStopping {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("training job still %s", job.TrainingJobStatus)
		}
	}
	if job.TrainingJobStatus != smtypes.TrainingJobStatusCompleted {
		logs(t, ctr)
		t.Fatalf("training job %s: %s", job.TrainingJobStatus, aws.ToString(job.FailureReason))
	}

	if _, err := sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("m"), ExecutionRoleArn: role,
		PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(classifierImage), ModelDataUrl: job.ModelArtifacts.S3ModelArtifacts}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("m"),
		ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String("m"),
			InitialInstanceCount: aws.Int32(1), InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("m"), EndpointConfigName: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		ep, err := sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("m")})
		if err != nil {
			t.Fatal(err)
		}
		if ep.EndpointStatus == smtypes.EndpointStatusInService {
			break
		}
		if ep.EndpointStatus != smtypes.EndpointStatusCreating || time.Now().After(deadline) {
			logs(t, ctr)
			t.Fatalf("endpoint %s: %s", ep.EndpointStatus, aws.ToString(ep.FailureReason))
		}
	}
	out, err := rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("m"),
		ContentType: aws.String("image/png"), Body: classPNG(t, 1, rng)})
	if err != nil {
		t.Fatal(err)
	}
	var probs []float64
	if err := json.Unmarshal(out.Body, &probs); err != nil || len(probs) != 2 {
		t.Fatalf("InvokeEndpoint body %s (%v), want [p0, p1]", out.Body, err)
	}
	t.Logf("inference %v", probs)
}

// classPNG draws a 32x32 PNG: class 0 reddish, class 1 bluish, with noise.
func classPNG(t *testing.T, class int, rng *rand.Rand) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			v := uint8(rng.IntN(60))
			c := color.NRGBA{R: 180 + v, G: 40 + v, B: 30 + v, A: 255}
			if class == 1 {
				c = color.NRGBA{R: 30 + v, G: 60 + v, B: 180 + v, A: 255}
			}
			m.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
