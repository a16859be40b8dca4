// Package sts is the emulator's AWS Security Token Service (query protocol):
// GetCallerIdentity, which deploy code calls to learn the account before it
// creates anything.
package sts

import (
	"net/http"
	"strings"

	"github.com/scones/scones/emulator/awsapi"
)

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// Service is the emulated STS.
type Service struct{ env awsapi.Env }

// New builds STS. It holds no state: the caller identity is the emulator's
// account.
func New(env awsapi.Env) *Service { return &Service{env: env} }

// Name is the SigV4 signing name.
func (s *Service) Name() string { return "sts" }

// APIVersion is STS's query-protocol Version (awsapi.QueryService).
func (s *Service) APIVersion() string { return "2011-06-15" }

// CallerIdentity is GetCallerIdentity's result.
type CallerIdentity struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// GetCallerIdentity returns the identity every request to the emulator has:
// the root user of its account, whatever access key signed the request.
func (s *Service) GetCallerIdentity() CallerIdentity {
	return CallerIdentity{
		Arn:     "arn:aws:iam::" + s.env.AccountID + ":root",
		UserID:  s.env.AccountID,
		Account: s.env.AccountID,
	}
}

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action, _, err := awsapi.ParseQueryForm(r)
	if err != nil {
		awsapi.WriteQueryError(w, xmlns, err.(*awsapi.Error))
		return
	}
	switch action {
	case "GetCallerIdentity":
		awsapi.WriteQueryResponse(w, xmlns, action, s.GetCallerIdentity())
	default:
		awsapi.WriteQueryError(w, xmlns, &awsapi.Error{Status: http.StatusBadRequest, Code: "InvalidAction",
			Message: "The action " + action + " is not valid for this web service (scones emulates STS " + strings.Join([]string{"GetCallerIdentity"}, ", ") + ")"})
	}
}
