# Same targets as Taskfile.yml, for machines without go-task.
.PHONY: build test race bench lint emulator demo ci
build:
	go build -o bin/scones ./cmd/scones
	go build -o bin/image-classifier ./cmd/image-classifier
	CGO_ENABLED=0 go build -tags nodocker,urfave_cli_no_docs -o bin/scones-emulator ./cmd/scones-emulator
test:
	go test ./...
race:
	go test -race -short ./...
bench:
	go test -run '^$$' -bench . -benchtime 2s ./emulator/... ./asl/...
lint:
	test -z "$$(gofmt -l .)"
	go vet ./...
emulator:
	go run ./cmd/scones emulator
demo:
	go run ./cmd/scones demo
ci:
	bash .ci/run
