package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"iosbackup/backup"
	"iosbackup/fs/view"
	"iosbackup/history"
)

// openForMount opens one backup, or every backup of a root folder. In a root, a backup
// that cannot be opened is shown as locked rather than failing the whole mount. notes
// are the warnings serve repeats in the mount's log (rows left out of a manifest).
func openForMount(src string, u *unlockFlags) (_ []view.Backup, notes []string, _ error) {
	roots := []string{src}
	if src == "" {
		roots = u.rootDirs()
	} else if !backup.IsBackupDir(src) {
		if st, err := os.Stat(src); err != nil || !st.IsDir() {
			dir, err := backup.ResolveIn(src, u.rootDirs())
			if err != nil {
				return nil, nil, err
			}
			warnLeftover(dir)
			roots = []string{dir}
		}
	}
	opt, err := u.options()
	if err != nil {
		return nil, nil, err
	}
	if len(roots) == 1 && backup.IsBackupDir(roots[0]) {
		b, err := backup.Open(roots[0], opt)
		if err != nil {
			return nil, nil, err
		}
		if s := droppedWarning(b); s != "" {
			notes = append(notes, s)
		}
		return []view.Backup{{Source: fromBackup(b), History: openHistory(b, opt)}}, notes, nil
	}
	all, err := backup.ScanRoots(roots, false)
	if err != nil {
		return nil, nil, err
	}
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("%s: no backups in this folder", strings.Join(roots, ", "))
	}
	var out []view.Backup
	for _, s := range all {
		o := opt
		if s.Encrypted && o.Key == nil {
			name := s.DeviceName + " " + formatDate(s.Date)
			o.Password = func() ([]byte, error) {
				fmt.Fprintf(os.Stderr, "Unlocking %s (%s)\n", name, filepath.Base(s.Dir))
				return u.password()
			}
		}
		b, err := backup.Open(s.Dir, o)
		if err != nil {
			warnf("%v: shown as a locked folder", err)
			out = append(out, view.Backup{Name: lockedName(s), Err: err})
			continue
		}
		if s := droppedWarning(b); s != "" {
			notes = append(notes, s)
		}
		out = append(out, view.Backup{Source: fromBackup(b), History: openHistory(b, opt)})
	}
	return out, notes, nil
}

// openHistory opens the snapshots of a live backup folder for the mount, unlocked with
// the live backup's key (a snapshot that needs another shows as a locked folder).
func openHistory(live *backup.Backup, opt backup.Options) []view.Backup {
	if backup.IsLeftover(live.Dir) {
		return nil
	}
	snaps, err := history.List(live.Dir)
	if err != nil {
		warnf("%v", err)
		return nil
	}
	if live.Encrypted {
		opt.Key = live.KEK()
		opt.Password = func() ([]byte, error) {
			return nil, errors.New("encrypted with another password than the latest backup")
		}
	}
	var out []view.Backup
	for _, s := range snaps {
		b, err := backup.Open(s.Dir, opt)
		if err != nil {
			warnf("snapshot %v: shown as a locked folder", err)
			out = append(out, view.Backup{Name: s.Name, Err: err})
			continue
		}
		out = append(out, view.Backup{Name: s.Name, Source: fromBackup(b)})
	}
	return out
}

func lockedName(s backup.Summary) string {
	name := s.DeviceName
	if name == "" {
		name = filepath.Base(s.Dir)
	}
	if !s.Date.IsZero() {
		name += " " + s.Date.UTC().Format("2006-01-02 15.04")
	}
	return name
}

func warnAll(notes []string) {
	for _, n := range notes {
		warnf("%s", n)
	}
}
