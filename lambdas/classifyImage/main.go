// Command classifyImage is the workflow's second Lambda: it sends the
// body's image (Content-Type image/png or image/jpeg) to the SageMaker
// endpoint named by ENDPOINT_NAME and returns the body with inferences
// filled from the endpoint's JSON array of probabilities.
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
	client := workflow.NewSageMakerRuntimeClient(cfg)
	lambda.Start(handler.New(workflow.ClassifyImage(client, os.Getenv("ENDPOINT_NAME"))))
}
