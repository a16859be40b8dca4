// Command serializeImageData is the workflow's first Lambda: it reads
// s3://{s3_bucket}/{s3_key} and returns the image base64-encoded in
// {"statusCode": 200, "body": {"image_data", "s3_bucket", "s3_key",
// "inferences": []}}. See package workflow for the shapes it accepts.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/scones/scones/lambdas/handler"
	"github.com/scones/scones/lambdas/workflow"
)

func main() {
	cfg, err := workflow.LoadConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler.New(workflow.SerializeImageData(workflow.NewS3Client(cfg, os.Getenv))))
}
