package lambda

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

// Store tables.
const (
	tableFunctions = "lambda/functions" // name -> functionRecord
	tableVersions  = "lambda/versions"  // name + "/" + %010d -> FunctionConfiguration
	tableCode      = "lambda/code"      // SHA-256 hex -> zip
)

// supportedRuntimes are the OS-only runtimes, which run a bootstrap
// executable: the only kind a local process can be.
const supportedRuntimes = "provided.al2023 and provided.al2"

func supported(runtime string) bool {
	return runtime == "provided.al2023" || runtime == "provided.al2"
}

// FunctionConfiguration is a function's or version's configuration, in
// AWS's JSON shape.
type FunctionConfiguration struct {
	FunctionName     string
	FunctionArn      string
	Runtime          string
	Role             string
	Handler          string
	CodeSize         int64
	Description      string
	Timeout          int
	MemorySize       int
	LastModified     string
	CodeSha256       string
	Version          string
	Environment      *Environment `json:",omitempty"`
	TracingConfig    TracingConfig
	RevisionId       string
	State            string
	LastUpdateStatus string
	PackageType      string
	Architectures    []string
	EphemeralStorage EphemeralStorage
	SnapStart        SnapStart
	LoggingConfig    LoggingConfig
}

// Environment is a function's environment variables.
type Environment struct {
	Variables map[string]string
}

// TracingConfig is X-Ray's mode; the emulator does not trace.
type TracingConfig struct{ Mode string }

// EphemeralStorage is /tmp's size in MB.
type EphemeralStorage struct{ Size int }

// SnapStart is never on in the emulator.
type SnapStart struct{ ApplyOn, OptimizationStatus string }

// LoggingConfig names the log group AWS would write to.
type LoggingConfig struct{ LogFormat, LogGroup string }

// functionRecord is what the store keeps per function.
type functionRecord struct {
	Config   FunctionConfiguration // $LATEST
	Tags     map[string]string     `json:",omitempty"`
	Reserved *int                  `json:",omitempty"`
	// LastVersion is the highest published version; PublishedRevision is
	// $LATEST's RevisionId when it was published, so publishing an
	// unchanged function returns that version instead of a new one.
	LastVersion       int
	PublishedRevision string `json:",omitempty"`
}

func (s *Service) functionArn(name string) string {
	return "arn:aws:lambda:" + s.env.Region + ":" + s.env.AccountID + ":function:" + name
}

func (s *Service) now() string {
	return s.env.Now().UTC().Format("2006-01-02T15:04:05.000+0000")
}

