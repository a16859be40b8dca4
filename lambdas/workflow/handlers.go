package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
)

// DefaultThreshold is filterLowConfidenceInferences' threshold when
// THRESHOLD is unset.
const DefaultThreshold = 0.93

// maxImageBytes bounds what serializeImageData reads: the base64 of more
// would not fit Lambda's 6 MB response anyway.
const maxImageBytes = 4 << 20

// S3Getter is the part of the S3 client serializeImageData uses.
type S3Getter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// EndpointInvoker is the part of the SageMaker runtime client
// classifyImage uses.
type EndpointInvoker interface {
	InvokeEndpoint(ctx context.Context, in *sagemakerruntime.InvokeEndpointInput, opts ...func(*sagemakerruntime.Options)) (*sagemakerruntime.InvokeEndpointOutput, error)
}

// SerializeImageData reads s3://{s3_bucket}/{s3_key}, checks it is an image
// and returns it base64-encoded with empty inferences.
func SerializeImageData(client S3Getter) HandlerFunc {
	return func(ctx context.Context, event json.RawMessage) (Response, error) {
		b, err := DecodeBody(event)
		if err != nil {
			return Response{}, err
		}
		if b.S3Bucket == "" {
			return Response{}, errorf(ErrInvalidEvent, "missing key s3_bucket: the event must be {\"s3_bucket\": ..., \"s3_key\": ...}")
		}
		if b.S3Key == "" {
			return Response{}, errorf(ErrInvalidEvent, "missing key s3_key: the event must be {\"s3_bucket\": ..., \"s3_key\": ...}")
		}
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.S3Bucket), Key: aws.String(b.S3Key)})
		if err != nil {
			return Response{}, awsError(fmt.Sprintf("reading s3://%s/%s", b.S3Bucket, b.S3Key), err)
		}
		defer out.Body.Close()
		img, err := io.ReadAll(io.LimitReader(out.Body, maxImageBytes+1))
		if err != nil {
			return Response{}, errorf("ServiceError", "reading s3://%s/%s: %v", b.S3Bucket, b.S3Key, err)
		}
		if len(img) > maxImageBytes {
			return Response{}, errorf(ErrInvalidImage, "s3://%s/%s is larger than %d bytes", b.S3Bucket, b.S3Key, maxImageBytes)
		}
		if _, err := CheckImage(img); err != nil {
			e := err.(*Error)
			e.Message = fmt.Sprintf("s3://%s/%s: %s", b.S3Bucket, b.S3Key, e.Message)
			return Response{}, e
		}
		return ok(Body{ImageData: encodeBase64(img), S3Bucket: b.S3Bucket, S3Key: b.S3Key}), nil
	}
}

// ClassifyImage sends the body's image to the SageMaker endpoint and fills
// inferences with the probabilities it returns. endpoint is ENDPOINT_NAME.
func ClassifyImage(client EndpointInvoker, endpoint string) HandlerFunc {
	return func(ctx context.Context, event json.RawMessage) (Response, error) {
		if strings.TrimSpace(endpoint) == "" {
			return Response{}, errorf(ErrConfiguration, "ENDPOINT_NAME is not set: set it to the SageMaker endpoint's name in the function's environment")
		}
		b, err := DecodeBody(event)
		if err != nil {
			return Response{}, err
		}
		if b.ImageData == "" {
			return Response{}, errorf(ErrInvalidEvent, "missing key image_data: the event must be {\"body\": {\"image_data\": <base64 image>, ...}}")
		}
		img, typ, err := DecodeImage(b.ImageData)
		if err != nil {
			return Response{}, err
		}
		out, err := client.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{
			EndpointName: aws.String(endpoint),
			ContentType:  aws.String(typ),
			Body:         img,
		})
		if err != nil {
			return Response{}, awsError("invoking endpoint "+endpoint, err)
		}
		var inf []float64
		dec := json.NewDecoder(bytes.NewReader(out.Body))
		if err := dec.Decode(&inf); err != nil || len(inf) == 0 {
			return Response{}, errorf(ErrInvalidModelResponse, "endpoint %s returned %s, not a JSON array of probabilities", endpoint, truncate(strconv.Quote(string(out.Body)), 80))
		}
		b.Inferences = inf
		b.ImageData = encodeBase64(img) // clean base64, whatever form came in
		return ok(b), nil
	}
}

// FilterLowConfidenceInferences passes the body on when its highest
// inference is above threshold and fails with THRESHOLD_CONFIDENCE_NOT_MET
// otherwise.
func FilterLowConfidenceInferences(threshold float64) HandlerFunc {
	return func(ctx context.Context, event json.RawMessage) (Response, error) {
		b, err := DecodeBody(event)
		if err != nil {
			return Response{}, err
		}
		if len(b.Inferences) == 0 {
			return Response{}, errorf(ErrInvalidEvent, "missing key inferences: the event must be {\"body\": {\"inferences\": [...], ...}} as classifyImage returns it")
		}
		best := b.Inferences[0]
		for _, p := range b.Inferences[1:] {
			best = max(best, p)
		}
		if best > threshold {
			return ok(b), nil
		}
		inf, _ := json.Marshal(b.Inferences)
		return Response{}, errorf(ErrThresholdNotMet, "highest confidence %v is not above the threshold %v (inferences %s, image s3://%s/%s)",
			best, threshold, inf, b.S3Bucket, b.S3Key)
	}
}
