package main

import (
	"encoding/json"
	"fmt"
	"io"
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
			a, err := openBackup(args[0], &u)
			if err != nil {
				return troubleError{err}
			}
			b, err := openBackup(args[1], &u)
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
		type row struct {
			Domain  string `json:"domain"`
			Added   int    `json:"added"`
			Removed int    `json:"removed"`
			Changed int    `json:"changed"`
			Attrs   int    `json:"attrs"`
		}
		rows := []row{}
		for _, s := range res.Stat() {
			rows = append(rows, row{s.Domain, s.Added, s.Removed, s.Changed, s.Attrs})
		}
		return enc.Encode(map[string]any{"same": res.Same(), "domains": rows})
	}
	out := struct {
		Same bool `json:"same"`
		*backup.DiffResult
	}{res.Same(), res}
	if out.Differences == nil {
		out.Differences = []backup.Difference{}
	}
	return enc.Encode(out)
}
