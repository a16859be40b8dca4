package asl

import (
	"errors"
	"fmt"
	"strings"
)

// Predefined error names of the Amazon States Language.
const (
	ErrAll                             = "States.ALL"
	ErrTaskFailed                      = "States.TaskFailed"
	ErrTimeout                         = "States.Timeout"
	ErrHeartbeatTimeout                = "States.HeartbeatTimeout"
	ErrRuntime                         = "States.Runtime"
	ErrDataLimitExceeded               = "States.DataLimitExceeded"
	ErrResultPathMatchFailure          = "States.ResultPathMatchFailure"
	ErrParameterPathFailure            = "States.ParameterPathFailure"
	ErrIntrinsicFailure                = "States.IntrinsicFailure"
	ErrQueryEvaluationError            = "States.QueryEvaluationError"
	ErrBranchFailed                    = "States.BranchFailed"
	ErrNoChoiceMatched                 = "States.NoChoiceMatched"
	ErrExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed                = "States.ItemReaderFailed"
	ErrResultWriterFailed              = "States.ResultWriterFailed"
	ErrPermissions                     = "States.Permissions"
)

// Error is a run-time error of an execution, as ASL sees it: Name is what
// Retry and Catch match (ErrorEquals), Cause the human-readable detail.
// A TaskInvoker reports a task failure by returning an *Error (for a Lambda
// function error, Name is the function's errorType, e.g.
// "THRESHOLD_CONFIDENCE_NOT_MET", and Cause its JSON error document).
type Error struct {
	Name  string
	Cause string

	// internal marks errors raised by the engine itself (path, intrinsic,
	// JSONata and quota failures); their cause gets AWS's "An error
	// occurred while executing the state ..." prefix once, at the state
	// that raised them.
	internal bool
	// location is the field of a failed JSONata expression, as AWS names
	// it in EvaluationFailed events ("Output/v", "Choices[1]/Condition").
	location string
}

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

func errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...), internal: true}
}

// asError converts any error into an *Error. Errors that are not *Error
// (and do not wrap one) become States.TaskFailed when task is true, else
// States.Runtime.
func asError(err error, task bool) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	type named interface{ ErrorName() string }
	var n named
	if errors.As(err, &n) {
		return &Error{Name: n.ErrorName(), Cause: err.Error()}
	}
	if task {
		return &Error{Name: ErrTaskFailed, Cause: err.Error()}
	}
	return &Error{Name: ErrRuntime, Cause: err.Error()}
}

// Severity of a Diagnostic.
const (
	SeverityError   = "ERROR"
	SeverityWarning = "WARNING"
)

// Diagnostic codes used by the validator (the same codes AWS's
// ValidateStateMachineDefinition returns).
const (
	CodeSchemaValidationFailed  = "SCHEMA_VALIDATION_FAILED"
	CodeMissingTransitionTarget = "MISSING_TRANSITION_TARGET"
	CodeMissingEndState         = "MISSING_END_STATE"
	CodeInvalidJSONDescription  = "INVALID_JSON_DESCRIPTION"
	CodeInvalidResource         = "INVALID_RESOURCE"
	CodeDuplicateStateName      = "DUPLICATE_STATE_NAME"
)

// Diagnostic is one problem found in a definition. Location is a JSON
// pointer into the definition such as "/States/Foo/Next" (empty when the
// problem concerns the whole definition).
type Diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

func (d Diagnostic) String() string {
	loc := d.Location
	if loc == "" {
		loc = "null"
	}
	return d.Code + ": " + d.Message + " at " + loc
}

// ValidationError is returned by Parse for a definition AWS would reject
// (InvalidDefinition). It holds every problem found, not just the first.
type ValidationError struct {
	Diagnostics []Diagnostic
}

// Error renders the diagnostics the way CreateStateMachine's
// InvalidDefinition message does:
// "Invalid State Machine Definition: 'CODE: message at /location, ...'".
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Diagnostics))
	for _, d := range e.Diagnostics {
		if d.Severity == SeverityWarning {
			continue
		}
		parts = append(parts, d.String())
	}
	return "Invalid State Machine Definition: '" + strings.Join(parts, ", ") + "'"
}

// Errors returns only the ERROR-severity diagnostics.
func (e *ValidationError) Errors() []Diagnostic {
	var out []Diagnostic
	for _, d := range e.Diagnostics {
		if d.Severity == SeverityError {
			out = append(out, d)
		}
	}
	return out
}

// Validate returns every diagnostic Parse would report for definition
// (errors and warnings), the shape ValidateStateMachineDefinition answers
// with; an empty result means the definition is valid.
func Validate(definition []byte) []Diagnostic {
	sm, err := Parse(definition)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return ve.Diagnostics
		}
		return []Diagnostic{{Severity: SeverityError, Code: CodeSchemaValidationFailed, Message: err.Error()}}
	}
	return sm.Warnings
}
