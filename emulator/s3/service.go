// Package s3 is the emulator's S3 (REST-XML). Work in progress: see the
// package owner's files.
package s3

import (
	"net/http"

	"github.com/scones/scones/emulator/awsapi"
)

// Service is the emulated S3.
type Service struct{ env awsapi.Env }

// New builds the S3 service over env.Store.
func New(env awsapi.Env) (*Service, error) { return &Service{env: env}, nil }

// Name is the SigV4 signing name.
func (s *Service) Name() string { return "s3" }

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	awsapi.WriteXMLError(w, r, &awsapi.Error{Status: http.StatusNotImplemented, Code: "NotImplemented", Message: "S3 is not built yet"})
}
