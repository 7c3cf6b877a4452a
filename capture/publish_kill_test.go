package capture_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"iosbackup/backup"
	"iosbackup/capture"
	"iosbackup/history"
	"iosbackup/internal/devicesim"
)

// The kill helper: run as a subprocess of TestKillWhilePublishing, it captures and
// SIGKILLs itself right after the publishing step named in KILL_AFTER_STEP.
func TestKillHelper(t *testing.T) {
	step := os.Getenv("KILL_AFTER_STEP")
	if step == "" {
		t.Skip("only run as the subprocess of TestKillWhilePublishing")
	}
	if os.Getenv("KILL_NO_EXCHANGE") == "1" {
		defer capture.SetNoExchange(true)()
	}
	defer capture.SetAfterPublishStep(func(name string) {
		if name == step {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})()
	tg := capture.Target{Socket: os.Getenv("KILL_SOCKET"), UDID: os.Getenv("KILL_UDID")}
	_, err := capture.Run(context.Background(), capture.Options{Target: tg, Root: os.Getenv("KILL_ROOT")})
	t.Fatalf("capture finished without reaching step %q: %v", step, err)
}

// TestKillWhilePublishing kills a capture (SIGKILL, in a subprocess) right after each
// step of publishing, with the one-step swap and with the two-rename scheme of file
// systems that cannot swap. After each kill the device's backup is complete and
// readable, at ROOT/<UDID> or (between the two renames) where reading commands find
// it; every snapshot is whole; and the next capture finishes the job.
func TestKillWhilePublishing(t *testing.T) {
	src0, src1 := rev0(t), rev1(t)
	for _, c := range []struct {
		name       string
		noExchange bool
		// after each step: which source ROOT/<UDID> holds ("" for none: the
		// backup is found as a leftover, which is src1).
		steps [][2]string
	}{
		{"swap", false, [][2]string{{"journal", "rev0"}, {"swap", "rev1"}, {"sealed", "rev1"}, {"kept", "rev1"}, {"done", "rev1"}}},
		{"two-renames", true, [][2]string{{"journal", "rev0"}, {"aside", ""}, {"swap", "rev1"}, {"sealed", "rev1"}, {"kept", "rev1"}, {"done", "rev1"}}},
	} {
		for _, st := range c.steps {
			step, want := st[0], st[1]
			t.Run(c.name+"/"+step, func(t *testing.T) {
				root := t.TempDir()
				sim := startSim(t, src0, devicesim.Config{})
				udid := sim.UDID()
				live := filepath.Join(root, udid)
				if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
					t.Fatal(err)
				}
				sim.SetSource(src1)

				cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
				cmd.Env = append(os.Environ(), "KILL_AFTER_STEP="+step, "KILL_ROOT="+root,
					"KILL_SOCKET="+sim.Socket(), "KILL_UDID="+udid, "KILL_NO_EXCHANGE="+map[bool]string{true: "1"}[c.noExchange])
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("helper was not killed at %q: %v\n%s", step, err, out.String())
				}

				dir := live
				if want == "" {
					if _, err := os.Lstat(live); err == nil {
						t.Fatalf("%s exists between the two renames", live)
					}
					dir = backup.Leftover(root, udid)
					if dir == "" {
						t.Fatal("no leftover found for the missing backup")
					}
					if got, err := backup.Resolve(live, root); err != nil || got != dir {
						t.Fatalf("Resolve(%s) = %q, %v; want the leftover %s", live, got, err, dir)
					}
					all, err := backup.Scan(root, false)
					if err != nil || len(all) != 1 || all[0].Dir != dir || all[0].UDID != udid {
						t.Fatalf("Scan lists %+v, %v; want the leftover", all, err)
					}
					want = "rev1"
				}
				srcs := map[string]string{"rev0": src0, "rev1": src1}
				assertSameBackup(t, srcs[want], dir)
				assertOpens(t, dir)
				assertSnapshotsWhole(t, live)

				// The next capture finishes the publishing, then takes its own backup.
				if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
					t.Fatal(err)
				}
				assertSameBackup(t, src1, live)
				assertNoLeftovers(t, root, udid)
				snaps := assertSnapshotsWhole(t, live)
				// The backup the killed run replaced is kept, never lost.
				if len(snaps) == 0 {
					t.Fatal("no snapshot kept")
				}
				assertSameBackup(t, src0, snaps[0].Dir)
			})
		}
	}
}

// assertOpens opens dir as every reading command does.
func assertOpens(t *testing.T, dir string) {
	t.Helper()
	b, err := backup.Open(dir, backup.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	if b.Index.Len() < 1000 {
		t.Fatalf("%s: %d entries", dir, b.Index.Len())
	}
}

// assertSnapshotsWhole checks every snapshot of live against its record and returns
// them, oldest first.
func assertSnapshotsWhole(t *testing.T, live string) []history.Snapshot {
	t.Helper()
	snaps, err := history.List(live)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		rec, err := history.ReadRecord(s.Dir)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, b := range rec.All() {
			if err := history.CheckFile(s.Dir, b); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if files := treeFiles(t, s.Dir); len(files) != n {
			t.Fatalf("%s: %d files, record has %d", s.Dir, len(files), n)
		}
		if !strings.HasPrefix(filepath.Base(s.Dir), "20") {
			t.Fatalf("snapshot name %s", s.Dir)
		}
	}
	return snaps
}

// TestFullCaptureSharesWithSnapshot: a --full capture writes every file anew, yet the
// snapshot of the backup it replaces shares each unchanged file with it.
func TestFullCaptureSharesWithSnapshot(t *testing.T) {
	root := t.TempDir()
	sim := startSim(t, rev0(t), devicesim.Config{})
	live := filepath.Join(root, sim.UDID())
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
		t.Fatal(err)
	}
	sim.SetSource(rev1(t))
	res, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root, Full: true})
	if err != nil || res.Incremental || res.Snapshot == "" {
		t.Fatalf("full capture: %+v, %v", res, err)
	}
	assertSameBackup(t, rev1(t), live)
	snaps := assertSnapshotsWhole(t, live)
	if len(snaps) != 1 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	assertSameBackup(t, rev0(t), snaps[0].Dir)
	files := treeFiles(t, live)
	shared := 0
	for _, rel := range files {
		a, _ := os.Lstat(filepath.Join(live, rel))
		b, err := os.Lstat(filepath.Join(snaps[0].Dir, rel))
		if err == nil && os.SameFile(a, b) {
			shared++
		}
	}
	// rev1 changes a handful of files, sms.db and Manifest.db among them.
	if shared < len(files)-20 {
		t.Fatalf("the snapshot shares %d of the live backup's %d files", shared, len(files))
	}
}
