// Package handler hands the workflow's handlers to aws-lambda-go. It is
// apart from package workflow so that programs that only use the
// workflow's shapes (the scones CLI decodes execution outputs with
// workflow.DecodeBody) do not link aws-lambda-go's runtime client, whose
// RPC mode brings net/rpc and encoding/gob, initialised at every start of
// the scones binary.
package handler

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/scones/scones/lambdas/workflow"
)

// New adapts h to aws-lambda-go, turning a *workflow.Error into the
// messages.InvokeResponse_Error aws-lambda-go reports with its Type as
// errorType (for any other error it reports the Go type's name). Use it
// with lambda.Start in main and with Invoke in tests.
func New(h workflow.HandlerFunc) lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, event json.RawMessage) (workflow.Response, error) {
		resp, err := h(ctx, event)
		if err != nil {
			var e *workflow.Error
			if errors.As(err, &e) {
				return workflow.Response{}, messages.InvokeResponse_Error{Type: e.Type, Message: e.Message}
			}
			return workflow.Response{}, err
		}
		return resp, nil
	})
}
