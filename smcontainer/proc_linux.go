package smcontainer

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the program if the process that
// started it dies without stopping it (a crashed emulator or test), so no
// serving process outlives its endpoint.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
