package monitor

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"strconv"
	"strings"
	"time"
)

// MaxLineBytes is the longest capture line Parse accepts. SageMaker caps a
// real-time payload at 6 MB, which is 8 MB in base64; the margin is for the
// JSON around it. A longer line is reported as malformed and skipped.
const MaxLineBytes = 32 << 20

// probability tolerance: outputs a hair outside [0, 1] from float rounding
// are accepted.
const probEps = 1e-6

// Record is one parsed capture record: one inference of the endpoint.
type Record struct {
	// Time is eventMetadata.inferenceTime.
	Time time.Time
	// EventID and InferenceID are from eventMetadata; InferenceID is
	// usually empty (it is set only when the caller passed one).
	EventID, InferenceID string
	// InputContentType is endpointInput.observedContentType (image/png for
	// this workflow); Input is endpointInput.data decoded (the PNG bytes),
	// nil when the capture has no input.
	InputContentType string
	Input            []byte
	// Output is endpointOutput.data decoded and parsed: the class
	// probabilities [p_bicycle, p_motorcycle].
	Output []float64
	// Key is the capture file the record came from (an S3 key, or a path
	// relative to the directory a DirLister reads) and Line its 1-based line.
	Key  string
	Line int
}

// Top returns the top confidence (the largest output) and the predicted
// class (its index, the first one on a tie). A record without outputs
// (Parse never returns one) gives (NaN, -1).
func (r Record) Top() (confidence float64, class int) {
	confidence, class = math.NaN(), -1
	for i, p := range r.Output {
		if class < 0 || p > confidence {
			confidence, class = p, i
		}
	}
	return confidence, class
}

// ParseError is a capture line that could not be used, with the file and
// line it was on.
type ParseError struct {
	Key  string
	Line int
	Err  error
}

func (e ParseError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Key, e.Line, e.Err) }

func (e ParseError) Unwrap() error { return e.Err }

// wire shapes of a capture line.
type (
	captureLine struct {
		CaptureData *struct {
			EndpointInput  *captureData `json:"endpointInput"`
			EndpointOutput *captureData `json:"endpointOutput"`
		} `json:"captureData"`
		EventMetadata *struct {
			EventID       string `json:"eventId"`
			InferenceTime string `json:"inferenceTime"`
			InferenceID   string `json:"inferenceId"`
		} `json:"eventMetadata"`
		EventVersion string `json:"eventVersion"`
	}
	captureData struct {
		ObservedContentType string  `json:"observedContentType"`
		Mode                string  `json:"mode"`
		Data                *string `json:"data"`
		Encoding            string  `json:"encoding"`
	}
)

// Parse reads one capture file: SageMaker Model Monitor JSON Lines, one
// record per line. key names the file in records and errors.
//
// A line that is not a usable record (bad JSON, a missing inferenceTime or
// endpointOutput, an unknown encoding, bad base64, an output that is not a
// list of probabilities) becomes a ParseError with its line number and the
// rest of the file is still read: the caller counts and reports them.
// Blank lines are skipped. The error result is for reading r only.
//
// endpointOutput.data is decoded by its encoding (JSON: the text itself;
// BASE64: base64 of the text; CSV: the text itself) and then parsed as CSV
// when the encoding is CSV or the observed content type is text/csv, as a
// JSON array of numbers when it is JSON or application/json, and as
// whichever of the two fits otherwise. Every value must be a finite number
// in [0, 1]; they are not required to sum to 1.
func Parse(r io.Reader, key string) ([]Record, []ParseError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		recs []Record
		errs []ParseError
		line int
	)
	for {
		text, tooLong, err := readLine(br, MaxLineBytes)
		if len(text) > 0 || tooLong || err == nil {
			line++
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return recs, errs, fmt.Errorf("reading %s line %d: %w", key, line, err)
		}
		switch {
		case tooLong:
			errs = append(errs, ParseError{key, line, fmt.Errorf("line longer than %d bytes", MaxLineBytes)})
		case len(bytes.TrimSpace(text)) == 0:
			// blank line
		default:
			rec, perr := parseLine(text)
			if perr != nil {
				errs = append(errs, ParseError{key, line, perr})
			} else {
				rec.Key, rec.Line = key, line
				recs = append(recs, rec)
			}
		}
		if err != nil { // io.EOF
			return recs, errs, nil
		}
	}
}

