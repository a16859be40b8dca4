package capture

import (
	"bytes"
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewS3Putter writes capture files through an aws-sdk-go-v2 S3 client (the
// stub endpoint container uses one built with BaseEndpoint and
// UsePathStyle to reach a LocalStack-compatible S3).
func NewS3Putter(client *s3.Client) Putter {
	return PutterFunc(func(ctx context.Context, bucket, key string, body []byte) error {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))),
			ContentType:   aws.String("application/octet-stream"),
		})
		return err
	})
}
