// Package integration holds the end-to-end tests of the whole workflow:
// stage, train, deploy, run, monitor and destroy through the same Go API
// the CLI uses, against each backend. The in-process suite needs nothing
// but Go; the container, LocalStack and moto suites skip with a message
// saying how to enable them where their peer is absent.
package integration
