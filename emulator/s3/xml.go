package s3

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/scones/scones/emulator/awsapi"
)

// xmlns is the namespace of every S3 response document.
const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxXMLBody bounds request documents; DeleteObjects with 1,000 keys of
// 1,024 bytes each is the largest legitimate one.
const maxXMLBody = 2 << 20

type ownerXML struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

type bucketXML struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion,omitempty"`
}

type listAllMyBucketsResult struct {
	XMLName           xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner             ownerXML    `xml:"Owner"`
	Buckets           []bucketXML `xml:"Buckets>Bucket"`
	ContinuationToken string      `xml:"ContinuationToken,omitempty"`
	Prefix            string      `xml:"Prefix,omitempty"`
}

type objectXML struct {
	Key               string    `xml:"Key"`
	LastModified      string    `xml:"LastModified"`
	ETag              string    `xml:"ETag"`
	ChecksumAlgorithm string    `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string    `xml:"ChecksumType,omitempty"`
	Size              int64     `xml:"Size"`
	Owner             *ownerXML `xml:"Owner,omitempty"`
	StorageClass      string    `xml:"StorageClass"`
}

type prefixXML struct {
	Prefix string `xml:"Prefix"`
}

// listBucketResult serves both ListObjects (V1) and ListObjectsV2; the
// fields of the other version stay empty and are omitted.
type listBucketResult struct {
	XMLName               xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string      `xml:"Name"`
	Prefix                string      `xml:"Prefix"`
	Marker                *string     `xml:"Marker"`
	NextMarker            string      `xml:"NextMarker,omitempty"`
	ContinuationToken     string      `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string      `xml:"NextContinuationToken,omitempty"`
	StartAfter            string      `xml:"StartAfter,omitempty"`
	KeyCount              *int        `xml:"KeyCount"`
	MaxKeys               int         `xml:"MaxKeys"`
	Delimiter             string      `xml:"Delimiter,omitempty"`
	EncodingType          string      `xml:"EncodingType,omitempty"`
	IsTruncated           bool        `xml:"IsTruncated"`
	Contents              []objectXML `xml:"Contents"`
	CommonPrefixes        []prefixXML `xml:"CommonPrefixes"`
}

type locationConstraint struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Value   string   `xml:",chardata"`
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
}

type checksumsXML struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

func (c *checksumsXML) set(algo, v string) {
	switch algo {
	case "CRC32":
		c.ChecksumCRC32 = v
	case "CRC32C":
		c.ChecksumCRC32C = v
	case "CRC64NVME":
		c.ChecksumCRC64NVME = v
	case "SHA1":
		c.ChecksumSHA1 = v
	case "SHA256":
		c.ChecksumSHA256 = v
	}
}

func (c *checksumsXML) get(algo string) string {
	switch algo {
	case "CRC32":
		return c.ChecksumCRC32
	case "CRC32C":
		return c.ChecksumCRC32C
	case "CRC64NVME":
		return c.ChecksumCRC64NVME
	case "SHA1":
		return c.ChecksumSHA1
	case "SHA256":
		return c.ChecksumSHA256
	}
	return ""
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyObjectResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
	ChecksumType string   `xml:"ChecksumType,omitempty"`
	checksumsXML
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyPartResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
	checksumsXML
}

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

type completeMultipartUploadResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location     string   `xml:"Location"`
	Bucket       string   `xml:"Bucket"`
	Key          string   `xml:"Key"`
	ETag         string   `xml:"ETag"`
	ChecksumType string   `xml:"ChecksumType,omitempty"`
	checksumsXML
}

type partXML struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	checksumsXML
}

type listPartsResult struct {
	XMLName              xml.Name  `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string    `xml:"Bucket"`
	Key                  string    `xml:"Key"`
	UploadID             string    `xml:"UploadId"`
	PartNumberMarker     int       `xml:"PartNumberMarker"`
	NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
	MaxParts             int       `xml:"MaxParts"`
	IsTruncated          bool      `xml:"IsTruncated"`
	Parts                []partXML `xml:"Part"`
	Initiator            ownerXML  `xml:"Initiator"`
	Owner                ownerXML  `xml:"Owner"`
	StorageClass         string    `xml:"StorageClass"`
	ChecksumAlgorithm    string    `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string    `xml:"ChecksumType,omitempty"`
}

