package s3_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestPaginators(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 5 {
		e.bucket(t, fmt.Sprintf("pg-%d", i))
	}
	var names []string
	bp := s3.NewListBucketsPaginator(e.c, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2)})
	for bp.HasMorePages() {
		out, err := bp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
	}
	if strings.Join(names, ",") != "pg-0,pg-1,pg-2,pg-3,pg-4" {
		t.Fatalf("ListBuckets pages: %v", names)
	}

	cr, _ := e.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("pg-0"), Key: aws.String("k")})
	for n := int32(1); n <= 5; n++ {
		if _, err := e.c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("pg-0"), Key: aws.String("k"), UploadId: cr.UploadId, PartNumber: aws.Int32(n * 2), Body: strings.NewReader("p")}); err != nil {
			t.Fatal(err)
		}
	}
	var parts []int32
	pp := s3.NewListPartsPaginator(e.c, &s3.ListPartsInput{Bucket: aws.String("pg-0"), Key: aws.String("k"), UploadId: cr.UploadId, MaxParts: aws.Int32(2)})
	for pp.HasMorePages() {
		out, err := pp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.Parts {
			parts = append(parts, aws.ToInt32(p.PartNumber))
		}
	}
	if fmt.Sprint(parts) != "[2 4 6 8 10]" {
		t.Fatalf("ListParts pages: %v", parts)
	}

	for _, k := range []string{"a", "a", "b/x", "b/y", "c"} {
		e.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("pg-1"), Key: aws.String(k)})
	}
	var ups []string
	up := s3.NewListMultipartUploadsPaginator(e.c, &s3.ListMultipartUploadsInput{Bucket: aws.String("pg-1"), MaxUploads: aws.Int32(2)})
	for up.HasMorePages() {
		out, err := up.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Uploads {
			ups = append(ups, aws.ToString(u.Key))
		}
	}
	if strings.Join(ups, ",") != "a,a,b/x,b/y,c" {
		t.Fatalf("ListMultipartUploads pages: %v", ups)
	}
	out, err := e.c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("pg-1"), Delimiter: aws.String("/")})
	if err != nil || len(out.Uploads) != 3 || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "b/" {
		t.Fatalf("ListMultipartUploads with delimiter: %+v %v", out, err)
	}
	_, err = e.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pg-1"), MaxKeys: aws.Int32(-1)})
	wantCode(t, err, "InvalidArgument")
}
