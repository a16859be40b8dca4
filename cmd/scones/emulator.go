package main

import (
	"github.com/urfave/cli/v2"

	"github.com/scones/scones/emulator/emulatorcmd"
)

func emulatorCommand() *cli.Command {
	return &cli.Command{
		Name:        "emulator",
		Usage:       "serve the embedded AWS emulator (S3, STS, IAM, Lambda, Step Functions, SageMaker) on one address",
		Description: emulatorcmd.Description,
		Flags:       emulatorcmd.Flags(),
		Action:      emulatorcmd.Action,
	}
}
