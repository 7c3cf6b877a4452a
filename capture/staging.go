package capture

// Publishing: the staging copy the device wrote becomes ROOT/<UDID>, and the backup it
// replaces is kept as a snapshot (or deleted with --no-history).
//
// Every moment of it leaves a complete backup at ROOT/<UDID>, whatever kills the
// process (SIGKILL and power loss included):
//
//  1. the staging copy is flushed, and a journal file (<UDID>.publish in the work
//     folder) names its inode: from now on it is a finished backup;
//  2. one renameat2(RENAME_EXCHANGE) (renamex_np(RENAME_SWAP) on macOS) swaps it with
//     the previous backup, which is now in the staging folder;
//  3. the previous backup is sealed (history.Seal) and renamed into ROOT/<UDID>.history,
//     or deleted;
//  4. the journal is removed.
//
// A file system that cannot swap two folders (some network shares) publishes in two
// renames, the previous backup moved aside first; between them there is no
// ROOT/<UDID>, and reading commands find the journaled staging copy instead
// (backup.Leftover). The next capture (recoverLeftovers) finishes whatever step was
// cut: the journal tells a staging folder holding the new backup from one holding the
// previous one.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"iosbackup/backup"
	"iosbackup/history"
)

// keepOptions say what publishing does with the backup it replaces.
type keepOptions struct {
	// Policy, when it keeps anything at all, prunes the history after each capture.
	Policy history.Policy
	// kept is the snapshot this run added ("" when none).
	kept string
}

func (s *store) stagingDir() string  { return path.Join(workDir, s.udid+backup.StagingSuffix) }
func (s *store) oldDir() string      { return path.Join(workDir, s.udid+backup.OldSuffix) }
func (s *store) journalFile() string { return path.Join(workDir, s.udid+backup.PublishSuffix) }
func (s *store) liveDir() string     { return filepath.Join(s.rootDir, s.udid) }

// noExchange makes publishing use two renames, as on a file system that cannot swap
// two folders (set by tests).
var noExchange bool

// errNoExchange: the file system (or the platform) cannot swap two folders.
var errNoExchange = errors.New("cannot swap two folders here")

// afterPublishStep, when set, is called after each step of publishing: tests kill the
// process there to check that every moment leaves a backup in place.
var afterPublishStep func(name string)

func (s *store) stepDone(name string) {
	if afterPublishStep != nil {
		afterPublishStep(name)
	}
}

// publish makes the staging copy the backup. Data is flushed first, so a crash can
// never leave a folder whose renames survived but whose contents did not.
func (s *store) publish() error {
	snap := path.Join(s.target, "Snapshot")
	if err := s.root.RemoveAll(snap); err != nil {
		return fmt.Errorf("remove %s: %w", snap, err)
	}
	s.dirsChanged()
	if err := syncFS(s.rootDir); err != nil {
		return fmt.Errorf("flush %s: %w", s.rootDir, err)
	}
	if !s.staged {
		return s.cleanup()
	}
	if err := s.writeJournal(); err != nil {
		return err
	}
	s.stepDone("journal")
	if err := s.swapIn(); err != nil {
		return err
	}
	s.target, s.staged = s.udid, false
	s.dirsChanged()
	if err := s.retirePrevious(); err != nil {
		return err
	}
	if err := s.root.Remove(s.journalFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", s.journalFile(), err)
	}
	s.stepDone("done")
	return s.cleanup()
}

// writeJournal records the staging folder's identity, flushed, before it is published.
func (s *store) writeJournal() error {
	id, err := dirIdentity(s.root, s.stagingDir())
	if err != nil {
		return fmt.Errorf("publish backup: %w", err)
	}
	tmp := s.journalFile() + ".tmp"
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("publish backup: %w", err)
	}
	_, werr := f.WriteString(id + "\n")
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = s.root.Rename(tmp, s.journalFile())
	}
	if werr == nil {
		werr = syncDir(s.root, workDir)
	}
	if werr != nil {
		return fmt.Errorf("publish backup: write %s: %w", s.journalFile(), werr)
	}
	return nil
}

