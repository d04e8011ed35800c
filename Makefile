# ofpdp — build, test and run. `make help` lists the targets.
GO        ?= go
PKGS      ?= ./...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/ofpdp/ofpdp/internal/buildinfo.Version=$(VERSION) -X github.com/ofpdp/ofpdp/internal/buildinfo.Commit=$(COMMIT)
STATICCHECK_VERSION ?= v0.8.2
FUZZTIME  ?= 20s
BENCHTIME ?= 1s
SANDBOX_DIR ?= .sandbox

# Packages with PKCS#11 tests (build tag pkcs11, SoftHSM2) and those tests' names: `make test` runs
# only these again with the tag, the rest already ran without it.
HSM_PKGS  ?= ./internal/keysource/... ./internal/sandbox/...
HSM_TESTS ?= PKCS11|HSM

.PHONY: help build build-hsm test bench bench-hsm lint fuzz sandbox clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

build: ## build bin/ofpdp
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ofpdp ./cmd/ofpdp

build-hsm: ## bin/ofpdp with PKCS#11 support (cgo, build tag pkcs11) for keys in an HSM
	CGO_ENABLED=1 $(GO) build -tags pkcs11 -trimpath -ldflags "$(LDFLAGS)" -o bin/ofpdp ./cmd/ofpdp

test: ## go vet, then every test with the race detector, then the PKCS#11 tests against SoftHSM2
	$(GO) vet $(PKGS)
	$(GO) vet -tags pkcs11 $(HSM_PKGS)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m -tags pkcs11 -run '$(HSM_TESTS)' $(HSM_PKGS)

bench: ## every benchmark (figures go in docs/performance.md)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

bench-hsm: ## signing throughput: SoftHSM2 against key files (docs/performance.md)
	CGO_ENABLED=1 $(GO) test -tags pkcs11 -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./internal/keysource/

lint: ## gofmt check, go vet and staticcheck (pinned, via the module proxy)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

sandbox: build ## DP + PayNet simulator + mock DC on localhost
	./bin/ofpdp sandbox --dir $(SANDBOX_DIR)

clean: ## remove build output and the sandbox directory
	rm -rf bin $(SANDBOX_DIR)
