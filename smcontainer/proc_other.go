//go:build !linux

package smcontainer

import "os/exec"

// dieWithParent is Linux-only (Pdeathsig); elsewhere Stop must be called.
func dieWithParent(*exec.Cmd) {}
