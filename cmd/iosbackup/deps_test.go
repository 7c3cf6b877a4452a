package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The shipped binary links no development code: not the generator of synthetic
// backups, the simulated device or the benchmarks (nothing of iosbackup/internal/, as
// /work/shared/docs/layout.md has it), on Linux and on macOS.
func TestBinaryLinksNoDevelopmentCode(t *testing.T) {
	for _, goos := range []string{"linux", "darwin"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH=arm64")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOOS=%s go list -deps: %v\n%s", goos, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 || !strings.Contains(string(out), "iosbackup/decrypt\n") {
			t.Fatalf("GOOS=%s go list -deps printed %d packages, none of them iosbackup/decrypt:\n%s", goos, len(deps), out)
		}
		for _, p := range deps {
			if p == "iosbackup/internal" || strings.HasPrefix(p, "iosbackup/internal/") {
				t.Errorf("GOOS=%s: cmd/iosbackup links %s (development code); `go list -deps ./cmd/iosbackup` shows it", goos, p)
			}
		}
	}
}
