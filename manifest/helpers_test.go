package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"howett.net/plist"
)

var (
	samplesDir   = filepath.Join("..", "..", "shared", "samples")
	mvtDir       = filepath.Join(samplesDir, "ios14-mvt")
	mvtDB        = filepath.Join(mvtDir, "Manifest.db")
	encryptedDir = filepath.Join(samplesDir, "encrypted-synthetic-pw0000")
)

// Facts about the samples, from /work/shared/samples/README.md (not from this code).
const (
	mvtRows    = 3721
	mvtDomains = 562
)

func needFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("sample missing: %v", err)
	}
}

// testArchive builds NSKeyedArchiver documents the way Foundation lays them out:
// "$null" first, then objects referenced by UID.
type testArchive struct{ objects []any }

func newTestArchive() *testArchive { return &testArchive{objects: []any{"$null"}} }

func (a *testArchive) add(v any) plist.UID {
	a.objects = append(a.objects, v)
	return plist.UID(len(a.objects) - 1)
}

// nsData adds an NSMutableData object holding b and returns its UID.
func (a *testArchive) nsData(b []byte) plist.UID {
	class := a.add(map[string]any{"$classname": "NSMutableData", "$classes": []any{"NSMutableData", "NSData", "NSObject"}})
	return a.add(map[string]any{"NS.data": b, "$class": class})
}

// encode archives root (a dictionary added last) and returns the binary plist.
func (a *testArchive) encode(t testing.TB, root map[string]any) []byte {
	t.Helper()
	root["$class"] = a.add(map[string]any{"$classname": "MBFile", "$classes": []any{"MBFile", "NSObject"}})
	r := a.add(root)
	doc := map[string]any{
		"$version":  100000,
		"$archiver": "NSKeyedArchiver",
		"$top":      map[string]any{"root": r},
		"$objects":  a.objects,
	}
	b, err := plist.Marshal(doc, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustBplist(t testing.TB, v any) []byte {
	t.Helper()
	b, err := plist.Marshal(v, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirState lists every file under dir with its size and SHA-256, to show that opening
// a database left the folder exactly as it was.
func dirState(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		lines = append(lines, p+" "+hex.EncodeToString(sum[:]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
