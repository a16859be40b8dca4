package asl

import (
	"strconv"
	"time"
)

// Timestamp marshals as epoch seconds with a millisecond fraction, the way
// the Step Functions JSON protocol sends timestamps (e.g. 1700000000.123).
type Timestamp time.Time

// MarshalJSON renders epoch seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON reads epoch seconds.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*t = Timestamp(time.UnixMilli(int64(f*1000 + 0.5)))
	return nil
}

// Time returns the time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// HistoryEvent is one event of an execution's history, shaped exactly like
// a GetExecutionHistory event (botocore model stepfunctions 2016-11-23,
// shape HistoryEvent): only the details object matching Type is set.
type HistoryEvent struct {
	Timestamp       Timestamp `json:"timestamp"`
	Type            string    `json:"type"`
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`

	ActivityFailedEventDetails          *ErrorDetails                        `json:"activityFailedEventDetails,omitempty"`
	ActivityScheduleFailedEventDetails  *ErrorDetails                        `json:"activityScheduleFailedEventDetails,omitempty"`
	ActivityScheduledEventDetails       *ActivityScheduledEventDetails       `json:"activityScheduledEventDetails,omitempty"`
	ActivityStartedEventDetails         *ActivityStartedEventDetails         `json:"activityStartedEventDetails,omitempty"`
	ActivitySucceededEventDetails       *OutputDetails                       `json:"activitySucceededEventDetails,omitempty"`
	ActivityTimedOutEventDetails        *ErrorDetails                        `json:"activityTimedOutEventDetails,omitempty"`
	TaskFailedEventDetails              *TaskErrorDetails                    `json:"taskFailedEventDetails,omitempty"`
	TaskScheduledEventDetails           *TaskScheduledEventDetails           `json:"taskScheduledEventDetails,omitempty"`
	TaskStartFailedEventDetails         *TaskErrorDetails                    `json:"taskStartFailedEventDetails,omitempty"`
	TaskStartedEventDetails             *TaskStartedEventDetails             `json:"taskStartedEventDetails,omitempty"`
	TaskSubmitFailedEventDetails        *TaskErrorDetails                    `json:"taskSubmitFailedEventDetails,omitempty"`
	TaskSubmittedEventDetails           *TaskOutputDetails                   `json:"taskSubmittedEventDetails,omitempty"`
	TaskSucceededEventDetails           *TaskOutputDetails                   `json:"taskSucceededEventDetails,omitempty"`
	TaskTimedOutEventDetails            *TaskErrorDetails                    `json:"taskTimedOutEventDetails,omitempty"`
	ExecutionFailedEventDetails         *ErrorDetails                        `json:"executionFailedEventDetails,omitempty"`
	ExecutionStartedEventDetails        *ExecutionStartedEventDetails        `json:"executionStartedEventDetails,omitempty"`
	ExecutionSucceededEventDetails      *OutputDetails                       `json:"executionSucceededEventDetails,omitempty"`
	ExecutionAbortedEventDetails        *ErrorDetails                        `json:"executionAbortedEventDetails,omitempty"`
	ExecutionTimedOutEventDetails       *ErrorDetails                        `json:"executionTimedOutEventDetails,omitempty"`
	MapStateStartedEventDetails         *MapStateStartedEventDetails         `json:"mapStateStartedEventDetails,omitempty"`
	MapIterationStartedEventDetails     *MapIterationEventDetails            `json:"mapIterationStartedEventDetails,omitempty"`
	MapIterationSucceededEventDetails   *MapIterationEventDetails            `json:"mapIterationSucceededEventDetails,omitempty"`
	MapIterationFailedEventDetails      *MapIterationEventDetails            `json:"mapIterationFailedEventDetails,omitempty"`
	MapIterationAbortedEventDetails     *MapIterationEventDetails            `json:"mapIterationAbortedEventDetails,omitempty"`
	LambdaFunctionFailedEventDetails    *ErrorDetails                        `json:"lambdaFunctionFailedEventDetails,omitempty"`
	LambdaFunctionScheduledEventDetails *LambdaFunctionScheduledEventDetails `json:"lambdaFunctionScheduledEventDetails,omitempty"`
	LambdaFunctionSucceededEventDetails *OutputDetails                       `json:"lambdaFunctionSucceededEventDetails,omitempty"`
	LambdaFunctionTimedOutEventDetails  *ErrorDetails                        `json:"lambdaFunctionTimedOutEventDetails,omitempty"`
	StateEnteredEventDetails            *StateEnteredEventDetails            `json:"stateEnteredEventDetails,omitempty"`
	StateExitedEventDetails             *StateExitedEventDetails             `json:"stateExitedEventDetails,omitempty"`
	MapRunStartedEventDetails           *MapRunStartedEventDetails           `json:"mapRunStartedEventDetails,omitempty"`
	MapRunFailedEventDetails            *ErrorDetails                        `json:"mapRunFailedEventDetails,omitempty"`
	EvaluationFailedEventDetails        *EvaluationFailedEventDetails        `json:"evaluationFailedEventDetails,omitempty"`
}

// HistoryEventExecutionDataDetails says whether a payload was truncated.
type HistoryEventExecutionDataDetails struct {
	Truncated bool `json:"truncated"`
}

// ErrorDetails is {error, cause}.
type ErrorDetails struct {
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
}

// OutputDetails is {output, outputDetails}.
type OutputDetails struct {
	Output        string                            `json:"output"`
	OutputDetails *HistoryEventExecutionDataDetails `json:"outputDetails,omitempty"`
}

// ExecutionStartedEventDetails is executionStartedEventDetails.
type ExecutionStartedEventDetails struct {
	Input                  string                            `json:"input"`
	InputDetails           *HistoryEventExecutionDataDetails `json:"inputDetails,omitempty"`
	RoleArn                string                            `json:"roleArn,omitempty"`
	StateMachineAliasArn   string                            `json:"stateMachineAliasArn,omitempty"`
	StateMachineVersionArn string                            `json:"stateMachineVersionArn,omitempty"`
}

// StateEnteredEventDetails is stateEnteredEventDetails.
type StateEnteredEventDetails struct {
	Name         string                            `json:"name"`
	Input        string                            `json:"input"`
	InputDetails *HistoryEventExecutionDataDetails `json:"inputDetails,omitempty"`
}

// StateExitedEventDetails is stateExitedEventDetails. AssignedVariables
// maps each variable a state assigned to its JSON text.
type StateExitedEventDetails struct {
	Name                     string                            `json:"name"`
	Output                   string                            `json:"output"`
	OutputDetails            *HistoryEventExecutionDataDetails `json:"outputDetails,omitempty"`
	AssignedVariables        map[string]string                 `json:"assignedVariables,omitempty"`
	AssignedVariablesDetails *HistoryEventExecutionDataDetails `json:"assignedVariablesDetails,omitempty"`
}

// TaskScheduledEventDetails is taskScheduledEventDetails.
type TaskScheduledEventDetails struct {
	ResourceType       string           `json:"resourceType"`
	Resource           string           `json:"resource"`
	Region             string           `json:"region"`
	Parameters         string           `json:"parameters"`
	TimeoutInSeconds   *int64           `json:"timeoutInSeconds,omitempty"`
	HeartbeatInSeconds *int64           `json:"heartbeatInSeconds,omitempty"`
	TaskCredentials    *TaskCredentials `json:"taskCredentials,omitempty"`
}

// TaskCredentials is taskCredentials.
type TaskCredentials struct {
	RoleArn string `json:"roleArn,omitempty"`
}

// TaskStartedEventDetails is taskStartedEventDetails.
type TaskStartedEventDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
}

// TaskOutputDetails is taskSucceededEventDetails / taskSubmittedEventDetails.
type TaskOutputDetails struct {
	ResourceType  string                            `json:"resourceType"`
	Resource      string                            `json:"resource"`
	Output        string                            `json:"output"`
	OutputDetails *HistoryEventExecutionDataDetails `json:"outputDetails,omitempty"`
}

// TaskErrorDetails is taskFailedEventDetails and its relatives.
type TaskErrorDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
	Error        string `json:"error,omitempty"`
	Cause        string `json:"cause,omitempty"`
}

// ActivityScheduledEventDetails is activityScheduledEventDetails.
type ActivityScheduledEventDetails struct {
	Resource           string                            `json:"resource"`
	Input              string                            `json:"input"`
	InputDetails       *HistoryEventExecutionDataDetails `json:"inputDetails,omitempty"`
	TimeoutInSeconds   *int64                            `json:"timeoutInSeconds,omitempty"`
	HeartbeatInSeconds *int64                            `json:"heartbeatInSeconds,omitempty"`
}

// ActivityStartedEventDetails is activityStartedEventDetails.
type ActivityStartedEventDetails struct {
	WorkerName string `json:"workerName,omitempty"`
}

// LambdaFunctionScheduledEventDetails is lambdaFunctionScheduledEventDetails.
type LambdaFunctionScheduledEventDetails struct {
	Resource         string                            `json:"resource"`
	Input            string                            `json:"input"`
	InputDetails     *HistoryEventExecutionDataDetails `json:"inputDetails,omitempty"`
	TimeoutInSeconds *int64                            `json:"timeoutInSeconds,omitempty"`
}

// MapStateStartedEventDetails is mapStateStartedEventDetails.
type MapStateStartedEventDetails struct {
	Length int `json:"length"`
}

// MapIterationEventDetails is mapIteration*EventDetails.
type MapIterationEventDetails struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
}

// MapRunStartedEventDetails is mapRunStartedEventDetails.
type MapRunStartedEventDetails struct {
	MapRunArn string `json:"mapRunArn"`
}

// EvaluationFailedEventDetails is evaluationFailedEventDetails.
type EvaluationFailedEventDetails struct {
	Error    string `json:"error,omitempty"`
	Cause    string `json:"cause,omitempty"`
	Location string `json:"location,omitempty"`
	State    string `json:"state"`
}

// notTruncated returns a fresh details object (events must not share one).
func notTruncated() *HistoryEventExecutionDataDetails {
	return &HistoryEventExecutionDataDetails{Truncated: false}
}
