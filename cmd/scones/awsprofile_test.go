package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scones/scones/fixtures"
)

// TestAWSProfileAgainstEmulator drives every command of the aws profile
// through the SDK's default configuration, with only the endpoint moved to
// the emulator by AWS_ENDPOINT_URL (the SDK's own mechanism): the same code
// path as a real deployment. It checks the confirmation that guards AWS.
func TestAWSProfileAgainstEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: deploy trains a model")
	}
	srv := startEmulator(t)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_PROFILE", "")
	archive, err := fixtures.WriteCommitted(t.TempDir(), fixtures.MiniPython)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	// Only the wait between polls differs from a real deployment's
	// configuration: the emulator answers in milliseconds.
	config := out + "/scones.yaml"
	os.WriteFile(config, []byte("profiles:\n  aws:\n    poll_interval: 50ms\n"), 0o644)
	aws := func(args ...string) []string {
		return append([]string{"--profile", "aws", "--config", config}, args...)
	}

	// Without --yes and without an answer, nothing is changed.
	_, err = run(t, aws("stage", "--source", archive, "--create-bucket")...)
	if err == nil || !strings.Contains(err.Error(), "not confirmed: nothing was changed") {
		t.Fatalf("unconfirmed stage: %v", err)
	}
	steps := [][]string{
		aws("stage", "--source", archive, "--create-bucket", "--yes"),
		// The emulator runs functions on this machine: build them for it.
		aws("deploy", "--yes", "--arch", hostArch()),
		aws("deploy", "--yes", "--arch", hostArch()),
		aws("run", "--count", "10", "--seed", "3", "--out", out, "--yes"),
		aws("monitor", "--out", out),
		aws("destroy", "--yes"),
		aws("destroy", "--yes"),
	}
	for i, args := range steps {
		text, err := run(t, args...)
		// Capture files reach S3 in batches after the invocations (every
		// second here, every few minutes on AWS): monitor may need to wait.
		for tries := 0; i == 4 && err != nil && strings.Contains(err.Error(), "no capture") && tries < 50; tries++ {
			time.Sleep(200 * time.Millisecond)
			text, err = run(t, args...)
		}
		t.Logf("scones %s\n%s", strings.Join(args, " "), text)
		if err != nil {
			t.Fatalf("scones %s: %v", strings.Join(args, " "), err)
		}
		switch i {
		case 0:
			if !strings.Contains(text, "290 objects uploaded") && !strings.Contains(text, "292 objects uploaded") {
				t.Errorf("stage output: %s", text)
			}
		case 2:
			if !strings.Contains(text, "no changes") {
				t.Errorf("second deploy changed things:\n%s", text)
			}
		case 3:
			if !strings.Contains(text, "10 executions:") {
				t.Errorf("run output:\n%s", text)
			}
		case 4:
			if !strings.Contains(text, "report:") {
				t.Errorf("monitor output:\n%s", text)
			}
		case 5:
			if !strings.Contains(text, "sagemaker-us-east-1-000000000000") {
				t.Errorf("destroy did not remove the default AWS bucket name:\n%s", text)
			}
		case 6:
			if !strings.Contains(text, "nothing to remove") {
				t.Errorf("second destroy found leftovers:\n%s", text)
			}
		}
	}
}
