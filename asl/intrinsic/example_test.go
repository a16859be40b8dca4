package intrinsic_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scones/scones/asl/intrinsic"
)

func Example() {
	// At definition time: parse the value of a "key.$" field.
	expr := "States.Format('s3://{}/{}', $.s3_bucket, States.ArrayGetItem(States.StringSplit($.s3_key, '/'), 1))"
	if !intrinsic.IsIntrinsic(expr) {
		return
	}
	call, err := intrinsic.Parse(expr)
	if err != nil {
		fmt.Println(err) // becomes InvalidDefinition
		return
	}

	// At run time: evaluate against the state's data.
	dec := json.NewDecoder(strings.NewReader(`{"s3_bucket":"scones","s3_key":"test/bicycle_s_000030.png"}`))
	dec.UseNumber()
	var input map[string]any
	if err := dec.Decode(&input); err != nil {
		return
	}
	resolve := func(path string) (any, error) {
		v, ok := input[strings.TrimPrefix(path, "$.")]
		if !ok {
			return nil, &intrinsic.Error{Name: "States.Runtime", Cause: "path " + path + " not found"}
		}
		return v, nil
	}
	v, err := call.Eval(resolve)
	fmt.Println(v, err)

	_, err = intrinsic.Parse("States.ArrayRange(1, 9)")
	fmt.Println(err)
	// Output:
	// s3://scones/bicycle_s_000030.png <nil>
	// invalid intrinsic function "States.ArrayRange(1, 9)": States.ArrayRange takes exactly 3 arguments, got 2 (at offset 0)
}
