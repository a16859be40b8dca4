// Package sconesdocker builds scones's Docker images (the emulator's and
// the stub SageMaker endpoint's, FROM scratch, from this source tree) and
// runs the long-lived stub service the CLI's localstack profile uses, all
// through the Docker Engine API (github.com/moby/moby/client) alone.
//
// It is apart from sconescontainer, the testcontainers-go module for
// tests, so that the scones CLI does not link testcontainers-go: its
// package initialisation lists every process on the machine, at the start
// of every program that links it (docs/BENCHMARKS.md, session 7).
// sconescontainer re-exports what is here.
package sconesdocker
