# ofpdp — build, test and run. `make help` lists the targets.
GO        ?= go
PKGS      ?= ./...
# Releases are annotated tags vX.Y.Z; before the first one the version is v0.2.0-dev.
VERSION   ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo v0.2.0-dev)
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# SOURCE_DATE_EPOCH (reproducible-builds.org) pins the build date; otherwise it is now.
BUILD_DATE ?= $(shell date -u -d "@$${SOURCE_DATE_EPOCH:-$$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
BUILDINFO := github.com/ofpdp/ofpdp/internal/buildinfo
LDFLAGS   := -s -w -X $(BUILDINFO).Version=$(VERSION) -X $(BUILDINFO).Commit=$(COMMIT) -X $(BUILDINFO).BuildDate=$(BUILD_DATE)
BIN       ?= bin/ofpdp
DIST      ?= dist
CYCLONEDX_VERSION ?= v1.10.0
HELM_VERSION ?= v3.22.0
IMAGE     ?= localhost/ofpdp:$(VERSION)
IMAGE_CONTEXT ?= bin/image
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
# docker when its daemon answers, else podman.
ENGINE    ?= $(shell if docker info >/dev/null 2>&1; then echo docker; elif command -v podman >/dev/null 2>&1; then echo podman; fi)
STATICCHECK_VERSION ?= v0.8.2
FUZZTIME  ?= 20s
BENCHTIME ?= 1s
SANDBOX_DIR ?= .sandbox

# Packages with PKCS#11 tests (build tag pkcs11, SoftHSM2) and those tests' names: `make test` runs
# only these again with the tag, the rest already ran without it.
HSM_PKGS  ?= ./internal/keysource/... ./internal/sandbox/...
HSM_TESTS ?= PKCS11|HSM

.PHONY: help build build-hsm release image helm test bench bench-hsm lint fuzz sandbox clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

build: ## build the static binary bin/ofpdp (CGO_ENABLED=0, stamped with version, commit and date)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ofpdp

release: ## static linux/amd64 and linux/arm64 binaries, a CycloneDX SBOM of each and SHA256SUMS in dist/
	rm -rf $(DIST) && mkdir -p $(DIST)
	for arch in amd64 arm64; do \
	  bin=$(DIST)/ofpdp-$(VERSION)-linux-$$arch; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $$bin ./cmd/ofpdp || exit 1; \
	  $(GO) run github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_VERSION) bin -json -std \
	    -version $(VERSION) -output $$bin.cdx.json $$bin || exit 1; \
	done
	cd $(DIST) && sha256sum ofpdp-* > SHA256SUMS

image: build ## container image from the static binary (IMAGE=name:tag, ENGINE=docker|podman)
	@if [ -z "$(ENGINE)" ]; then echo "make image: neither a running docker nor podman found"; exit 1; fi
	rm -rf $(IMAGE_CONTEXT) && mkdir -p $(IMAGE_CONTEXT)
	cp $(BIN) $(IMAGE_CONTEXT)/ofpdp
	cp $(CA_BUNDLE) $(IMAGE_CONTEXT)/ca-certificates.crt
	$(ENGINE) build -f Dockerfile --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) \
	  --build-arg BUILD_DATE=$(BUILD_DATE) -t $(IMAGE) $(IMAGE_CONTEXT)

helm: ## helm lint and helm template of deploy/helm/ofpdp (helm run through the module proxy)
	$(GO) run helm.sh/helm/v3/cmd/helm@$(HELM_VERSION) lint --strict deploy/helm/ofpdp
	$(GO) run helm.sh/helm/v3/cmd/helm@$(HELM_VERSION) template ofpdp deploy/helm/ofpdp >/dev/null

build-hsm: ## bin/ofpdp with PKCS#11 support (cgo, build tag pkcs11) for keys in an HSM
	CGO_ENABLED=1 $(GO) build -tags pkcs11 -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ofpdp

test: ## go vet, every test with the race detector, the PKCS#11 tests against SoftHSM2, then the deployment checks in deploy/
	$(GO) vet $(PKGS)
	$(GO) vet -tags pkcs11 $(HSM_PKGS)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m -tags pkcs11 -run '$(HSM_TESTS)' $(HSM_PKGS)
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 -timeout 20m ./...

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
	rm -rf bin $(DIST) $(SANDBOX_DIR)
