// Package s3client lets the emulator's SageMaker service use an S3 that is
// not the emulator's own, through aws-sdk-go-v2: the stub endpoint
// container serves SageMaker next to a LocalStack-compatible endpoint that
// lacks it, with training data, models and data capture in that
// endpoint's S3.
//
// The emulator's own SageMaker uses its in-process S3 instead; package
// sagemaker knows only the narrow ObjectStore interface both satisfy.
package s3client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	emus3 "github.com/scones/scones/emulator/s3"
	"github.com/scones/scones/emulator/sagemaker"
)

// Store is a sagemaker.ObjectStore over an S3 client.
type Store struct {
	c *s3.Client
}

var _ sagemaker.ObjectStore = (*Store)(nil)

// New returns the store. The client decides the endpoint and addressing
// style (path style is what local S3 endpoints expect).
func New(c *s3.Client) *Store { return &Store{c: c} }

// PutObject writes body and returns its ETag.
func (s *Store) PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) (string, error) {
	out, err := s.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String(contentType)})
	if err != nil {
		return "", fmt.Errorf("PutObject s3://%s/%s: %w", bucket, key, err)
	}
	return aws.ToString(out.ETag), nil
}

// GetObject reads a whole object.
func (s *Store) GetObject(ctx context.Context, bucket, key string) ([]byte, emus3.ObjectInfo, error) {
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, emus3.ObjectInfo{}, fmt.Errorf("GetObject s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, emus3.ObjectInfo{}, fmt.Errorf("GetObject s3://%s/%s: reading the body: %w", bucket, key, err)
	}
	info := emus3.ObjectInfo{Bucket: bucket, Key: key, Size: int64(len(data)), ETag: aws.ToString(out.ETag),
		ContentType: aws.ToString(out.ContentType), Metadata: out.Metadata}
	if out.LastModified != nil {
		info.LastModified = *out.LastModified
	}
	return data, info, nil
}

// ListObjects lists every object under prefix, following continuation
// tokens, in key order.
func (s *Store) ListObjects(ctx context.Context, bucket, prefix string) ([]emus3.ObjectInfo, error) {
	var objs []emus3.ObjectInfo
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListObjectsV2 s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			info := emus3.ObjectInfo{Bucket: bucket, Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)}
			if o.LastModified != nil {
				info.LastModified = *o.LastModified
			}
			if !strings.HasPrefix(info.Key, prefix) {
				return nil, fmt.Errorf("ListObjectsV2 s3://%s/%s: the endpoint answered key %q outside the prefix", bucket, prefix, info.Key)
			}
			objs = append(objs, info)
		}
	}
	return objs, nil
}
