package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"iosbackup/backup"
)

func newDiffCmd() *cobra.Command {
	var (
		u       unlockFlags
		content bool
		asJSON  bool
		stat    bool
	)
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Files added, removed and changed between two backups or snapshots, from their manifests",
		Long: `Compare backup A with backup B, like diff -rq, from their manifests alone: one line
per entry added (only in B), removed (only in A), changed (contents, type or symlink
target), or attrs (same contents; mode, mtime, owner, recorded size or extended
attributes differ). Contents count as the same when the records say so (same size,
mtime, inode and digest), when their digests agree, or when both rows point at the same
blob inode. Where the records cannot tell, the file is listed as changed with
"contents not compared"; --content decrypts both files (in memory) and compares them.

Both backups are unlocked with the same password or key flags.

Exit status: 0 same, 1 different, 2 trouble.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, b, err := openBoth(args[0], args[1], &u)
			if err != nil {
				return troubleError{err}
			}
			res, err := backup.Diff(a, b, backup.DiffOptions{Content: content})
			if err != nil {
				return troubleError{err}
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				err = writeDiffJSON(out, res, stat)
			case stat:
				err = writeDiffStat(out, res)
			default:
				_, err = io.WriteString(out, backup.DiffText(res))
			}
			if err != nil {
				return troubleError{err}
			}
			if !res.Same() {
				return exitStatus(1)
			}
			return nil
		},
	}
	u.register(cmd)
	cmd.Flags().BoolVar(&content, "content", false, "decrypt and compare contents where the records cannot tell")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the differences (or with --stat the counts) as JSON")
	cmd.Flags().BoolVar(&stat, "stat", false, "per-domain counts instead of one line per entry")
	return cmd
}

func writeDiffStat(w io.Writer, res *backup.DiffResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "added\tremoved\tchanged\tattrs\t domain")
	var t backup.DomainStat
	for _, s := range res.Stat() {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t %s\n", s.Added, s.Removed, s.Changed, s.Attrs, s.Domain)
		t.Added, t.Removed, t.Changed, t.Attrs = t.Added+s.Added, t.Removed+s.Removed, t.Changed+s.Changed, t.Attrs+s.Attrs
	}
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t %s\n", t.Added, t.Removed, t.Changed, t.Attrs, "total")
	return tw.Flush()
}

func writeDiffJSON(w io.Writer, res *backup.DiffResult, stat bool) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if stat {
		return enc.Encode(diffStatToJSON(res))
	}
	return enc.Encode(diffToJSON(res))
}

// openBoth opens the two backups at once (loading a manifest is most of a diff's time,
// and each load keeps one core busy). The password, when one is needed, is asked once
// and given to both: a snapshot and its live backup share their keybag.
func openBoth(argA, argB string, u *unlockFlags) (*backup.Backup, *backup.Backup, error) {
	dirA, err := backup.ResolveIn(argA, u.rootDirs())
	if err != nil {
		return nil, nil, err
	}
	dirB, err := backup.ResolveIn(argB, u.rootDirs())
	if err != nil {
		return nil, nil, err
	}
	opt, err := u.options()
	if err != nil {
		return nil, nil, err
	}
	opt.Password = askOnce(opt.Password)
	var (
		wg         sync.WaitGroup
		a, b       *backup.Backup
		errA, errB error
	)
	wg.Add(2)
	go func() { defer wg.Done(); a, errA = backup.Open(dirA, opt) }()
	go func() { defer wg.Done(); b, errB = backup.Open(dirB, opt) }()
	wg.Wait()
	if err := errors.Join(errA, errB); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// askOnce calls ask at most once, however many backups want the password, and hands
// each caller its own copy (backup.Open clears the one it gets).
func askOnce(ask func() ([]byte, error)) func() ([]byte, error) {
	if ask == nil {
		return nil
	}
	var (
		mu   sync.Mutex
		done bool
		pw   []byte
		perr error
	)
	return func() ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			pw, perr = ask()
			done = true
		}
		return bytes.Clone(pw), perr
	}
}
