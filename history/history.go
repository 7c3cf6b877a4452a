package history

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"iosbackup/backup"
)

// Suffix makes the history folder of a live backup folder: ROOT/<UDID>.history.
const Suffix = ".history"

// Names inside the history folder that start with "." are never snapshots: a
// snapshot being written (tmpPrefix) or being deleted (forgetPrefix).
const (
	tmpPrefix    = ".partial-"
	forgetPrefix = ".forget-"
)

// Dir returns the history folder of the live backup folder live.
func Dir(live string) string { return filepath.Clean(live) + Suffix }

// Snapshot is one snapshot folder of a history.
type Snapshot struct {
	Dir  string    // the snapshot folder: a complete backup folder
	Name string    // its folder name, the time in RFC 3339
	Time time.Time // when the backup it keeps was taken
}

// List returns the snapshots of the live backup folder live, oldest first. A missing
// history is empty. Folders whose name is not an RFC 3339 time, or that have no
// record, are not snapshots (a foreign folder, or one half written) and are left out.
func List(live string) ([]Snapshot, error) {
	hd := Dir(live)
	if err := checkHistoryDir(hd); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(hd)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []Snapshot
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		t, ok := parseName(e.Name())
		if !ok {
			continue
		}
		d := filepath.Join(hd, e.Name())
		if fi, err := os.Lstat(filepath.Join(d, RecordName)); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, Snapshot{Dir: d, Name: e.Name(), Time: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

// Before says whether s was taken before o: by time, then, for two of the same second,
// by the "~N" a later one's name carries (T, T~2, ..., T~10: numbers, not text).
func (s Snapshot) Before(o Snapshot) bool {
	if !s.Time.Equal(o.Time) {
		return s.Time.Before(o.Time)
	}
	if a, b := nameSeq(s.Name), nameSeq(o.Name); a != b {
		return a < b
	}
	return s.Name < o.Name
}

// nameSeq is the N of a "~N" name, 1 for a name without one.
func nameSeq(name string) int {
	_, n, ok := strings.Cut(name, "~")
	if !ok {
		return 1
	}
	v, err := strconv.Atoi(n)
	if err != nil {
		return 1
	}
	return v
}

// parseName reads a snapshot folder name: an RFC 3339 time, possibly followed by
// "~N" when two snapshots carry the same time.
func parseName(name string) (time.Time, bool) {
	base, _, _ := strings.Cut(name, "~")
	t, err := time.Parse(time.RFC3339, base)
	return t, err == nil
}

// Latest returns the newest snapshot folder of live, "" when there is none.
func Latest(live string) string {
	snaps, err := List(live)
	if err != nil || len(snaps) == 0 {
		return ""
	}
	return snaps[len(snaps)-1].Dir
}

// TakenAt is the time a backup folder was taken, as its property lists say (Info.plist
// Last Backup Date, else Manifest.plist or Status.plist), else its Status.plist's
// modification time. Times are kept to the second, in UTC, as the folder name shows.
func TakenAt(dir string) time.Time {
	var t time.Time
	if s, err := backup.Summarize(dir, false); err == nil {
		t = s.Date
	}
	if t.IsZero() {
		if fi, err := os.Stat(filepath.Join(dir, "Status.plist")); err == nil {
			t = fi.ModTime()
		} else if fi, err := os.Stat(dir); err == nil {
			t = fi.ModTime()
		}
	}
	return t.UTC().Truncate(time.Second)
}

// Add moves the sealed folder dir (see Seal; on the same file system) into the history
// of live, named by the time its backup was taken, in one rename: the history holds it
// whole or not at all. It returns the snapshot's folder.
func Add(live, dir string) (string, error) {
	if _, err := ReadRecord(dir); err != nil {
		return "", fmt.Errorf("keep snapshot: %w", err)
	}
	hd := Dir(live)
	if err := os.Mkdir(hd, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("keep snapshot: %w", err)
	}
	if err := checkHistoryDir(hd); err != nil {
		return "", fmt.Errorf("keep snapshot: %w", err)
	}
	base := TakenAt(dir).Format(time.RFC3339)
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(filepath.Join(hd, name)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s~%d", base, i)
	}
	dst := filepath.Join(hd, name)
	if err := os.Rename(dir, dst); err != nil {
		return "", fmt.Errorf("keep snapshot: %w", err)
	}
	if err := syncDir(hd); err != nil {
		return "", fmt.Errorf("keep snapshot: flush %s: %w", hd, err)
	}
	return dst, nil
}

// syncDir flushes a folder's entries (a rename into it) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// checkHistoryDir refuses a history folder that is a symlink (or not a folder): one
// planted there would make snapshots go, and forget delete, somewhere else.
func checkHistoryDir(hd string) error {
	fi, err := os.Lstat(hd)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a folder (%s): refusing to keep or forget snapshots through it", hd, fi.Mode().Type())
	}
	return nil
}
