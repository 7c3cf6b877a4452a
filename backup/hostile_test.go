// FIFOs, device nodes, Unix sockets and symlinks: the hostile files are Unix ones.
//go:build unix

package backup

import (
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// The hostile-input suite of package backup: files of a backup folder that are not
// regular files inside it. A symlink is never followed (it would read, serve and
// extract /etc/shadow as sms.db), and a named pipe, device, socket or folder is never
// opened (a pipe blocks open(2) forever); each is refused with an error naming it.

// outsideSecret is a file outside the backup that a hostile symlink points at.
func outsideSecret(t *testing.T) (path, content string) {
	t.Helper()
	content = "root:SECRET-HASH-outside-the-backup:19000:0:99999:7:::\n"
	path = filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, content
}

// smsEntry is HomeDomain/Library/SMS/sms.db, the file of the reproduction.
func smsEntry(t *testing.T, b *Backup) *manifest.Entry {
	t.Helper()
	i, ok := b.Index.Lookup("HomeDomain", "Library/SMS/sms.db")
	if !ok {
		t.Fatal("generated backup has no HomeDomain/Library/SMS/sms.db")
	}
	return b.Index.Entry(i)
}

// noHang runs f and fails the test if it has not returned after a minute: a blocked
// open(2) must show as a failure, not as a test run that never ends. (It is not a
// measure of speed: a correct f returns in microseconds.)
func noHang(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s: still blocked after a minute", what)
		return nil
	}
}

// replaceWith puts a non-regular file of the given kind where path is.
func replaceWith(t *testing.T, path, kind, target string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	var err error
	switch kind {
	case "symlink":
		err = os.Symlink(target, path)
	case "fifo":
		err = syscall.Mkfifo(path, 0o644)
	case "device":
		// /dev/zero's numbers (1, 5): reading it would never end either.
		err = syscall.Mknod(path, syscall.S_IFCHR|0o644, 1<<8|5)
	case "socket":
		// A socket path is limited to ~108 bytes: bind in a short folder, then move.
		short, merr := os.MkdirTemp("/tmp", "sock")
		if merr != nil {
			t.Fatal(merr)
		}
		t.Cleanup(func() { os.RemoveAll(short) })
		l, lerr := net.Listen("unix", filepath.Join(short, "s"))
		if lerr != nil {
			t.Fatal(lerr)
		}
		t.Cleanup(func() { l.Close() })
		err = os.Rename(filepath.Join(short, "s"), path)
	case "folder":
		err = os.Mkdir(path, 0o755)
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if err != nil {
		if kind == "device" && errors.Is(err, syscall.EPERM) && os.Getenv("CI") != "true" {
			t.Skip("mknod needs root")
		}
		t.Fatal(err)
	}
}

// TestBlobNotRegularRefused replaces the blob of sms.db with each kind of non-regular
// file, in plain and encrypted backups of both layouts: OpenFile and FileSize return
// (never block) an error naming the entry and the blob, matching ErrNotRegular, and
// nothing of the symlink's target is read.
func TestBlobNotRegularRefused(t *testing.T) {
	secret, content := outsideSecret(t)
	for _, format := range []gen.Format{gen.FormatDB, gen.FormatMBDB} {
		for _, enc := range []bool{false, true} {
			for _, kind := range []string{"symlink", "fifo", "device", "socket", "folder"} {
				t.Run(fmt.Sprintf("%v/encrypted=%v/%s", format, enc, kind), func(t *testing.T) {
					truth := generate(t, gen.Options{Seed: 21, Format: format, Encrypted: enc})
					b, err := Open(truth.Dir, Options{Password: password(truth.Password)})
					if err != nil {
						t.Fatal(err)
					}
					e := smsEntry(t, b)
					blob := b.BlobPath(e)
					replaceWith(t, blob, kind, secret)

					checkErr := func(op string, err error) {
						t.Helper()
						if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), blob) ||
							!strings.Contains(err.Error(), "HomeDomain/Library/SMS/sms.db") {
							t.Fatalf("%s: err %v, want ErrNotRegular naming %s and the entry", op, err, blob)
						}
					}
					var f File
					err = noHang(t, "OpenFile", func() (err error) { f, err = b.OpenFile(e); return err })
					if f != nil {
						data, _ := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
						f.Close()
						t.Fatalf("OpenFile served %d bytes (%q...)", len(data), data[:min(len(data), 16)])
					}
					checkErr("OpenFile", err)
					var n int64
					err = noHang(t, "FileSize", func() (err error) { n, err = b.FileSize(e); return err })
					if n == int64(len(content)) {
						t.Errorf("FileSize is the symlink target's size %d", n)
					}
					checkErr("FileSize", err)
				})
			}
		}
	}
}

// TestBlobFolderSymlinkRefused makes the xx/ folder of a blob a symlink to a folder
// outside the backup holding a file of the blob's name: os.Root does not leave the
// backup folder, so the outside file is not read.
func TestBlobFolderSymlinkRefused(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 22})
	b, err := Open(truth.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := smsEntry(t, b)
	blob := b.BlobPath(e)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, filepath.Base(blob)), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Dir(blob)
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, sub); err != nil {
		t.Fatal(err)
	}
	f, err := b.OpenFile(e)
	if err == nil {
		f.Close()
		t.Fatal("opened a blob through a symlinked folder leading outside the backup")
	}
	if !strings.Contains(err.Error(), "HomeDomain/Library/SMS/sms.db") || !strings.Contains(err.Error(), filepath.Base(blob)) {
		t.Fatalf("error does not name the entry and blob: %v", err)
	}
	if _, err := b.FileSize(e); err == nil {
		t.Fatal("FileSize through a symlinked folder leading outside the backup")
	}
}

