package s3

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

// minPartSize is S3's lower bound for every part but the last.
const minPartSize = 5 << 20

func uploadKey(bucket, key, id string) string { return bucket + "/" + key + "\x00" + id }

func uploadIDOf(k string) string { return k[strings.LastIndexByte(k, 0)+1:] }

func partKey(id string, n int) string { return fmt.Sprintf("%s/%05d", id, n) }

func errNoSuchUpload(id string) *awsapi.Error {
	return awsapi.Errorf(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed: %s", id)
}

func (s *Service) loadUpload(tx store.Tx, bucket, key, id string) (*record, error) {
	if err := bucketExists(tx, bucket); err != nil {
		return nil, err
	}
	v, ok := tx.Get(tUploads, uploadKey(bucket, key, id))
	if !ok {
		return nil, errNoSuchUpload(id)
	}
	return unmarshalRecord(v)
}

// dropUpload deletes an upload, its parts and their data.
func (s *Service) dropUpload(tx store.Tx, ukey, id string) error {
	type part struct {
		key  string
		segs []segment
	}
	var parts []part
	var ierr error
	tx.Ascend(tParts, id+"/", "", func(k string, v []byte) bool {
		rec, err := unmarshalRecord(v)
		if err != nil {
			ierr = err
			return false
		}
		parts = append(parts, part{k, rec.Segments})
		return true
	})
	if ierr != nil {
		return ierr
	}
	for _, p := range parts {
		if err := deleteSegments(tx, p.segs); err != nil {
			return err
		}
		if err := tx.Delete(tParts, p.key); err != nil {
			return err
		}
	}
	return tx.Delete(tUploads, ukey)
}

func (s *Service) createUpload(w http.ResponseWriter, req *request) error {
	r := req.r
	rec, err := metaFromHeaders(r.Header)
	if err != nil {
		return err
	}
	algo, typ := "", strings.ToUpper(r.Header.Get("X-Amz-Checksum-Type"))
	if v := r.Header.Get("X-Amz-Checksum-Algorithm"); v != "" {
		if algo = normAlgorithm(v); algo == "" {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "Checksum algorithm %q is not supported.", v)
		}
	}
	switch {
	case typ != "" && typ != "FULL_OBJECT" && typ != "COMPOSITE":
		return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "Checksum type %q is not FULL_OBJECT or COMPOSITE.", typ)
	case typ != "" && algo == "":
		return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "The x-amz-checksum-type header requires x-amz-checksum-algorithm.")
	case typ == "FULL_OBJECT" && (algo == "SHA1" || algo == "SHA256"):
		return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "The FULL_OBJECT checksum type cannot be used with the %s algorithm.", algo)
	case typ == "COMPOSITE" && algo == "CRC64NVME":
		return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "The COMPOSITE checksum type cannot be used with the CRC64NVME algorithm.")
	case typ == "" && algo == "CRC64NVME":
		typ = "FULL_OBJECT"
	case typ == "" && algo != "":
		typ = "COMPOSITE"
	}
	rec.ChecksumAlgorithm, rec.ChecksumType = algo, typ
	rec.Modified = s.now().UnixNano()
	id := newID() + newID()
	if err := s.st.Update(func(tx store.Tx) error {
		if err := bucketExists(tx, req.bucket); err != nil {
			return err
		}
		return tx.Put(tUploads, uploadKey(req.bucket, req.key, id), rec.marshal())
	}); err != nil {
		return err
	}
	if algo != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", algo)
		w.Header().Set("X-Amz-Checksum-Type", typ)
	}
	writeXML(w, http.StatusOK, initiateMultipartUploadResult{Bucket: req.bucket, Key: req.key, UploadID: id})
	return nil
}

func parsePartNumber(req *request) (int, error) {
	v := req.get("partNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive; got %q.", v)
	}
	return n, nil
}

