//go:build !windows

package manifest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// limitedChild runs argv under a 2 GiB address-space limit (ulimit -v).
func limitedChild(argv ...string) *exec.Cmd {
	return exec.Command("sh", append([]string{"-c", `ulimit -v 2097152 && exec "$0" "$@"`}, argv...)...)
}

// vmHWM is this process's peak resident set size in KiB, from /proc.
func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}
