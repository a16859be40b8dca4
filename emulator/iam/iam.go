// Package iam is the emulator's IAM (query protocol), limited to roles:
// CreateRole, GetRole, DeleteRole, ListRoles, UpdateAssumeRolePolicy,
// inline policies (Put/Get/Delete/ListRolePolicies), managed policy
// attachments (Attach/Detach/ListAttachedRolePolicies) and role tags. That
// is what deploy creates on AWS and locally alike. Policies are stored and
// returned, not enforced.
package iam

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

const (
	xmlns     = "https://iam.amazonaws.com/doc/2010-05-08/"
	rolesTbl  = "iam/roles"
	isoFormat = "2006-01-02T15:04:05Z"
)

// Service is the emulated IAM.
type Service struct{ env awsapi.Env }

// New builds IAM over env.Store.
func New(env awsapi.Env) *Service { return &Service{env: env} }

// Name is the SigV4 signing name.
func (s *Service) Name() string { return "iam" }

// APIVersion is IAM's query-protocol Version (awsapi.QueryService).
func (s *Service) APIVersion() string { return "2010-05-08" }

// Tag is an IAM tag.
type Tag struct {
	Key   string `xml:"Key" json:"Key"`
	Value string `xml:"Value" json:"Value"`
}

// Role is a stored role, with its policies.
type Role struct {
	Path                     string            `json:"Path"`
	RoleName                 string            `json:"RoleName"`
	RoleID                   string            `json:"RoleId"`
	Arn                      string            `json:"Arn"`
	CreateDate               time.Time         `json:"CreateDate"`
	AssumeRolePolicyDocument string            `json:"AssumeRolePolicyDocument"`
	Description              string            `json:"Description,omitempty"`
	MaxSessionDuration       int               `json:"MaxSessionDuration"`
	Tags                     []Tag             `json:"Tags,omitempty"`
	InlinePolicies           map[string]string `json:"InlinePolicies,omitempty"`
	AttachedPolicies         []string          `json:"AttachedPolicies,omitempty"`
}

// roleXML is Role as IAM's responses carry it.
type roleXML struct {
	Path                     string `xml:"Path"`
	RoleName                 string `xml:"RoleName"`
	RoleID                   string `xml:"RoleId"`
	Arn                      string `xml:"Arn"`
	CreateDate               string `xml:"CreateDate"`
	AssumeRolePolicyDocument string `xml:"AssumeRolePolicyDocument"`
	Description              string `xml:"Description,omitempty"`
	MaxSessionDuration       int    `xml:"MaxSessionDuration"`
	Tags                     []Tag  `xml:"Tags>member,omitempty"`
}

func (r *Role) xml() roleXML {
	return roleXML{
		Path: r.Path, RoleName: r.RoleName, RoleID: r.RoleID, Arn: r.Arn,
		CreateDate: r.CreateDate.UTC().Format(isoFormat),
		// IAM returns policy documents URL-encoded.
		AssumeRolePolicyDocument: awsapi.PercentEncode(r.AssumeRolePolicyDocument),
		Description:              r.Description, MaxSessionDuration: r.MaxSessionDuration, Tags: r.Tags,
	}
}

var policyArnRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws[\w-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$`)
})

// validName reports whether name matches IAM's [\w+=,.@-]{1,max}.
func validName(name string, max int) bool { return awsapi.ValidName(name, max, "+=,.@-") }

func errorf(status int, code, format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(status, code, format, args...)
}

func noSuchRole(name string) *awsapi.Error {
	return errorf(http.StatusNotFound, "NoSuchEntity", "The role with name %s cannot be found.", name)
}

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action, p, err := awsapi.ParseQueryForm(r)
	if err == nil {
		var result any
		result, err = s.dispatch(action, p)
		if err == nil {
			awsapi.WriteQueryResponse(w, xmlns, action, result)
			return
		}
	}
	var ae *awsapi.Error
	if !errors.As(err, &ae) {
		ae = &awsapi.Error{Status: http.StatusInternalServerError, Code: "ServiceFailure", Message: err.Error(), Fault: true}
	}
	awsapi.WriteQueryError(w, xmlns, ae)
}

type roleResult struct {
	Role roleXML `xml:"Role"`
}

type listRolesResult struct {
	Roles       []roleXML `xml:"Roles>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

type policyNamesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool     `xml:"IsTruncated"`
}

