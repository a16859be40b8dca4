package s3_test

import (
	"errors"
	"testing"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/emulator/awsapi"
)

func emulatorOptions() emulator.Options              { return emulator.Options{} }
func emulatorOptionsDir(dir string) emulator.Options { return emulator.Options{DataDir: dir} }
func emulatorOptionsVerify() emulator.Options        { return emulator.Options{VerifySignatures: true} }

func assertCode(t testing.TB, err error, code string) {
	t.Helper()
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("want *awsapi.Error %s, got %v", code, err)
	}
}
