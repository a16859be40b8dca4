package awsapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// Error is an AWS service error: an HTTP status, AWS's error code and a
// message. Handlers return it and the protocol's writer renders it.
type Error struct {
	Status  int
	Code    string
	Message string
	// Sender is false for server-side faults (query protocol <Type>).
	Fault bool
	// Headers are added to the error response (e.g. S3's x-amz-* hints).
	Headers map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode is AWS's error code, as smithy.APIError names it.
func (e *Error) ErrorCode() string { return e.Code }

// Errorf builds an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WriteJSON writes v as an awsJson1_0/1_1 or REST-JSON success body.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		WriteJSONError(w, "application/x-amz-json-1.1", &Error{Status: 500, Code: "InternalFailure", Message: err.Error(), Fault: true})
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if h.Get("x-amzn-RequestId") == "" {
		h.Set("x-amzn-RequestId", NewRequestID())
	}
	w.WriteHeader(status)
	w.Write(body)
}

// WriteJSONError writes an error in the awsJson1_0/1_1 shape:
// {"__type": code, "message": msg} plus the x-amzn-ErrorType header.
func WriteJSONError(w http.ResponseWriter, contentType string, e *Error) {
	body, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	h := w.Header()
	for k, v := range e.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", contentType)
	h.Set("x-amzn-ErrorType", e.Code)
	if h.Get("x-amzn-RequestId") == "" {
		h.Set("x-amzn-RequestId", NewRequestID())
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}

// WriteRESTJSONError writes an error as REST-JSON services such as Lambda
// do: x-amzn-ErrorType header and {"Type": "User"|"Service", "message": msg}.
func WriteRESTJSONError(w http.ResponseWriter, e *Error) {
	typ := "User"
	if e.Fault {
		typ = "Service"
	}
	body, _ := json.Marshal(map[string]string{"Type": typ, "message": e.Message})
	h := w.Header()
	for k, v := range e.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-ErrorType", e.Code)
	if h.Get("x-amzn-RequestId") == "" {
		h.Set("x-amzn-RequestId", NewRequestID())
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}

// S3Error is the REST-XML error body S3 sends.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
}

// WriteXMLError writes an S3-style REST-XML error. A HEAD request gets the
// status and headers only, as S3 does.
func WriteXMLError(w http.ResponseWriter, r *http.Request, e *Error) {
	reqID := w.Header().Get("x-amz-request-id")
	if reqID == "" {
		reqID = NewRequestID()
		w.Header().Set("x-amz-request-id", reqID)
	}
	for k, v := range e.Headers {
		w.Header().Set(k, v)
	}
	if r != nil && r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	body, _ := xml.Marshal(s3Error{Code: e.Code, Message: e.Message, Resource: resourceOf(r), RequestID: reqID})
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}

func resourceOf(r *http.Request) string {
	if r == nil {
		return ""
	}
	return r.URL.Path
}

type queryError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// WriteQueryError writes an error in the query protocol's XML shape (IAM, STS).
func WriteQueryError(w http.ResponseWriter, xmlns string, e *Error) {
	var q queryError
	q.Xmlns = xmlns
	q.Error.Type = "Sender"
	if e.Fault {
		q.Error.Type = "Receiver"
	}
	q.Error.Code = e.Code
	q.Error.Message = e.Message
	q.RequestID = NewRequestID()
	body, _ := xml.Marshal(q)
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", q.RequestID)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}

// WriteQueryResponse writes a query-protocol success response:
// <{Action}Response xmlns=...><{Action}Result>...</{Action}Result>
// <ResponseMetadata><RequestId/></ResponseMetadata></{Action}Response>.
// result is encoded as the Result element (its own XMLName is ignored); nil
// writes no Result element, as for actions with no output.
func WriteQueryResponse(w http.ResponseWriter, xmlns, action string, result any) {
	reqID := NewRequestID()
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, action, xmlns)
	if result != nil {
		enc := xml.NewEncoder(&buf)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			WriteQueryError(w, xmlns, &Error{Status: 500, Code: "InternalFailure", Message: err.Error(), Fault: true})
			return
		}
		enc.Flush()
	}
	fmt.Fprintf(&buf, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", reqID, action)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
