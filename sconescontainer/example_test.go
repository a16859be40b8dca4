package sconescontainer_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/testcontainers/testcontainers-go"

	"github.com/scones/scones/emulator/faults"
	"github.com/scones/scones/sconescontainer"
)

// Build the image from the scones module, run it, and point an AWS SDK
// client at it. This needs Docker, so it is compiled but not run.
func ExampleRun() {
	ctx := context.Background()
	image, err := sconescontainer.BuildImage(ctx, "") // the module of the working directory
	if err != nil {
		log.Fatal(err) // errors.Is(err, sconescontainer.ErrDockerUnavailable) without Docker
	}
	ctr, err := sconescontainer.Run(ctx, image,
		sconescontainer.WithTimeScale(0),
		sconescontainer.WithDataVolume("scones-state"),
	)
	defer func() {
		if err := testcontainers.TerminateContainer(ctr); err != nil {
			log.Print(err)
		}
	}()
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := ctr.AWSConfig(ctx) // BaseEndpoint http://127.0.0.1:<port>, test/test
	if err != nil {
		log.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("scones")}); err != nil {
		log.Fatal(err)
	}
}

// The options only add emulator flags (and mounts, environment or start
// hooks) to the container request, so what they do can be seen without
// Docker.
func ExampleWithDataVolume() {
	req := testcontainers.GenericContainerRequest{}
	for _, opt := range []testcontainers.CustomizeRequestOption{
		sconescontainer.WithDataVolume("scones-state"),
		sconescontainer.WithTimeScale(0.01),
		sconescontainer.WithVerifySignatures(map[string]string{"AKIDEXAMPLE": "secret"}),
		sconescontainer.WithFaults(faults.Rule{Service: "sagemaker", Operation: "InvokeEndpoint", Rate: 0.1, Latency: faults.Duration(50 * time.Millisecond)}),
	} {
		if err := opt.Customize(&req); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("command:", strings.Join(req.Cmd, " "))
	fmt.Println("volume:", req.Mounts[0].Source.Source(), "at", req.Mounts[0].Target)
	fmt.Println("start hooks:", len(req.LifecycleHooks))
	// Output:
	// command: --data-dir /var/lib/scones --time-scale 0.01 --verify-signatures --credentials AKIDEXAMPLE:secret
	// volume: scones-state at /var/lib/scones
	// start hooks: 1
}