type rolePolicyResult struct {
	RoleName       string `xml:"RoleName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type attachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type attachedResult struct {
	AttachedPolicies []attachedPolicy `xml:"AttachedPolicies>member"`
	IsTruncated      bool             `xml:"IsTruncated"`
}

type tagsResult struct {
	Tags        []Tag `xml:"Tags>member"`
	IsTruncated bool  `xml:"IsTruncated"`
}

func (s *Service) dispatch(action string, p url.Values) (any, error) {
	switch action {
	case "CreateRole":
		role, err := s.CreateRole(p)
		if err != nil {
			return nil, err
		}
		return roleResult{Role: role.xml()}, nil
	case "GetRole":
		role, err := s.GetRole(p.Get("RoleName"))
		if err != nil {
			return nil, err
		}
		return roleResult{Role: role.xml()}, nil
	case "DeleteRole":
		return nil, s.DeleteRole(p.Get("RoleName"))
	case "ListRoles":
		return s.listRoles(p)
	case "UpdateAssumeRolePolicy":
		doc := p.Get("PolicyDocument")
		return nil, s.update(p.Get("RoleName"), func(r *Role) error {
			if err := checkPolicy(doc); err != nil {
				return err
			}
			r.AssumeRolePolicyDocument = doc
			return nil
		})
	case "PutRolePolicy":
		name, doc := p.Get("PolicyName"), p.Get("PolicyDocument")
		if !validName(name, 128) {
			return nil, errorf(400, "ValidationError", "PolicyName %q must match [\\w+=,.@-]{1,128}", name)
		}
		return nil, s.update(p.Get("RoleName"), func(r *Role) error {
			if err := checkPolicy(doc); err != nil {
				return err
			}
			if r.InlinePolicies == nil {
				r.InlinePolicies = map[string]string{}
			}
			r.InlinePolicies[name] = doc
			return nil
		})
	case "GetRolePolicy":
		role, err := s.GetRole(p.Get("RoleName"))
		if err != nil {
			return nil, err
		}
		doc, ok := role.InlinePolicies[p.Get("PolicyName")]
		if !ok {
			return nil, errorf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", p.Get("PolicyName"))
		}
		return rolePolicyResult{RoleName: role.RoleName, PolicyName: p.Get("PolicyName"), PolicyDocument: awsapi.PercentEncode(doc)}, nil
	case "DeleteRolePolicy":
		name := p.Get("PolicyName")
		return nil, s.update(p.Get("RoleName"), func(r *Role) error {
			if _, ok := r.InlinePolicies[name]; !ok {
				return errorf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", name)
			}
			delete(r.InlinePolicies, name)
			return nil
		})
	case "ListRolePolicies":
		role, err := s.GetRole(p.Get("RoleName"))
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(role.InlinePolicies))
		for n := range role.InlinePolicies {
			names = append(names, n)
		}
		sort.Strings(names)
		return policyNamesResult{PolicyNames: names}, nil
	case "AttachRolePolicy", "DetachRolePolicy":
		arn := p.Get("PolicyArn")
		if !policyArnRE().MatchString(arn) {
			return nil, errorf(400, "InvalidInput", "ARN %s is not valid.", arn)
		}
		return nil, s.update(p.Get("RoleName"), func(r *Role) error {
			i := indexOf(r.AttachedPolicies, arn)
			if action == "AttachRolePolicy" {
				if i < 0 {
					r.AttachedPolicies = append(r.AttachedPolicies, arn)
				}
				return nil
			}
			if i < 0 {
				return errorf(404, "NoSuchEntity", "Policy %s was not found.", arn)
			}
			r.AttachedPolicies = append(r.AttachedPolicies[:i], r.AttachedPolicies[i+1:]...)
			return nil
		})
	case "ListAttachedRolePolicies":
		role, err := s.GetRole(p.Get("RoleName"))
		if err != nil {
			return nil, err
		}
		res := attachedResult{AttachedPolicies: []attachedPolicy{}}
		for _, arn := range role.AttachedPolicies {
			res.AttachedPolicies = append(res.AttachedPolicies, attachedPolicy{PolicyName: arn[strings.LastIndex(arn, "/")+1:], PolicyArn: arn})
		}
		return res, nil
	case "TagRole":
		tags, err := parseTags(p)
		if err != nil {
			return nil, err
		}
		return nil, s.update(p.Get("RoleName"), func(r *Role) error {
			r.Tags = mergeTags(r.Tags, tags)
			return nil
		})
	case "UntagRole":
		keys := memberList(p, "TagKeys")
		return nil, s.update(p.Get("RoleName"), func(r *Role) error {
			kept := r.Tags[:0]
			for _, t := range r.Tags {
				if indexOf(keys, t.Key) < 0 {
					kept = append(kept, t)
				}
			}
			r.Tags = kept
			return nil
		})
	case "ListRoleTags":
		role, err := s.GetRole(p.Get("RoleName"))
		if err != nil {
			return nil, err
		}
		return tagsResult{Tags: append([]Tag{}, role.Tags...)}, nil
	}
	return nil, errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service (scones emulates IAM roles and their policies only)", action)
}

func indexOf(list []string, v string) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

func checkPolicy(doc string) error {
	if doc == "" {
		return errorf(400, "ValidationError", "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return errorf(400, "MalformedPolicyDocument", "Syntax errors in policy: %v", err)
	}
	if _, ok := v["Statement"]; !ok {
		return errorf(400, "MalformedPolicyDocument", "Policy document must contain a Statement")
	}
	return nil
}

// memberList reads a query-protocol list: Name.member.1, Name.member.2, ...
func memberList(p url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := p[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func parseTags(p url.Values) ([]Tag, error) {
	var tags []Tag
	for i := 1; ; i++ {
		k, ok := p["Tags.member."+strconv.Itoa(i)+".Key"]
		if !ok {
			break
		}
		if k[0] == "" || len(k[0]) > 128 {
			return nil, errorf(400, "ValidationError", "tag key %q must be 1 to 128 characters", k[0])
		}
		tags = append(tags, Tag{Key: k[0], Value: p.Get("Tags.member." + strconv.Itoa(i) + ".Value")})
	}
	if len(tags) > 50 {
		return nil, errorf(400, "LimitExceeded", "a role can have at most 50 tags, got %d", len(tags))
	}
	return tags, nil
}

func mergeTags(have, add []Tag) []Tag {
	for _, t := range add {
		replaced := false
		for i := range have {
			if have[i].Key == t.Key {
				have[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			have = append(have, t)
		}
	}
	return have
}

// CreateRole creates a role from query parameters (RoleName,
// AssumeRolePolicyDocument, Path, Description, MaxSessionDuration, Tags).
func (s *Service) CreateRole(p url.Values) (*Role, error) {
	name := p.Get("RoleName")
	if !validName(name, 64) {
		return nil, errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length 1 to 64", name)
	}
	doc := p.Get("AssumeRolePolicyDocument")
	if err := checkPolicy(doc); err != nil {
		return nil, err
	}
	path := p.Get("Path")
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") {
		return nil, errorf(400, "ValidationError", "Path %q must begin and end with /", path)
	}
	maxSession := 3600
	if v := p.Get("MaxSessionDuration"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3600 || n > 43200 {
			return nil, errorf(400, "ValidationError", "MaxSessionDuration %q must be between 3600 and 43200 seconds", v)
		}
		maxSession = n
	}
	tags, err := parseTags(p)
	if err != nil {
		return nil, err
	}
	role := &Role{
		Path: path, RoleName: name, RoleID: "AROA" + randomID(17),
		Arn:                      fmt.Sprintf("arn:aws:iam::%s:role%s%s", s.env.AccountID, path, name),
		CreateDate:               s.env.Now().UTC().Truncate(time.Second),
		AssumeRolePolicyDocument: doc, Description: p.Get("Description"), MaxSessionDuration: maxSession, Tags: tags,
	}
	err = s.env.Store.Update(func(tx store.Tx) error {
		// Role names are case-insensitive in IAM.
		key := strings.ToLower(name)
		if _, ok := tx.Get(rolesTbl, key); ok {
			return errorf(http.StatusConflict, "EntityAlreadyExists", "Role with name %s already exists.", name)
		}
		b, _ := json.Marshal(role)
		return tx.Put(rolesTbl, key, b)
	})
	if err != nil {
		return nil, err
	}
	return role, nil
}

// GetRole returns the named role or NoSuchEntity.
func (s *Service) GetRole(name string) (*Role, error) {
	var role *Role
	err := s.env.Store.View(func(tx store.Tx) error {
		b, ok := tx.Get(rolesTbl, strings.ToLower(name))
		if !ok {
			return noSuchRole(name)
		}
		role = new(Role)
		return json.Unmarshal(b, role)
	})
	return role, err
}

// DeleteRole deletes a role that has no policies left, as IAM requires.
func (s *Service) DeleteRole(name string) error {
	return s.env.Store.Update(func(tx store.Tx) error {
		key := strings.ToLower(name)
		b, ok := tx.Get(rolesTbl, key)
		if !ok {
			return noSuchRole(name)
		}
		var r Role
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if len(r.InlinePolicies) > 0 || len(r.AttachedPolicies) > 0 {
			return errorf(http.StatusConflict, "DeleteConflict", "Cannot delete entity, must delete policies first.")
		}
		return tx.Delete(rolesTbl, key)
	})
}

func (s *Service) update(name string, fn func(*Role) error) error {
	return s.env.Store.Update(func(tx store.Tx) error {
		key := strings.ToLower(name)
		b, ok := tx.Get(rolesTbl, key)
		if !ok {
			return noSuchRole(name)
		}
		var r Role
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		nb, _ := json.Marshal(&r)
		return tx.Put(rolesTbl, key, nb)
	})
}

func (s *Service) listRoles(p url.Values) (listRolesResult, error) {
	prefix := p.Get("PathPrefix")
	if prefix == "" {
		prefix = "/"
	}
	maxItems := 100
	if v := p.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return listRolesResult{}, errorf(400, "ValidationError", "MaxItems %q must be between 1 and 1000", v)
		}
		maxItems = n
	}
	res := listRolesResult{Roles: []roleXML{}}
	err := s.env.Store.View(func(tx store.Tx) error {
		var decodeErr error
		tx.Ascend(rolesTbl, "", p.Get("Marker"), func(k string, v []byte) bool {
			var r Role
			if decodeErr = json.Unmarshal(v, &r); decodeErr != nil {
				return false
			}
			if !strings.HasPrefix(r.Path, prefix) {
				return true
			}
			if len(res.Roles) == maxItems {
				res.IsTruncated, res.Marker = true, k
				return false
			}
			res.Roles = append(res.Roles, r.xml())
			return true
		})
		return decodeErr
	})
	return res, err
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}
