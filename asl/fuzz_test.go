package asl

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics, and either returns a machine or a
// *ValidationError with at least one ERROR diagnostic that names a code.
// Valid machines also execute without panicking.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"definitions", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	cases, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	for _, p := range cases {
		b, _ := os.ReadFile(p)
		var tc struct{ Definition json.RawMessage }
		if json.Unmarshal(b, &tc) == nil {
			f.Add([]byte(tc.Definition))
		}
	}
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, def []byte) {
		sm, err := Parse(def)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError", err)
			}
			if len(ve.Errors()) == 0 {
				t.Fatal("a ValidationError without ERROR diagnostics")
			}
			for _, d := range ve.Diagnostics {
				if d.Code == "" || d.Message == "" {
					t.Fatalf("diagnostic without code or message: %+v", d)
				}
			}
			return
		}
		if len(def) > 4096 {
			return
		}
		inv := TaskInvokerFunc(func(ctx context.Context, r *TaskRequest) (json.RawMessage, error) {
			return r.Parameters, nil
		})
		o := testOptions(inv, newFakeClock(), json.RawMessage(`{"a":[1,2,{"b":"c"}],"n":3}`))
		o.S3 = newMemS3()
		res := sm.Execute(context.Background(), o)
		if res.Status == "" || len(res.History) < 2 {
			t.Fatalf("execution result %+v", res)
		}
	})
}

// FuzzPath: compiling and evaluating ASL paths, and ResultPath setting,
// never panic; a reference path that selects a value reads back what
// setPath wrote.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"$", "$.a", "$.a.b[0]", "$['x y']", "$..price", "$.items[?(@.price > 2)]", "$.nums[-1:]",
		"$$.Execution.Id", "$.detail.request-id", "$.a-b.c-d", "$var.x", "$.a[*].b", "$[0]", "$.ü", "$.\"q\"", "$.a.b.c.d.e"} {
		f.Add(s, `{"a":{"b":[10,20]},"x y":5,"items":[{"price":2.5},{"price":3}],"nums":[0,1,2]}`)
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		v, err := decodeJSON([]byte(doc))
		if err != nil {
			return
		}
		p, err := compilePath(path, true)
		if err != nil {
			return
		}
		vars := newScope(nil)
		vars.setAll(map[string]any{"var": v})
		_, _, _ = p.eval(pathEnv{input: v, ctx: map[string]any{"Execution": map[string]any{"Id": "x"}}, vars: vars})
		if p.ref == nil || p.root != rootInput {
			return
		}
		out, err := setPath(v, p.ref, "MARK")
		if err != nil {
			return
		}
		got, ok := p.selectIn(out)
		if !ok || got != "MARK" {
			t.Fatalf("set %s on %s gave %s; read back %v %v", path, doc, mustJSON(out), got, ok)
		}
	})
}
