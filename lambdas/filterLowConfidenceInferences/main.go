// Command filterLowConfidenceInferences is the workflow's last Lambda: it
// passes the body on when its highest inference is above THRESHOLD
// (default 0.93) and otherwise fails with errorType
// THRESHOLD_CONFIDENCE_NOT_MET.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/scones/scones/lambdas/handler"
	"github.com/scones/scones/lambdas/workflow"
)

func main() {
	threshold, err := workflow.ParseThreshold(os.Getenv("THRESHOLD"), workflow.DefaultThreshold)
	h := workflow.FilterLowConfidenceInferences(threshold)
	if err != nil {
		// Report the bad setting on every invocation rather than crash in
		// init, so the caller sees what to fix.
		h = func(context.Context, json.RawMessage) (workflow.Response, error) { return workflow.Response{}, err }
	}
	lambda.Start(handler.New(h))
}
