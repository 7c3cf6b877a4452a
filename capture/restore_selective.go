package capture

// A selective restore: the protocol restores whole backups only, so the device is
// captured now, the chosen files of the older backup are laid over that fresh backup,
// and the merged backup is restored. The user's backups are only read; the merged one
// lives in a folder of ours and is removed afterwards unless kept.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"iosbackup/backup"
)

// SelectiveOptions configure RestoreSelective.
type SelectiveOptions struct {
	RestoreOptions
	// Only are the patterns that choose what comes from RestoreOptions.Backup
	// (backup.Match: "HomeDomain", "AppDomain-com.example.*", "HomeDomain/Library/SMS").
	Only []string
	// KeepMerged, when set, is an empty or missing folder the merged backup is left in;
	// otherwise it is made in a temporary folder and removed.
	KeepMerged string
}

// RestoreSelective restores the chosen files of opts.Backup and keeps everything else
// on the device as it is now. Both the older backup and the device's backup must be
// plain Manifest.db backups for now (backup.ErrOverlayUnsupported otherwise).
func RestoreSelective(ctx context.Context, opts SelectiveOptions) (res *RestoreResult, err error) {
	defer recoverPanic(&err)
	old := opts.Backup
	if old == nil {
		return nil, errors.New("no backup given")
	}
	if len(opts.Only) == 0 {
		return nil, errors.New("selective restore: no paths chosen")
	}
	if old.Encrypted || old.Format != backup.FormatDB {
		return nil, fmt.Errorf("%w: %s", backup.ErrOverlayUnsupported, old.Dir)
	}
	if _, err := old.QuickCheck(); err != nil {
		return nil, err
	}
	rep := newReporter(opts.Progress)
	root := opts.KeepMerged
	if root == "" {
		if root, err = os.MkdirTemp("", "iosbackup-merged-"); err != nil {
			return nil, fmt.Errorf("selective restore: %w", err)
		}
		defer os.RemoveAll(root)
	} else if entries, err := os.ReadDir(root); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("selective restore: %s is not empty", root)
	}
	rep.info("Capturing the device as it is now into %s, to merge the chosen files into", root)
	cres, err := Run(ctx, Options{Target: opts.Target, Root: root, Full: true, Progress: opts.Progress})
	if err != nil {
		return nil, fmt.Errorf("selective restore: capture of the device now: %w", err)
	}
	if cres.Encrypted {
		return nil, fmt.Errorf("%w: the device encrypts its backups", backup.ErrOverlayUnsupported)
	}
	orep, err := backup.Overlay(cres.Dir, old, opts.Only)
	if err != nil {
		return nil, err
	}
	rep.info("Merged from %s: %d files replaced, %d added, %d removed", old.Dir, orep.Replaced, orep.Added, orep.Removed)
	merged, err := backup.Open(cres.Dir, backup.Options{})
	if err != nil {
		return nil, fmt.Errorf("selective restore: the merged backup: %w", err)
	}
	defer merged.Close()
	ro := opts.RestoreOptions
	ro.Backup, ro.Source = merged, ""
	if confirm := opts.Confirm; confirm != nil {
		ro.Confirm = func(p RestorePlan) error {
			p.Only, p.From = opts.Only, old.Dir
			return confirm(p)
		}
	}
	res, err = Restore(ctx, ro)
	if err != nil {
		return nil, err
	}
	if opts.KeepMerged != "" {
		rep.info("The merged backup is kept in %s", filepath.Join(root, cres.UDID))
	}
	return res, nil
}
