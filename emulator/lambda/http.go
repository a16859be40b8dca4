package lambda

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scones/scones/emulator/awsapi"
)

// operations lists what ServeHTTP serves, for the unknown-operation error.
const operations = "CreateFunction, GetFunction, GetFunctionConfiguration, UpdateFunctionCode, UpdateFunctionConfiguration, " +
	"DeleteFunction, ListFunctions, ListVersionsByFunction, PublishVersion, Invoke, PutFunctionConcurrency, " +
	"GetFunctionConcurrency, DeleteFunctionConcurrency, TagResource, UntagResource, ListTags"

// codePath is where GetFunction's Code.Location points: a URL the edge
// routes to this service by its X-Amz-Credential query parameter, as it
// routes presigned URLs.
const codeDownloadPath = "/2015-03-31/scones-code/"

func (s *Service) codeURL(codeSha256 string) string {
	return s.env.BaseURL() + codeDownloadPath + codeKey(codeSha256) + "?X-Amz-Credential=" +
		url.QueryEscape("test/20200101/"+s.env.Region+"/lambda/aws4_request")
}

// ServeHTTP serves Lambda's REST-JSON API.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.serve(w, r); err != nil {
		writeError(w, err)
	}
}

// segments splits the escaped path and unescapes each part, so that an ARN
// (with %3A for ':') stays one segment.
func segments(r *http.Request) []string {
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	seg := segments(r)
	q := r.URL.Query()
	m := r.Method
	if len(seg) < 2 {
		return unknownOperation(r)
	}
	switch seg[0] + "/" + seg[1] {
	case "2015-03-31/functions":
		switch {
		case len(seg) == 2 && m == http.MethodPost:
			in, zip, err := decodeCodeBody(r, func(in *CreateFunctionInput) *[]byte { return &in.Code.ZipFile })
			if err != nil {
				return err
			}
			out, err := s.createFunction(ctx, *in, zip)
			if err != nil {
				return err
			}
			awsapi.WriteJSON(w, http.StatusCreated, "application/json", out)
			return nil
		case len(seg) == 2 && m == http.MethodGet:
			n, err := parseMaxItems(q.Get("MaxItems"))
			if err != nil {
				return err
			}
			out, err := s.ListFunctions(ctx, q.Get("Marker"), n, q.Get("FunctionVersion") == "ALL")
			if err != nil {
				return err
			}
			awsapi.WriteJSON(w, http.StatusOK, "application/json", out)
			return nil
		case len(seg) == 3 && m == http.MethodGet:
			out, err := s.GetFunction(ctx, seg[2], q.Get("Qualifier"))
			if err != nil {
				return err
			}
			awsapi.WriteJSON(w, http.StatusOK, "application/json", out)
			return nil
		case len(seg) == 3 && m == http.MethodDelete:
			if err := s.DeleteFunction(ctx, seg[2], q.Get("Qualifier")); err != nil {
				return err
			}
			writeEmpty(w, http.StatusNoContent)
			return nil
		case len(seg) == 4:
			return s.serveFunction(w, r, seg[2], seg[3])
		}
	case "2015-03-31/scones-code":
		if len(seg) == 3 && m == http.MethodGet {
			return s.serveCode(w, seg[2])
		}
	case "2017-03-31/tags":
		if len(seg) != 3 {
			break
		}
		arn := seg[2]
		switch m {
		case http.MethodPost:
			var in struct{ Tags map[string]string }
			if err := decode(r, &in); err != nil {
				return err
			}
			if err := s.TagResource(ctx, arn, in.Tags); err != nil {
				return err
			}
			writeEmpty(w, http.StatusNoContent)
			return nil
		case http.MethodGet:
			tags, err := s.ListTags(ctx, arn)
			if err != nil {
				return err
			}
			awsapi.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"Tags": tags})
			return nil
		case http.MethodDelete:
			if err := s.UntagResource(ctx, arn, q["tagKeys"]); err != nil {
				return err
			}
			writeEmpty(w, http.StatusNoContent)
			return nil
		}
	case "2017-10-31/functions", "2019-09-30/functions":
		if len(seg) != 4 || seg[3] != "concurrency" {
			break
		}
		switch {
		case m == http.MethodPut && seg[0] == "2017-10-31":
			var in struct{ ReservedConcurrentExecutions *int }
			if err := decode(r, &in); err != nil {
				return err
			}
			if in.ReservedConcurrentExecutions == nil {
				return errValidation("1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
			}
			if err := s.PutFunctionConcurrency(ctx, seg[2], *in.ReservedConcurrentExecutions); err != nil {
				return err
			}
			awsapi.WriteJSON(w, http.StatusOK, "application/json", Concurrency{ReservedConcurrentExecutions: in.ReservedConcurrentExecutions})
			return nil
		case m == http.MethodDelete && seg[0] == "2017-10-31":
			if err := s.DeleteFunctionConcurrency(ctx, seg[2]); err != nil {
				return err
			}
			writeEmpty(w, http.StatusNoContent)
			return nil
		case m == http.MethodGet:
			n, err := s.GetFunctionConcurrency(ctx, seg[2])
			if err != nil {
				return err
			}
			awsapi.WriteJSON(w, http.StatusOK, "application/json", Concurrency{ReservedConcurrentExecutions: n})
			return nil
		}
	}
	return unknownOperation(r)
}