type uploadXML struct {
	Key               string   `xml:"Key"`
	UploadID          string   `xml:"UploadId"`
	Initiator         ownerXML `xml:"Initiator"`
	Owner             ownerXML `xml:"Owner"`
	StorageClass      string   `xml:"StorageClass"`
	Initiated         string   `xml:"Initiated"`
	ChecksumAlgorithm string   `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
}

type listMultipartUploadsResult struct {
	XMLName            xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string      `xml:"Bucket"`
	KeyMarker          string      `xml:"KeyMarker"`
	UploadIDMarker     string      `xml:"UploadIdMarker"`
	NextKeyMarker      string      `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string      `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string      `xml:"Prefix,omitempty"`
	Delimiter          string      `xml:"Delimiter,omitempty"`
	MaxUploads         int         `xml:"MaxUploads"`
	EncodingType       string      `xml:"EncodingType,omitempty"`
	IsTruncated        bool        `xml:"IsTruncated"`
	Uploads            []uploadXML `xml:"Upload"`
	CommonPrefixes     []prefixXML `xml:"CommonPrefixes"`
}

type deletedXML struct {
	Key string `xml:"Key"`
}

type deleteErrorXML struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type deleteResult struct {
	XMLName xml.Name         `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedXML     `xml:"Deleted"`
	Errors  []deleteErrorXML `xml:"Error"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type taggingOut struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
	TagSet  []tagXML `xml:"TagSet>Tag"`
}

// Request documents. encoding/xml matches these names in any namespace, so
// bodies with and without S3's xmlns parse alike.

type completeMultipartUpload struct {
	XMLName xml.Name        `xml:"CompleteMultipartUpload"`
	Parts   []completedPart `xml:"Part"`
}

type completedPart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
	checksumsXML
}

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       *string `xml:"Key"`
		VersionID string  `xml:"VersionId"`
	} `xml:"Object"`
}

type taggingIn struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  *struct {
		Tags []tagXML `xml:"Tag"`
	} `xml:"TagSet"`
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

// parseXML decodes one request document into v, mapping every failure to
// MalformedXML. Trailing garbage after the root element is refused too.
func parseXML(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errMalformedXML(errors.New("empty body"))
	}
	if !utf8.Valid(data) {
		return errMalformedXML(errors.New("body is not UTF-8"))
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(v); err != nil {
		return errMalformedXML(err)
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errMalformedXML(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errMalformedXML(errors.New("text after the root element"))
			}
		case xml.Comment, xml.ProcInst:
		default:
			return errMalformedXML(fmt.Errorf("unexpected %T after the root element", tok))
		}
	}
}

// parseCompleteMultipartUpload parses and checks a CompleteMultipartUpload
// document: at least one part, numbers 1..10000 in ascending order.
func parseCompleteMultipartUpload(data []byte) (*completeMultipartUpload, error) {
	var c completeMultipartUpload
	if err := parseXML(data, &c); err != nil {
		return nil, err
	}
	if len(c.Parts) == 0 {
		return nil, errMalformedXML(errors.New("no Part elements"))
	}
	if len(c.Parts) > 10000 {
		return nil, errMalformedXML(errors.New("more than 10,000 parts"))
	}
	prev := 0
	for _, p := range c.Parts {
		if p.PartNumber < 1 || p.PartNumber > 10000 {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive; got %d.", p.PartNumber)
		}
		if p.PartNumber <= prev {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
		}
		prev = p.PartNumber
	}
	return &c, nil
}

// parseDelete parses a DeleteObjects document (1 to 1,000 keys).
func parseDelete(data []byte) (*deleteRequest, error) {
	var d deleteRequest
	if err := parseXML(data, &d); err != nil {
		return nil, err
	}
	if len(d.Objects) == 0 || len(d.Objects) > 1000 {
		return nil, errMalformedXML(fmt.Errorf("a Delete request needs 1 to 1000 Object elements, got %d", len(d.Objects)))
	}
	for _, o := range d.Objects {
		if o.Key == nil {
			return nil, errMalformedXML(errors.New("Object without Key"))
		}
	}
	return &d, nil
}

// parseTagging parses a Tagging document and checks S3's tag rules; limit
// is 10 for objects and 50 for buckets.
func parseTagging(data []byte, limit int) ([][2]string, error) {
	var t taggingIn
	if err := parseXML(data, &t); err != nil {
		return nil, err
	}
	if t.TagSet == nil {
		return nil, errMalformedXML(errors.New("Tagging without TagSet"))
	}
	m := map[string]string{}
	for _, tg := range t.TagSet.Tags {
		if err := checkTag(tg.Key, tg.Value); err != nil {
			return nil, err
		}
		if _, dup := m[tg.Key]; dup {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidTag", "Cannot provide multiple Tags with the same key: %q", tg.Key)
		}
		m[tg.Key] = tg.Value
	}
	if len(m) > limit {
		return nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "Object tags cannot be greater than %d", limit)
	}
	return sortedPairs(m), nil
}

func checkTag(k, v string) error {
	if n := utf8.RuneCountInString(k); n < 1 || n > 128 {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidTag", "The TagKey you have provided is invalid: it must be 1 to 128 characters, got %d", n)
	}
	if n := utf8.RuneCountInString(v); n > 256 {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidTag", "The TagValue you have provided is too long: at most 256 characters, got %d", n)
	}
	return nil
}

// readXMLBody reads a request document, bounded by maxXMLBody, decoding
// aws-chunked framing if the client used it, and checks Content-MD5,
// x-amz-checksum-* headers and trailers against it.
func (s *Service) readXMLBody(r *http.Request) ([]byte, error) {
	return s.readXMLBodyChecked(r, true)
}

// readXMLBodyChecked is readXMLBody; with sums false the x-amz-checksum-*
// headers are left alone (CompleteMultipartUpload, where they describe the
// object, not the document).
func (s *Service) readXMLBodyChecked(r *http.Request, sums bool) ([]byte, error) {
	var plan sumPlan
	if sums {
		var err error
		if plan, err = checksumPlan(r.Header, "", ""); err != nil {
			return nil, err
		}
	} else if v := r.Header.Get("Content-Md5"); v != "" {
		sum, err := contentMD5(v)
		if err != nil {
			return nil, err
		}
		plan.md5 = sum
	}
	p, err := requestBody(r, s.checkPayloadSHA(&plan))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(p.r, maxXMLBody+1))
	if err != nil {
		return nil, bodyError(err)
	}
	if len(data) > maxXMLBody {
		return nil, errMalformedXML(fmt.Errorf("document larger than %d bytes", maxXMLBody))
	}
	if err := p.checkSHA256(data); err != nil {
		return nil, err
	}
	b := &body{size: int64(len(data))}
	s.hashWhole(b, data, plan.algos)
	if _, err := plan.verify(b, p.cr); err != nil {
		return nil, err
	}
	return data, nil
}

func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		awsapi.WriteXMLError(w, nil, &awsapi.Error{Status: 500, Code: "InternalError", Message: err.Error(), Fault: true})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	w.Write(body)
}