func (s *Service) uploadPart(w http.ResponseWriter, req *request) error {
	r := req.r
	n, err := parsePartNumber(req)
	if err != nil {
		return err
	}
	id := req.get("uploadId")
	var up *record
	if err := s.st.View(func(tx store.Tx) error {
		var err error
		up, err = s.loadUpload(tx, req.bucket, req.key, id)
		return err
	}); err != nil {
		return err
	}
	var (
		b    *body
		sums [][2]string
	)
	copying := r.Header.Get("X-Amz-Copy-Source") != ""
	if copying {
		b, sums, err = s.readCopyPart(r, up.ChecksumAlgorithm)
	} else {
		b, sums, err = s.readPayload(r.Context(), r, up.ChecksumAlgorithm, "")
	}
	if err != nil {
		return err
	}
	part := &record{Size: b.size, ETag: b.md5Hex(), Modified: s.now().UnixNano(), Checksums: sums,
		Segments: []segment{{ID: b.id, Size: b.size, MD5: b.md5Hex()}}}
	if up.ChecksumAlgorithm != "" {
		part.Segments[0].Checksum = part.checksum(up.ChecksumAlgorithm)
	}
	err = s.st.Update(func(tx store.Tx) error {
		if _, err := s.loadUpload(tx, req.bucket, req.key, id); err != nil {
			return err
		}
		pk := partKey(id, n)
		if v, ok := tx.Get(tParts, pk); ok {
			_, oldSegs, err := unmarshalData(v)
			if err != nil {
				return err
			}
			if err := deleteSegments(tx, oldSegs); err != nil {
				return err
			}
		}
		if err := commitBody(tx, b); err != nil {
			return err
		}
		return store.PutOwned(tx, tParts, pk, part.marshal())
	})
	if err != nil {
		s.discardStaged(b)
		return err
	}
	h := w.Header()
	if copying {
		out := copyPartResult{ETag: `"` + part.ETag + `"`, LastModified: xmlTime(part.Modified)}
		for _, c := range sums {
			out.set(c[0], c[1])
		}
		writeXML(w, http.StatusOK, out)
		return nil
	}
	h["Etag"] = []string{`"` + part.ETag + `"`}
	setChecksumHeaders(h, new(headerValues), sums, "")
	h["Content-Length"] = contentLengthZero
	w.WriteHeader(http.StatusOK)
	return nil
}

// readCopyPart reads the source range of an UploadPartCopy.
func (s *Service) readCopyPart(r *http.Request, algo string) (*body, [][2]string, error) {
	sb, sk, err := copySource(r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return nil, nil, err
	}
	var src *record
	if err := s.st.View(func(tx store.Tx) error {
		var err error
		src, err = s.loadObject(tx, sb, sk)
		return err
	}); err != nil {
		return nil, nil, err
	}
	if err := copyConds(r.Header, src); err != nil {
		return nil, nil, err
	}
	start, end := int64(0), src.Size
	if v := r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		a, b, ok := parseCopyRange(v)
		if !ok {
			return nil, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy; got %q", v)
		}
		if b >= src.Size {
			return nil, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidRange", "The requested range is not satisfiable: the source object is %d bytes", src.Size)
		}
		start, end = a, b+1
	}
	if end-start > maxObjectSize {
		return nil, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "The specified copy range is larger than 5 GiB")
	}
	var algos []string
	if algo != "" {
		algos = []string{algo}
	}
	b, err := s.ingest(r.Context(), &objectReader{s: s, segs: src.Segments, off: start, end: end}, end-start, algos)
	if err != nil {
		if errors.Is(err, errDataGone) {
			return nil, nil, errNoSuchKey(sk)
		}
		return nil, nil, err
	}
	var sums [][2]string
	if algo != "" {
		sums = [][2]string{{algo, base64.StdEncoding.EncodeToString(b.sum(algo))}}
	}
	return b, sums, nil
}

func parseCopyRange(v string) (int64, int64, bool) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, 0, false
	}
	as, bs, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false
	}
	a, err1 := strconv.ParseInt(as, 10, 64)
	b, err2 := strconv.ParseInt(bs, 10, 64)
	if err1 != nil || err2 != nil || a < 0 || b < a {
		return 0, 0, false
	}
	return a, b, true
}

