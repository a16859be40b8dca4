// Command testfn is the Lambda service's test function. Its event's
// "action" picks a behaviour; INIT_FAIL=report|exit makes its init fail.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Action string   `json:"action"`
	N      int      `json:"n"`
	Ms     int      `json:"ms"`
	Lines  []string `json:"lines"`
	File   string   `json:"file"`
	Keys   []string `json:"keys"`
}

func main() {
	switch os.Getenv("INIT_FAIL") {
	case "report":
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"errorMessage":"CONFIG is not set","errorType":"Custom.ConfigError"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Custom.ConfigError")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	case "exit":
		fmt.Println("init: giving up")
		os.Exit(3)
	}
	fmt.Println("init: ready")
	lambda.Start(handle)
}

func handle(ctx context.Context, ev event) (any, error) {
	switch ev.Action {
	case "sleep":
		time.Sleep(time.Duration(ev.Ms) * time.Millisecond)
		return map[string]int{"slept": ev.Ms}, nil
	case "crash":
		fmt.Fprintln(os.Stderr, "crashing now")
		os.Exit(2)
	case "fail":
		return nil, errors.New("asked to fail")
	case "append":
		// Records the attempt, then fails: the async retry test counts lines.
		f, err := os.OpenFile(ev.File, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(f, "attempt")
		f.Close()
		return nil, errors.New("failing after append")
	case "log":
		for _, l := range ev.Lines {
			fmt.Println(l)
		}
		return map[string]int{"logged": len(ev.Lines)}, nil
	case "env":
		out := map[string]string{}
		for _, k := range ev.Keys {
			out[k] = os.Getenv(k)
		}
		return out, nil
	case "big":
		return map[string]string{"data": string(bytes.Repeat([]byte("x"), ev.N))}, nil
	}
	return map[string]any{"n": ev.N, "pid": os.Getpid()}, nil
}
