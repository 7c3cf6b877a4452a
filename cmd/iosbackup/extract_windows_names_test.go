package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
)

// TestExtractWindowsNamesSummary: with --windows-names (on by itself on Windows) a file
// named CON and one named con.db arrive as CON_ and con_.db, and the summary says
// how many were renamed, names the first and says how.
func TestExtractWindowsNamesSummary(t *testing.T) {
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 5, Entries: 120})
	db := openManifestForWrite(t, truth)
	for _, rename := range [][2]string{{"Library/SMS/sms.db", "Library/SMS/CON"}, {"Library/SMS/sms.db-wal", "Library/SMS/con.db"}} {
		res, err := db.Exec(`UPDATE Files SET relativePath = ? WHERE domain = 'HomeDomain' AND relativePath = ?`, rename[1], rename[0])
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("rename %s: %d rows, %v", rename[0], n, err)
		}
	}
	db.Close()

	dest := t.TempDir()
	out, err := cli(t, nil, "extract", "--windows-names", truth.Dir, dest, "HomeDomain/Library/SMS")
	if err != nil {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	for _, name := range []string{"CON_", "con_.db"} {
		if _, err := os.Stat(filepath.Join(dest, "HomeDomain", "Library", "SMS", name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	want := "renamed 2 entries Windows cannot store (HomeDomain/Library/SMS/CON as " + filepath.Join("HomeDomain", "Library", "SMS", "CON_")
	if !strings.Contains(out, want) || !strings.Contains(out, "reserved names get _") {
		t.Errorf("summary does not say what was renamed (want %q):\n%s", want, out)
	}
}