// readJournal returns the staging identity a journal recorded; fs.ErrNotExist when
// there is no publishing under way.
func (s *store) readJournal() (string, error) {
	fi, err := s.root.Lstat(s.journalFile())
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Size() > 256 {
		return "", fmt.Errorf("%s: not a journal written by iosbackup", s.journalFile())
	}
	b, err := s.root.ReadFile(s.journalFile())
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// swapIn puts the staging copy at ROOT/<UDID>, in one step when there is no previous
// backup or the file system can swap, else in two renames.
func (s *store) swapIn() error {
	stage := s.stagingDir()
	if !s.exists(s.udid) {
		if err := s.root.Rename(stage, s.udid); err != nil {
			return fmt.Errorf("publish backup: %w", err)
		}
		s.stepDone("swap")
		return syncDir(s.root, ".")
	}
	err := errNoExchange
	if !noExchange {
		err = exchange(s.rootDir, stage, s.udid)
	}
	if err == nil {
		s.stepDone("swap")
		return syncDir(s.root, ".")
	}
	if !errors.Is(err, errNoExchange) {
		return fmt.Errorf("publish backup: %w", err)
	}
	if err := s.root.Rename(s.udid, s.oldDir()); err != nil {
		return fmt.Errorf("move previous backup aside: %w", err)
	}
	s.stepDone("aside")
	if err := s.root.Rename(stage, s.udid); err != nil {
		// Put the previous backup back; the new one stays in staging, journaled, for
		// the next run to publish.
		if rerr := s.root.Rename(s.oldDir(), s.udid); rerr != nil {
			return fmt.Errorf("publish backup: %w (and restoring the previous one failed: %v)", err, rerr)
		}
		return fmt.Errorf("publish backup: %w", err)
	}
	s.stepDone("swap")
	return syncDir(s.root, ".")
}

// retirePrevious keeps or deletes the previous backup, which publishing left in the
// staging folder (swapped) or the old folder (two renames).
func (s *store) retirePrevious() error {
	for _, d := range []string{s.stagingDir(), s.oldDir()} {
		if !s.exists(d) {
			continue
		}
		if s.keep == nil || !backup.IsBackupDir(filepath.Join(s.rootDir, d)) {
			if err := s.root.RemoveAll(d); err != nil {
				return fmt.Errorf("remove the previous backup %s: %w", d, err)
			}
			continue
		}
		abs := filepath.Join(s.rootDir, d)
		// A full capture wrote every file anew: share what did not change.
		if _, err := history.Share(abs, s.liveDir(), s.cloner); err != nil {
			return err
		}
		if err := history.Seal(abs, history.Latest(s.liveDir())); err != nil {
			return err
		}
		s.stepDone("sealed")
		kept, err := history.Add(s.liveDir(), abs)
		if err != nil {
			return err
		}
		s.keep.kept = kept
		s.stepDone("kept")
	}
	return nil
}

// recoverLeftovers finishes or undoes what an interrupted earlier run left behind:
// a journaled publishing is completed (its staging copy is a finished backup), a swap
// an older version cut between its two renames is rolled back, and unfinished staging
// and temporary folders are removed.
func (s *store) recoverLeftovers() error {
	id, err := s.readJournal()
	switch {
	case err == nil:
		if err := s.finishPublishing(id); err != nil {
			return fmt.Errorf("finish the interrupted capture: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if s.exists(s.oldDir()) {
		if !s.exists(s.udid) {
			if err := s.root.Rename(s.oldDir(), s.udid); err != nil {
				return fmt.Errorf("restore previous backup from %s: %w", s.oldDir(), err)
			}
		} else if err := s.root.RemoveAll(s.oldDir()); err != nil {
			return fmt.Errorf("remove %s: %w", s.oldDir(), err)
		}
	}
	for _, d := range []string{s.stagingDir(), s.tmp} {
		if err := s.root.RemoveAll(d); err != nil {
			return fmt.Errorf("remove leftover %s: %w", d, err)
		}
	}
	return nil
}

// finishPublishing completes a publishing whose journal names staging identity id.
func (s *store) finishPublishing(id string) error {
	live, _ := dirIdentity(s.root, s.udid)
	if live != id {
		// Not swapped yet: publish the staging copy if it is the journaled one.
		if st, err := dirIdentity(s.root, s.stagingDir()); err == nil && st == id {
			if err := s.swapIn(); err != nil {
				return err
			}
		}
	}
	if !s.exists(s.udid) && s.exists(s.oldDir()) {
		if err := s.root.Rename(s.oldDir(), s.udid); err != nil {
			return fmt.Errorf("restore previous backup from %s: %w", s.oldDir(), err)
		}
	}
	if live, _ := dirIdentity(s.root, s.udid); live == id {
		if err := s.retirePrevious(); err != nil {
			return err
		}
	}
	if err := s.root.Remove(s.journalFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// keepHistory reports the snapshot publishing kept, and prunes the history by policy.
func keepHistory(st *store, incremental bool, policy history.Policy, res *Result, rep *reporter) error {
	if st.keep == nil {
		return nil
	}
	res.Snapshot = st.keep.kept
	if res.Snapshot != "" {
		how := ""
		if incremental {
			how = fmt.Sprintf(" (unchanged files shared by %s)", st.cloner.Method)
		}
		rep.info("The previous backup is kept as snapshot %s%s", res.Snapshot, how)
		if incremental && st.cloner.Method == history.Copy {
			rep.warn("This file system has neither copy-on-write clones nor hard links: every snapshot takes the full space of a backup (--no-history keeps none)")
		}
	}
	if policy.Empty() {
		return nil
	}
	ds, err := history.Forget(st.liveDir(), policy, time.Local, false)
	for _, d := range ds {
		if !d.Keep {
			res.Forgotten++
		}
	}
	if err != nil {
		return fmt.Errorf("prune the history: %w", err)
	}
	if res.Forgotten > 0 {
		rep.info("Removed %d snapshot(s) the --keep rules do not keep", res.Forgotten)
	}
	return nil
}

// setHistory makes publishing keep the replaced backup unless opts.NoHistory.
func (s *store) setHistory(opts Options) {
	if !opts.NoHistory {
		s.keep, s.cloner = &keepOptions{Policy: opts.Keep}, &history.Cloner{}
	}
}
