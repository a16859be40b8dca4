package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

// ObjectInfo describes a stored object, as the in-process API returns it.
type ObjectInfo struct {
	Bucket       string
	Key          string
	Size         int64
	ETag         string // quoted, as S3 sends it: "\"<md5>\"" or "\"<md5>-<parts>\""
	LastModified time.Time
	ContentType  string
	// Metadata is the user metadata (x-amz-meta-*), keys lower-case
	// without the prefix.
	Metadata map[string]string
	// Checksums maps an algorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256)
	// to its base64 value.
	Checksums map[string]string
	Tags      map[string]string
}

func infoOf(bucket, key string, rec *record) ObjectInfo {
	oi := ObjectInfo{Bucket: bucket, Key: key, Size: rec.Size, ETag: `"` + rec.ETag + `"`,
		LastModified: time.Unix(0, rec.Modified).UTC(), ContentType: rec.ContentType}
	if len(rec.Meta) > 0 {
		oi.Metadata = make(map[string]string, len(rec.Meta))
		for _, m := range rec.Meta {
			oi.Metadata[m[0]] = m[1]
		}
	}
	if len(rec.Checksums) > 0 {
		oi.Checksums = make(map[string]string, len(rec.Checksums))
		for _, c := range rec.Checksums {
			oi.Checksums[c[0]] = c[1]
		}
	}
	if len(rec.Tags) > 0 {
		oi.Tags = make(map[string]string, len(rec.Tags))
		for _, t := range rec.Tags {
			oi.Tags[t[0]] = t[1]
		}
	}
	return oi
}

// The in-process API below is what other emulated services (Lambda,
// SageMaker, Step Functions) use to read and write S3 without HTTP. It
// shares the storage and rules of the HTTP API: objects written here are
// visible to SDK clients and the other way round. Errors are *awsapi.Error
// values; match them with errors.As and the Code field ("NoSuchBucket",
// "NoSuchKey", "InvalidBucketName", ...).

// CreateBucket creates bucket in the emulator's region. Unlike the HTTP
// CreateBucket it is idempotent: an existing bucket is left as it is.
func (s *Service) CreateBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.createBucket(bucket, s.env.Region, true)
}

// PutObject stores body under bucket/key, replacing any object there, and
// returns its quoted ETag (the MD5 of body). contentType may be empty
// (binary/octet-stream). A CRC64NVME checksum is stored with it, as S3
// does for uploads that carry none.
func (s *Service) PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) (string, error) {
	if err := checkBucketName(bucket); err != nil {
		return "", err
	}
	if key == "" || len(key) > 1024 {
		return "", awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "s3: PutObject: key must be 1 to 1024 bytes, got %d", len(key))
	}
	b, err := s.ingest(ctx, bytes.NewReader(body), int64(len(body)), []string{"CRC64NVME"})
	if err != nil {
		return "", err
	}
	rec := &record{ContentType: contentType}
	if rec.ContentType == "" {
		rec.ContentType = "binary/octet-stream"
	}
	s.fillData(rec, b, [][2]string{{"CRC64NVME", b64(b.sum("CRC64NVME"))}})
	if err := s.commitObject(bucket, key, rec, b, putConds{}); err != nil {
		return "", err
	}
	return `"` + rec.ETag + `"`, nil
}

// GetObject returns a copy of the object's bytes and its description.
func (s *Service) GetObject(ctx context.Context, bucket, key string) ([]byte, ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, ObjectInfo{}, err
	}
	var (
		rec  *record
		data []byte
	)
	err := s.st.View(func(tx store.Tx) error {
		var err error
		if rec, err = s.loadObject(tx, bucket, key); err != nil {
			return err
		}
		if rec.Size <= chunkSize {
			data = make([]byte, rec.Size)
			_, err = copyRange(tx, rec.Segments, 0, data)
		}
		return err
	})
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if data == nil {
		data = make([]byte, rec.Size)
		r := &objectReader{s: s, segs: rec.Segments, end: rec.Size}
		for off := 0; off < len(data); {
			if err := ctx.Err(); err != nil {
				return nil, ObjectInfo{}, err
			}
			n, err := r.Read(data[off:min(len(data), off+chunkSize)])
			if err != nil {
				if errors.Is(err, errDataGone) {
					return nil, ObjectInfo{}, fmt.Errorf("s3: GetObject %s/%s: %w", bucket, key, err)
				}
				return nil, ObjectInfo{}, err
			}
			off += n
		}
	}
	return data, infoOf(bucket, key, rec), nil
}

// HeadObject describes an object without reading its data.
func (s *Service) HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	var rec *record
	err := s.st.View(func(tx store.Tx) error {
		var err error
		rec, err = s.loadObject(tx, bucket, key)
		return err
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	return infoOf(bucket, key, rec), nil
}

// ListObjects returns every object whose key starts with prefix, in key
// order (no pagination, no delimiter).
func (s *Service) ListObjects(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []ObjectInfo
	err := s.st.View(func(tx store.Tx) error {
		if err := bucketExists(tx, bucket); err != nil {
			return err
		}
		base := bucket + "/"
		var ierr error
		tx.Ascend(tObjects, base+prefix, "", func(k string, v []byte) bool {
			rec, err := unmarshalRecord(v)
			if err != nil {
				ierr = err
				return false
			}
			out = append(out, infoOf(bucket, k[len(base):], rec))
			return true
		})
		return ierr
	})
	return out, err
}

// DeleteObject removes an object. Deleting a missing key succeeds, as in
// S3; a missing bucket is NoSuchBucket.
func (s *Service) DeleteObject(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.removeObject(bucket, key)
}
