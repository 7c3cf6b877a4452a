package history

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Policy says which snapshots to keep, as restic's forget means its --keep-* options:
// a snapshot is kept when any rule keeps it. Last keeps the Last newest; Daily keeps
// the newest snapshot of each of the Daily most recent days that have one (and Weekly
// of ISO weeks, Monthly of months), in the given time zone.
type Policy struct {
	Last, Daily, Weekly, Monthly int
}

// Empty reports whether the policy names no rule (and so would keep everything).
func (p Policy) Empty() bool { return p.Last <= 0 && p.Daily <= 0 && p.Weekly <= 0 && p.Monthly <= 0 }

// Decision is what a policy does with one snapshot.
type Decision struct {
	Snapshot
	Keep    bool
	Reasons []string // the rules that keep it: "last", "daily", "weekly", "monthly"
}

// Apply decides, for snapshots in any order, which the policy keeps. The result is
// newest first. An empty policy keeps everything.
func (p Policy) Apply(snaps []Snapshot, loc *time.Location) []Decision {
	out := make([]Decision, len(snaps))
	for i, s := range snaps {
		out[i] = Decision{Snapshot: s, Keep: p.Empty()}
	}
	// Newest first; two snapshots of the same second are told apart by their names.
	sort.SliceStable(out, func(i, j int) bool { return out[j].Before(out[i].Snapshot) })
	if p.Empty() {
		return out
	}
	rules := []struct {
		name   string
		n      int
		bucket func(time.Time) string
	}{
		{"last", p.Last, nil},
		{"daily", p.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{"weekly", p.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{"monthly", p.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
	}
	for _, r := range rules {
		left, last := r.n, ""
		for i := range out {
			if left <= 0 {
				break
			}
			b := fmt.Sprint(i) // "last": every snapshot is its own bucket
			if r.bucket != nil {
				b = r.bucket(out[i].Time.In(loc))
			}
			if b == last {
				continue
			}
			last = b
			left--
			out[i].Keep = true
			out[i].Reasons = append(out[i].Reasons, r.name)
		}
	}
	return out
}

// Forget removes the snapshots of live that the policy does not keep, and returns the
// decisions taken. With dryRun it only decides. Each snapshot goes in two steps: one
// rename takes it out of the history (under a name List skips), then it is deleted,
// so an interruption at any moment leaves every listed snapshot whole; a deletion cut
// short is finished by the next Forget.
func Forget(live string, p Policy, loc *time.Location, dryRun bool) ([]Decision, error) {
	if p.Empty() {
		return nil, errors.New("forget: no --keep-* rule given, nothing would be removed")
	}
	if !dryRun {
		if err := removeLeftovers(live); err != nil {
			return nil, err
		}
	}
	snaps, err := List(live)
	if err != nil {
		return nil, err
	}
	ds := p.Apply(snaps, loc)
	if dryRun {
		return ds, nil
	}
	for _, d := range ds {
		if d.Keep {
			continue
		}
		if err := remove(d.Snapshot); err != nil {
			return ds, err
		}
	}
	return ds, nil
}

// afterStep, when set, is called after each step of a removal (tests kill there).
var afterStep func(name string)

func remove(s Snapshot) error {
	gone := filepath.Join(filepath.Dir(s.Dir), forgetPrefix+s.Name)
	if err := os.Rename(s.Dir, gone); err != nil {
		return fmt.Errorf("forget %s: %w", s.Dir, err)
	}
	if err := syncDir(filepath.Dir(s.Dir)); err != nil {
		return fmt.Errorf("forget %s: %w", s.Dir, err)
	}
	if afterStep != nil {
		afterStep("renamed")
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("forget %s: delete %s: %w", s.Dir, gone, err)
	}
	return nil
}

// removeLeftovers deletes what an interrupted Forget or Keep left in the history.
func removeLeftovers(live string) error {
	hd := Dir(live)
	if err := checkHistoryDir(hd); err != nil {
		return nil // List says why
	}
	ents, err := os.ReadDir(hd)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), forgetPrefix) || strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.RemoveAll(filepath.Join(hd, e.Name())); err != nil {
				return fmt.Errorf("remove leftover %s: %w", filepath.Join(hd, e.Name()), err)
			}
		}
	}
	return nil
}
