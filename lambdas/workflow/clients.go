package workflow

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
)

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// LoadConfig is the SDK's default configuration: region, credentials and
// endpoint overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) all come
// from the environment, exactly as on AWS.
func LoadConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return cfg, nil
}

// NewS3Client builds an S3 client from cfg. When an endpoint override is
// set (AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3) it uses path-style
// addressing, which the Go SDK has no environment variable for; virtual
// hosts need DNS an emulator does not have. getenv is os.Getenv in main.
func NewS3Client(cfg aws.Config, getenv func(string) string) *s3.Client {
	if getenv == nil {
		getenv = os.Getenv
	}
	pathStyle := getenv("AWS_ENDPOINT_URL") != "" || getenv("AWS_ENDPOINT_URL_S3") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if pathStyle {
			o.UsePathStyle = true
		}
	})
}

// NewSageMakerRuntimeClient builds the client classifyImage calls the
// endpoint with.
func NewSageMakerRuntimeClient(cfg aws.Config) *sagemakerruntime.Client {
	return sagemakerruntime.NewFromConfig(cfg)
}
