package capture_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"iosbackup/backup"
	"iosbackup/capture"
	"iosbackup/history"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

func revision(t testing.TB, r int) string {
	if r == 0 {
		return rev0(t)
	}
	if r == 1 {
		return rev1(t)
	}
	return genBackup(t, fmt.Sprintf("rev%d", r), gen.Options{Seed: 7, Entries: 3000, Revision: r})
}

// snapshotView is everything a snapshot shows: each file's mode, size and SHA-256 on
// disk, and each manifest entry's contents as the library reads them.
type snapshotView struct {
	files   map[string]string
	entries map[string]string
}

func viewSnapshot(t *testing.T, dir string) snapshotView {
	t.Helper()
	v := snapshotView{files: map[string]string{}, entries: map[string]string{}}
	for _, rel := range treeFiles(t, dir) {
		p := filepath.Join(dir, rel)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		v.files[rel] = fmt.Sprintf("%v %d %x", fi.Mode(), len(data), sha256.Sum256(data))
	}
	b, err := backup.Open(dir, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range int32(b.Index.Len()) {
		e := b.Index.Entry(i)
		if e.Kind != manifest.KindFile {
			continue
		}
		f, err := b.OpenFile(e)
		if err != nil {
			v.entries[e.Domain+"/"+e.Path] = "error: " + err.Error()
			continue
		}
		h := sha256.New()
		_, err = io.Copy(h, io.NewSectionReader(f, 0, f.Size()))
		f.Close()
		v.entries[e.Domain+"/"+e.Path] = fmt.Sprintf("%x %v", h.Sum(nil), err)
	}
	if len(v.entries) < 1000 {
		t.Fatalf("%s: only %d files read", dir, len(v.entries))
	}
	return v
}

func sameView(a, b map[string]string) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d entries before, %d after", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			return fmt.Sprintf("%s: %q before, %q after", k, v, b[k])
		}
	}
	return ""
}

// TestSnapshotsSurviveIdevicebackup2 keeps three snapshots (four captures of four
// revisions of the simulated device), then lets Debian's idevicebackup2 take an
// incremental backup of a fifth revision into the live folder, which shares its
// unchanged files with the snapshots. Every snapshot must still match its record and
// read exactly as before, file by file and entry by entry, and pass verify.
func TestSnapshotsSurviveIdevicebackup2(t *testing.T) {
	bin := testenv.RequireTool(t, "idevicebackup2")
	root := t.TempDir()
	sim := startSim(t, revision(t, 0), devicesim.Config{ServiceSSL: true})
	udid := sim.UDID()
	live := filepath.Join(root, udid)
	for r := range 4 {
		sim.SetSource(revision(t, r))
		res, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root})
		if err != nil {
			t.Fatal(err)
		}
		if r > 0 && (res.Snapshot == "" || !res.Incremental) {
			t.Fatalf("capture %d: snapshot %q, incremental %v", r, res.Snapshot, res.Incremental)
		}
	}
	snaps, err := history.List(live)
	if err != nil || len(snaps) != 3 {
		t.Fatalf("%d snapshots, %v", len(snaps), err)
	}
	before := map[string]snapshotView{}
	for i, s := range snaps {
		assertSameBackup(t, revision(t, i), s.Dir)
		before[s.Dir] = viewSnapshot(t, s.Dir)
	}
	if n := sharedFiles(t, live, snaps[2].Dir); n < 1000 {
		t.Fatalf("the live folder shares only %d files with the last snapshot: nothing would be at stake", n)
	}

	sim.SetSource(revision(t, 4))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "backup", root)
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS=UNIX:"+sim.Socket())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "Backup Successful.") {
		text := out.String()
		t.Fatalf("idevicebackup2: %v\n%s", err, text[max(0, len(text)-3000):])
	}
	assertSameBackup(t, revision(t, 4), live)
	// An incremental backup: idevicebackup2 worked among the shared files.
	if n := sharedFiles(t, live, snaps[2].Dir); n < 1000 {
		t.Fatalf("after idevicebackup2 the live folder shares only %d files with the last snapshot: it did not write among them", n)
	}

	for _, s := range snaps {
		rec, err := history.ReadRecord(s.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range rec.All() {
			if err := history.CheckFile(s.Dir, b); err != nil {
				t.Error(err)
			}
		}
		// And iosbackup verify, with the snapshot's record, finds nothing.
		vrec := &backup.SnapshotRecord{Blobs: map[string]backup.RecordedFile{}, Files: map[string]backup.RecordedFile{}}
		for id, b := range rec.Blobs {
			vrec.Blobs[id] = backup.RecordedFile{Size: b.Size, SHA256: b.SHA256}
		}
		for p, b := range rec.Files {
			vrec.Files[p] = backup.RecordedFile{Size: b.Size, SHA256: b.SHA256}
		}
		vr, err := backup.Verify(s.Dir, backup.Options{}, backup.VerifyOptions{Snapshot: vrec})
		if err != nil {
			t.Fatal(err)
		}
		if !vr.Sound() || vr.Files < 1000 {
			t.Errorf("verify %s: %d files, problems %v", s.Name, vr.Files, vr.Problems)
		}
		after := viewSnapshot(t, s.Dir)
		if d := sameView(before[s.Dir].files, after.files); d != "" {
			t.Errorf("%s changed on disk: %s", s.Name, d)
		}
		if d := sameView(before[s.Dir].entries, after.entries); d != "" {
			t.Errorf("%s reads differently: %s", s.Name, d)
		}
	}
}

// sharedFiles counts the files of a that are the same inode as b's file of that path.
func sharedFiles(t *testing.T, a, b string) int {
	n := 0
	for _, rel := range treeFiles(t, a) {
		x, _ := os.Lstat(filepath.Join(a, rel))
		y, err := os.Lstat(filepath.Join(b, rel))
		if err == nil && os.SameFile(x, y) {
			n++
		}
	}
	return n
}
