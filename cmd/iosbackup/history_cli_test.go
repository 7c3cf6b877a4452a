package main

import (
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

// blobSums maps each blob of a backup folder (by file ID) to its SHA-256.
func blobSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || len(d.Name()) != 40 {
			return err
		}
		data, err := os.ReadFile(p)
		out[d.Name()] = sha256.Sum256(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSnapshotsForgetAndReadingASnapshot captures three revisions of the simulated
// device with the real binary: two snapshots are kept. snapshots --json gives each
// one's figures (checked against the source folders), every reading command takes a
// snapshot folder as BACKUP, and forget --dry-run then forget prune by --keep-last.
func TestSnapshotsForgetAndReadingASnapshot(t *testing.T) {
	isolate(t)
	work := t.TempDir()
	live, srcs := captureRevisions(t, work, 3)
	out, err := cli(t, nil, "snapshots", "--json", live)
	if err != nil {
		t.Fatalf("snapshots: %v\n%s", err, out)
	}
	var snaps []struct {
		Path                    string
		Files                   int
		Added, Changed, Removed int
		IOS                     string `json:"ios_version"`
		Own                     int64  `json:"own_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != 2 {
		t.Fatalf("snapshots --json: %v\n%s", err, out)
	}
	prev := map[string][32]byte{}
	for i, s := range snaps {
		cur := blobSums(t, srcs[i])
		var added, changed, removed int
		for id, sum := range cur {
			if p, ok := prev[id]; !ok {
				added++
			} else if p != sum {
				changed++
			}
		}
		for id := range prev {
			if _, ok := cur[id]; !ok {
				removed++
			}
		}
		if s.Files != len(cur) || s.Added != added || s.Changed != changed || s.Removed != removed || s.IOS == "" {
			t.Errorf("snapshot %d: %+v; the source has %d blobs, +%d ~%d -%d", i, s, len(cur), added, changed, removed)
		}
		if i > 0 && (changed == 0 || s.Own == 0) {
			t.Errorf("snapshot %d: nothing changed or nothing of its own (%+v)", i, s)
		}
		prev = cur
	}
	// The text listing names both.
	if out, err := cli(t, nil, "snapshots", live); err != nil || !strings.Contains(out, snaps[0].Path) || !strings.Contains(out, snaps[1].Path) {
		t.Fatalf("snapshots: %v\n%s", err, out)
	}

	// Reading commands take a snapshot folder as BACKUP, and read the revision it kept.
	first := snaps[0].Path
	if out, err := cli(t, nil, "info", first); err != nil || !strings.Contains(out, "Sim") {
		t.Fatalf("info %s: %v\n%s", first, err, out)
	}
	if out, err := cli(t, nil, "ls", first, "HomeDomain"); err != nil || !strings.Contains(out, "Library") {
		t.Fatalf("ls %s: %v\n%s", first, err, out)
	}
	smsWant, err := readSourceFile(srcs[0], "HomeDomain", "Library/SMS/sms.db")
	if err != nil {
		t.Fatal(err)
	}
	smsLive, _ := readSourceFile(srcs[2], "HomeDomain", "Library/SMS/sms.db")
	if out, err := cli(t, nil, "cat", first, "HomeDomain/Library/SMS/sms.db"); err != nil || out != string(smsWant) || out == string(smsLive) {
		t.Fatalf("cat of the snapshot's sms.db: %v, %d bytes (want %d, revision 0's)", err, len(out), len(smsWant))
	}
	dest := filepath.Join(work, "out")
	if out, err := cli(t, nil, "extract", first, dest, "--domain", "HomeDomain", "Library/SMS/*"); err != nil {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	if got, err := os.ReadFile(filepath.Join(dest, "HomeDomain", "Library/SMS/sms.db")); err != nil || string(got) != string(smsWant) {
		t.Fatalf("extracted sms.db: %v", err)
	}

	// forget: a dry run removes nothing; then one snapshot goes.
	out, err = cli(t, nil, "forget", "--keep-last", "1", "--dry-run", "--json", live)
	var ds []struct {
		Path string
		Keep bool
	}
	if err != nil || json.Unmarshal([]byte(out), &ds) != nil || len(ds) != 2 || !ds[0].Keep || ds[1].Keep || ds[1].Path != first {
		t.Fatalf("forget --dry-run: %v\n%s", err, out)
	}
	if _, err := os.Stat(first); err != nil {
		t.Fatal("the dry run removed a snapshot")
	}
	if out, err := cli(t, nil, "forget", "--keep-last", "1", live); err != nil || !strings.Contains(out, "removed") {
		t.Fatalf("forget: %v\n%s", err, out)
	}
	if _, err := os.Stat(first); err == nil {
		t.Fatal("forget left the snapshot")
	}
	if out, err := cli(t, nil, "snapshots", "--json", live); err != nil || strings.Count(out, `"path"`) != 1 {
		t.Fatalf("after forget: %v\n%s", err, out)
	}
	if out, err := cli(t, nil, "forget", live); err == nil {
		t.Fatalf("forget without a rule succeeded:\n%s", out)
	}
}

// TestReadCommandsFindAnInterruptedPublish: where a capture was cut between its two
// renames (the previous backup moved aside, the device folder missing), info, ls and
// list read the backup from the capture's work folder and say so.
func TestReadCommandsFindAnInterruptedPublish(t *testing.T) {
	isolate(t)
	root := t.TempDir()
	const udid = "00008030-0000AAAA0000BBBB"
	aside := filepath.Join(root, ".iosbackup-capture", udid+".old")
	genBackup(t, aside, gen.Options{Seed: 5, Entries: 300, UDID: udid, DeviceName: "Aside"})
	live := filepath.Join(root, udid)
	out, err := cli(t, nil, "info", live)
	if err != nil || !strings.Contains(out, "Aside") || !strings.Contains(out, "interrupted") {
		t.Fatalf("info %s: %v\n%s", live, err, out)
	}
	if out, err := cli(t, nil, "ls", "--root", root, "Aside", "HomeDomain"); err != nil || !strings.Contains(out, "Library") {
		t.Fatalf("ls by name: %v\n%s", err, out)
	}
	out, err = cli(t, nil, "list", root)
	if err != nil || !strings.Contains(out, "Aside") || !strings.Contains(out, filepath.Join(".iosbackup-capture", udid+".old")) {
		t.Fatalf("list: %v\n%s", err, out)
	}
}

// readSourceFile reads a file of an unencrypted Manifest.db backup by its blob name.
func readSourceFile(dir, domain, rel string) ([]byte, error) {
	id := manifest.ComputeFileID(domain, rel).String()
	return os.ReadFile(filepath.Join(dir, id[:2], id))
}

// captureRevisions captures n revisions of the simulated device with the real binary
// into work/captures, and returns the live folder and the sources.
func captureRevisions(t *testing.T, work string, n int) (string, []string) {
	t.Helper()
	var srcs []string
	for r := range n {
		d := filepath.Join(work, "src", string(rune('0'+r)))
		genBackup(t, d, gen.Options{Seed: 23, Entries: 1500, Revision: r, DeviceName: "Sim"})
		srcs = append(srcs, d)
	}
	sock := filepath.Join(work, "mux.sock")
	sim, err := devicesim.Start(sock, devicesim.Config{Source: srcs[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	env := []string{"USBMUXD_SOCKET_ADDRESS=unix://" + sock}
	root := filepath.Join(work, "captures")
	for _, src := range srcs {
		sim.SetSource(src)
		if out, err := cli(t, env, "capture", "--progress", "none", root); err != nil {
			t.Fatalf("capture: %v\n%s", err, out)
		}
	}
	return filepath.Join(root, sim.UDID()), srcs
}

// TestMountShowsHistory mounts a backup with two snapshots: latest/ and
// history/<time>/ each read their own revision, and a file whose blob is shared
// (unchanged since revision 0) is one inode in all three, so du counts it once.
func TestMountShowsHistory(t *testing.T) {
	testenv.RequireFUSE(t)
	isolate(t)
	work := t.TempDir()
	live, srcs := captureRevisions(t, work, 3)
	snaps, err := os.ReadDir(live + ".history")
	if err != nil || len(snaps) != 2 {
		t.Fatalf("history: %v %v", snaps, err)
	}
	mp := mountBG(t, nil, live)
	if got := dirNames(t, mp); strings.Join(got, " ") != "history latest" {
		t.Fatalf("mount root: %v", got)
	}
	if got := dirNames(t, filepath.Join(mp, "history")); len(got) != 2 || got[0] != snaps[0].Name() || got[1] != snaps[1].Name() {
		t.Fatalf("history/: %v, want %v", got, snaps)
	}
	views := []string{
		filepath.Join(mp, "history", snaps[0].Name()),
		filepath.Join(mp, "history", snaps[1].Name()),
		filepath.Join(mp, "latest"),
	}
	const sms = "HomeDomain/Library/SMS/sms.db"
	for i, v := range views {
		want, err := readSourceFile(srcs[i], "HomeDomain", "Library/SMS/sms.db")
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(v, "domains", sms))
		if err != nil || string(got) != string(want) {
			t.Fatalf("%s: sms.db of revision %d: %v (%d bytes, want %d)", v, i, err, len(got), len(want))
		}
	}
	// A file no revision changed: the same blob, so the same inode everywhere.
	unchanged := "HomeDomain/Library/Preferences/com.apple.springboard.plist"
	a, _ := readSourceFile(srcs[0], "HomeDomain", "Library/Preferences/com.apple.springboard.plist")
	c, _ := readSourceFile(srcs[2], "HomeDomain", "Library/Preferences/com.apple.springboard.plist")
	if a == nil || string(a) != string(c) {
		t.Fatalf("%s is missing or changed between revisions 0 and 2: pick another file", unchanged)
	}
	var inos []uint64
	for _, v := range views {
		fi, err := os.Stat(filepath.Join(v, "domains", unchanged))
		if err != nil {
			t.Fatal(err)
		}
		inos = append(inos, fi.Sys().(*syscall.Stat_t).Ino)
	}
	if inos[0] != inos[1] || inos[1] != inos[2] {
		t.Fatalf("%s has inodes %v across the snapshots and latest", unchanged, inos)
	}
	// sms.db changed every time: three inodes.
	var smsInos []uint64
	for _, v := range views {
		fi, err := os.Stat(filepath.Join(v, "domains", sms))
		if err != nil {
			t.Fatal(err)
		}
		smsInos = append(smsInos, fi.Sys().(*syscall.Stat_t).Ino)
	}
	if smsInos[0] == smsInos[1] || smsInos[1] == smsInos[2] {
		t.Fatalf("changed sms.db shares an inode: %v", smsInos)
	}
	// du counts the shared files once: the two snapshots' domains together take far
	// less than twice one.
	du := func(dirs ...string) int64 {
		out, err := exec.Command("du", append([]string{"-skc", "--apparent-size"}, dirs...)...).Output()
		if err != nil {
			t.Fatalf("du: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		n, _ := strconv.ParseInt(strings.Fields(lines[len(lines)-1])[0], 10, 64)
		return n
	}
	one := du(filepath.Join(views[0], "domains"))
	both := du(filepath.Join(views[0], "domains"), filepath.Join(views[1], "domains"))
	if one == 0 || float64(both) > 1.2*float64(one) {
		t.Fatalf("du: one snapshot %d KiB, two %d KiB: shared files counted twice", one, both)
	}
	// A mount of the root shows the device the same way (the history folder is not
	// taken for a backup of its own).
	mr := mountBG(t, nil, filepath.Dir(live))
	if got := dirNames(t, mr); strings.Join(got, " ") != "history latest" {
		t.Fatalf("root mount: %v", got)
	}
	if got := dirNames(t, filepath.Join(mr, "history")); len(got) != 2 {
		t.Fatalf("root mount history/: %v", got)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
