# Logon Guard. `make run` serves the demo console; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.commit=$(COMMIT)
BIN := bin/logonguard

.PHONY: run build dev generate test test-short chromium bench bench-full lint crashtest loadtest fuzz clean

build: ## build the binary into bin/
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/logonguard

run: build ## serve the demo console on 127.0.0.1:8080 with ./data/logonguard.db
	./$(BIN) serve -demo -addr 127.0.0.1:8080 -db ./data/logonguard.db

dev: ## live reload: regenerate templ and restart the demo server on every change (.air.toml)
	$(GO) run github.com/air-verse/air@v1.67.4 -c .air.toml

generate: ## regenerate the templ views
	$(GO) tool templ generate

chromium: ## install Debian's chromium for the browser tests where it is missing
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "chromium is missing: installing it with apt-get"; \
		apt-get update && apt-get install -y chromium; \
	else \
		echo "chromium is missing and this user cannot install it."; \
		echo "Run as root: apt-get update && apt-get install -y chromium"; exit 1; \
	fi

test: chromium ## every test, browser tests included
	$(GO) tool templ generate -check
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

test-short: ## the tests without the browser and crash tests
	$(GO) test -count=1 -short ./...

bench: ## the contract's benchmarks (under 10 minutes); writes bench.txt
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -timeout 10m ./mask/ ./web/ | tee bench.txt

bench-full: ## heavier benchmark runs (scaling, memory)
	set -o pipefail; LOGONGUARD_BENCH_FULL=1 $(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./... | tee bench-full.txt

lint: ## golangci-lint, pinned in tools/go.mod
	$(GO) tool -modfile=tools/go.mod golangci-lint run ./...

crashtest: ## the kill-and-restart test, 20 rounds
	LOGONGUARD_CRASH_ROUNDS=20 $(GO) test -count=1 -run TestCrash -timeout 30m -v ./cmd/logonguard/

loadtest: ## 60 seconds of mixed load against 127.0.0.1
	LOGONGUARD_LOADTEST=1 $(GO) test -count=1 -run TestLoad -timeout 10m -v ./cmd/logonguard/

FUZZTIME ?= 1m

fuzz: ## five minutes of fuzzing the mask parser, then FUZZTIME for each form handler
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 5m ./mask/
	for f in FuzzMaskForm FuzzMaskCheckForm FuzzDurationForm FuzzContactForm FuzzLogonForm; do \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./web/ || exit 1; \
	done

clean:
	rm -rf bin bench.txt
