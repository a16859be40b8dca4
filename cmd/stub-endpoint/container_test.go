package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/smcontainer"
)

const classifierImage = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"

func TestMain(m *testing.M) {
	// Ryuk's image cannot be pulled where no registry is reachable.
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	os.Exit(m.Run())
}

func pngOf(class int, rng *rand.Rand) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			n := uint8(rng.IntN(60))
			c := color.NRGBA{R: 180 + n, G: 40 + n, B: 30 + n, A: 255}
			if class == 1 {
				c = color.NRGBA{R: 30 + n, G: 60 + n, B: 180 + n, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitHTTP(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v (%v)", url, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestContainers runs the SageMaker workflow with every container in
// Docker: the emulator in docker mode trains and serves the classifier
// image (FROM scratch), then the stub endpoint image serves the trained
// model and writes capture files to the emulator's S3 over host
// networking.
func TestContainers(t *testing.T) {
	testcontainers.SkipIfProviderIsNotHealthy(t)
	t.Setenv(smcontainer.EnvMode, string(smcontainer.Docker))
	t.Setenv("SCONES_CAPTURE_FLUSH_INTERVAL", "200ms")
	ctx := context.Background()
	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := srv.URL()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = &url; o.UsePathStyle = true })
	sm := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = &url })
	const bucket = "docker"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte) {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: &key, Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, split := range []string{"train", "validation"} {
		var lst strings.Builder
		for i := range 8 {
			name := fmt.Sprintf("img_%d.png", i)
			put(split+"/"+name, pngOf(i%2, rng))
			fmt.Fprintf(&lst, "%d\t%d\t%s\n", i, i%2, name)
		}
		put(split+".lst", []byte(lst.String()))
	}
	ch := func(name, uri string) smtypes.Channel {
		return smtypes.Channel{ChannelName: aws.String(name), ContentType: aws.String("application/x-image"),
			DataSource: &smtypes.DataSource{S3DataSource: &smtypes.S3DataSource{S3DataType: smtypes.S3DataTypeS3Prefix, S3Uri: aws.String(uri)}}}
	}
	_, err = sm.CreateTrainingJob(ctx, &sagemaker.CreateTrainingJobInput{
		TrainingJobName: aws.String("docker-job"), RoleArn: aws.String("arn:aws:iam::000000000000:role/r"),
		AlgorithmSpecification: &smtypes.AlgorithmSpecification{TrainingImage: aws.String(classifierImage), TrainingInputMode: smtypes.TrainingInputModeFile},
		HyperParameters:        map[string]string{"image_shape": "3,32,32", "num_classes": "2", "num_training_samples": "8", "epochs": "2", "mini_batch_size": "4"},
		InputDataConfig: []smtypes.Channel{ch("train", "s3://docker/train/"), ch("validation", "s3://docker/validation/"),
			ch("train_lst", "s3://docker/train.lst"), ch("validation_lst", "s3://docker/validation.lst")},
		OutputDataConfig: &smtypes.OutputDataConfig{S3OutputPath: aws.String("s3://docker/models")},
		ResourceConfig:   &smtypes.ResourceConfig{InstanceType: smtypes.TrainingInstanceTypeMlM5Xlarge, InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(5)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var job *sagemaker.DescribeTrainingJobOutput
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		job, err = sm.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("docker-job")})
		if err != nil {
			t.Fatal(err)
		}
		if job.TrainingJobStatus != smtypes.TrainingJobStatusInProgress {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("docker training job did not finish")
		}
	}
	if job.TrainingJobStatus != smtypes.TrainingJobStatusCompleted || len(job.FinalMetricDataList) == 0 {
		t.Fatalf("docker job: %s %q metrics %v", job.TrainingJobStatus, aws.ToString(job.FailureReason), job.FinalMetricDataList)
	}
	artifact := aws.ToString(job.ModelArtifacts.S3ModelArtifacts)
	img := pngOf(1, rng)

	t.Run("classifier-endpoint-in-docker", func(t *testing.T) {
		rt := sagemakerruntime.NewFromConfig(cfg, func(o *sagemakerruntime.Options) { o.BaseEndpoint = &url })
		sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("d"), PrimaryContainer: &smtypes.ContainerDefinition{
			Image: aws.String(classifierImage), ModelDataUrl: aws.String(artifact)}})
		sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("d"),
			ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String("d"),
				InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)}}})
		if _, err := sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("d"), EndpointConfigName: aws.String("d")}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			ep, err := sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("d")})
			if err != nil {
				t.Fatal(err)
			}
			if ep.EndpointStatus == smtypes.EndpointStatusInService {
				break
			}
			if ep.EndpointStatus == smtypes.EndpointStatusFailed || time.Now().After(deadline) {
				t.Fatalf("endpoint %s: %s", ep.EndpointStatus, aws.ToString(ep.FailureReason))
			}
		}
		out, err := rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("d"), ContentType: aws.String("image/png"), Body: img})
		if err != nil {
			t.Fatal(err)
		}
		var probs []float64
		if err := json.Unmarshal(out.Body, &probs); err != nil || len(probs) != 2 {
			t.Errorf("docker endpoint answered %s", out.Body)
		}
		if _, err := sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String("d")}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("stub-endpoint-image", func(t *testing.T) {
		r, err := smcontainer.New(smcontainer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cls, err := r.BuildStatic(ctx, "image-classifier", "./cmd/image-classifier")
		if err != nil {
			t.Fatal(err)
		}
		stub, err := r.BuildStatic(ctx, "stub-endpoint", "./cmd/stub-endpoint")
		if err != nil {
			t.Fatal(err)
		}
		ref, err := smcontainer.BuildScratchImage(ctx, smcontainer.ScratchImage{Repo: "scones/stub-endpoint",
			Files: map[string]string{"/stub-endpoint": stub, "/image-classifier": cls},
			Env:   map[string]string{smcontainer.EnvClassifierPath: "/image-classifier"}, Entrypoint: []string{"/stub-endpoint"}})
		if err != nil {
			t.Fatal(err)
		}
		port := freePort(t)
		c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{Started: true, ContainerRequest: testcontainers.ContainerRequest{
			Image: ref,
			Env: map[string]string{
				"STUB_ADDR": "127.0.0.1:" + strconv.Itoa(port), "STUB_ENDPOINT_NAME": "stub", "STUB_MODEL_DATA_URL": artifact,
				"AWS_ENDPOINT_URL_S3": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
				"STUB_CAPTURE_DESTINATION": "s3://docker/stub_capture", "STUB_CAPTURE_FLUSH_INTERVAL": "200ms",
			},
			HostConfigModifier: func(hc *container.HostConfig) { hc.NetworkMode = "host" },
		}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Terminate(context.Background())
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		waitHTTP(t, base+"/ping", time.Minute)
		// The contract path.
		resp, err := http.Post(base+"/invocations", "image/png", bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "[") {
			t.Errorf("POST /invocations: %d %s", resp.StatusCode, b)
		}
		// InvokeEndpoint through the SDK.
		rt := sagemakerruntime.NewFromConfig(cfg, func(o *sagemakerruntime.Options) { o.BaseEndpoint = &base })
		out, err := rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("stub"),
			ContentType: aws.String("image/png"), Body: img, InferenceId: aws.String("stub-1")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.InvokedProductionVariant) != "AllTraffic" {
			t.Errorf("variant %q", aws.ToString(out.InvokedProductionVariant))
		}
		if _, err := rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("other"),
			ContentType: aws.String("image/png"), Body: img}); err == nil || !strings.Contains(err.Error(), "Endpoint other of account 000000000000 not found.") {
			t.Errorf("unknown endpoint on the stub: %v", err)
		}
		// Stopping the container flushes the capture buffer (SIGTERM).
		stop := 20 * time.Second
		if err := c.Stop(ctx, &stop); err != nil {
			t.Fatal(err)
		}
		list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("docker"), Prefix: aws.String("stub_capture/stub/AllTraffic/")})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, o := range list.Contents {
			obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docker"), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			lines = append(lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
		}
		if len(lines) != 2 {
			t.Fatalf("capture lines %d: %v", len(lines), lines)
		}
		found := false
		for _, l := range lines {
			if strings.Contains(l, `"inferenceId":"stub-1"`) && strings.Contains(l, `"encoding":"BASE64"`) &&
				strings.Contains(l, `"data":"`+string(out.Body)+`","encoding":"JSON"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("no capture record of the SDK invocation in %v", lines)
		}
	})
}
