package lambda_test

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/scones/scones/emulator"
)

// TestUnpackedCodeRemoved checks that a code version's unpacked directory
// lives as long as a function or version has the code and a process runs
// from it, and no longer.
func TestUnpackedCodeRemoved(t *testing.T) {
	h := start(t, emulator.Options{})
	ctx := context.Background()
	zip := testFunctionZip(t)
	taskRoot := func(name string) string {
		t.Helper()
		out := h.invoke(t, name, map[string]any{"action": "env", "keys": []string{"LAMBDA_TASK_ROOT"}}, nil)
		var env map[string]string
		if err := json.Unmarshal(out.Payload, &env); err != nil || env["LAMBDA_TASK_ROOT"] == "" {
			t.Fatalf("%s: %s (%v)", name, out.Payload, err)
		}
		return env["LAMBDA_TASK_ROOT"]
	}
	exists := func(dir string) bool {
		_, err := os.Stat(dir)
		return err == nil
	}
	waitGone := func(dir string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); exists(dir); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s is still there", dir)
			}
		}
	}
	del := func(name string) {
		t.Helper()
		if _, err := h.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}

	h.create(t, "a", zip, nil)
	h.create(t, "b", zip, nil)
	dir := taskRoot("a")
	if got := taskRoot("b"); got != dir {
		t.Fatalf("two functions with one zip run from %s and %s", dir, got)
	}
	del("a")
	time.Sleep(100 * time.Millisecond)
	if !exists(dir) {
		t.Fatalf("%s was removed while function b still has the code", dir)
	}
	// Delete b while an invocation of it runs: the directory stays until
	// that process is done.
	// b's instance is warm, so the invocation is running well before the
	// delete.
	var wg sync.WaitGroup
	var slow error
	wg.Go(func() {
		_, slow = h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("b"), Payload: []byte(`{"action":"sleep","ms":600}`)})
	})
	time.Sleep(200 * time.Millisecond)
	del("b")
	if !exists(dir) {
		t.Fatalf("%s was removed while an invocation ran from it", dir)
	}
	wg.Wait()
	if slow != nil {
		t.Fatalf("the invocation running through the delete: %v", slow)
	}
	waitGone(dir)

	// Deleted and created again at once: the new function's code is
	// unpacked afresh, not caught by the old directory's removal.
	for range 3 {
		h.create(t, "again", zip, nil)
		taskRoot("again")
		del("again")
	}
	h.create(t, "again", zip, nil)
	if d := taskRoot("again"); !exists(d) {
		t.Fatalf("%s is gone while function again has the code", d)
	}
	del("again")

	// UpdateFunctionCode to other code frees the old code's directory.
	h.create(t, "c", zip, nil)
	old := taskRoot("c")
	if _, err := h.client.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("c"), ZipFile: zipWithNonce(t, zip, "v2")}); err != nil {
		t.Fatal(err)
	}
	waitGone(old)
	if got := taskRoot("c"); got == old || !exists(got) {
		t.Fatalf("after UpdateFunctionCode, c runs from %s (before: %s)", got, old)
	}
	// A published version keeps its code after $LATEST moves on.
	if _, err := h.client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	v1 := taskRoot("c")
	if _, err := h.client.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("c"), ZipFile: zip}); err != nil {
		t.Fatal(err)
	}
	out := h.invoke(t, "c", map[string]any{"action": "env", "keys": []string{"LAMBDA_TASK_ROOT"}}, func(in *awslambda.InvokeInput) { in.Qualifier = aws.String("1") })
	if out.FunctionError != nil || !exists(v1) {
		t.Fatalf("version 1 after $LATEST's code changed: %s, %s exists: %v", out.Payload, v1, exists(v1))
	}
}