func (s *Service) completeUpload(w http.ResponseWriter, req *request) error {
	r := req.r
	id := req.get("uploadId")
	conds, err := putCondsFrom(r.Header)
	if err != nil {
		return err
	}
	data, err := s.readXMLBodyChecked(r, false)
	if err != nil {
		return err
	}
	c, err := parseCompleteMultipartUpload(data)
	if err != nil {
		return err
	}
	var (
		up    *record
		parts []*record
	)
	if err := s.st.View(func(tx store.Tx) error {
		var err error
		if up, err = s.loadUpload(tx, req.bucket, req.key, id); err != nil {
			return err
		}
		parts, err = loadParts(tx, id, c)
		return err
	}); err != nil {
		return err
	}
	obj := *up
	obj.Multipart = true
	obj.Modified = s.now().UnixNano()
	md := md5.New()
	for _, p := range parts {
		raw, _ := hex.DecodeString(p.ETag)
		md.Write(raw)
		obj.Size += p.Size
		obj.Segments = append(obj.Segments, p.Segments[0])
	}
	obj.ETag = fmt.Sprintf("%s-%d", hex.EncodeToString(md.Sum(nil)), len(parts))
	obj.Checksums = nil
	if algo := up.ChecksumAlgorithm; algo != "" {
		var value string
		if up.ChecksumType == "COMPOSITE" {
			h := s.h.new(algo)
			for _, p := range parts {
				raw, _ := base64.StdEncoding.DecodeString(p.Segments[0].Checksum)
				h.Write(raw)
			}
			value = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts))
		} else {
			h := s.h.new(algo)
			if _, err := io.Copy(h, &objectReader{s: s, segs: obj.Segments, end: obj.Size}); err != nil {
				return awsapi.Errorf(http.StatusBadRequest, "InvalidPart", "A part changed while the upload was being completed: %v", err)
			}
			value = base64.StdEncoding.EncodeToString(h.Sum(nil))
		}
		if want := r.Header.Get(checksumHeader(algo)); want != "" && want != value {
			return badDigest(algo)
		}
		obj.Checksums = [][2]string{{algo, value}}
	}
	ukey := uploadKey(req.bucket, req.key, id)
	err = s.st.Update(func(tx store.Tx) error {
		if _, err := s.loadUpload(tx, req.bucket, req.key, id); err != nil {
			return err
		}
		now, err := loadParts(tx, id, c)
		if err != nil {
			return err
		}
		for i := range now {
			if now[i].Segments[0].ID != parts[i].Segments[0].ID {
				return awsapi.Errorf(http.StatusBadRequest, "InvalidPart", "Part %d was replaced while the upload was being completed.", c.Parts[i].PartNumber)
			}
		}
		ok := objectKey(req.bucket, req.key)
		old, err := loadReplaced(tx, ok)
		if err != nil {
			return err
		}
		if err := conds.check(old, req.key); err != nil {
			return err
		}
		// Keep the data of the parts used; drop the rest of the upload.
		used := map[string]bool{}
		for _, p := range c.Parts {
			used[partKey(id, p.PartNumber)] = true
		}
		var drop []string
		var dropSegs []segment
		tx.Ascend(tParts, id+"/", "", func(k string, v []byte) bool {
			drop = append(drop, k)
			if !used[k] {
				if rec, err := unmarshalRecord(v); err == nil {
					dropSegs = append(dropSegs, rec.Segments...)
				}
			}
			return true
		})
		for _, k := range drop {
			if err := tx.Delete(tParts, k); err != nil {
				return err
			}
		}
		if err := deleteSegments(tx, dropSegs); err != nil {
			return err
		}
		if err := tx.Delete(tUploads, ukey); err != nil {
			return err
		}
		if err := tx.Put(tObjects, ok, obj.marshal()); err != nil {
			return err
		}
		return deleteSegments(tx, old.segs)
	})
	if err != nil {
		return err
	}
	out := completeMultipartUploadResult{
		Location: "http://" + r.Host + "/" + req.bucket + "/" + (&url.URL{Path: req.key}).EscapedPath(),
		Bucket:   req.bucket, Key: req.key, ETag: `"` + obj.ETag + `"`,
	}
	if len(obj.Checksums) > 0 {
		out.set(obj.Checksums[0][0], obj.Checksums[0][1])
		out.ChecksumType = obj.ChecksumType
	}
	writeXML(w, http.StatusOK, out)
	return nil
}

// loadParts returns the part records named in c, checking ETags, part
// checksums and the minimum part size.
func loadParts(tx store.Tx, id string, c *completeMultipartUpload) ([]*record, error) {
	parts := make([]*record, len(c.Parts))
	for i, p := range c.Parts {
		invalid := func(why string) error {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag. Part %d: %s", p.PartNumber, why)
		}
		v, ok := tx.Get(tParts, partKey(id, p.PartNumber))
		if !ok {
			return nil, invalid("not uploaded")
		}
		rec, err := unmarshalRecord(v)
		if err != nil {
			return nil, err
		}
		if normETag(p.ETag) != rec.ETag {
			return nil, invalid("ETag " + p.ETag + " does not match")
		}
		for _, a := range checksumAlgorithms() {
			if want := p.get(a); want != "" && rec.checksum(a) != want {
				return nil, invalid("checksum " + a + " does not match")
			}
		}
		if i < len(c.Parts)-1 && rec.Size < minPartSize {
			return nil, awsapi.Errorf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size: part %d is %d bytes; every part but the last must be at least 5 MiB.", p.PartNumber, rec.Size)
		}
		parts[i] = rec
	}
	return parts, nil
}

