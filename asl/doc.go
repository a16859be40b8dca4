// Package asl parses, validates and executes Amazon States Language (ASL)
// state machines: the engine behind the emulator's Step Functions service.
//
// # Using it
//
//	sm, err := asl.Parse(definition) // err is *asl.ValidationError
//	res := sm.Execute(ctx, asl.ExecutionOptions{
//		Name: "run-1", ExecutionArn: ..., StateMachineArn: ..., RoleArn: ...,
//		Input:   json.RawMessage(`{"s3_bucket":"b","s3_key":"k"}`),
//		Invoker: myInvoker,             // runs Task states
//		Clock:   asl.NewScaledClock(0), // 0: skip waits; 1: real time
//		S3:      myS3,                  // Distributed Map ItemReader/ResultWriter
//		OnEvent: func(e asl.HistoryEvent) { store(e) },
//	})
//	// res.Status, res.Output, res.Error, res.Cause, res.History
//
// A *StateMachine is immutable and safe for concurrent executions.
// Execute blocks until the execution ends; cancelling ctx aborts it
// (Status ABORTED, event ExecutionAborted). The top-level TimeoutSeconds
// gives TIMED_OUT.
//
// # Validation
//
// Parse collects every problem rather than stopping at the first, as
// ValidateStateMachineDefinition does (Validate returns that list), with AWS's codes
// (SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, MISSING_END_STATE,
// INVALID_JSON_DESCRIPTION, INVALID_RESOURCE, DUPLICATE_STATE_NAME) and
// JSON-pointer locations such as /States/Foo/Next. ValidationError.Error
// renders CreateStateMachine's InvalidDefinition text:
//
//	Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Bar at /States/Foo/Next'
//
// Messages follow the ones AWS is known to produce ("Field 'X' is not
// supported", "State \"B\" is not reachable.", "Workflow has no terminal
// state", "The QueryLanguage is set to 'JSONPath', but field 'Output' is
// only supported for the 'JSONata' QueryLanguage"); others are worded in
// the same style. Any field the engine does not implement is rejected at
// Parse time by name (for example an ItemReader resource other than
// s3:getObject and s3:listObjectsV2, ReaderConfig InputType MANIFEST, or
// ResultWriter WriterConfig), so a definition never runs with a field
// silently ignored. Parse never panics on malformed input (it is fuzzed).
//
// # JSON values
//
// Documents are decoded with json.Decoder.UseNumber: numbers are
// json.Number throughout the engine, so large integers and number text
// (1.50 stays 1.50) pass through states unchanged, as on AWS. Objects are
// map[string]any and arrays []any; treat values as immutable (ResultPath
// copies the objects along its path instead of mutating them). Output is
// compact JSON without HTML escaping. Object keys come out sorted: Go maps
// keep no order, whereas AWS keeps input order.
//
// JSONata sees numbers as float64 (JSONata numbers are doubles in every
// implementation) and JSON null as jsonata-go's null (a nil *interface{});
// its results are converted back to json.Number and nil.
//
// # JSONPath
//
// Paths use github.com/theory/jsonpath (RFC 9535) after ASL
// preprocessing: "$$" selects the context object, "$name" a variable (where
// ASL allows variables), and dot-names RFC 9535 rejects but AWS accepts
// ("$.detail.request-id") are rewritten to bracket form. A trailing Jayway
// function (length(), min(), max(), avg(), sum(), stddev()) applies to the
// array the path selects, as AWS's Jayway-based paths allow. Singular paths
// yield their value; other paths (wildcards, slices, filters, "..") yield
// an array of matches. ResultPath, Choice Variables and the ...Path fields
// must be Reference Paths (names and indexes only); ResultPath is applied
// by the engine's own setter, which creates missing intermediate objects
// and fails with States.ResultPathMatchFailure when it meets a non-object.
//
// Processing order in a JSONPath state: InputPath, Parameters, the work
// (task result), ResultSelector, Assign, ResultPath (into the raw state
// input), OutputPath. Assign's "$" is the state's result: for Task, Map
// and Parallel after ResultSelector; for Pass its Result or its Parameters
// output; for Choice and Wait the effective input; in a Catcher the error
// output {"Error","Cause"}. A path that matches nothing is States.Runtime
// everywhere (InputPath, Parameters, ResultSelector, ItemSelector,
// OutputPath, ItemsPath, Choice rules), as AWS reports it ("The JSONPath
// '$.x' specified for the field 'y.$' could not be found in the input
// ..."), so States.ALL does not catch it; except that in a payload
// template an array index past the end of an existing array gives null,
// as with AWS's Jayway paths. States.ParameterPathFailure is never raised.
//
// # JSONata
//
// QueryLanguage JSONata (top level or per state) is evaluated with
// github.com/blues/jsonata-go (JSONata 1.x). "{% expr %}" strings are
// evaluated anywhere in Arguments, Output, Assign, Items, ItemSelector,
// Credentials, Fail Error/Cause, Wait Seconds/Timestamp and the numeric
// fields; Choice rules use Condition. $states holds input, context, result
// (Task/Map/Parallel Output and Assign) and errorOutput (Catch). AWS's
// extra functions $partition, $range, $hash, $random, $uuid and $parse are
// registered per expression. Reading $states.result outside the Output and
// Assign of Task, Parallel and Map, or $states.errorOutput outside a
// catcher, is rejected at Parse time. Expressions are compiled at Parse time (a
// syntax error is InvalidDefinition, and so are the JSONata 1.6+/2.x
// features the library lacks when they can be seen: the ?? and ?:
// operators, # and @ bindings, and $formatInteger, $parseInteger, $eval and
// $assert) and compiled again for every
// evaluation, because jsonata-go's RegisterVars mutates a compiled
// expression. An undefined result or an evaluation error is
// States.QueryEvaluationError.
//
// # Variables
//
// Assign (both languages) writes workflow variables. All Assign values of
// a state are evaluated first, against the state's input or result, and
// become visible from the next state on, never to the same state's other
// fields. Parallel branches and inline Map iterations read the outer
// scope's variables; what they assign stays in the branch. Distributed Map
// child workflows start with no variables. The StateExited event lists the
// assigned values in assignedVariables.
//
// # Intrinsic functions
//
// "key.$" values starting with "States." (and Fail's ErrorPath/CausePath)
// are intrinsic calls, parsed at Parse time and evaluated by package
// github.com/scones/scones/asl/intrinsic; their path arguments resolve
// against the same input, context object and variables as a path would.
//
// # Tasks and history
//
// A TaskInvoker runs one attempt of a Task state and returns the raw
// result or an *Error. The engine writes the events: for service
// integrations (arn:aws:states:::service:action[.sync|.waitForTaskToken])
// TaskScheduled{resourceType, resource, region, parameters},
// TaskStarted, then TaskSucceeded, TaskFailed or TaskTimedOut, with
// resourceType "lambda" and resource "invoke" for lambda:invoke; bare
// Lambda function ARNs use the LambdaFunction* events and activity ARNs the
// Activity* events. For ".waitForTaskToken" the engine makes a token,
// visible as $$.Task.Token and TaskRequest.TaskToken; the invoker returns
// when the callback arrives. TimeoutSeconds and HeartbeatSeconds (and the
// ...Path forms) are enforced by the engine (States.Timeout,
// States.HeartbeatTimeout); invokers report heartbeats with
// TaskRequest.Heartbeat.
//
// HistoryEvent marshals exactly like GetExecutionHistory's events
// (botocore stepfunctions 2016-11-23): "timestamp" as epoch seconds with a
// millisecond fraction, "type", "id", "previousEventId" and one
// "<type>EventDetails" object. Event IDs are sequential; previousEventId
// links an event to the one before it on the same line of execution (a
// Parallel branch or Map iteration starts from ParallelStateStarted or
// MapIterationStarted, and the event after a Parallel or Map state links to
// the last event of its branches). As observed on AWS,
// ParallelStateSucceeded, MapStateSucceeded, MapRunSucceeded,
// MapIterationFailed and TaskStateAborted do not become the next event's
// previousEventId. A caught error goes straight from TaskFailed (or
// ParallelStateFailed/MapStateFailed) to the catcher's next state, without
// a StateExited event. An aborted execution writes TaskStateAborted,
// WaitStateAborted, ParallelStateAborted or MapStateAborted (and
// MapIterationAborted) for what was running, then ExecutionAborted.
// OnEvent is called synchronously, in ID order.
//
// # Errors
//
// Errors the engine raises itself (path, intrinsic, JSONata and quota
// failures) carry AWS's cause prefix "An error occurred while executing
// the state 'X' (entered at the event id #N). ", added once at the state
// that raised them; a failed JSONata expression also writes an
// EvaluationFailed event {error, cause, location: "Output/v", state}, once
// per attempt. Task failures keep the invoker's cause unchanged.
//
// Retry follows AWS: IntervalSeconds (default 1), MaxAttempts (default 3),
// BackoffRate (default 2.0), MaxDelaySeconds, JitterStrategy FULL|NONE;
// the first retrier whose ErrorEquals matches decides, and an exhausted
// retrier does not fall through to later ones. States.ALL matches every
// error except States.DataLimitExceeded and States.Runtime, which only
// their exact names match; States.TaskFailed matches every error except
// States.Timeout and those two. Parallel branches and inline Map iterations
// propagate the failing branch's own error. The 256 KiB payload quota
// applies to execution input and output, state input and output, task
// parameters and results, and assigned variables (States.DataLimitExceeded).
// An execution that reaches MaxHistoryEvents (25,000) fails with
// States.Runtime, which also stops runaway loops.
//
// # Map
//
// Inline Map (ItemProcessor or legacy Iterator; ItemsPath/Items;
// ItemSelector or legacy Parameters with $$.Map.Item.Index/Value;
// MaxConcurrency(+Path), 0 meaning up to 40 at a time) writes MapStateStarted,
// MapIteration* and MapStateSucceeded/Failed events. Distributed Map
// (ProcessorConfig Mode DISTRIBUTED) reads items with ItemReader
// (s3:getObject with InputType JSON, JSONL or CSV, CSVHeaderLocation
// FIRST_ROW or GIVEN, CSVDelimiter, MaxItems; or s3:listObjectsV2, whose
// items are {Etag, Key, LastModified (epoch seconds), Size, StorageClass}), batches
// with ItemBatcher (MaxItemsPerBatch, MaxInputBytesPerBatch, BatchInput),
// applies ToleratedFailurePercentage/Count(+Path) (exceeded:
// States.ExceedToleratedFailureThreshold) and writes ResultWriter files
// (<Prefix>/<map run id>/manifest.json, SUCCEEDED_0.json, FAILED_0.json) to
// S3. Its parent history has MapRunStarted{mapRunArn} and
// MapRunSucceeded/MapRunFailed; child workflow histories are kept out of
// the parent's, as on AWS (ExecutionOptions.OnChildExecution receives them,
// with their own histories). Without a ResultWriter the result is the array
// of child outputs, with {"Error","Cause"} in place of a failed child's.
//
// # Time
//
// Every timestamp, Wait, retry interval and timeout goes through Clock.
// NewScaledClock(scale) sleeps d*scale of real time and advances Now by
// the full d, so histories look real; scale 0 skips waits but measures
// task timeouts in real time (see TimeoutClock). ExecutionOptions.Sequential
// runs branches and iterations one at a time, for deterministic histories.
//
// # Known differences from AWS
//
//   - JSON object keys come out sorted (Go maps), not in input order.
//   - JSONata is jsonata-go 1.5.4 (JSONata 1.x): no %, #, @, ??, ?:,
//     $formatInteger, $parseInteger, $eval, $assert; number formatting may
//     differ ($string(0.1+0.2)); numbers are doubles inside JSONata.
//     Functions that call themselves by name are rejected at Parse time:
//     the library has no recursion limit and a Go stack overflow would
//     kill the process (indirect recursion is not detected).
//   - Assigning, inside a Parallel branch or Map iteration, a variable that
//     exists in the outer scope shadows it within the branch; whether AWS
//     rejects such definitions is not checked.
//   - Which Choice-level Assign/Output applies when a rule matches follows
//     the AWS guide (state-level Assign always, rule-level winning on
//     conflicts; rule Output, else state Output); not verified on AWS.
//   - Parallel branch and Map iteration failures propagate the branch's
//     error name; States.BranchFailed and States.ParameterPathFailure are
//     never raised. A Choice without a match fails with
//     States.NoChoiceMatched (the ASL specification's name).
//   - Distributed Map: ItemReader supports only s3:getObject (JSON, JSONL,
//     CSV) and s3:listObjectsV2 (no MANIFEST, PARQUET, ItemsPointer or
//     Transformation); ResultWriter has no WriterConfig; child executions
//     run in-process and are reported through OnChildExecution, not
//     through the parent history; there is no redrive.
//   - ".sync" integrations are the invoker's business: the engine waits for
//     Invoke to return.
//   - InputPath, OutputPath and ItemsPath may read $$ and variables; whether
//     AWS accepts variables there is not verified (accepting is the lenient
//     choice).
//   - TaskStateExited is not written when a Catch handles an error (as on
//     AWS), and the catcher's assigned variables appear in no event.
package asl