// TestManifestFilesNotRegularRefused makes each of the backup's own files a symlink to
// a valid copy outside (from another generated backup, with another device name) or a
// named pipe: Open fails naming Manifest.db, Manifest.mbdb or Manifest.plist, or warns
// naming Info.plist or Status.plist and goes on without it; Summarize (list) does not
// show the outside copy's device name; nothing blocks.
func TestManifestFilesNotRegularRefused(t *testing.T) {
	other := generate(t, gen.Options{Seed: 24, DeviceName: "Outside Device"})
	otherMBDB := generate(t, gen.Options{Seed: 24, Format: gen.FormatMBDB, DeviceName: "Outside Device"})
	cases := []struct {
		name   string
		format gen.Format
		fatal  bool // Open fails (else it warns)
	}{
		{"Manifest.db", gen.FormatDB, true},
		{"Manifest.db-wal", gen.FormatDB, true},
		{"Manifest.mbdb", gen.FormatMBDB, true},
		{"Manifest.plist", gen.FormatDB, true},
		{"Info.plist", gen.FormatDB, false},
		{"Status.plist", gen.FormatDB, false},
	}
	for _, c := range cases {
		for _, kind := range []string{"symlink", "fifo"} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				truth := generate(t, gen.Options{Seed: 23, Format: c.format, DeviceName: "Inside Device"})
				target := filepath.Join(other.Dir, c.name)
				if c.format == gen.FormatMBDB {
					target = filepath.Join(otherMBDB.Dir, c.name)
				}
				path := filepath.Join(truth.Dir, c.name)
				if c.name == "Manifest.db-wal" {
					// No WAL beside a generated backup: any file there is read as one.
					if err := os.WriteFile(path, nil, 0o644); err != nil {
						t.Fatal(err)
					}
					target = filepath.Join(other.Dir, "Manifest.db")
				}
				replaceWith(t, path, kind, target)

				var warnings []string
				var b *Backup
				err := noHang(t, "Open", func() (err error) {
					b, err = Open(truth.Dir, Options{Warn: func(s string) { warnings = append(warnings, s) }})
					return err
				})
				if c.fatal {
					if err == nil || !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), path) {
						t.Fatalf("Open: err %v, want ErrNotRegular naming %s", err, path)
					}
				} else {
					if err != nil {
						t.Fatalf("Open: %v", err)
					}
					w := strings.Join(warnings, "\n")
					if !strings.Contains(w, path) || !strings.Contains(w, ErrNotRegular.Error()) {
						t.Fatalf("warnings %q do not name %s as not a regular file", w, path)
					}
					if b.Name() != "" && strings.Contains(b.Name(), "Outside") {
						t.Fatalf("name %q read through the symlink", b.Name())
					}
				}
				var s Summary
				err = noHang(t, "Summarize", func() (err error) { s, err = Summarize(truth.Dir, true); return err })
				if err == nil && strings.Contains(s.DeviceName, "Outside") {
					t.Fatalf("Summarize read %q through the symlink", s.DeviceName)
				}
			})
		}
	}
}

// TestOpenHonoursWAL: a Manifest.db whose last rows are still in Manifest.db-wal (a
// backup interrupted before its checkpoint) is read with them, through the confined
// opener, and the folder is left as it was (no -shm written).
func TestOpenHonoursWAL(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 25})
	walDir := addRowInWAL(t, truth.Dir, "HomeDomain", "Library/only-in-wal.txt")
	before := listDir(t, walDir)
	b, err := Open(walDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Index.Lookup("HomeDomain", "Library/only-in-wal.txt"); !ok {
		t.Fatal("the row in Manifest.db-wal was not read")
	}
	if b.Stats.Rows != truth.Rows+1 {
		t.Fatalf("%d rows, want %d", b.Stats.Rows, truth.Rows+1)
	}
	if after := listDir(t, walDir); after != before {
		t.Fatalf("folder changed:\n%s\n%s", before, after)
	}
}

func listDir(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, e := range ents {
		fi, _ := e.Info()
		s = append(s, fmt.Sprintf("%s %d %v", e.Name(), fi.Size(), fi.ModTime()))
	}
	return strings.Join(s, "\n")
}

// addRowInWAL copies the top-level files of the backup in dir to a new folder, with
// one more row (a copy of sms.db's, at domain/relPath) that is still in
// Manifest.db-wal: it is copied while the writer is open, before any checkpoint.
func addRowInWAL(t *testing.T, dir, domain, relPath string) string {
	t.Helper()
	w, err := sql.Open("sqlite", filepath.Join(dir, "Manifest.db")+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	id := sha1.Sum([]byte(domain + "-" + relPath))
	if _, err := w.Exec(`INSERT INTO Files (fileID, domain, relativePath, flags, file)
		SELECT ?, ?, ?, flags, file FROM Files WHERE domain = 'HomeDomain' AND relativePath = 'Library/SMS/sms.db'`,
		hex.EncodeToString(id[:]), domain, relPath); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "backup")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dst, "Manifest.db-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("test setup: no WAL (%v)", err)
	}
	return dst
}
