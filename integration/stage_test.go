package integration

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/emulator"
	"github.com/scones/scones/fixtures"
	"github.com/scones/scones/pipeline"
)

// TestStageRealImagesRoundTrip builds a real-format archive (both formats)
// from the real CIFAR-100 images, stages it into the emulator, and checks
// that every PNG in S3 decodes to exactly the original pixels and that the
// manifests match the real .lst files in class and file name.
func TestStageRealImagesRoundTrip(t *testing.T) {
	dir, err := fixtures.RealDir()
	if errors.Is(err, fixtures.ErrNoRealData) {
		t.Skipf("real CIFAR-100 images not present (%v): the round trip on real pixels is skipped", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ds, err := fixtures.RealDataset(dir, fixtures.RealOptions{FillerEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, format := range []cifar.Format{cifar.FormatPython, cifar.FormatBinary} {
		t.Run(format.String(), func(t *testing.T) {
			archive := filepath.Join(t.TempDir(), "cifar-100.tar.gz")
			if err := fixtures.WriteArchiveFile(archive, ds, format, 1); err != nil {
				t.Fatal(err)
			}
			srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			env := newEnv(t, srv.URL())
			res, err := pipeline.Stage(ctx, env, pipeline.StageOptions{Source: archive, CreateBucket: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Counts["train"][0] != 500 || res.Counts["train"][1] != 500 || res.Counts["test"][0] != 100 || res.Counts["test"][1] != 100 {
				t.Fatalf("counts = %v, want 500/500 train and 100/100 test", res.Counts)
			}
			for _, split := range []string{"train", "test"} {
				want, err := fixtures.LoadRealSplit(dir, split)
				if err != nil {
					t.Fatal(err)
				}
				got, err := env.ReadManifest(ctx, split+".lst")
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%s.lst: %d entries, want %d", split, len(got), len(want))
				}
				for i := range want {
					name := want[i].Entry.Filename
					if format == cifar.FormatBinary {
						name = got[i].Filename // the binary version has no file names
					}
					if got[i].Class != want[i].Entry.Class || got[i].Filename != name {
						t.Fatalf("%s.lst line %d = %+v, want class %d file %s", split, i+1, got[i], want[i].Entry.Class, name)
					}
					body := getObject(t, env, split+"/"+got[i].Filename)
					img, err := png.Decode(bytes.NewReader(body))
					if err != nil {
						t.Fatalf("%s: %v", got[i].Filename, err)
					}
					px, err := cifar.PixelsFromImage(img)
					if err != nil {
						t.Fatal(err)
					}
					if px != want[i].Pixels {
						t.Fatalf("%s/%s: pixels differ from the original image", split, got[i].Filename)
					}
				}
			}
		})
	}
}

func getObject(t *testing.T, env *pipeline.Env, key string) []byte {
	t.Helper()
	out, err := env.Clients.S3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return b
}

// TestStageFailureLeavesNoManifests stages a truncated archive: the run
// fails with an error naming the problem, and no manifest points at images
// that are missing.
func TestStageFailureLeavesNoManifests(t *testing.T) {
	ctx := context.Background()
	full, err := fixtures.Committed(fixtures.MiniPython)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.tar.gz")
	os.WriteFile(truncated, full[:len(full)*2/3], 0o644)
	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := newEnv(t, srv.URL())
	_, err = pipeline.Stage(ctx, env, pipeline.StageOptions{Source: truncated, CreateBucket: true})
	if err == nil {
		t.Fatal("staging a truncated archive succeeded")
	}
	t.Logf("error: %v", err)
	for _, key := range []string{"train.lst", "test.lst"} {
		if _, err := env.Clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String(key)}); err == nil {
			t.Errorf("%s was written by a failed stage", key)
		}
	}
}
