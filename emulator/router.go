package emulator

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/faults"
)

// HealthPath answers 200 with each service's state once the edge serves.
const HealthPath = "/_scones/health"

// Health is the body of GET /_scones/health.
type Health struct {
	Status   string            `json:"status"`
	Region   string            `json:"region"`
	Account  string            `json:"account"`
	Services map[string]string `json:"services"`
}

func (s *Server) router() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			switch r.URL.Path {
			case HealthPath:
				s.health(w, r)
				return
			case FaultsPath:
				s.serveFaults(w, r)
				return
			}
		}
		name := SigningService(r)
		if name == "" {
			// No credential scope: a query-protocol call signed with
			// SigV2 (or not at all) is routed by its API version; the
			// rest are S3's (public GETs, POST forms).
			name = "s3"
			if q := s.queryService(r); q != nil {
				name = q.Name()
			}
		}
		svc := s.services[name]
		if svc == nil {
			writeRoutingError(w, r, &awsapi.Error{Status: http.StatusBadRequest, Code: "UnknownService",
				Message: "scones emulator does not serve the AWS service \"" + name + "\"; it serves " + s.serviceNames()})
			return
		}
		if s.opts.VerifySignatures {
			if err := verifySignature(r, s.opts.Credentials, s.env.Now()); err != nil {
				writeRoutingError(w, r, err)
				return
			}
		}
		if fi, ok := svc.(awsapi.FaultInjector); !ok || !fi.InjectsFaults() {
			if err := s.faults.Check(r.Context(), name, operationOf(svc, r)); err != nil {
				writeRoutingError(w, r, err)
				return
			}
		}
		svc.ServeHTTP(w, r)
	})
}

// operationOf names the operation of a request: the X-Amz-Target suffix
// (JSON protocols), the Action parameter (query protocol), or what a REST
// service says.
func operationOf(svc awsapi.Service, r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return t[i+1:]
		}
		return t
	}
	if n, ok := svc.(awsapi.OperationNamer); ok {
		return n.Operation(r)
	}
	if isFormEncoded(r) || r.URL.Query().Get("Action") != "" {
		if err := r.ParseForm(); err == nil {
			return r.Form.Get("Action")
		}
	}
	return ""
}

// isFormEncoded reports whether r's body is form-encoded parameters (the
// query protocol's POSTs).
func isFormEncoded(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded"
}

// FaultsPath shows (GET), replaces (PUT or POST, a JSON list of
// faults.Rule) and clears (DELETE) the injected faults.
const FaultsPath = "/_scones/faults"

func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut, http.MethodPost:
		var rules []faults.Rule
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rules); err != nil {
			http.Error(w, "fault rules: want a JSON list of {service, operation, rate, code, status, message, latency}: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.faults.Set(rules); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	case http.MethodDelete:
		s.faults.Set(nil)
	default:
		http.Error(w, "use GET, PUT or DELETE", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"rules": s.faults.Rules(), "injected": s.faults.Injected()})
}

func (s *Server) serviceNames() string {
	names := make([]string, len(s.order))
	for i, svc := range s.order {
		names[i] = svc.Name()
	}
	return strings.Join(names, ", ")
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	ready := s.ready
	s.mu.Unlock()
	h := Health{Status: "running", Region: s.opts.Region, Account: s.opts.AccountID, Services: map[string]string{}}
	state := "running"
	if !ready {
		state, h.Status = "stopped", "stopped"
	}
	for _, svc := range s.order {
		h.Services[svc.Name()] = state
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(h)
}

// SigningService returns the service name of a request's SigV4 credential
// scope, from the Authorization header or, for presigned URLs, the
// X-Amz-Credential query parameter. SigV2 ("Authorization: AWS AKID:sig"
// or ?AWSAccessKeyId=...&Signature=...) has no scope and only S3 takes it,
// so it returns "s3" for those. It returns "" for unsigned requests.
func SigningService(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if isSigV2Header(auth) {
			return "s3"
		}
		_, rest, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ := strings.Cut(rest, ",")
		return scopeService(strings.TrimSpace(cred))
	}
	if r.URL.RawQuery == "" {
		return ""
	}
	q := r.URL.Query()
	if cred := q.Get("X-Amz-Credential"); cred != "" {
		return scopeService(cred)
	}
	if isSigV2Query(q) {
		return "s3"
	}
	return ""
}

// scopeService returns the service of a credential scope, or "" if it is
// not one.
func scopeService(cred string) string {
	if scope, ok := parseScope(cred); ok {
		return scope[3]
	}
	return ""
}

// parseScope splits a credential scope "AKID/20240101/us-east-1/s3/aws4_request"
// into its five parts, without allocating; ok is false unless there are
// exactly five.
func parseScope(cred string) (scope [5]string, ok bool) {
	for i := range scope {
		p, rest, found := strings.Cut(cred, "/")
		scope[i], cred = p, rest
		if found != (i < 4) {
			return scope, false
		}
	}
	return scope, true
}

// writeRoutingError answers in the protocol the request was spoken in, so
// the client can decode the error: awsJson when it sent X-Amz-Target, the
// query protocol for form bodies, REST-XML otherwise.
func writeRoutingError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := err.(*awsapi.Error)
	if !ok {
		e = &awsapi.Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error(), Fault: true}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		if ct == "" {
			ct = "application/x-amz-json-1.1"
		}
		awsapi.WriteJSONError(w, ct, e)
	case ct == "application/x-www-form-urlencoded":
		awsapi.WriteQueryError(w, "", e)
	case strings.HasPrefix(r.URL.Path, "/2015-03-31/") || strings.HasPrefix(r.URL.Path, "/endpoints/"):
		awsapi.WriteRESTJSONError(w, e)
	default:
		awsapi.WriteXMLError(w, r, e)
	}
}
