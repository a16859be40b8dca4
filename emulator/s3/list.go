package s3

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

// urlEncode is S3's encoding-type=url: form encoding, keeping "/".
func urlEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

func parseMax(req *request, name string, def int) (int, error) {
	v := req.get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Provided %s not an integer or within integer range: %q", name, v)
	}
	return min(n, def), nil
}

func parseEncoding(req *request) (bool, error) {
	switch v := req.get("encoding-type"); v {
	case "":
		return false, nil
	case "url":
		return true, nil
	default:
		return false, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request: %q", v)
	}
}

// The continuation token is the last key or common prefix returned,
// base64url-encoded; the next page starts strictly after it.
func encodeToken(last string) string { return base64.RawURLEncoding.EncodeToString([]byte(last)) }

func decodeToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
	}
	return string(b), nil
}

// listing is one page of keys and common prefixes.
type listing struct {
	contents  []objectXML
	prefixes  []string
	truncated bool
	last      string // last key or common prefix in the page
}

// listPage walks the bucket's keys under prefix that come after `after`,
// rolling keys up to common prefixes at delim. It looks one item past the
// page before reporting truncation, so a page is never followed by an
// empty one.
func (s *Service) listPage(tx store.Tx, bucket, prefix, delim, after string, max int, withOwner bool) (*listing, error) {
	l := &listing{}
	if max == 0 {
		return l, nil
	}
	base := bucket + "/"
	from := prefix
	if after >= from {
		from = after + "\x00"
	}
	var ierr error
	count := 0
	owner := s.owner()
	tx.Ascend(tObjects, base+prefix, base+from, func(k string, v []byte) bool {
		key := k[len(base):]
		if delim != "" {
			if i := strings.Index(key[len(prefix):], delim); i >= 0 {
				cp := key[:len(prefix)+i+len(delim)]
				if cp <= after || (len(l.prefixes) > 0 && l.prefixes[len(l.prefixes)-1] == cp) {
					return true
				}
				if count == max {
					l.truncated = true
					return false
				}
				l.prefixes = append(l.prefixes, cp)
				l.last = cp
				count++
				return true
			}
		}
		if count == max {
			l.truncated = true
			return false
		}
		rec, err := unmarshalRecord(v)
		if err != nil {
			ierr = err
			return false
		}
		o := objectXML{Key: key, LastModified: xmlTime(rec.Modified), ETag: `"` + rec.ETag + `"`, Size: rec.Size,
			StorageClass: "STANDARD", ChecksumAlgorithm: rec.ChecksumAlgorithm, ChecksumType: rec.ChecksumType}
		if withOwner {
			o.Owner = &owner
		}
		l.contents = append(l.contents, o)
		l.last = key
		count++
		return true
	})
	return l, ierr
}

func (s *Service) listObjects(w http.ResponseWriter, req *request, v2 bool) error {
	prefix, delim := req.get("prefix"), req.get("delimiter")
	max, err := parseMax(req, "max-keys", 1000)
	if err != nil {
		return err
	}
	enc, err := parseEncoding(req)
	if err != nil {
		return err
	}
	out := listBucketResult{Name: req.bucket, Prefix: prefix, Delimiter: delim, MaxKeys: max}
	var after string
	if v2 {
		out.StartAfter = req.get("start-after")
		after = out.StartAfter
		if req.has("continuation-token") {
			out.ContinuationToken = req.get("continuation-token")
			if after, err = decodeToken(out.ContinuationToken); err != nil {
				return err
			}
		}
	} else {
		m := req.get("marker")
		out.Marker = &m
		after = m
	}
	withOwner := !v2 || req.get("fetch-owner") == "true"
	var l *listing
	err = s.st.View(func(tx store.Tx) error {
		if err := bucketExists(tx, req.bucket); err != nil {
			return err
		}
		var err error
		l, err = s.listPage(tx, req.bucket, prefix, delim, after, max, withOwner)
		return err
	})
	if err != nil {
		return err
	}
	out.IsTruncated = l.truncated
	out.Contents = l.contents
	for _, p := range l.prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, prefixXML{Prefix: p})
	}
	if v2 {
		n := len(l.contents) + len(l.prefixes)
		out.KeyCount = &n
		if l.truncated {
			out.NextContinuationToken = encodeToken(l.last)
		}
	} else if l.truncated {
		out.NextMarker = l.last
	}
	if enc {
		out.EncodingType = "url"
		out.Prefix = urlEncode(out.Prefix)
		out.Delimiter = urlEncode(out.Delimiter)
		out.StartAfter = urlEncode(out.StartAfter)
		out.NextMarker = urlEncode(out.NextMarker)
		if out.Marker != nil {
			m := urlEncode(*out.Marker)
			out.Marker = &m
		}
		for i := range out.Contents {
			out.Contents[i].Key = urlEncode(out.Contents[i].Key)
		}
		for i := range out.CommonPrefixes {
			out.CommonPrefixes[i].Prefix = urlEncode(out.CommonPrefixes[i].Prefix)
		}
	}
	writeXML(w, http.StatusOK, out)
	return nil
}