// serveFunction serves /2015-03-31/functions/{name}/{sub}.
func (s *Service) serveFunction(w http.ResponseWriter, r *http.Request, name, sub string) error {
	ctx := r.Context()
	q := r.URL.Query()
	switch sub + " " + r.Method {
	case "invocations POST":
		return s.serveInvoke(w, r, name)
	case "configuration GET":
		out, err := s.GetFunctionConfiguration(ctx, name, q.Get("Qualifier"))
		if err != nil {
			return err
		}
		awsapi.WriteJSON(w, http.StatusOK, "application/json", out)
		return nil
	case "configuration PUT":
		var in UpdateFunctionConfigurationInput
		if err := decode(r, &in); err != nil {
			return err
		}
		in.FunctionName = name
		out, err := s.UpdateFunctionConfiguration(ctx, in)
		if err != nil {
			return err
		}
		awsapi.WriteJSON(w, http.StatusOK, "application/json", out)
		return nil
	case "code PUT":
		in, zip, err := decodeCodeBody(r, func(in *UpdateFunctionCodeInput) *[]byte { return &in.ZipFile })
		if err != nil {
			return err
		}
		in.FunctionName = name
		out, err := s.updateFunctionCode(ctx, *in, zip)
		if err != nil {
			return err
		}
		awsapi.WriteJSON(w, http.StatusOK, "application/json", out)
		return nil
	case "versions POST":
		var in struct{ CodeSha256, Description, RevisionId string }
		if err := decode(r, &in); err != nil {
			return err
		}
		out, err := s.PublishVersion(ctx, name, in.CodeSha256, in.Description, in.RevisionId)
		if err != nil {
			return err
		}
		awsapi.WriteJSON(w, http.StatusCreated, "application/json", out)
		return nil
	case "versions GET":
		n, err := parseMaxItems(q.Get("MaxItems"))
		if err != nil {
			return err
		}
		out, err := s.ListVersionsByFunction(ctx, name, q.Get("Marker"), n)
		if err != nil {
			return err
		}
		awsapi.WriteJSON(w, http.StatusOK, "application/json", out)
		return nil
	}
	return unknownOperation(r)
}

func (s *Service) serveInvoke(w http.ResponseWriter, r *http.Request, name string) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxSyncPayload+1))
	if err != nil {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException", "reading the request body: %v", err)
	}
	out, err := s.Invoke(r.Context(), InvokeInput{
		FunctionName:   name,
		Qualifier:      r.URL.Query().Get("Qualifier"),
		Payload:        body,
		InvocationType: r.Header.Get("X-Amz-Invocation-Type"),
		LogType:        r.Header.Get("X-Amz-Log-Type"),
		ClientContext:  r.Header.Get("X-Amz-Client-Context"),
	})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("x-amzn-RequestId", out.RequestID)
	if out.ExecutedVersion != "" && out.StatusCode == http.StatusOK {
		h.Set("X-Amz-Executed-Version", out.ExecutedVersion)
	}
	if out.FunctionError != "" {
		h.Set("X-Amz-Function-Error", out.FunctionError)
	}
	if out.LogResult != "" {
		h.Set("X-Amz-Log-Result", out.LogResult)
	}
	if out.StatusCode != http.StatusOK {
		writeEmpty(w, out.StatusCode)
		return nil
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out.Payload)))
	w.WriteHeader(out.StatusCode)
	w.Write(out.Payload)
	return nil
}

// serveCode serves a stored zip (GetFunction's Code.Location).
func (s *Service) serveCode(w http.ResponseWriter, key string) error {
	b, err := hex.DecodeString(strings.TrimSuffix(key, ".zip"))
	if err != nil || len(b) != 32 {
		return errNotFound("no code %s", key)
	}
	data, err := s.readZip(encodeSha(b))
	if err != nil {
		return errNotFound("no code %s", key)
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
	return nil
}

func writeEmpty(w http.ResponseWriter, status int) {
	if w.Header().Get("x-amzn-RequestId") == "" {
		w.Header().Set("x-amzn-RequestId", awsapi.NewRequestID())
	}
	w.WriteHeader(status)
}

// maxBody bounds a request body: a base64 zip of MaxZipSize and the rest.
const maxBody = 2*MaxZipSize + 1<<20

// readBody reads a request body, into a buffer of exactly its
// Content-Length when it has one. (0 may mean unknown, in a request built
// in process.)
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > 0 && r.ContentLength <= maxBody {
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, errReadingBody(err)
		}
		return body, nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxBody)); err != nil {
		return nil, errReadingBody(err)
	}
	return buf.Bytes(), nil
}

func errReadingBody(err error) error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException", "reading the request body: %v", err)
}

// decode reads a JSON request body; an empty body is an empty input.
func decode(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return unmarshal(body, v)
}

func unmarshal(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: %v", err)
	}
	return nil
}

func unknownOperation(r *http.Request) error {
	return awsapi.Errorf(http.StatusNotFound, "UnknownOperationException",
		"the scones emulator's Lambda has no operation %s %s (it serves %s)", r.Method, r.URL.Path, operations)
}

// writeError writes err in Lambda's REST-JSON error shape; a throttle
// carries AWS's Reason in the body and Retry-After as a header.
func writeError(w http.ResponseWriter, err error) {
	var e *awsapi.Error
	if !errors.As(err, &e) {
		e = errService("%v", err)
	}
	if reason := e.Headers[reasonHeader]; reason != "" {
		body, _ := json.Marshal(map[string]string{"Type": "User", "message": e.Message, "Reason": reason})
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("x-amzn-ErrorType", e.Code)
		h.Set("Retry-After", e.Headers["Retry-After"])
		if h.Get("x-amzn-RequestId") == "" {
			h.Set("x-amzn-RequestId", awsapi.NewRequestID())
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(e.Status)
		w.Write(body)
		return
	}
	awsapi.WriteRESTJSONError(w, e)
}
