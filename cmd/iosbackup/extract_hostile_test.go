package main

import (
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"howett.net/plist"

	"iosbackup/internal/gen"
)

// setRowMode rewrites the Mode recorded in the `file` archive of one Manifest.db row.
func setRowMode(t *testing.T, db *sql.DB, domain, relPath string, mode uint32) {
	t.Helper()
	var blob []byte
	if err := db.QueryRow(`SELECT file FROM Files WHERE domain = ? AND relativePath = ?`, domain, relPath).Scan(&blob); err != nil {
		t.Fatalf("%s/%s: %v", domain, relPath, err)
	}
	var archive map[string]any
	if _, err := plist.Unmarshal(blob, &archive); err != nil {
		t.Fatal(err)
	}
	objects := archive["$objects"].([]any)
	objects[1].(map[string]any)["Mode"] = uint64(mode)
	out, err := plist.Marshal(archive, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE Files SET file = ? WHERE domain = ? AND relativePath = ?`, out, domain, relPath); err != nil {
		t.Fatal(err)
	}
}

// TestExtractMasksRecordedModes crafts a backup with a world-writable setuid/setgid
// file (06777) and a world-writable setgid sticky folder (03777). Under umask 022,
// extract writes the file 0755 and the folder 0755: the umask applies and no set-id or
// sticky bit is kept, as tar does without -p.
func TestExtractMasksRecordedModes(t *testing.T) {
	isolate(t)
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 45})
	db := openManifestForWrite(t, truth)
	var dir string
	if err := db.QueryRow(`SELECT relativePath FROM Files WHERE domain = 'HomeDomain' AND flags = 2 AND relativePath LIKE 'Library/%' LIMIT 1`).Scan(&dir); err != nil {
		t.Fatal(err)
	}
	setRowMode(t, db, "HomeDomain", smsPath[len("HomeDomain/"):], 0o100000|0o6777)
	setRowMode(t, db, "HomeDomain", dir, 0o040000|0o3777)
	db.Close()

	old := syscall.Umask(0o022) // the child inherits it
	defer syscall.Umask(old)
	dest := t.TempDir()
	if out, err := cliNoHang(t, nil, "extract", truth.Dir, dest); err != nil {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	for _, c := range []struct {
		path string
		want fs.FileMode
	}{
		{smsPath, 0o755},
		{"HomeDomain/" + dir, fs.ModeDir | 0o755},
	} {
		fi, err := os.Lstat(filepath.Join(dest, c.path))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != c.want {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode(), c.want)
		}
	}
}

// TestExtractRefusesDeepPaths adds one file 10,000 folders deep (the took 404 s
// to extract): extract refuses it naming the first folder past its limit, creates
// nothing deeper than the limit, extracts the rest and exits 1.
func TestExtractRefusesDeepPaths(t *testing.T) {
	isolate(t)
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 47})
	db := openManifestForWrite(t, truth)
	deep := strings.Repeat("d/", 9_999) + "f"
	id := sha1.Sum([]byte("HomeDomain-" + deep))
	idHex := hex.EncodeToString(id[:])
	if _, err := db.Exec(`INSERT INTO Files (fileID, domain, relativePath, flags, file)
		SELECT ?, domain, ?, flags, file FROM Files WHERE domain = 'HomeDomain' AND relativePath = 'Library/SMS/sms.db'`, idHex, deep); err != nil {
		t.Fatal(err)
	}
	db.Close()
	data, err := os.ReadFile(smsBlob(truth))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(truth.Dir, idHex[:2]), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(truth.Dir, idHex[:2], idHex), data, 0o644); err != nil {
		t.Fatal(err)
	}

	dest := t.TempDir()
	out, err := cliNoHang(t, nil, "extract", truth.Dir, dest)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "deeper than 256 folders") {
		t.Fatalf("extract: err %v, want exit 1 reporting the deep path:\n%.2000s", err, out)
	}
	if !strings.Contains(out, filepath.Join("HomeDomain", strings.Repeat("d/", 256)+"d")+": not extracted") {
		t.Fatalf("the refused path is not named:\n%.2000s", out)
	}
	if _, err := os.Lstat(filepath.Join(dest, "HomeDomain", strings.Repeat("d/", 256)+"d")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a folder deeper than the limit was created (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "HomeDomain", strings.Repeat("d/", 255)+"d")); err != nil {
		t.Fatalf("the folders within the limit were not extracted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, smsPath)); err != nil {
		t.Fatalf("the other files were not extracted: %v", err)
	}
}

func openManifestForWrite(t *testing.T, truth *gen.Truth) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(truth.Dir, "Manifest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