var (
	rolePattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	})
	versionPat = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+$`) })
)

// reservedEnv reports the variables Lambda sets and refuses to let a
// function set.
func reservedEnv(k string) bool {
	switch k {
	case "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
		"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR":
		return true
	}
	return false
}

// ref is a parsed FunctionName: a name and an optional qualifier.
type ref struct {
	name, qualifier string
}

// parseRef accepts a name, name:qualifier, a full ARN or a partial ARN
// (account:function:name), each with an optional qualifier, plus an
// explicit Qualifier parameter that must agree with one in the name.
func (s *Service) parseRef(functionName, qualifier string) (ref, error) {
	parts := strings.Split(functionName, ":")
	var r ref
	switch {
	case len(parts) == 1:
		r.name = parts[0]
	case len(parts) == 2:
		r.name, r.qualifier = parts[0], parts[1]
	case parts[0] == "arn" && (len(parts) == 7 || len(parts) == 8) && parts[2] == "lambda" && parts[5] == "function":
		if parts[3] != s.env.Region || parts[4] != s.env.AccountID {
			return r, errNotFound("Function not found: %s (the emulator serves region %s, account %s)", functionName, s.env.Region, s.env.AccountID)
		}
		r.name = parts[6]
		if len(parts) == 8 {
			r.qualifier = parts[7]
		}
	case (len(parts) == 3 || len(parts) == 4) && parts[1] == "function":
		if parts[0] != s.env.AccountID {
			return r, errNotFound("Function not found: %s (the emulator serves account %s)", functionName, s.env.AccountID)
		}
		r.name = parts[2]
		if len(parts) == 4 {
			r.qualifier = parts[3]
		}
	default:
		return r, errValidation("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must be a function name, name:qualifier or function ARN", functionName)
	}
	if !awsapi.ValidName(r.name, 64, "-") {
		return r, errValidation("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]{1,64} (or an ARN)", functionName)
	}
	if qualifier != "" {
		if r.qualifier != "" && r.qualifier != qualifier {
			return r, errInvalid("The derived qualifier from the function name does not match the specified qualifier.")
		}
		r.qualifier = qualifier
	}
	if r.qualifier != "" && r.qualifier != "$LATEST" && !versionPat().MatchString(r.qualifier) {
		// Aliases are not emulated: name what is.
		return r, errNotFound("Function not found: %s:%s (the emulator serves $LATEST and numbered versions, not aliases)", s.functionArn(r.name), r.qualifier)
	}
	return r, nil
}

func (s *Service) notFound(r ref) *awsapi.Error {
	arn := s.functionArn(r.name)
	if r.qualifier != "" {
		arn += ":" + r.qualifier
	}
	return errNotFound("Function not found: %s", arn)
}

func getRecord(tx store.Tx, name string) (*functionRecord, error) {
	v, ok := tx.Get(tableFunctions, name)
	if !ok {
		return nil, nil
	}
	var rec functionRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, errService("corrupt function record %s: %v", name, err)
	}
	return &rec, nil
}

// existing is r's function record, or ResourceNotFoundException naming r.
func (s *Service) existing(tx store.Tx, r ref) (*functionRecord, error) {
	rec, err := getRecord(tx, r.name)
	if err == nil && rec == nil {
		err = s.notFound(r)
	}
	return rec, err
}

func putRecord(tx store.Tx, rec *functionRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Put(tableFunctions, rec.Config.FunctionName, v)
}

func versionKey(name string, v int) string { return fmt.Sprintf("%s/%010d", name, v) }

func getVersion(tx store.Tx, name, version string) (*FunctionConfiguration, error) {
	n, err := strconv.Atoi(version)
	if err != nil {
		return nil, nil
	}
	v, ok := tx.Get(tableVersions, versionKey(name, n))
	if !ok {
		return nil, nil
	}
	var c FunctionConfiguration
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, errService("corrupt version record %s:%s: %v", name, version, err)
	}
	return &c, nil
}

// resolve reads the configuration r names, and the function's record.
func (s *Service) resolve(tx store.Tx, r ref) (*FunctionConfiguration, *functionRecord, error) {
	rec, err := getRecord(tx, r.name)
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return nil, nil, s.notFound(r)
	}
	switch r.qualifier {
	case "":
		c := rec.Config
		return &c, rec, nil
	case "$LATEST":
		c := rec.Config
		c.FunctionArn += ":$LATEST"
		return &c, rec, nil
	}
	c, err := getVersion(tx, r.name, r.qualifier)
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, nil, s.notFound(r)
	}
	return c, rec, nil
}

// FunctionCode is CreateFunction's and UpdateFunctionCode's code: a zip in
// the request (base64 in JSON, decoded by encoding/json) or an S3 object.
type FunctionCode struct {
	ZipFile         []byte
	S3Bucket        string
	S3Key           string
	S3ObjectVersion string
	ImageUri        string
}

// CreateFunctionInput is CreateFunction's request.
type CreateFunctionInput struct {
	FunctionName     string
	Runtime          string
	Role             string
	Handler          string
	Code             FunctionCode
	Description      string
	Timeout          *int
	MemorySize       *int
	Publish          bool
	PackageType      string
	Environment      *Environment
	Tags             map[string]string
	Architectures    []string
	TracingConfig    *TracingConfig
	EphemeralStorage *EphemeralStorage
}

// readCode loads and checks a zip; it returns the zip and its SHA-256.
// upload, when not nil, is c.ZipFile as cut out of the request, with its
// SHA-256 computed already.
func (s *Service) readCode(ctx context.Context, c FunctionCode, upload *uploadedZip) ([]byte, [32]byte, error) {
	var zipBytes []byte
	switch {
	case c.ImageUri != "":
		return nil, [32]byte{}, errInvalid("PackageType Image is not supported by the scones emulator: upload a .zip with a bootstrap executable (runtime provided.al2023)")
	case len(c.ZipFile) > 0 && c.S3Bucket != "":
		return nil, [32]byte{}, errInvalid("Please provide either ZipFile or S3Bucket and S3Key, not both.")
	case len(c.ZipFile) > 0:
		zipBytes = c.ZipFile
	case c.S3Bucket != "" && c.S3Key != "":
		if s.objects == nil {
			return nil, [32]byte{}, errService("the emulator has no S3 service to read s3://%s/%s from", c.S3Bucket, c.S3Key)
		}
		data, _, err := s.objects.GetObject(ctx, c.S3Bucket, c.S3Key)
		if err != nil {
			var ae *awsapi.Error
			if errors.As(err, &ae) {
				return nil, [32]byte{}, errInvalid("Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s", ae.Code, ae.Message)
			}
			return nil, [32]byte{}, errInvalid("Error occurred while GetObject s3://%s/%s: %v", c.S3Bucket, c.S3Key, err)
		}
		zipBytes = data
	case c.S3Bucket != "" || c.S3Key != "":
		return nil, [32]byte{}, errInvalid("Please provide both S3Bucket and S3Key.")
	default:
		return nil, [32]byte{}, errInvalid("Please provide a source for function code: ZipFile, or S3Bucket and S3Key.")
	}
	if len(zipBytes) > MaxZipSize {
		return nil, [32]byte{}, &awsapi.Error{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLargeException",
			Message: fmt.Sprintf("Zipped size must be smaller than %d bytes", MaxZipSize)}
	}
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return nil, [32]byte{}, errInvalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > MaxUnzippedSize {
		return nil, [32]byte{}, errInvalid("Unzipped size must be smaller than %d bytes", MaxUnzippedSize)
	}
	if upload != nil && len(c.ZipFile) > 0 {
		return zipBytes, upload.sum, nil
	}
	return zipBytes, sha256.Sum256(zipBytes), nil
}

func putCode(tx store.Tx, zipBytes []byte, sum [32]byte) error {
	key := hex.EncodeToString(sum[:])
	if _, ok := tx.Get(tableCode, key); ok {
		return nil
	}
	return tx.Put(tableCode, key, zipBytes)
}

// codeKey turns a CodeSha256 (base64) into the code table's key (hex).
func codeKey(codeSha256 string) string {
	b, err := base64.StdEncoding.DecodeString(codeSha256)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// gcCode deletes code no function or version references any more, and
// adds it to gone, for dropCode once the transaction has committed.
func gcCode(tx store.Tx, codeSha256 string, gone *[]string) error {
	used := false
	scan := func(_ string, v []byte) bool {
		if bytes.Contains(v, []byte(`"CodeSha256":"`+codeSha256+`"`)) {
			used = true
		}
		return !used
	}
	if err := tx.Ascend(tableFunctions, "", "", scan); err != nil {
		return err
	}
	if !used {
		if err := tx.Ascend(tableVersions, "", "", scan); err != nil {
			return err
		}
	}
	if used {
		return nil
	}
	*gone = append(*gone, codeSha256)
	return tx.Delete(tableCode, codeKey(codeSha256))
}

func checkEnv(e *Environment) error {
	if e == nil {
		return nil
	}
	var bad []string
	for k := range e.Variables {
		if reservedEnv(k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return errInvalid("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(bad, ", "))
	}
	var size int
	for k, v := range e.Variables {
		size += len(k) + len(v)
	}
	if size > 4096 {
		return errInvalid("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %d", size)
	}
	return nil
}

func checkLimits(timeout, memory *int) error {
	if timeout != nil && (*timeout < 1 || *timeout > 900) {
		return errValidation("1 validation error detected: Value '%d' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900", *timeout)
	}
	if memory != nil && (*memory < 128 || *memory > 10240) {
		return errValidation("1 validation error detected: Value '%d' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240", *memory)
	}
	return nil
}

func checkRuntime(runtime string) error {
	if !supported(runtime) {
		return errInvalid("The runtime parameter of %s is not supported by the scones emulator: it runs %s (a bootstrap executable at the root of the zip, e.g. a Go binary built with -tags lambda.norpc).",
			strconvQuote(runtime), supportedRuntimes)
	}
	return nil
}

func strconvQuote(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func checkArchitectures(a []string) ([]string, error) {
	if len(a) == 0 {
		return []string{"x86_64"}, nil
	}
	if len(a) > 1 || (a[0] != "x86_64" && a[0] != "arm64") {
		return nil, errValidation("1 validation error detected: Value '%v' at 'architectures' failed to satisfy constraint: Member must have length 1 and each member must be one of [x86_64, arm64]", a)
	}
	return a, nil
}

func newRevision() string { return awsapi.NewRequestID() }

// CreateFunction creates a function from a zip.
func (s *Service) CreateFunction(ctx context.Context, in CreateFunctionInput) (*FunctionConfiguration, error) {
	return s.createFunction(ctx, in, nil)
}

// createFunction is CreateFunction; upload is as readCode takes it.
func (s *Service) createFunction(ctx context.Context, in CreateFunctionInput, upload *uploadedZip) (*FunctionConfiguration, error) {
	r, err := s.parseRef(in.FunctionName, "")
	if err != nil {
		return nil, err
	}
	if r.qualifier != "" {
		return nil, errInvalid("A function name passed to CreateFunction cannot have a qualifier: %s", in.FunctionName)
	}
	if in.PackageType != "" && in.PackageType != "Zip" {
		return nil, errInvalid("PackageType %s is not supported by the scones emulator: use Zip", in.PackageType)
	}
	if err := checkRuntime(in.Runtime); err != nil {
		return nil, err
	}
	if !rolePattern().MatchString(in.Role) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+", in.Role)
	}
	if err := checkLimits(in.Timeout, in.MemorySize); err != nil {
		return nil, err
	}
	if err := checkEnv(in.Environment); err != nil {
		return nil, err
	}
	arch, err := checkArchitectures(in.Architectures)
	if err != nil {
		return nil, err
	}
	zipBytes, sum, err := s.readCode(ctx, in.Code, upload)
	if err != nil {
		return nil, err
	}
	cfg := FunctionConfiguration{
		FunctionName: r.name, FunctionArn: s.functionArn(r.name), Runtime: in.Runtime, Role: in.Role,
		Handler: in.Handler, CodeSize: int64(len(zipBytes)), Description: in.Description,
		Timeout: 3, MemorySize: 128, LastModified: s.now(),
		CodeSha256: base64.StdEncoding.EncodeToString(sum[:]), Version: "$LATEST",
		TracingConfig: TracingConfig{Mode: "PassThrough"}, RevisionId: newRevision(),
		State: "Active", LastUpdateStatus: "Successful", PackageType: "Zip", Architectures: arch,
		EphemeralStorage: EphemeralStorage{Size: 512},
		SnapStart:        SnapStart{ApplyOn: "None", OptimizationStatus: "Off"},
		LoggingConfig:    LoggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + r.name},
	}
	if in.Timeout != nil {
		cfg.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		cfg.MemorySize = *in.MemorySize
	}
	if in.Environment != nil && in.Environment.Variables != nil {
		cfg.Environment = &Environment{Variables: in.Environment.Variables}
	}
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
		cfg.TracingConfig = *in.TracingConfig
	}
	if in.EphemeralStorage != nil && in.EphemeralStorage.Size != 0 {
		cfg.EphemeralStorage = *in.EphemeralStorage
	}
	out := cfg
	err = s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableFunctions, r.name); ok {
			return errConflict("Function already exist: %s", r.name)
		}
		if err := putCode(tx, zipBytes, sum); err != nil {
			return err
		}
		rec := &functionRecord{Config: cfg, Tags: in.Tags}
		if in.Publish {
			v, err := publish(tx, rec, "")
			if err != nil {
				return err
			}
			out = *v
		}
		return putRecord(tx, rec)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("lambda: created function", "function", r.name, "code_sha256", cfg.CodeSha256, "code_size", cfg.CodeSize)
	s.prepareCode(cfg.CodeSha256, upload.owned())
	return &out, nil
}

// publish snapshots $LATEST as a new version, or returns the version last
// published from the same revision.
func publish(tx store.Tx, rec *functionRecord, description string) (*FunctionConfiguration, error) {
	if rec.LastVersion > 0 && rec.PublishedRevision == rec.Config.RevisionId {
		v, err := getVersion(tx, rec.Config.FunctionName, strconv.Itoa(rec.LastVersion))
		if err != nil || v != nil {
			return v, err
		}
	}
	rec.LastVersion++
	rec.PublishedRevision = rec.Config.RevisionId
	v := rec.Config
	v.Version = strconv.Itoa(rec.LastVersion)
	v.FunctionArn = rec.Config.FunctionArn + ":" + v.Version
	v.RevisionId = newRevision()
	if description != "" {
		v.Description = description
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if err := tx.Put(tableVersions, versionKey(v.FunctionName, rec.LastVersion), data); err != nil {
		return nil, err
	}
	return &v, nil
}

// GetFunctionOutput is GetFunction's response.
type GetFunctionOutput struct {
	Configuration FunctionConfiguration
	Code          CodeLocation
	Tags          map[string]string `json:",omitempty"`
	Concurrency   *Concurrency      `json:",omitempty"`
}

// CodeLocation says where the code is. The emulator has no presigned URL
// to give: Location names the store key.
type CodeLocation struct {
	RepositoryType string
	Location       string
}

// Concurrency is a function's reserved concurrency.
type Concurrency struct {
	ReservedConcurrentExecutions *int `json:",omitempty"`
}

// GetFunctionConfiguration returns the configuration of $LATEST or of the
// version functionName/qualifier names.
func (s *Service) GetFunctionConfiguration(_ context.Context, functionName, qualifier string) (*FunctionConfiguration, error) {
	r, err := s.parseRef(functionName, qualifier)
	if err != nil {
		return nil, err
	}
	var cfg *FunctionConfiguration
	err = s.env.Store.View(func(tx store.Tx) error {
		cfg, _, err = s.resolve(tx, r)
		return err
	})
	return cfg, err
}

// GetFunction returns a function's configuration, code location, tags and
// reserved concurrency.
func (s *Service) GetFunction(_ context.Context, functionName, qualifier string) (*GetFunctionOutput, error) {
	r, err := s.parseRef(functionName, qualifier)
	if err != nil {
		return nil, err
	}
	var out GetFunctionOutput
	err = s.env.Store.View(func(tx store.Tx) error {
		cfg, rec, err := s.resolve(tx, r)
		if err != nil {
			return err
		}
		out.Configuration = *cfg
		out.Tags = rec.Tags
		if out.Tags == nil {
			out.Tags = map[string]string{}
		}
		if rec.Reserved != nil {
			out.Concurrency = &Concurrency{ReservedConcurrentExecutions: rec.Reserved}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Code = CodeLocation{RepositoryType: "S3", Location: s.codeURL(out.Configuration.CodeSha256)}
	return &out, nil
}

// UpdateFunctionCodeInput is UpdateFunctionCode's request.
type UpdateFunctionCodeInput struct {
	FunctionCode
	FunctionName  string `json:"-"`
	Publish       bool
	DryRun        bool
	RevisionId    string
	Architectures []string
}

// UpdateFunctionCode replaces $LATEST's code and retires its instances.
func (s *Service) UpdateFunctionCode(ctx context.Context, in UpdateFunctionCodeInput) (*FunctionConfiguration, error) {
	return s.updateFunctionCode(ctx, in, nil)
}

// updateFunctionCode is UpdateFunctionCode; upload is as readCode takes it.
func (s *Service) updateFunctionCode(ctx context.Context, in UpdateFunctionCodeInput, upload *uploadedZip) (*FunctionConfiguration, error) {
	r, err := s.parseRef(in.FunctionName, "")
	if err != nil {
		return nil, err
	}
	if r.qualifier != "" {
		return nil, errInvalid("Only the $LATEST version's code can be updated: %s", in.FunctionName)
	}
	var arch []string
	if len(in.Architectures) > 0 {
		if arch, err = checkArchitectures(in.Architectures); err != nil {
			return nil, err
		}
	}
	zipBytes, sum, err := s.readCode(ctx, in.FunctionCode, upload)
	if err != nil {
		return nil, err
	}
	var out FunctionConfiguration
	var gone []string
	err = s.env.Store.Update(func(tx store.Tx) error {
		rec, err := s.existing(tx, r)
		if err != nil {
			return err
		}
		if in.RevisionId != "" && in.RevisionId != rec.Config.RevisionId {
			return &awsapi.Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailedException",
				Message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"}
		}
		old := rec.Config.CodeSha256
		c := &rec.Config
		c.CodeSha256 = base64.StdEncoding.EncodeToString(sum[:])
		c.CodeSize = int64(len(zipBytes))
		if arch != nil {
			c.Architectures = arch
		}
		if in.DryRun {
			out = *c
			return nil
		}
		c.LastModified = s.now()
		c.RevisionId = newRevision()
		if err := putCode(tx, zipBytes, sum); err != nil {
			return err
		}
		out = *c
		if in.Publish {
			v, err := publish(tx, rec, "")
			if err != nil {
				return err
			}
			out = *v
		}
		if err := putRecord(tx, rec); err != nil {
			return err
		}
		if old != c.CodeSha256 {
			return gcCode(tx, old, &gone)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !in.DryRun {
		s.retire(r.name, "$LATEST")
		s.dropCode(gone...)
		s.prepareCode(out.CodeSha256, upload.owned())
	}
	return &out, nil
}

// UpdateFunctionConfigurationInput is UpdateFunctionConfiguration's
// request; nil fields are left as they are.
type UpdateFunctionConfigurationInput struct {
	FunctionName     string `json:"-"`
	Role             *string
	Handler          *string
	Description      *string
	Timeout          *int
	MemorySize       *int
	Environment      *Environment
	Runtime          *string
	RevisionId       string
	TracingConfig    *TracingConfig
	EphemeralStorage *EphemeralStorage
}

// UpdateFunctionConfiguration changes $LATEST's settings (a new
// Environment replaces the old one) and retires its instances.
func (s *Service) UpdateFunctionConfiguration(_ context.Context, in UpdateFunctionConfigurationInput) (*FunctionConfiguration, error) {
	r, err := s.parseRef(in.FunctionName, "")
	if err != nil {
		return nil, err
	}
	if r.qualifier != "" {
		return nil, errInvalid("Only the $LATEST version's configuration can be updated: %s", in.FunctionName)
	}
	if in.Runtime != nil {
		if err := checkRuntime(*in.Runtime); err != nil {
			return nil, err
		}
	}
	if in.Role != nil && !rolePattern().MatchString(*in.Role) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+", *in.Role)
	}
	if err := checkLimits(in.Timeout, in.MemorySize); err != nil {
		return nil, err
	}
	if err := checkEnv(in.Environment); err != nil {
		return nil, err
	}
	var out FunctionConfiguration
	err = s.env.Store.Update(func(tx store.Tx) error {
		rec, err := s.existing(tx, r)
		if err != nil {
			return err
		}
		if in.RevisionId != "" && in.RevisionId != rec.Config.RevisionId {
			return &awsapi.Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailedException",
				Message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"}
		}
		c := &rec.Config
		if in.Role != nil {
			c.Role = *in.Role
		}
		if in.Handler != nil {
			c.Handler = *in.Handler
		}
		if in.Description != nil {
			c.Description = *in.Description
		}
		if in.Timeout != nil {
			c.Timeout = *in.Timeout
		}
		if in.MemorySize != nil {
			c.MemorySize = *in.MemorySize
		}
		if in.Runtime != nil {
			c.Runtime = *in.Runtime
		}
		if in.Environment != nil {
			c.Environment = &Environment{Variables: in.Environment.Variables}
			if len(in.Environment.Variables) == 0 {
				c.Environment = nil
			}
		}
		if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
			c.TracingConfig = *in.TracingConfig
		}
		if in.EphemeralStorage != nil && in.EphemeralStorage.Size != 0 {
			c.EphemeralStorage = *in.EphemeralStorage
		}
		c.LastModified = s.now()
		c.RevisionId = newRevision()
		out = *c
		return putRecord(tx, rec)
	})
	if err != nil {
		return nil, err
	}
	s.retire(r.name, "$LATEST")
	return &out, nil
}

// DeleteFunction deletes a function with all its versions, or one version
// when qualified, and retires the instances.
func (s *Service) DeleteFunction(_ context.Context, functionName, qualifier string) error {
	r, err := s.parseRef(functionName, qualifier)
	if err != nil {
		return err
	}
	if r.qualifier == "$LATEST" {
		return errInvalid("$LATEST version cannot be deleted without deleting the function.")
	}
	var gone []string
	err = s.env.Store.Update(func(tx store.Tx) error {
		rec, err := s.existing(tx, r)
		if err != nil {
			return err
		}
		if r.qualifier != "" {
			v, err := getVersion(tx, r.name, r.qualifier)
			if err != nil {
				return err
			}
			if v == nil {
				return s.notFound(r)
			}
			n, _ := strconv.Atoi(r.qualifier)
			if err := tx.Delete(tableVersions, versionKey(r.name, n)); err != nil {
				return err
			}
			return gcCode(tx, v.CodeSha256, &gone)
		}
		var keys []string
		codes := map[string]bool{rec.Config.CodeSha256: true}
		err = tx.Ascend(tableVersions, r.name+"/", "", func(k string, v []byte) bool {
			keys = append(keys, k)
			var c FunctionConfiguration
			if json.Unmarshal(v, &c) == nil {
				codes[c.CodeSha256] = true
			}
			return true
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(tableVersions, k); err != nil {
				return err
			}
		}
		if err := tx.Delete(tableFunctions, r.name); err != nil {
			return err
		}
		for c := range codes {
			if err := gcCode(tx, c, &gone); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if r.qualifier != "" {
		s.retire(r.name, r.qualifier)
	} else {
		s.retire(r.name, "")
	}
	s.dropCode(gone...)
	s.log.Info("lambda: deleted function", "function", r.name, "qualifier", r.qualifier)
	return nil
}

// ListFunctionsOutput is ListFunctions' response.
type ListFunctionsOutput struct {
	Functions  []FunctionConfiguration
	NextMarker *string `json:",omitempty"`
}

// ListVersionsOutput is ListVersionsByFunction's response.
type ListVersionsOutput struct {
	Versions   []FunctionConfiguration
	NextMarker *string `json:",omitempty"`
}

func parseMaxItems(s string) (int, error) {
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 10000 {
		return 0, errValidation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", s)
	}
	return n, nil
}

func decodeMarker(m string) (string, error) {
	if m == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return "", errInvalid("Invalid Marker: %s", m)
	}
	return string(b), nil
}

func encodeMarker(k string) *string {
	m := base64.RawURLEncoding.EncodeToString([]byte(k))
	return &m
}

// ListFunctions lists $LATEST of every function (and every version when
// allVersions), in name order, maxItems at a time after marker.
func (s *Service) ListFunctions(_ context.Context, marker string, maxItems int, allVersions bool) (*ListFunctionsOutput, error) {
	from, err := decodeMarker(marker)
	if err != nil {
		return nil, err
	}
	out := &ListFunctionsOutput{Functions: []FunctionConfiguration{}}
	// Keys order as name, then name/version; a marker is the last key.
	err = s.env.Store.View(func(tx store.Tx) error {
		var last string
		var ierr error
		err := tx.Ascend(tableFunctions, "", from, func(k string, v []byte) bool {
			if k == from {
				return true
			}
			var rec functionRecord
			if ierr = json.Unmarshal(v, &rec); ierr != nil {
				return false
			}
			if len(out.Functions) == maxItems {
				out.NextMarker = encodeMarker(last)
				return false
			}
			out.Functions = append(out.Functions, rec.Config)
			last = k
			if allVersions {
				ierr = tx.Ascend(tableVersions, k+"/", "", func(_ string, v []byte) bool {
					var c FunctionConfiguration
					if ierr = json.Unmarshal(v, &c); ierr != nil {
						return false
					}
					out.Functions = append(out.Functions, c)
					return true
				})
			}
			return ierr == nil
		})
		if err != nil {
			return err
		}
		return ierr
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListVersionsByFunction lists $LATEST and the published versions.
func (s *Service) ListVersionsByFunction(_ context.Context, functionName, marker string, maxItems int) (*ListVersionsOutput, error) {
	r, err := s.parseRef(functionName, "")
	if err != nil {
		return nil, err
	}
	from, err := decodeMarker(marker)
	if err != nil {
		return nil, err
	}
	out := &ListVersionsOutput{Versions: []FunctionConfiguration{}}
	err = s.env.Store.View(func(tx store.Tx) error {
		rec, err := s.existing(tx, r)
		if err != nil {
			return err
		}
		all := []FunctionConfiguration{}
		latest := rec.Config
		latest.FunctionArn += ":$LATEST"
		all = append(all, latest)
		var ierr error
		err = tx.Ascend(tableVersions, r.name+"/", "", func(_ string, v []byte) bool {
			var c FunctionConfiguration
			if ierr = json.Unmarshal(v, &c); ierr != nil {
				return false
			}
			all = append(all, c)
			return true
		})
		if err != nil || ierr != nil {
			return errors.Join(err, ierr)
		}
		start := 0
		if from != "" {
			for i, c := range all {
				if c.Version == from {
					start = i + 1
				}
			}
		}
		end := min(start+maxItems, len(all))
		out.Versions = all[start:end]
		if end < len(all) {
			out.NextMarker = encodeMarker(all[end-1].Version)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PublishVersion publishes $LATEST as a new version. codeSha256 and
// revisionID, when given, must match $LATEST's.
func (s *Service) PublishVersion(_ context.Context, functionName, codeSha256, description, revisionID string) (*FunctionConfiguration, error) {
	r, err := s.parseRef(functionName, "")
	if err != nil {
		return nil, err
	}
	var out *FunctionConfiguration
	err = s.env.Store.Update(func(tx store.Tx) error {
		rec, err := s.existing(tx, r)
		if err != nil {
			return err
		}
		if codeSha256 != "" && codeSha256 != rec.Config.CodeSha256 {
			return errInvalid("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", codeSha256, rec.Config.CodeSha256)
		}
		if revisionID != "" && revisionID != rec.Config.RevisionId {
			return &awsapi.Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailedException",
				Message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"}
		}
		if out, err = publish(tx, rec, description); err != nil {
			return err
		}
		return putRecord(tx, rec)
	})
	return out, err
}

// PutFunctionConcurrency reserves concurrency for a function (0 stops all
// invocations), leaving at least MinUnreserved of AccountConcurrency to
// the others.
func (s *Service) PutFunctionConcurrency(_ context.Context, functionName string, reserved int) error {
	r, err := s.parseRef(functionName, "")
	if err != nil {
		return err
	}
	if r.qualifier != "" {
		return errInvalid("Reserved concurrency applies to a function, not to a version: %s", functionName)
	}
	if reserved < 0 {
		return errValidation("1 validation error detected: Value '%d' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0", reserved)
	}
	return s.env.Store.Update(func(tx store.Tx) error {
		rec, err := s.existing(tx, r)
		if err != nil {
			return err
		}
		total := reserved
		var ierr error
		err = tx.Ascend(tableFunctions, "", "", func(k string, v []byte) bool {
			if k == r.name {
				return true
			}
			var o functionRecord
			if ierr = json.Unmarshal(v, &o); ierr != nil {
				return false
			}
			if o.Reserved != nil {
				total += *o.Reserved
			}
			return true
		})
		if err != nil || ierr != nil {
			return errors.Join(err, ierr)
		}
		if AccountConcurrency-total < MinUnreserved {
			return errInvalid("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", MinUnreserved)
		}
		rec.Reserved = &reserved
		return putRecord(tx, rec)
	})
}

// GetFunctionConcurrency returns the reserved concurrency, nil if none.
func (s *Service) GetFunctionConcurrency(_ context.Context, functionName string) (*int, error) {
	r, err := s.parseRef(functionName, "")
	if err != nil {
		return nil, err
	}
	var out *int
	err = s.env.Store.View(func(tx store.Tx) error {
		rec, err := s.existing(tx, r)
		if err != nil {
			return err
		}
		out = rec.Reserved
		return nil
	})
	return out, err
}

// DeleteFunctionConcurrency removes the reservation.
func (s *Service) DeleteFunctionConcurrency(_ context.Context, functionName string) error {
	r, err := s.parseRef(functionName, "")
	if err != nil {
		return err
	}
	return s.env.Store.Update(func(tx store.Tx) error {
		rec, err := s.existing(tx, r)
		if err != nil {
			return err
		}
		rec.Reserved = nil
		return putRecord(tx, rec)
	})
}

// tagTarget parses a tagging ARN: a function's unqualified ARN.
func (s *Service) tagTarget(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" {
		return "", errValidation("1 validation error detected: Value '%s' at 'resource' failed to satisfy constraint: Member must be a function ARN (arn:aws:lambda:<region>:<account>:function:<name>)", arn)
	}
	r, err := s.parseRef(arn, "")
	return r.name, err
}

// TagResource adds or replaces tags on a function.
func (s *Service) TagResource(_ context.Context, arn string, tags map[string]string) error {
	return s.updateTags(arn, func(t map[string]string) {
		for k, v := range tags {
			t[k] = v
		}
	})
}

// UntagResource removes tags from a function.
func (s *Service) UntagResource(_ context.Context, arn string, keys []string) error {
	return s.updateTags(arn, func(t map[string]string) {
		for _, k := range keys {
			delete(t, k)
		}
	})
}

func (s *Service) updateTags(arn string, fn func(map[string]string)) error {
	name, err := s.tagTarget(arn)
	if err != nil {
		return err
	}
	return s.env.Store.Update(func(tx store.Tx) error {
		rec, err := getRecord(tx, name)
		if err != nil {
			return err
		}
		if rec == nil {
			return s.notFound(ref{name: name})
		}
		if rec.Tags == nil {
			rec.Tags = map[string]string{}
		}
		fn(rec.Tags)
		if len(rec.Tags) > 50 {
			return errInvalid("Number of tags exceeds resource tag limit of 50.")
		}
		return putRecord(tx, rec)
	})
}

// ListTags returns a function's tags.
func (s *Service) ListTags(_ context.Context, arn string) (map[string]string, error) {
	name, err := s.tagTarget(arn)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	err = s.env.Store.View(func(tx store.Tx) error {
		rec, err := getRecord(tx, name)
		if err != nil {
			return err
		}
		if rec == nil {
			return s.notFound(ref{name: name})
		}
		for k, v := range rec.Tags {
			tags[k] = v
		}
		return nil
	})
	return tags, err
}

// readZip returns stored code by CodeSha256.
func (s *Service) readZip(codeSha256 string) ([]byte, error) {
	var data []byte
	err := s.env.Store.View(func(tx store.Tx) error {
		v, ok := tx.Get(tableCode, codeKey(codeSha256))
		if !ok {
			return errService("code %s is missing from the store", codeSha256)
		}
		data = bytes.Clone(v)
		return nil
	})
	return data, err
}

func encodeSha(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
