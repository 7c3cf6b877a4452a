# iosbackup — see README.md. `make demo` and `make test` are the two commands a newcomer
# needs; both work on a fresh machine with Go installed.
GO      ?= go
BIN     := bin/iosbackup
DEMO    := .demo
PKGS    := ./...

.PHONY: all build test vet fmt-check tidy-check race arm64 cross demo bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/iosbackup

# The whole suite: formatting, vet, unit and real-mount tests (mount tests run with the
# race detector), fuzz seed corpora, and the macOS build.
test: fmt-check tidy-check vet cross
	$(GO) test -count=1 -timeout 12m $(PKGS)
	$(MAKE) race
	$(MAKE) arm64

# The packages with concurrent read paths again, under the race detector: real mounts
# with parallel readers (fs) and the decrypting readers. (capture is left out: its
# fsync-heavy tests take minutes under -race on a busy disk, for little concurrency.)
race:
	$(GO) test -race -count=1 -timeout 8m ./fs/ ./decrypt/... ./backup/

# The arm64 (Apple Silicon) AES and SHA-256 assembly, run under qemu-user: each kernel
# against the generic code and the standard library, and the decrypting readers on top.
arm64:
	@if command -v qemu-aarch64 >/dev/null; then \
	  echo "GOARCH=arm64 $(GO) test -exec qemu-aarch64 ./decrypt/..."; \
	  GOARCH=arm64 $(GO) test -count=1 -timeout 8m -exec qemu-aarch64 ./decrypt/...; \
	elif [ "$$CI" = true ]; then \
	  echo "make arm64: qemu-aarch64 is missing and CI=true (apt-get install qemu-user)"; exit 1; \
	else \
	  echo "make arm64: skipped, qemu-aarch64 is missing (apt-get install qemu-user)"; \
	fi

vet:
	$(GO) vet $(PKGS)

# go.mod and go.sum say exactly what the code imports.
tidy-check:
	$(GO) mod tidy -diff

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# macOS (macFUSE) must keep building.
cross:
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=darwin GOARCH=amd64 $(GO) build ./...

# Generates an encrypted sample backup (cached in $(DEMO)/) and shows the main jobs on it.
demo: build
	@./scripts/demo.sh

bench: build
	@./scripts/bench.sh

# A short run of every fuzz target (the seed corpora already run in `make test`).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin $(DEMO)
