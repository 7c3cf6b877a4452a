package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultRoots are the folders where the platform's backup software keeps backups,
// every one looked in by list and by a BACKUP given as a UDID or name (Windows has two:
// see platformRoots). IOSBACKUP_ROOT overrides them all (tests, and people who keep
// backups elsewhere).
func DefaultRoots() []string {
	if r := os.Getenv("IOSBACKUP_ROOT"); r != "" {
		return []string{r}
	}
	home, _ := os.UserHomeDir()
	return platformRoots(home)
}

// DefaultRoot is the one folder new backups go into (capture): the last of
// DefaultRoots that exists, else the first. On Windows that is the Microsoft Store
// iTunes' folder when that iTunes has made it (it is the newer one), else %APPDATA%'s.
func DefaultRoot() string {
	roots := DefaultRoots()
	for i := len(roots) - 1; i > 0; i-- {
		if exists(roots[i]) {
			return roots[i]
		}
	}
	return roots[0]
}

// exists reports whether path (a folder of the user's, not a file of a backup) exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Summary describes a backup from its property lists alone, without unlocking it.
type Summary struct {
	Dir            string
	UDID           string
	DeviceName     string
	ProductType    string
	ProductVersion string
	Date           time.Time
	Encrypted      bool
	Complete       bool // Status.plist says the last snapshot finished
	HasStatus      bool // Status.plist was there to say so
	Format         Format
	Size           int64 // bytes on disk; -1 when not measured
}

// IsBackupDir reports whether dir holds a manifest.
func IsBackupDir(dir string) bool {
	f, err := openFolder(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	return detectFormat(f) != 0
}

// detectFormat tells the backup's generation by its manifest, 0 when it has none. A
// folder with both (an iOS 9 backup upgraded in place) is read from Manifest.db. A
// manifest of any type counts: one that is not a regular file is refused when opened,
// with an error naming it, rather than the folder being passed over in silence.
func detectFormat(f *folder) Format {
	switch {
	case f.has("Manifest.db"):
		return FormatDB
	case f.has("Manifest.mbdb"):
		return FormatMBDB
	}
	return 0
}

// Summarize reads dir's property lists. With measure, it also adds up the folder's size.
func Summarize(dir string, measure bool) (Summary, error) {
	s := Summary{Dir: dir, UDID: filepath.Base(dir), Size: -1}
	if IsLeftover(dir) {
		s.UDID = strings.TrimSuffix(strings.TrimSuffix(s.UDID, OldSuffix), StagingSuffix)
	}
	f, err := openFolder(dir)
	if err != nil {
		return s, err
	}
	defer f.Close()
	if s.Format = detectFormat(f); s.Format == 0 {
		return s, fmt.Errorf("%s: %w", dir, ErrNotBackup)
	}
	if info, err := readInfo(f); err == nil {
		s.DeviceName = firstNonEmpty(info.DeviceName, info.DisplayName)
		s.ProductType, s.ProductVersion = info.ProductType, info.ProductVersion
		s.Date = info.LastBackupDate
		if info.UniqueIdentifier != "" {
			s.UDID = info.UniqueIdentifier
		}
	}
	if mp, err := readManifestPlist(f); err == nil {
		s.Encrypted = mp.IsEncrypted
		if s.DeviceName == "" {
			s.DeviceName = mp.Lockdown.DeviceName
		}
		if s.ProductVersion == "" {
			s.ProductVersion = mp.Lockdown.ProductVersion
		}
		if s.Date.IsZero() {
			s.Date = mp.Date
		}
	}
	if st, err := readStatus(f); err == nil {
		s.HasStatus = true
		s.Complete = st.Complete()
		if s.Date.IsZero() {
			s.Date = st.Date
		}
	}
	if measure {
		s.Size = 0
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					s.Size += fi.Size()
				}
			}
			return nil
		})
	}
	return s, nil
}

// Scan lists the backups directly under root (or root itself when it is a backup),
// newest first. Unreadable entries are skipped: one broken folder must not hide the rest.
func Scan(root string, measure bool) ([]Summary, error) {
	if IsBackupDir(root) {
		s, err := Summarize(root, measure)
		if err != nil {
			return nil, err
		}
		return []Summary{s}, nil
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []Summary
	for _, d := range ents {
		dir := filepath.Join(root, d.Name())
		if !d.IsDir() || !IsBackupDir(dir) {
			continue
		}
		if s, err := Summarize(dir, measure); err == nil {
			out = append(out, s)
		}
	}
	// A backup an interrupted capture left in its work folder is listed in place of
	// the device folder it hides.
	for _, dir := range leftovers(root) {
		if s, err := Summarize(dir, measure); err == nil {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date.After(out[j].Date) })
	return out, nil
}

// ScanRoots is Scan over several roots (DefaultRoots), all their backups newest first.
// A root that does not exist is passed over; that none exists is an error naming them.
func ScanRoots(roots []string, measure bool) ([]Summary, error) {
	if len(roots) == 1 {
		return Scan(roots[0], measure)
	}
	var out []Summary
	found := false
	for _, root := range roots {
		if !exists(root) {
			continue
		}
		found = true
		all, err := Scan(root, measure)
		if err != nil {
			return nil, err
		}
		out = append(out, all...)
	}
	if !found {
		return nil, fmt.Errorf("list backups: none of these exists: %s (%w)", strings.Join(roots, "; "), fs.ErrNotExist)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.After(out[j].Date) })
	return out, nil
}

// ErrNoMatch: a BACKUP argument that is neither a folder nor a known device.
var ErrNoMatch = errors.New("no such backup")

// Resolve turns a command-line BACKUP into a folder: an existing folder as is, else a
// UDID or device-name prefix (case-insensitive) of a backup under root. An ambiguous
// prefix is an error listing the candidates.
//
// A folder that is missing because a capture was interrupted while publishing it
// resolves to the backup the capture left in its work folder (see Leftover;
// IsLeftover tells the caller, which should say so).
func Resolve(arg, root string) (string, error) { return ResolveIn(arg, []string{root}) }

// ResolveIn is Resolve looking in several roots (DefaultRoots) at once.
func ResolveIn(arg string, roots []string) (string, error) {
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		return arg, nil
	}
	if d := Leftover(filepath.Dir(filepath.Clean(arg)), filepath.Base(filepath.Clean(arg))); d != "" {
		return d, nil
	}
	if strings.ContainsRune(arg, os.PathSeparator) || strings.ContainsRune(arg, '/') {
		return "", fmt.Errorf("%s: %w", arg, ErrNoMatch)
	}
	all, err := ScanRoots(roots, false)
	if err != nil {
		return "", fmt.Errorf("%q is not a folder, and %w", arg, err)
	}
	low := strings.ToLower(arg)
	var hits []Summary
	for _, s := range all {
		if strings.HasPrefix(strings.ToLower(s.UDID), low) ||
			strings.HasPrefix(strings.ToLower(filepath.Base(s.Dir)), low) ||
			strings.HasPrefix(strings.ToLower(s.DeviceName), low) {
			hits = append(hits, s)
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("%q: %w in %s (not a folder, UDID or device name)", arg, ErrNoMatch, strings.Join(roots, " or "))
	case 1:
		return hits[0].Dir, nil
	}
	var names []string
	for _, h := range hits {
		names = append(names, fmt.Sprintf("%s (%s)", filepath.Base(h.Dir), h.DeviceName))
	}
	return "", fmt.Errorf("%q matches %d backups: %s", arg, len(hits), strings.Join(names, ", "))
}