func (s *Service) abortUpload(w http.ResponseWriter, req *request) error {
	id := req.get("uploadId")
	err := s.st.Update(func(tx store.Tx) error {
		if _, err := s.loadUpload(tx, req.bucket, req.key, id); err != nil {
			return err
		}
		return s.dropUpload(tx, uploadKey(req.bucket, req.key, id), id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) listParts(w http.ResponseWriter, req *request) error {
	id := req.get("uploadId")
	max, err := parseMax(req, "max-parts", 1000)
	if err != nil {
		return err
	}
	marker := 0
	if v := req.get("part-number-marker"); v != "" {
		if marker, err = strconv.Atoi(v); err != nil || marker < 0 {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "part-number-marker must be a non-negative integer, got %q", v)
		}
	}
	out := listPartsResult{Bucket: req.bucket, Key: req.key, UploadID: id, PartNumberMarker: marker, MaxParts: max,
		Initiator: s.owner(), Owner: s.owner(), StorageClass: "STANDARD"}
	err = s.st.View(func(tx store.Tx) error {
		up, err := s.loadUpload(tx, req.bucket, req.key, id)
		if err != nil {
			return err
		}
		out.ChecksumAlgorithm, out.ChecksumType = up.ChecksumAlgorithm, up.ChecksumType
		var ierr error
		tx.Ascend(tParts, id+"/", partKey(id, marker+1), func(k string, v []byte) bool {
			if len(out.Parts) == max {
				out.IsTruncated = true
				return false
			}
			rec, err := unmarshalRecord(v)
			if err != nil {
				ierr = err
				return false
			}
			n, _ := strconv.Atoi(k[len(id)+1:])
			p := partXML{PartNumber: n, LastModified: xmlTime(rec.Modified), ETag: `"` + rec.ETag + `"`, Size: rec.Size}
			for _, c := range rec.Checksums {
				p.set(c[0], c[1])
			}
			out.Parts = append(out.Parts, p)
			out.NextPartNumberMarker = n
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

func (s *Service) listUploads(w http.ResponseWriter, req *request) error {
	prefix, delim := req.get("prefix"), req.get("delimiter")
	max, err := parseMax(req, "max-uploads", 1000)
	if err != nil {
		return err
	}
	enc, err := parseEncoding(req)
	if err != nil {
		return err
	}
	keyMarker, idMarker := req.get("key-marker"), req.get("upload-id-marker")
	out := listMultipartUploadsResult{Bucket: req.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker,
		Prefix: prefix, Delimiter: delim, MaxUploads: max}
	base := req.bucket + "/"
	from := base + prefix
	if keyMarker != "" {
		var m string
		if idMarker != "" {
			m = base + keyMarker + "\x00" + idMarker + "\x00"
		} else {
			m = base + keyMarker + "\x01"
		}
		if m > from {
			from = m
		}
	}
	owner := s.owner()
	err = s.st.View(func(tx store.Tx) error {
		if err := bucketExists(tx, req.bucket); err != nil {
			return err
		}
		var ierr error
		count := 0
		tx.Ascend(tUploads, base+prefix, from, func(k string, v []byte) bool {
			rest := k[len(base):]
			i := strings.LastIndexByte(rest, 0)
			key, id := rest[:i], rest[i+1:]
			if delim != "" {
				if j := strings.Index(key[len(prefix):], delim); j >= 0 {
					cp := key[:len(prefix)+j+len(delim)]
					if cp <= keyMarker || (len(out.CommonPrefixes) > 0 && out.CommonPrefixes[len(out.CommonPrefixes)-1].Prefix == cp) {
						return true
					}
					if count == max {
						out.IsTruncated = true
						return false
					}
					out.CommonPrefixes = append(out.CommonPrefixes, prefixXML{Prefix: cp})
					out.NextKeyMarker, out.NextUploadIDMarker = cp, ""
					count++
					return true
				}
			}
			if count == max {
				out.IsTruncated = true
				return false
			}
			rec, err := unmarshalRecord(v)
			if err != nil {
				ierr = err
				return false
			}
			out.Uploads = append(out.Uploads, uploadXML{Key: key, UploadID: id, Initiator: owner, Owner: owner,
				StorageClass: "STANDARD", Initiated: xmlTime(rec.Modified), ChecksumAlgorithm: rec.ChecksumAlgorithm, ChecksumType: rec.ChecksumType})
			out.NextKeyMarker, out.NextUploadIDMarker = key, id
			count++
			return true
		})
		return ierr
	})
	if err != nil {
		return err
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = "", ""
	}
	if enc {
		out.EncodingType = "url"
		out.Prefix, out.Delimiter, out.KeyMarker = urlEncode(out.Prefix), urlEncode(out.Delimiter), urlEncode(out.KeyMarker)
		out.NextKeyMarker = urlEncode(out.NextKeyMarker)
		for i := range out.Uploads {
			out.Uploads[i].Key = urlEncode(out.Uploads[i].Key)
		}
		for i := range out.CommonPrefixes {
			out.CommonPrefixes[i].Prefix = urlEncode(out.CommonPrefixes[i].Prefix)
		}
	}
	writeXML(w, http.StatusOK, out)
	return nil
}
