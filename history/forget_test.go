package history

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var policyTimes = []string{
	"2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z",
	"2026-01-12T09:00:00Z", "2026-02-01T09:00:00Z", "2026-02-15T09:00:00Z", "2026-03-01T09:00:00Z",
}

// TestPolicyAsRestic checks the --keep-* rules against what restic's documentation says
// they keep, worked out by hand for these dates (2026-03-01 and 2026-02-15 are Sundays,
// ISO weeks 9 and 7).
func TestPolicyAsRestic(t *testing.T) {
	var snaps []Snapshot
	for _, s := range policyTimes {
		tm, _ := time.Parse(time.RFC3339, s)
		snaps = append(snaps, Snapshot{Name: s, Time: tm})
	}
	for _, c := range []struct {
		p    Policy
		keep []string
	}{
		{Policy{Last: 2}, []string{"2026-03-01T09:00:00Z", "2026-02-15T09:00:00Z"}},
		{Policy{Daily: 3}, []string{"2026-03-01T09:00:00Z", "2026-02-15T09:00:00Z", "2026-02-01T09:00:00Z"}},
		// Seven days have snapshots: the later of the two on Jan 1 is that day's.
		{Policy{Daily: 10}, []string{"2026-03-01T09:00:00Z", "2026-02-15T09:00:00Z", "2026-02-01T09:00:00Z",
			"2026-01-12T09:00:00Z", "2026-01-05T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-01T12:00:00Z"}},
		{Policy{Weekly: 2}, []string{"2026-03-01T09:00:00Z", "2026-02-15T09:00:00Z"}},
		// Jan 1 and 2 2026 are in ISO week 1 (Thursday, Friday); Jan 5 starts week 2.
		{Policy{Weekly: 6}, []string{"2026-03-01T09:00:00Z", "2026-02-15T09:00:00Z", "2026-02-01T09:00:00Z",
			"2026-01-12T09:00:00Z", "2026-01-05T09:00:00Z", "2026-01-02T09:00:00Z"}},
		{Policy{Daily: 1, Monthly: 3}, []string{"2026-03-01T09:00:00Z", "2026-02-15T09:00:00Z", "2026-01-12T09:00:00Z"}},
		{Policy{Last: 1, Monthly: 1}, []string{"2026-03-01T09:00:00Z"}},
		{Policy{}, reversed(policyTimes)},
	} {
		var got []string
		for _, d := range c.p.Apply(snaps, time.UTC) {
			if d.Keep {
				got = append(got, d.Name)
			}
		}
		if !slices.Equal(got, c.keep) {
			t.Errorf("%+v keeps %v, want %v", c.p, got, c.keep)
		}
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// fakeSnapshot keeps a small backup-shaped folder taken at tm in the history of live.
func fakeSnapshot(t *testing.T, live string, tm time.Time) string {
	t.Helper()
	dir, err := os.MkdirTemp(filepath.Dir(live), "incoming-")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("ab", 20)
	files := map[string]string{
		"Manifest.db": "manifest " + tm.String(), "Status.plist": "status",
		"ab/" + id: "blob shared by all", "cd/" + strings.Repeat("cd", 20): "own blob " + tm.String(),
	}
	for p, body := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(dir, "Status.plist"), tm, tm); err != nil {
		t.Fatal(err)
	}
	if err := Seal(dir, ""); err != nil {
		t.Fatal(err)
	}
	snap, err := Add(live, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := tm.UTC().Format(time.RFC3339); filepath.Base(snap) != want {
		t.Fatalf("snapshot named %s, want %s", filepath.Base(snap), want)
	}
	return snap
}

// assertWhole checks every listed snapshot against its record and returns their names.
func assertWhole(t *testing.T, live string) []string {
	t.Helper()
	snaps, err := List(live)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range snaps {
		rec, err := ReadRecord(s.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.All()) != 4 {
			t.Fatalf("%s: record of %d files", s.Dir, len(rec.All()))
		}
		for _, b := range rec.All() {
			if err := CheckFile(s.Dir, b); err != nil {
				t.Fatal(err)
			}
		}
		names = append(names, s.Name)
	}
	return names
}

// The forget helper: run as a subprocess of TestForgetKilled, it forgets with
// --keep-last 1 and SIGKILLs itself right after the first snapshot is renamed away.
func TestForgetHelper(t *testing.T) {
	live := os.Getenv("FORGET_LIVE")
	if live == "" {
		t.Skip("only run as the subprocess of TestForgetKilled")
	}
	afterStep = func(string) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	_, err := Forget(live, Policy{Last: 1}, time.UTC, false)
	t.Fatalf("forget finished without being killed: %v", err)
}

// TestForgetKilled SIGKILLs forget between renaming a snapshot away and deleting it:
// every snapshot still listed is whole, and the next forget finishes the deletion.
func TestForgetKilled(t *testing.T) {
	live := filepath.Join(t.TempDir(), "UDID")
	var names []string
	for i := range 4 {
		tm := time.Date(2026, 1, 1+i, 9, 0, 0, 0, time.UTC)
		fakeSnapshot(t, live, tm)
		names = append(names, tm.Format(time.RFC3339))
	}
	if got := assertWhole(t, live); !slices.Equal(got, names) {
		t.Fatalf("listed %v, want %v", got, names)
	}
	// A dry run decides and removes nothing.
	ds, err := Forget(live, Policy{Last: 1}, time.UTC, true)
	if err != nil || len(ds) != 4 || !ds[0].Keep || ds[1].Keep {
		t.Fatalf("dry run: %+v, %v", ds, err)
	}
	if got := assertWhole(t, live); len(got) != 4 {
		t.Fatalf("dry run removed snapshots: %v", got)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestForgetHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FORGET_LIVE="+live)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper not killed: %v\n%s", err, out)
	}
	got := assertWhole(t, live)
	if len(got) != 3 || got[2] != names[3] {
		t.Fatalf("after the kill: %v", got)
	}
	ents, _ := os.ReadDir(Dir(live))
	if len(ents) != 4 || !strings.HasPrefix(ents[0].Name(), forgetPrefix) {
		t.Fatalf("history holds %v, want 3 snapshots and one being forgotten", ents)
	}
	if _, err := Forget(live, Policy{Last: 1}, time.UTC, false); err != nil {
		t.Fatal(err)
	}
	if got := assertWhole(t, live); !slices.Equal(got, names[3:]) {
		t.Fatalf("after forget: %v", got)
	}
	if ents, _ := os.ReadDir(Dir(live)); len(ents) != 1 {
		t.Fatalf("history holds %v", ents)
	}
	if _, err := Forget(live, Policy{}, time.UTC, false); err == nil {
		t.Fatal("forget without a rule accepted")
	}
}

// TestSymlinkedHistoryRefused: a history folder planted as a symlink is neither
// listed, written into nor pruned through.
func TestSymlinkedHistoryRefused(t *testing.T) {
	base := t.TempDir()
	elsewhere := filepath.Join(base, "elsewhere")
	live := filepath.Join(base, "root", "UDID")
	os.MkdirAll(filepath.Dir(live), 0o755)
	os.MkdirAll(filepath.Join(base, "other"), 0o755)
	fakeSnapshot(t, filepath.Join(base, "other", "X"), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := os.Rename(Dir(filepath.Join(base, "other", "X")), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, Dir(live)); err != nil {
		t.Fatal(err)
	}
	if _, err := List(live); err == nil || !strings.Contains(err.Error(), Dir(live)) {
		t.Fatalf("List through a symlink: %v", err)
	}
	if _, err := Forget(live, Policy{Last: 1}, time.UTC, false); err == nil {
		t.Fatal("Forget through a symlink succeeded")
	}
	dir := filepath.Join(base, "root", "incoming")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "Manifest.db"), []byte("m"), 0o644)
	if err := Seal(dir, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := Add(live, dir); err == nil {
		t.Fatal("Add through a symlink succeeded")
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 1 {
		t.Fatalf("the symlink's target changed: %v", ents)
	}
}

// Two snapshots taken in the same second (T, then T~2, ..., T~10): the policy's "last"
// is the one whose name says it came later, and List orders them so.
func TestSameSecondSnapshotsOrderedByName(t *testing.T) {
	at := time.Date(2026, 12, 1, 14, 59, 29, 0, time.UTC)
	base := at.Format(time.RFC3339)
	var snaps []Snapshot
	for _, name := range []string{base + "~10", base, base + "~2"} {
		snaps = append(snaps, Snapshot{Dir: name, Name: name, Time: at})
	}
	ds := Policy{Last: 1}.Apply(snaps, time.UTC)
	if len(ds) != 3 || ds[0].Name != base+"~10" || !ds[0].Keep || ds[1].Keep || ds[2].Keep {
		t.Fatalf("decisions: %+v", ds)
	}
	if ds[1].Name != base+"~2" || ds[2].Name != base {
		t.Fatalf("order: %s, %s, %s", ds[0].Name, ds[1].Name, ds[2].Name)
	}
}
