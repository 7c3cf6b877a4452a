package main

import (
	"bytes"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

// The hostile-input suite for manifests, as the commands answer it (issue 10, items 3
// and 4; hostile_cli_test.go has the blobs): a manifest that asks for gigabytes is
// refused with an error naming Manifest.db, and every row left out of the tree is said
// on info, ls, cat, extract and in the mount log.

// runLimited runs the built iosbackup under a 2 GiB address-space limit (a regression
// must fail with "out of memory", not take the machine's memory) and returns its exit
// code, stdout and stderr apart.
func runLimited(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", `ulimit -v 2097152 && exec "$0" "$@"`, binary}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// TestHostileManifestDBGeneratedColumn rebuilds the Files table of a plain and an
// encrypted generated backup with relativePath generated as a 300 MB string: info and
// ls fail at once, naming Manifest.db and what is wrong.
func TestHostileManifestDBGeneratedColumn(t *testing.T) {
	isolate(t)
	for _, encrypted := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "b")
		truth := genBackup(t, dir, gen.Options{Seed: 11, Encrypted: encrypted, Password: "pw"})
		err := gen.EditManifestDB(truth, func(db *sql.DB) error {
			// Adding a generated column computes nothing: the file stays small.
			for _, q := range []string{
				`ALTER TABLE Files RENAME COLUMN relativePath TO p`,
				`ALTER TABLE Files ADD COLUMN relativePath TEXT GENERATED ALWAYS AS (printf('%.*c', 300000000, 'x')) VIRTUAL`,
			} {
				if _, err := db.Exec(q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"info", "ls"} {
			code, out, errOut := runLimited(t, []string{"IOSBACKUP_PASSWORD=pw"}, cmd, dir)
			if code != exitError || !strings.Contains(errOut, filepath.Join(dir, "Manifest.db")) ||
				!strings.Contains(errOut, `column "relativePath" of Files is generated`) {
				t.Errorf("encrypted=%v %s: exit %d, stderr %q, stdout %q", encrypted, cmd, code, errOut, out)
			}
		}
	}
}

// hostileRows plants, in a generated backup, one row of every kind that is left out,
// and returns the path (in HomeDomain) of the file whose record it damaged.
func hostileRows(t *testing.T, truth *gen.Truth) (damaged string, planted []*gen.TruthEntry) {
	t.Helper()
	sms := truth.Lookup("HomeDomain", "Library/SMS/sms.db")
	notes := truth.Lookup("HomeDomain", "Library/Notes/notes.txt")
	if sms == nil || notes == nil {
		t.Fatal("the generated backup has no sms.db or notes.txt")
	}
	at := func(domain, p string, mode uint32) *gen.TruthEntry {
		e := *sms
		e.Domain, e.Path, e.Mode = domain, p, mode
		return &e
	}
	planted = []*gen.TruthEntry{
		// A domain "." names HomeDomain's sms.db as its path: extract wrote it first.
		at(".", "HomeDomain/Library/SMS/sms.db", 0o100644),
		// A domain ".." stopped the whole extract.
		at("..", "escaped.txt", 0o100644),
		// Below a file.
		at("HomeDomain", "Library/SMS/sms.db/inner", 0o100644),
	}
	return notes.Path, planted
}

// TestHostileRowsAreReported: a damaged record, a duplicate, a path inside a file, a
// NULL column and the domains "." and ".." are all named by info; ls and cat warn; cat
// of the damaged file says why it is missing; extract writes everything else, the real
// sms.db included, and exits 1; an extract that asks for none of them exits 0; the
// mount log names them.
func TestHostileRowsAreReported(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "b")
	truth := genBackup(t, dir, gen.Options{Seed: 12})
	damaged, planted := hostileRows(t, truth)
	err := gen.EditManifestDB(truth, func(db *sql.DB) error {
		if _, err := db.Exec(`UPDATE Files SET file = x'62706c6973743030ffff' WHERE domain = 'HomeDomain' AND relativePath = ?`, damaged); err != nil {
			return err
		}
		for i, e := range planted {
			rec, err := gen.MBFileRecord(e)
			if err != nil {
				return err
			}
			id := manifest.ComputeFileID(e.Domain, e.Path+string(rune('a'+i))).String()
			if _, err := db.Exec(`INSERT INTO Files VALUES (?, ?, ?, 1, ?)`, id, e.Domain, e.Path, rec); err != nil {
				return err
			}
		}
		// A second row for sms.db (another fileID), and a file whose record is NULL.
		for _, q := range []string{
			`INSERT INTO Files SELECT '00000000000000000000000000000000000000aa', domain, relativePath, flags, file FROM Files
				WHERE domain = 'HomeDomain' AND relativePath = 'Library/SMS/sms.db'`,
			`INSERT INTO Files VALUES ('00000000000000000000000000000000000000bb', 'HomeDomain', 'Library/null.txt', 1, NULL)`,
		} {
			if _, err := db.Exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantNamed := []string{
		`unreadable record: domain "HomeDomain" path "` + damaged + `"`,
		`invalid domain name: domain "." path "HomeDomain/Library/SMS/sms.db"`,
		`invalid domain name: domain ".." path "escaped.txt"`,
		`path inside a file: domain "HomeDomain" path "Library/SMS/sms.db/inner"`,
		`duplicate path: domain "HomeDomain" path "Library/SMS/sms.db" (fileID 00000000000000000000000000000000000000aa)`,
		`row with a NULL column: domain "HomeDomain" path "Library/null.txt"`,
	}
	checkHostileRowsReported(t, dir, truth, damaged, wantNamed)

	// The mount log names them too.
	testenv.RequireFUSE(t)
	logFile := filepath.Join(t.TempDir(), "mount.log")
	mountBG(t, nil, "--log", logFile, dir)
	log, _ := os.ReadFile(logFile)
	if !strings.Contains(string(log), "6 rows of the manifest left out") {
		t.Errorf("mount log %q does not say the rows left out", log)
	}
}

// TestHostileRowsAreReportedMBDB: the same for an iOS 5-9 backup, records appended to
// its Manifest.mbdb: a FIFO, a duplicate, a path inside a file, "." and ".." domains.
func TestHostileRowsAreReportedMBDB(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "b")
	truth := genBackup(t, dir, gen.Options{Seed: 13, Format: gen.FormatMBDB})
	_, planted := hostileRows(t, truth)
	fifo := *truth.Lookup("HomeDomain", "Library/Notes/notes.txt")
	fifo.Path, fifo.Mode = "Library/fifo", 0o010644
	dup := *truth.Lookup("HomeDomain", "Library/SMS/sms.db")
	f, err := os.OpenFile(filepath.Join(dir, "Manifest.mbdb"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range append(planted, &fifo, &dup) {
		rec, err := gen.MBDBRecord(e)
		if err == nil {
			_, err = f.Write(rec)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	checkHostileRowsReported(t, dir, truth, "", []string{
		`invalid domain name: domain "." path "HomeDomain/Library/SMS/sms.db"`,
		`invalid domain name: domain ".." path "escaped.txt"`,
		`path inside a file: domain "HomeDomain" path "Library/SMS/sms.db/inner"`,
		`duplicate path: domain "HomeDomain" path "Library/SMS/sms.db"`,
		`record of no file type: domain "HomeDomain" path "Library/fifo"`,
	})
}

func checkHostileRowsReported(t *testing.T, dir string, truth *gen.Truth, damaged string, wantNamed []string) {
	t.Helper()
	n := len(wantNamed)
	code, out, errOut := runLimited(t, nil, "info", dir)
	if code != 0 {
		t.Fatalf("info: exit %d: %s", code, errOut)
	}
	t.Logf("info:\n%s", out)
	for _, w := range wantNamed {
		if !strings.Contains(out, w) {
			t.Errorf("info does not name %s:\n%s", w, out)
		}
	}
	if !strings.Contains(out, plural(n, "row", "rows")+" left out") && !strings.Contains(out, "Left out of the manifest: "+plural(n, "row", "rows")) {
		t.Errorf("info does not count %d rows left out:\n%s", n, out)
	}

	code, out, errOut = runLimited(t, nil, "ls", dir)
	if code != 0 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, plural(n, "row", "rows")+" of the manifest left out") {
		t.Errorf("ls: exit %d, want one warning line on stderr, got %q", code, errOut)
	}
	for _, d := range strings.Fields(out) {
		if d == "." || d == ".." {
			t.Errorf("ls lists domain %q", d)
		}
	}

	if damaged != "" {
		code, _, errOut = runLimited(t, nil, "cat", dir, "HomeDomain/"+damaged)
		if code != exitError || !strings.Contains(errOut, "listed in the manifest but left out") || !strings.Contains(errOut, "unreadable record") {
			t.Errorf("cat of the damaged file: exit %d, %q", code, errOut)
		}
	}
	sms := truth.Lookup("HomeDomain", "Library/SMS/sms.db")
	want, _ := io.ReadAll(sms.Content())
	code, out, errOut = runLimited(t, nil, "cat", dir, "HomeDomain/Library/SMS/sms.db")
	if code != 0 || out != string(want) {
		t.Errorf("cat sms.db: exit %d, %d bytes (want %d): %s", code, len(out), len(want), errOut)
	}

	// extract writes everything else, exits 1 and says why.
	parent := t.TempDir()
	dest := filepath.Join(parent, "out")
	code, _, errOut = runLimited(t, nil, "extract", dir, dest)
	t.Logf("extract: exit %d\n%s", code, errOut)
	if code != exitError || !strings.Contains(errOut, plural(n, "row", "rows")+" of the manifest that match were left out") {
		t.Errorf("extract: exit %d, stderr %q", code, errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "HomeDomain", "Library", "SMS", "sms.db")); !bytes.Equal(got, want) {
		t.Errorf("extract: sms.db is not the real one (%d bytes, want %d)", len(got), len(want))
	}
	files := 0
	for i := range truth.Entries {
		te := &truth.Entries[i]
		if te.Kind != manifest.KindFile || te.Path == damaged && te.Domain == "HomeDomain" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dest, te.Domain, filepath.FromSlash(te.Path))); err != nil {
			t.Errorf("extract left out %s: %v", te.Key(), err)
		}
		files++
	}
	if top, _ := os.ReadDir(parent); len(top) != 1 || files == 0 {
		t.Errorf("extract wrote beside DEST: %v (%d files checked)", top, files)
	}
	// Asking for none of them: exit 0, the rows still counted.
	code, _, errOut = runLimited(t, nil, "extract", "--domain", "CameraRollDomain", dir, t.TempDir())
	if code != 0 || !strings.Contains(errOut, "left out") {
		t.Errorf("extract --domain CameraRollDomain: exit %d, %q", code, errOut)
	}
}
