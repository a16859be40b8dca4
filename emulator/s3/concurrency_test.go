package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Readers racing with writers of the same key see one whole version or an
// error, never a mix of two versions: for objects stored in chunks and for
// small ones kept inside their records.
func TestConcurrentOverwrite(t *testing.T) {
	for _, size := range []int{2<<20 + 100, 3000} {
		t.Run(fmt.Sprintf("memory/%d", size), func(t *testing.T) {
			testConcurrentOverwrite(t, newClient(startServer(t, emulatorOptions()).URL()), size)
		})
		t.Run(fmt.Sprintf("bolt/%d", size), func(t *testing.T) {
			testConcurrentOverwrite(t, newClient(startServer(t, emulatorOptionsDir(t.TempDir())).URL()), size)
		})
	}
}

func testConcurrentOverwrite(t *testing.T, c *s3.Client, size int) {
	ctx := context.Background()
	e := &env{c: c}
	e.bucket(t, "race")
	versions := make([][]byte, 3)
	for i := range versions {
		versions[i] = bytes.Repeat([]byte{byte('a' + i)}, size)
	}
	e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("k"), Body: bytes.NewReader(versions[0])})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4 {
				v := versions[(w+i)%len(versions)]
				if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("k"), Body: bytes.NewReader(v)}); err != nil {
					errs <- err
				}
			}
		}()
	}
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 6 {
				out, err := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("race"), Key: aws.String("k")})
				if err != nil {
					errs <- err
					continue
				}
				got, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil {
					continue // cut off because the object was replaced mid-read
				}
				whole := false
				for _, v := range versions {
					whole = whole || bytes.Equal(got, v)
				}
				if !whole {
					errs <- fmt.Errorf("read %d bytes that are no single version", len(got))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
