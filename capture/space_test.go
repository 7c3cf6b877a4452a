package capture

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"iosbackup/history"
	"iosbackup/internal/gen"
)

// duKiB is GNU du's disk usage of dirs taken together (a hard-linked file counts once).
func duKiB(t *testing.T, dirs ...string) int64 {
	t.Helper()
	out, err := exec.Command("du", append([]string{"-skc"}, dirs...)...).Output()
	if err != nil {
		t.Fatalf("du: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	n, err := strconv.ParseInt(strings.Fields(lines[len(lines)-1])[0], 10, 64)
	if err != nil {
		t.Fatalf("du output %q", out)
	}
	return n
}

// TestSpaceOfTenSnapshots takes ten captures of a generated backup, 1% of its files
// changed before each, through the store's own staging and publishing (the device's
// part is what changes: new blobs, a new Manifest.db and plists, each written to a
// temporary file and renamed, as the device's uploads are). It measures with du the
// live backup and its ten snapshots against one backup.
//
// HISTORY_SPACE_ENTRIES (default 20000: about 90 MB of rows and small files) and
// HISTORY_SPACE_BIG (bytes of one large file, a video: default 100 MiB) size the
// backup; the 2 GB figure is HISTORY_SPACE_BIG=1900000000, by hand.
func TestSpaceOfTenSnapshots(t *testing.T) {
	entries, big := 20000, int64(100<<20)
	if v, err := strconv.Atoi(os.Getenv("HISTORY_SPACE_ENTRIES")); err == nil {
		entries = v
	}
	if v, err := strconv.ParseInt(os.Getenv("HISTORY_SPACE_BIG"), 10, 64); err == nil {
		big = v
	}
	root := t.TempDir()
	const udid = "00008030-0000SPACE0000"
	live := filepath.Join(root, udid)
	if _, err := gen.Generate(live, gen.Options{Seed: 21, Entries: entries, BigFileSize: big}); err != nil {
		t.Fatal(err)
	}
	one := duKiB(t, live)
	var blobs []string
	err := filepath.WalkDir(live, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if _, ok := history.FileIDOf(p); ok {
				rel, _ := filepath.Rel(live, p)
				blobs = append(blobs, filepath.ToSlash(rel))
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 1))
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	var manifestKiB int64
	for round := 1; round <= 10; round++ {
		st, err := openStore(root, udid)
		if err != nil {
			t.Fatal(err)
		}
		st.setHistory(Options{})
		if _, _, err := st.prepare(true); err != nil {
			t.Fatal(err)
		}
		for _, i := range rng.Perm(len(blobs))[:len(blobs)/100] {
			old, err := os.ReadFile(filepath.Join(live, blobs[i]))
			if err != nil {
				t.Fatal(err)
			}
			data := make([]byte, len(old))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			writeVia(t, st, udid+"/"+blobs[i], data)
		}
		for _, name := range []string{"Manifest.db", "Manifest.plist", "Status.plist"} {
			data, err := os.ReadFile(filepath.Join(live, name))
			if err != nil {
				t.Fatal(err)
			}
			if name == "Manifest.db" {
				// The device's new Manifest.db differs from the last one; here by
				// SQLite's file change counter (header bytes 24-27) at least.
				binary.BigEndian.PutUint32(data[24:28], uint32(round))
			}
			writeVia(t, st, udid+"/"+name, data)
		}
		info := map[string]any{}
		data, err := os.ReadFile(filepath.Join(live, "Info.plist"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plist.Unmarshal(data, &info); err != nil {
			t.Fatal(err)
		}
		info["Last Backup Date"] = start.AddDate(0, 0, round)
		data, err = plist.Marshal(info, plist.XMLFormat)
		if err != nil {
			t.Fatal(err)
		}
		writeVia(t, st, udid+"/Info.plist", data)
		if err := st.publish(); err != nil {
			t.Fatal(err)
		}
		st.close()
		if round == 1 {
			manifestKiB = duKiB(t, filepath.Join(live, "Manifest.db"))
		}
	}
	snaps, err := history.List(live)
	if err != nil || len(snaps) != 10 {
		t.Fatalf("%d snapshots, %v", len(snaps), err)
	}
	// Every blob that did not change is one inode from the first snapshot to the live
	// folder: shared, not copied.
	changed := len(blobs) / 100
	for i, s := range snaps {
		next := live
		if i+1 < len(snaps) {
			next = snaps[i+1].Dir
		}
		if n := sharedFiles(s.Dir, next, blobs); n < len(blobs)-changed {
			t.Errorf("%s shares %d of %d blobs with the next backup, want at least %d", s.Name, n, len(blobs), len(blobs)-changed)
		}
	}
	total := duKiB(t, live, history.Dir(live))
	ratio := float64(total) / float64(one)
	var recordBytes, manifestBytes int64
	for _, s := range snaps {
		for name, sum := range map[string]*int64{history.RecordName: &recordBytes, "Manifest.db": &manifestBytes} {
			fi, err := os.Stat(filepath.Join(s.Dir, name))
			if err != nil {
				t.Fatal(err)
			}
			*sum += fi.Size()
		}
	}
	t.Logf("one backup: %d KiB (%d blobs, Manifest.db %d KiB)", one, len(blobs), manifestKiB)
	t.Logf("live + 10 snapshots: %d KiB = %.3fx of one backup (du -skc)", total, ratio)
	t.Logf("of the %d KiB the history adds: Manifest.db copies %d KiB, records %d KiB; the rest is the changed blobs and the folders",
		total-one, manifestBytes>>10, recordBytes>>10)
}

// sharedFiles counts the files rels of a that are the same inode in b.
func sharedFiles(a, b string, rels []string) int {
	n := 0
	for _, rel := range rels {
		x, err1 := os.Lstat(filepath.Join(a, rel))
		y, err2 := os.Lstat(filepath.Join(b, rel))
		if err1 == nil && err2 == nil && os.SameFile(x, y) {
			n++
		}
	}
	return n
}

// writeVia writes a file as the device's upload does: a temporary file, renamed.
func writeVia(t *testing.T, st *store, devPath string, data []byte) {
	t.Helper()
	in, err := st.create(devPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bytes.NewReader(data).WriteTo(in.f); err != nil {
		t.Fatal(err)
	}
	if err := st.commit(in); err != nil {
		t.Fatal(err)
	}
}
