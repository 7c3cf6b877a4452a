# iosbackup — see README.md. `make demo` and `make test` are the two commands a newcomer
# needs; both work on a fresh machine with Go installed: each first checks the Debian
# packages it drives (`make deps`: installs them as root, else prints the apt-get line).
GO      ?= go
BIN     := bin/iosbackup
DEMO    := .demo
PKGS    := ./...

# staticcheck at a pinned release, from the module proxy: `go run pkg@version` leaves
# go.mod alone. v0.8.x is the first series whose go.mod says go 1.26 (v0.8.2: 2026-10).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build demo-tools deps test checks vet lint fmt-check tidy-check race arm64 cross windows-test demo man bench fuzz clean

all: build

# -buildvcs=auto (GOFLAGS may say false): `iosbackup version` reports the commit.
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/iosbackup

# The Debian packages of scripts/deps.list (the one list) that the tests drive.
deps:
	@./scripts/deps.sh test

# The whole suite: the packages first (it stops at once when one is missing), then
# formatting, vet, staticcheck and shellcheck, the Windows, macOS and Linux arm64 builds,
# unit and real-mount tests, the race detector over the concurrent packages, the arm64
# assembly, and the Windows unit tests under Wine.
test: deps
	@$(MAKE) --no-print-directory checks
	$(GO) test -count=1 -timeout 12m $(PKGS)
	$(MAKE) race
	$(MAKE) arm64
	$(MAKE) windows-test

# The packages with concurrent read paths again, under the race detector: real mounts
# with parallel readers (fs) and the decrypting readers. (capture is left out: its
# fsync-heavy tests take minutes under -race on a busy disk, for little concurrency.)
race:
	$(GO) test -race -count=1 -timeout 8m ./fs/... ./decrypt/... ./backup/

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

checks: fmt-check tidy-check vet lint cross

vet:
	$(GO) vet $(PKGS)

# staticcheck over the Go code (staticcheck.conf files say where a check does not apply),
# shellcheck over the scripts.
lint:
	$(STATICCHECK) $(PKGS)
	shellcheck scripts/*.sh .ci/run

# go.mod and go.sum say exactly what the code imports.
tidy-check:
	$(GO) mod tidy -diff

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The other platforms must keep building: macOS (macFUSE) on both CPUs, Linux arm64, and
# Windows, where everything but the FUSE mount builds (fs/ and mount are not Windows').
cross:
	GOOS=windows GOARCH=amd64 $(GO) build ./...
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/iosbackup
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=darwin GOARCH=amd64 $(GO) build ./...
	GOOS=linux GOARCH=arm64 $(GO) build ./...

# The unit tests of manifest/, decrypt/, backup/ and serve's tree and WebDAV server
# (fs/view, fs/dav) as Windows binaries under Wine, in a
# private prefix under build/wine (scripts/windows-test.sh says what it bridges).
windows-test:
	@GO=$(GO) ./scripts/windows-test.sh

# Generates an encrypted sample backup (cached in $(DEMO)/) and shows the main jobs on it.
demo:
	@./scripts/deps.sh demo
	@$(MAKE) --no-print-directory build demo-tools
	@./scripts/demo.sh

# The demo's generator of sample backups and its simulated device (development tools,
# never part of bin/iosbackup).
demo-tools:
	$(GO) build -o bin/genbackup ./internal/gen/cmd/genbackup
	$(GO) build -o bin/devicesim ./internal/devicesim/cmd/devicesim

# Man pages of every command, generated from the cobra definitions (cobra/doc) by the
# built binary's hidden gen-man: `man -l build/man/iosbackup.1`.
MAN := build/man
man: build
	rm -rf $(MAN)
	$(BIN) gen-man $(MAN)

bench: build
	@./scripts/bench.sh

# A short run of every fuzz target (the seed corpora already run in `make test`).
FUZZTIME ?= 20s
# Minimizing each new input may take this long (the default, 60 s, ate whole runs:
# FuzzParseManifestPlist did 9-15 executions in 60 s).
FUZZMINIMIZETIME ?= 5s
# One target or package only: make fuzz FUZZ='^FuzzParseManifestPlist$$' FUZZPKGS=./manifest/
FUZZ     ?= Fuzz.*
FUZZPKGS ?= ./...
fuzz:
	@for pkg in $$($(GO) list $(FUZZPKGS)); do \
	  for f in $$($(GO) test -list '$(FUZZ)' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin build $(DEMO)