// readLine returns the next line without its end of line. A line longer
// than max is consumed and reported with tooLong (and no text). At the end
// of the input it returns io.EOF, with the last unterminated line if any.
func readLine(br *bufio.Reader, max int) (text []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(text)+len(chunk) > max+2 { // +2: the CRLF
				tooLong, text = true, nil
			} else {
				text = append(text, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		text = bytes.TrimSuffix(text, []byte("\n"))
		text = bytes.TrimSuffix(text, []byte("\r"))
		if tooLong {
			text = nil
		}
		return text, tooLong, err
	}
}

func parseLine(text []byte) (Record, error) {
	var c captureLine
	if err := json.Unmarshal(text, &c); err != nil {
		return Record{}, fmt.Errorf("not a capture record: %w", err)
	}
	if c.EventMetadata == nil {
		return Record{}, errors.New("no eventMetadata")
	}
	if c.EventMetadata.InferenceTime == "" {
		return Record{}, errors.New("no eventMetadata.inferenceTime")
	}
	t, err := time.Parse(time.RFC3339Nano, c.EventMetadata.InferenceTime)
	if err != nil {
		return Record{}, fmt.Errorf("eventMetadata.inferenceTime %q is not an RFC 3339 time", c.EventMetadata.InferenceTime)
	}
	if c.CaptureData == nil {
		return Record{}, errors.New("no captureData")
	}
	rec := Record{Time: t.UTC(), EventID: c.EventMetadata.EventID, InferenceID: c.EventMetadata.InferenceID}

	if in := c.CaptureData.EndpointInput; in != nil {
		if err := checkMode(in, "INPUT"); err != nil {
			return Record{}, fmt.Errorf("endpointInput: %w", err)
		}
		if in.Data != nil {
			b, err := decodeData(in)
			if err != nil {
				return Record{}, fmt.Errorf("endpointInput: %w", err)
			}
			rec.Input = b
		}
		rec.InputContentType = in.ObservedContentType
	}

	out := c.CaptureData.EndpointOutput
	if out == nil {
		return Record{}, errors.New("no captureData.endpointOutput")
	}
	if err := checkMode(out, "OUTPUT"); err != nil {
		return Record{}, fmt.Errorf("endpointOutput: %w", err)
	}
	if out.Data == nil {
		return Record{}, errors.New("no captureData.endpointOutput.data")
	}
	b, err := decodeData(out)
	if err != nil {
		return Record{}, fmt.Errorf("endpointOutput: %w", err)
	}
	probs, err := parseOutput(b, out)
	if err != nil {
		return Record{}, fmt.Errorf("endpointOutput.data: %w", err)
	}
	rec.Output = probs
	return rec, nil
}

func checkMode(d *captureData, want string) error {
	if d.Mode != "" && !strings.EqualFold(d.Mode, want) {
		return fmt.Errorf("mode is %q, want %q", d.Mode, want)
	}
	return nil
}

// decodeData undoes the capture encoding of d.Data.
func decodeData(d *captureData) ([]byte, error) {
	switch strings.ToUpper(d.Encoding) {
	case "JSON", "CSV":
		return []byte(*d.Data), nil
	case "BASE64":
		b, err := base64.StdEncoding.DecodeString(*d.Data)
		if err != nil {
			return nil, fmt.Errorf("data is not valid base64: %w", err)
		}
		return b, nil
	case "":
		return nil, errors.New("no encoding (want JSON, BASE64 or CSV)")
	default:
		return nil, fmt.Errorf("unknown encoding %q (want JSON, BASE64 or CSV)", d.Encoding)
	}
}

// parseOutput parses decoded output data as probabilities.
func parseOutput(b []byte, d *captureData) ([]float64, error) {
	media, _, _ := mime.ParseMediaType(d.ObservedContentType)
	isCSV := strings.EqualFold(d.Encoding, "CSV") || media == "text/csv"
	isJSON := !isCSV && (strings.EqualFold(d.Encoding, "JSON") || media == "application/json" || strings.HasSuffix(media, "+json"))
	var (
		probs []float64
		err   error
	)
	switch {
	case isCSV:
		probs, err = parseCSV(b)
	case isJSON:
		probs, err = parseJSONArray(b)
	default:
		probs, err = parseJSONArray(b)
		if err != nil {
			var cerr error
			if probs, cerr = parseCSV(b); cerr != nil {
				return nil, fmt.Errorf("neither a JSON array (%v) nor CSV (%v)", err, cerr)
			}
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	if len(probs) == 0 {
		return nil, errors.New("no values")
	}
	for i, p := range probs {
		if math.IsNaN(p) || p < -probEps || p > 1+probEps {
			return nil, fmt.Errorf("value %d is %v, not a probability in [0, 1]", i, p)
		}
	}
	return probs, nil
}

func parseJSONArray(b []byte) ([]float64, error) {
	var probs []float64
	if err := json.Unmarshal(b, &probs); err != nil {
		return nil, fmt.Errorf("not a JSON array of numbers: %w", err)
	}
	return probs, nil
}

func parseCSV(b []byte) ([]float64, error) {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("not CSV: %w", err)
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("CSV has %d rows, want 1", len(rows))
	}
	probs := make([]float64, 0, len(rows[0]))
	for i, f := range rows[0] {
		p, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsInf(p, 0) {
			return nil, fmt.Errorf("CSV field %d %q is not a number", i+1, f)
		}
		probs = append(probs, p)
	}
	return probs, nil
}
