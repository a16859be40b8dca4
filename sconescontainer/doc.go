// Package sconescontainer runs the scones AWS emulator (S3, STS, IAM,
// Lambda, Step Functions, SageMaker on one port, 4566) as a Docker
// container, in the style of testcontainers-go's modules:
//
//	image, err := sconescontainer.BuildImage(ctx, "") // scones-emulator:dev
//	ctr, err := sconescontainer.Run(ctx, image, sconescontainer.WithTimeScale(0))
//	testcontainers.CleanupContainer(t, ctr)
//	cfg, err := ctr.AWSConfig(ctx) // BaseEndpoint http://127.0.0.1:<port>, test/test
//	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
//
// # The image
//
// No image registry is assumed to be reachable, so the image is built
// FROM scratch (build/emulator/Dockerfile) from two static Go binaries,
// cmd/scones-emulator (built with -tags nodocker,urfave_cli_no_docs: no
// Docker mode inside the container, no man-page writer) and
// cmd/image-classifier, compiled by BuildImage with
// GOOS=linux, GOARCH=<the daemon's architecture>, CGO_ENABLED=0, -trimpath
// and -ldflags "-s -w". The entrypoint is `scones-emulator --addr
// 0.0.0.0:4566`; the options of Run append flags to it. The image also
// holds an empty /tmp (mode 1777, TMPDIR=/tmp) for Lambda code directories
// and SageMaker roots, and sets SCONES_CLASSIFIER_PATH so SageMaker
// training jobs and endpoints run the classifier inside the container as a
// subprocess. Lambda functions run there too, from their zips, so their
// `bootstrap` must be a static Linux binary (as lambdapkg builds them).
// The emulator runs as root in the container, so it can write to volumes
// that Docker creates.
//
// BuildImage (package sconesdocker, which builds and runs images with the
// Docker Engine API alone, so that the scones CLI links no
// testcontainers-go) sends the build context as a tar rather than a
// directory: the tar is written deterministically (fixed times and owners,
// explicit modes, including /tmp's sticky bit, which a directory context
// would take from the host), so its SHA-256 identifies the image's content.
// That hash is stored in the image label scones.content-hash, and a later
// BuildImage whose context hashes the same returns at once without a Docker
// build. The binaries are linked into a stable cache directory, so go build
// itself is a no-op when nothing changed. The classic builder is enough (no
// BuildKit features are used).
//
// # Networking
//
// The container publishes 4566/tcp on a random host port; BaseEndpoint
// gives http://127.0.0.1:<port> (call it again after a restart: the port
// changes). Run's wait strategy (ForHealth) and BaseEndpoint try both
// 127.0.0.1 and testcontainers-go's Host, because Host answers the default
// gateway when the caller runs inside a container (/.dockerenv), which is
// wrong when the Docker daemon runs in that same container, as on the
// scones CI machines; a plain wait.ForHTTP times out there. ForHealth also
// fails at once when the emulator exits instead of waiting out its timeout.
//
// Code running inside the container (Lambda bootstraps, the classifier)
// reaches the emulator through AWS_ENDPOINT_URL, which the emulator sets
// from its own listen address inside the container, not through the
// published port.
//
// # The stub endpoint
//
// BuildStubImage and RunStubEndpoint do the same for the stub SageMaker
// endpoint (cmd/stub-endpoint, build/stub-endpoint/Dockerfile): one model
// served at SageMaker Runtime's InvokeEndpoint path, with data capture to
// S3, for setups whose SageMaker Runtime is not the emulator's (the
// localstack profile, or a test that wants the endpoint in its own
// container). On a shared Docker network the two find each other by alias:
//
//	nw, _ := network.New(ctx)
//	emu, _ := sconescontainer.Run(ctx, image, network.WithNetwork([]string{"emulator"}, nw))
//	stub, _ := sconescontainer.RunStubEndpoint(ctx, stubImage,
//		sconescontainer.WithStubConfig(sconescontainer.StubConfig{
//			EndpointName: "scones-image-classifier", ModelDataURL: artifact,
//			S3Endpoint: "http://emulator:4566", CaptureDestination: "s3://scones/data_capture"}),
//		network.WithNetwork([]string{"stub-endpoint"}, nw))
//
// and a Lambda function in the emulator container given
// AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://stub-endpoint:8080 (the
// profile's function_endpoints) sends its inferences to the stub.
// integration/container_test.go runs the whole pipeline this way.
//
// # Without Docker
//
// Run and BuildImage return an error wrapping ErrDockerUnavailable, never
// panic. Tests should call testcontainers.SkipIfProviderIsNotHealthy first,
// and set TESTCONTAINERS_RYUK_DISABLED=true before the first
// testcontainers-go call when the Ryuk image cannot be pulled (cleanup then
// rests on Terminate or testcontainers.CleanupContainer).
package sconescontainer
