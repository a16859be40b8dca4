package emulator

import (
	"context"
	"net/http"

	"github.com/scones/scones/asl"
	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/lambda"
	"github.com/scones/scones/emulator/s3"
	"github.com/scones/scones/emulator/sfn"
)

// The adapters below let services call each other in-process through
// narrow interfaces, so no service package imports another's.

// lambdaInvoker serves Step Functions' Lambda tasks from the Lambda service.
type lambdaInvoker struct{ svc *lambda.Service }

func (l lambdaInvoker) InvokeFunction(ctx context.Context, in sfn.LambdaInvocation) (*sfn.LambdaResult, error) {
	out, err := l.svc.Invoke(ctx, lambda.InvokeInput{
		FunctionName: in.FunctionName, Qualifier: in.Qualifier, Payload: in.Payload, InvocationType: in.InvocationType,
	})
	if err != nil {
		return nil, err
	}
	return &sfn.LambdaResult{
		StatusCode: out.StatusCode, Payload: out.Payload, FunctionError: out.FunctionError,
		ExecutedVersion: out.ExecutedVersion, RequestID: awsapi.NewRequestID(),
	}, nil
}

// itemStore serves Distributed Map's ItemReader and ResultWriter from S3.
type itemStore struct{ svc *s3.Service }

func (i itemStore) GetObject(ctx context.Context, bucket, key string) ([]byte, asl.ObjectInfo, error) {
	b, o, err := i.svc.GetObject(ctx, bucket, key)
	return b, objectInfo(o), err
}

func (i itemStore) ListObjectsV2(ctx context.Context, bucket, prefix string) ([]asl.ObjectInfo, error) {
	objs, err := i.svc.ListObjects(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]asl.ObjectInfo, len(objs))
	for n, o := range objs {
		out[n] = objectInfo(o)
	}
	return out, nil
}

func objectInfo(o s3.ObjectInfo) asl.ObjectInfo {
	return asl.ObjectInfo{Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified, StorageClass: "STANDARD",
		ContentType: o.ContentType, Metadata: o.Metadata}
}

func (i itemStore) PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) (string, error) {
	return i.svc.PutObject(ctx, bucket, key, body, contentType)
}

// serviceHandler returns a service's handler by signing name, for Step
// Functions' SDK integrations.
// A missing service is a nil http.Handler, not an interface holding a nil
// awsapi.Service.
func (s *Server) serviceHandler(name string) http.Handler {
	if svc := s.Service(name); svc != nil {
		return svc
	}
	return nil
}
