package s3

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

func (s *Service) owner() ownerXML { return ownerXML{ID: s.ownerID, DisplayName: "scones"} }

func (s *Service) getBucket(tx store.Tx, bucket string) (*record, error) {
	v, ok := tx.Get(tBuckets, bucket)
	if !ok {
		return nil, errNoSuchBucket(bucket)
	}
	return unmarshalRecord(v)
}

func bucketExists(tx store.Tx, bucket string) error {
	if _, ok := tx.Get(tBuckets, bucket); !ok {
		return errNoSuchBucket(bucket)
	}
	return nil
}

func (s *Service) listBuckets(w http.ResponseWriter, req *request) error {
	prefix := req.get("prefix")
	max := 10000
	if v := req.get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "max-buckets must be an integer between 1 and 10000, got %q", v)
		}
		max = n
	}
	from := prefix
	if tok := req.get("continuation-token"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
		}
		from = string(b) + "\x00"
	}
	region := req.get("bucket-region")
	out := listAllMyBucketsResult{Owner: s.owner(), Prefix: prefix, Buckets: []bucketXML{}}
	err := s.st.View(func(tx store.Tx) error {
		var ierr error
		tx.Ascend(tBuckets, prefix, from, func(k string, v []byte) bool {
			rec, err := unmarshalRecord(v)
			if err != nil {
				ierr = err
				return false
			}
			if region != "" && rec.Region != region {
				return true
			}
			if len(out.Buckets) == max {
				out.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(out.Buckets[max-1].Name))
				return false
			}
			out.Buckets = append(out.Buckets, bucketXML{Name: k, CreationDate: xmlTime(rec.Modified), BucketRegion: rec.Region})
			return true
		})
		return ierr
	})
	if err != nil {
		return err
	}
	writeXML(w, http.StatusOK, out)
	return nil
}

// createBucket makes a bucket; with idempotent an existing one is kept.
func (s *Service) createBucket(bucket, region string, idempotent bool) error {
	if err := checkBucketName(bucket); err != nil {
		return err
	}
	return s.st.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tBuckets, bucket); ok {
			// In us-east-1, S3 answers 200 OK to the owner re-creating a
			// bucket (a legacy of the original region); elsewhere it is
			// BucketAlreadyOwnedByYou.
			if idempotent || region == "us-east-1" {
				return nil
			}
			return awsapi.Errorf(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it: %s", bucket)
		}
		rec := record{Modified: s.now().UnixNano(), Region: region}
		return tx.Put(tBuckets, bucket, rec.marshal())
	})
}

func (s *Service) createBucketHTTP(w http.ResponseWriter, req *request) error {
	r := req.r
	region := s.env.Region
	data, err := s.readXMLBody(r)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		var c createBucketConfiguration
		if err := parseXML(data, &c); err != nil {
			return err
		}
		if c.LocationConstraint != "" && c.LocationConstraint != s.env.Region {
			return awsapi.Errorf(http.StatusBadRequest, "IllegalLocationConstraintException",
				"The %s location constraint is incompatible for the region specific endpoint this request was sent to (this emulator serves %s).", c.LocationConstraint, s.env.Region)
		}
	}
	if acl := r.Header.Get("X-Amz-Acl"); acl != "" && acl != "private" {
		return notImplemented("Canned ACL %q is not implemented by the scones emulator; omit x-amz-acl or use private.", acl)
	}
	if err := s.createBucket(req.bucket, region, false); err != nil {
		return err
	}
	w.Header().Set("Location", "/"+req.bucket)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// bucketRegion is the region a bucket was created in, or NoSuchBucket.
func (s *Service) bucketRegion(bucket string) (string, error) {
	var region string
	err := s.st.View(func(tx store.Tx) error {
		rec, err := s.getBucket(tx, bucket)
		if err != nil {
			return err
		}
		region = rec.Region
		return nil
	})
	return region, err
}

func (s *Service) headBucket(w http.ResponseWriter, req *request) error {
	region, err := s.bucketRegion(req.bucket)
	if err != nil {
		return err
	}
	w.Header().Set("X-Amz-Bucket-Region", region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Service) deleteBucket(w http.ResponseWriter, req *request) error {
	err := s.st.Update(func(tx store.Tx) error {
		if err := bucketExists(tx, req.bucket); err != nil {
			return err
		}
		empty := true
		tx.Ascend(tObjects, req.bucket+"/", "", func(string, []byte) bool { empty = false; return false })
		if !empty {
			return awsapi.Errorf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty: %s", req.bucket)
		}
		// In-progress multipart uploads go with the bucket.
		var uploads []string
		tx.Ascend(tUploads, req.bucket+"/", "", func(k string, _ []byte) bool { uploads = append(uploads, k); return true })
		for _, k := range uploads {
			if err := s.dropUpload(tx, k, uploadIDOf(k)); err != nil {
				return err
			}
		}
		return tx.Delete(tBuckets, req.bucket)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) getBucketLocation(w http.ResponseWriter, req *request) error {
	region, err := s.bucketRegion(req.bucket)
	if err != nil {
		return err
	}
	if region == "us-east-1" {
		region = "" // S3 reports the default region as an empty constraint
	}
	writeXML(w, http.StatusOK, locationConstraint{Value: region})
	return nil
}

func (s *Service) getBucketVersioning(w http.ResponseWriter, req *request) error {
	if err := s.st.View(func(tx store.Tx) error { return bucketExists(tx, req.bucket) }); err != nil {
		return err
	}
	writeXML(w, http.StatusOK, versioningConfiguration{})
	return nil
}

func tagsXML(tags [][2]string) []tagXML {
	out := make([]tagXML, len(tags))
	for i, t := range tags {
		out[i] = tagXML{Key: t[0], Value: t[1]}
	}
	return out
}

func (s *Service) getBucketTagging(w http.ResponseWriter, req *request) error {
	var tags [][2]string
	err := s.st.View(func(tx store.Tx) error {
		rec, err := s.getBucket(tx, req.bucket)
		if err != nil {
			return err
		}
		tags = rec.Tags
		return nil
	})
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return awsapi.Errorf(http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist")
	}
	writeXML(w, http.StatusOK, taggingOut{TagSet: tagsXML(tags)})
	return nil
}

func (s *Service) putBucketTagging(w http.ResponseWriter, req *request) error {
	data, err := s.readXMLBody(req.r)
	if err != nil {
		return err
	}
	tags, err := parseTagging(data, 50)
	if err != nil {
		return err
	}
	if err := s.updateBucket(req.bucket, func(rec *record) { rec.Tags = tags }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) deleteBucketTagging(w http.ResponseWriter, req *request) error {
	if err := s.updateBucket(req.bucket, func(rec *record) { rec.Tags = nil }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) updateBucket(bucket string, fn func(*record)) error {
	return s.st.Update(func(tx store.Tx) error {
		rec, err := s.getBucket(tx, bucket)
		if err != nil {
			return err
		}
		fn(rec)
		if err := tx.Put(tBuckets, bucket, rec.marshal()); err != nil {
			return fmt.Errorf("s3: writing bucket: %w", err)
		}
		return nil
	})
}
