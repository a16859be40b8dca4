package s3_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestTransferManager20MiB(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bucket(t, "tm-bucket")
	data := randBytes(20<<20, 42)
	for name, c := range map[string]*s3.Client{"http": e.c, "https": e.tls} {
		for _, seekable := range []bool{true, false} {
			key := name + "/seekable"
			var body io.Reader = bytes.NewReader(data)
			if !seekable {
				key = name + "/stream"
				body = io.MultiReader(bytes.NewReader(data))
			}
			tm := transfermanager.New(c)
			up, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("tm-bucket"), Key: aws.String(key), Body: body})
			if err != nil {
				t.Fatalf("%s upload: %v", key, err)
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tm-bucket"), Key: aws.String(key)})
			if err != nil || aws.ToInt64(head.ContentLength) != int64(len(data)) || aws.ToString(head.ETag) != aws.ToString(up.ETag) {
				t.Fatalf("%s: HEAD length %d etag %s, upload etag %s (%v)", key, aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), aws.ToString(up.ETag), err)
			}
			for _, typ := range []tmtypes.GetObjectType{tmtypes.GetObjectParts, tmtypes.GetObjectRanges} {
				dl := transfermanager.New(c, func(o *transfermanager.Options) { o.GetObjectType = typ })
				out, err := dl.GetObject(ctx, &transfermanager.GetObjectInput{Bucket: aws.String("tm-bucket"), Key: aws.String(key)})
				if err != nil {
					t.Fatalf("%s download (%s): %v", key, typ, err)
				}
				got, err := io.ReadAll(out.Body)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s download (%s): %d bytes, equal=%v, %v", key, typ, len(got), bytes.Equal(got, data), err)
				}
			}
		}
	}
}
