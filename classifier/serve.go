package classifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// MaxPayloadBytes is the largest request body /invocations accepts: 6 MB,
// SageMaker's real-time endpoint payload limit.
const MaxPayloadBytes = 6 << 20

// NewHandler returns the SageMaker inference contract for m:
//
//   - GET /ping: 200 when the model is loaded.
//   - POST /invocations: body image/png, image/jpeg or application/x-image
//     (PNG or JPEG, RGB or RGBA, any size: resized to the model's input);
//     response application/json, the array of class probabilities, e.g.
//     [0.12, 0.88]. An undecodable body is 400, an unsupported content type
//     415, a body over 6 MB 413, an Accept that excludes JSON 406.
//   - GET /execution-parameters: batch-transform settings.
func NewHandler(m *Model) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			httpError(w, http.StatusMethodNotAllowed, "use GET /ping")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			io.WriteString(w, "{\"status\":\"healthy\"}\n")
		}
	})
	mux.HandleFunc("/execution-parameters", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"MaxConcurrentTransforms": 2,
			"BatchStrategy":           "SINGLE_RECORD",
			"MaxPayloadInMB":          MaxPayloadBytes >> 20,
		})
	})
	mux.HandleFunc("/invocations", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			httpError(w, http.StatusMethodNotAllowed, "use POST /invocations")
			return
		}
		if !acceptsJSON(r.Header.Values("Accept")) {
			httpError(w, http.StatusNotAcceptable, fmt.Sprintf("Accept %q: responses are application/json", strings.Join(r.Header.Values("Accept"), ", ")))
			return
		}
		ct := r.Header.Get("Content-Type")
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
		if err != nil {
			httpError(w, http.StatusBadRequest, "reading body: "+err.Error())
			return
		}
		if len(body) > MaxPayloadBytes {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes", MaxPayloadBytes))
			return
		}
		img, err := DecodeImage(ct, body)
		if err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, ErrUnsupportedContentType) {
				code = http.StatusUnsupportedMediaType
			}
			httpError(w, code, err.Error())
			return
		}
		probs, err := m.Predict(img)
		if err != nil {
			httpError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out := FormatProbabilities(probs)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.Write(out)
	})
	return mux
}

// FormatProbabilities writes class probabilities as the built-in
// algorithm's Python serving stack does (json.dumps of a list of floats):
// shortest round-trip digits, ", " between items, e.g.
// [0.8227921724319458, 0.1772077977657318]. Capture files then hold the
// same bytes as an AWS endpoint's.
func FormatProbabilities(probs []float64) []byte {
	out := []byte{'['}
	for i, p := range probs {
		if i > 0 {
			out = append(out, ',', ' ')
		}
		out = strconv.AppendFloat(out, p, 'g', -1, 64)
		if p == math.Trunc(p) && !math.IsInf(p, 0) && math.Abs(p) < 1e16 {
			out = append(out, '.', '0') // Python writes 1.0, not 1
		}
	}
	return append(out, ']')
}

func acceptsJSON(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				if strings.TrimSpace(part) == "" {
					return true
				}
				continue
			}
			switch mt {
			case "*/*", "application/*", "application/json":
				return true
			}
		}
	}
	return false
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
