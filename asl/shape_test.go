package asl

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// botocoreShapes loads the Step Functions model from botocore: for each
// HistoryEvent member, the member names of its shape.
func botocoreShapes(t *testing.T) map[string][]string {
	t.Helper()
	script := `
import botocore, os, gzip, json
p = os.path.join(os.path.dirname(botocore.__file__), "data", "stepfunctions", "2016-11-23", "service-2.json.gz")
m = json.load(gzip.open(p))
s = m["shapes"]
out = {}
def members(name):
    sh = s[name]
    return sh.get("members", {})
for k, v in members("HistoryEvent").items():
    out[k] = sorted(members(v["shape"]).keys())
    for mk, mv in members(v["shape"]).items():
        sub = members(mv["shape"])
        if sub:
            out[k + "." + mk] = sorted(sub.keys())
print(json.dumps(out))
`
	out, err := exec.Command("python3", "-c", script).Output()
	if err != nil {
		t.Skipf("python3 with botocore is not available (%v): the history shape check needs the botocore model", err)
	}
	var shapes map[string][]string
	if err := json.Unmarshal(out, &shapes); err != nil {
		t.Fatal(err)
	}
	return shapes
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// Every field HistoryEvent and its details types marshal must exist, with
// the same name, in the botocore model.
func TestHistoryEventMatchesBotocore(t *testing.T) {
	shapes := botocoreShapes(t)
	top := jsonFields(reflect.TypeOf(HistoryEvent{}))
	for name, typ := range top {
		if _, ok := shapes[name]; !ok {
			t.Errorf("HistoryEvent field %q is not in the botocore model", name)
			continue
		}
		if typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct {
			continue
		}
		want := map[string]bool{}
		for _, m := range shapes[name] {
			want[m] = true
		}
		for f, ft := range jsonFields(typ.Elem()) {
			if !want[f] {
				t.Errorf("%s.%s is not in the botocore shape (members %v)", name, f, shapes[name])
			}
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				sub := shapes[name+"."+f]
				subWant := map[string]bool{}
				for _, m := range sub {
					subWant[m] = true
				}
				for sf := range jsonFields(ft.Elem()) {
					if !subWant[sf] {
						t.Errorf("%s.%s.%s is not in the botocore shape (members %v)", name, f, sf, sub)
					}
				}
			}
		}
	}
	var missing []string
	for name := range shapes {
		if strings.Contains(name, ".") {
			continue
		}
		if _, ok := top[name]; !ok {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	// Event types the engine never emits need no field.
	allowedMissing := map[string]bool{
		"executionRedrivenEventDetails": true, "mapRunRedrivenEventDetails": true,
		"lambdaFunctionScheduleFailedEventDetails": true, "lambdaFunctionStartFailedEventDetails": true,
	}
	for _, m := range missing {
		if !allowedMissing[m] {
			t.Errorf("botocore HistoryEvent member %q has no field", m)
		}
	}
}
