//go:build nodocker

package smcontainer

import (
	"context"
	"errors"
)

// ErrNoDocker is returned by Docker mode in binaries built with the
// nodocker tag (the slim scones-emulator), which leave the Docker Engine
// client (github.com/moby/moby/client and what it pulls in) out altogether.
var ErrNoDocker = errors.New("smcontainer: this binary was built without Docker support (-tags nodocker); use the scones CLI's `scones emulator` for SCONES_CONTAINER_MODE=docker")

// BuildScratchImage needs Docker support.
func BuildScratchImage(ctx context.Context, img ScratchImage) (string, error) { return "", ErrNoDocker }

func (r *Runner) dockerTrain(ctx context.Context, prog Program, spec Spec) error { return ErrNoDocker }

func (r *Runner) dockerServe(ctx context.Context, prog Program, spec Spec, port int) (*Instance, error) {
	return nil, ErrNoDocker
}
