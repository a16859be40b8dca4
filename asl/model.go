package asl

import "github.com/scones/scones/asl/intrinsic"

// Query languages.
const (
	LangJSONPath = "JSONPath"
	LangJSONata  = "JSONata"
)

// State types.
const (
	TypePass     = "Pass"
	TypeTask     = "Task"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// StateMachine is a parsed and validated definition. It is immutable and
// safe for concurrent Execute calls.
type StateMachine struct {
	// Comment is the definition's top-level Comment.
	Comment string
	// QueryLanguage is the top-level query language (JSONPath by default).
	QueryLanguage string
	// TimeoutSeconds is the top-level execution timeout (0: none).
	TimeoutSeconds int64
	// Warnings are WARNING-severity diagnostics found by Parse.
	Warnings []Diagnostic

	root *machine
}

// machine is a StartAt + States container: the top level, a Parallel
// branch or a Map item processor.
type machine struct {
	startAt string
	states  map[string]*state
	names   []string // definition order
	loc     string   // JSON pointer of the container
}

// optPath is an InputPath/OutputPath/ItemsPath: absent (identity), null
// (discard: {}), or a path.
type optPath struct {
	null bool
	p    *jpath
}

type state struct {
	name   string
	typ    string
	loc    string
	lang   string
	next   string
	end    bool
	input  *optPath
	output *optPath
	params *tmpl // Parameters (JSONPath) or Arguments (JSONata)
	// result selection
	resultSelector *tmpl
	resultPath     *jpath
	resultPathNull bool
	hasResultPath  bool
	outputTmpl     *tmpl // JSONata Output
	assign         *tmpl // Assign (an object template)

	// Pass
	result    any
	hasResult bool

	// Task
	resource    string
	timeout     *numField
	heartbeat   *numField
	credentials *tmpl
	retry       []*retrier
	catch       []*catcher

	// Choice
	choices []*choiceRule
	deflt   string

	// Wait
	waitSeconds   *numField
	waitTimestamp *tmpl // literal string, path, or JSONata
	waitTSPath    *jpath

	// Fail
	failError, failCause         *tmpl
	failErrorPath, failCausePath *valueRef

	// Parallel
	branches []*machine

	// Map
	mapSpec *mapSpec
}

// numField is an integer field given literally, by path (JSONPath
// "...Path" form) or by a JSONata expression.
type numField struct {
	lit   int64
	path  *jpath
	expr  *jexpr
	field string
}

// valueRef is a value read from a reference path or an intrinsic call
// (Fail's ErrorPath and CausePath).
type valueRef struct {
	path *jpath
	call *intrinsic.Call
}

type retrier struct {
	errorEquals []string
	interval    float64 // seconds
	maxAttempts int
	backoff     float64
	maxDelay    float64 // seconds; 0 = none
	jitterFull  bool
}

type catcher struct {
	errorEquals    []string
	next           string
	resultPath     *jpath
	resultPathNull bool
	hasResultPath  bool
	assign         *tmpl
	output         *tmpl
}

type mapSpec struct {
	processor     *machine
	distributed   bool
	executionType string
	itemsPath     *optPath
	items         *tmpl // JSONata Items (expression or literal array)
	itemSelector  *tmpl
	maxConc       *numField
	tolPct        *numField
	tolCount      *numField
	label         string
	reader        *itemReader
	batcher       *itemBatcher
	writer        *resultWriter
}

type itemReader struct {
	resource     string // s3:getObject, s3:listObjectsV2 (the ARN suffix)
	params       *tmpl
	inputType    string // JSON, JSONL, CSV, MANIFEST
	csvHeaderLoc string // FIRST_ROW or GIVEN
	csvHeaders   []string
	csvDelimiter string
	maxItems     *numField
}

type itemBatcher struct {
	maxItems   *numField
	maxBytes   *numField
	batchInput *tmpl
}

type resultWriter struct {
	params *tmpl
}
