// Package workflows holds the Scones Unlimited state machine definitions
// and renders them with the deployed function ARNs.
//
// The definitions use ${Name} placeholders, like Step Functions'
// DefinitionSubstitutions in SAM and CloudFormation, so the files stay
// valid JSON that the console and the ASL engine can read as they are.
//
// Retries: every task retries the Lambda service's transient errors
// (Lambda.ServiceException, AWSLambdaException, SdkClientException,
// TooManyRequestsException) up to 6 times with exponential backoff, capped
// at 8 s, with full jitter; no task retries or catches anything else. The
// reference console export retried 3 times on the first two tasks only;
// that lets a throttled filter task, or 4 throttles in a row, fail an
// execution that should have succeeded, and the workflow must ride out
// transient faults (issue 8). The designed failure,
// THRESHOLD_CONFIDENCE_NOT_MET, is still never retried or caught: it fails
// the execution loudly, with the same 16-event history.
package workflows

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var (
	//go:embed scones.asl.json
	single []byte
	//go:embed scones-all.asl.json
	all []byte
)

// Substitutions are the values the placeholders take.
type Substitutions struct {
	SerializeImageDataArn            string
	ClassifyImageArn                 string
	FilterLowConfidenceInferencesArn string
}

func (s Substitutions) values() map[string]string {
	return map[string]string{
		"SerializeImageDataArn":            s.SerializeImageDataArn,
		"ClassifyImageArn":                 s.ClassifyImageArn,
		"FilterLowConfidenceInferencesArn": s.FilterLowConfidenceInferencesArn,
	}
}

// Single is the per-image workflow: {s3_bucket, s3_key} in.
func Single(s Substitutions) ([]byte, error) { return render(single, s) }

// All is the Distributed Map over a prefix: {s3_bucket, prefix} in.
func All(s Substitutions) ([]byte, error) { return render(all, s) }

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

func render(tmpl []byte, s Substitutions) ([]byte, error) {
	vals := s.values()
	var missing []string
	out := placeholder.ReplaceAllFunc(tmpl, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := vals[name]
		if !ok || v == "" {
			missing = append(missing, name)
			return m
		}
		b, _ := json.Marshal(v)
		return b[1 : len(b)-1]
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("workflow definition: no value for %s", strings.Join(missing, ", "))
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("workflow definition: rendered JSON is invalid")
	}
	return out, nil
}
