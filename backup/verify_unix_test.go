// A symlink and a named pipe in a blob's place: Unix files (replaceWith, hostile_test.go).
//go:build unix

package backup

import (
	"strings"
	"testing"

	"iosbackup/internal/gen"
)

// TestVerifyBlobNotRegular: a symlink or a named pipe in a blob's place is named, never
// followed or opened (a pipe would block the verify forever).
func TestVerifyBlobNotRegular(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 27})
	link := pick(t, truth, func(te *gen.TruthEntry) bool { return strings.HasSuffix(te.Path, "IMG_0003.JPG") })
	pipe := pick(t, truth, func(te *gen.TruthEntry) bool { return strings.HasSuffix(te.Path, "IMG_0004.JPG") })
	replaceWith(t, blobOf(truth, link), "symlink", "/etc/passwd")
	replaceWith(t, blobOf(truth, pipe), "fifo", "")
	rep := verifyTruth(t, truth, VerifyOptions{})
	wantOnly(t, rep, want(CheckBlobRead, link), want(CheckBlobRead, pipe))
	for _, p := range rep.Problems {
		if !strings.Contains(p.Detail, "not a regular file") {
			t.Errorf("%s does not say what is wrong", p)
		}
	}
}
