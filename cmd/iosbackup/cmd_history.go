package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"iosbackup/backup"
	"iosbackup/history"
)

// keepFlags are restic's --keep-* rules, for capture and forget.
type keepFlags struct{ p history.Policy }

func (k *keepFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&k.p.Last, "keep-last", 0, "keep the `N` newest snapshots")
	f.IntVar(&k.p.Daily, "keep-daily", 0, "keep the newest snapshot of each of the last `N` days that have one")
	f.IntVar(&k.p.Weekly, "keep-weekly", 0, "keep the newest snapshot of each of the last `N` weeks that have one")
	f.IntVar(&k.p.Monthly, "keep-monthly", 0, "keep the newest snapshot of each of the last `N` months that have one")
}

// historyTargets turns an optional BACKUP into the live backup folders whose history
// to show: BACKUP's (a snapshot folder stands for its device's), or every backup's in
// the roots (--root, or the platform's: two on Windows).
func historyTargets(args []string, root string) ([]string, error) {
	roots := []string{root}
	if root == "" {
		roots = backup.DefaultRoots()
	}
	if len(args) == 1 {
		dir, err := backup.ResolveIn(args[0], roots)
		if err != nil {
			return nil, err
		}
		return []string{liveOf(dir)}, nil
	}
	all, err := backup.ScanRoots(roots, false)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range all {
		if !backup.IsLeftover(s.Dir) {
			out = append(out, s.Dir)
		}
	}
	return out, nil
}

// liveOf returns the live backup folder of a snapshot folder (ROOT/<UDID>.history/<time>
// -> ROOT/<UDID>), and any other folder as it is.
func liveOf(dir string) string {
	dir = filepath.Clean(dir)
	if parent := filepath.Dir(dir); strings.HasSuffix(parent, history.Suffix) {
		return strings.TrimSuffix(parent, history.Suffix)
	}
	return dir
}

type snapshotJSON struct {
	Backup         string    `json:"backup"`
	Path           string    `json:"path"`
	Time           time.Time `json:"time"`
	DeviceName     string    `json:"device_name"`
	ProductVersion string    `json:"ios_version"`
	Encrypted      bool      `json:"encrypted"`
	Files          int       `json:"files"`
	Added          int       `json:"added"`
	Changed        int       `json:"changed"`
	Removed        int       `json:"removed"`
	Bytes          int64     `json:"size_bytes"`
	OwnBytes       int64     `json:"own_bytes"`
}

func newSnapshotsCmd() *cobra.Command {
	var (
		asJSON bool
		root   string
	)
	cmd := &cobra.Command{
		Use:   "snapshots [BACKUP]",
		Short: "List the snapshots kept of a backup (default: of every backup in the root)",
		Long: `List the snapshots a capture kept of BACKUP, oldest first: the time the backup was
taken, its iOS version, its files (those with contents), what was added, changed and
removed against the snapshot before it, and the bytes only it holds (what forgetting it
frees). Each snapshot folder is a complete backup: pass it as BACKUP to any command.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lives, err := historyTargets(args, root)
			if err != nil {
				return err
			}
			var rows []snapshotJSON
			for _, live := range lives {
				infos, err := history.Describe(live)
				if err != nil {
					return err
				}
				for _, i := range infos {
					rows = append(rows, snapshotJSON{live, i.Dir, i.Time, i.DeviceName, i.ProductVersion, i.Encrypted,
						i.Files, i.Added, i.Changed, i.Removed, i.Bytes, i.OwnBytes})
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if rows == nil {
					rows = []snapshotJSON{}
				}
				return enc.Encode(rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(os.Stderr, "no snapshots")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tDEVICE\tIOS\tFILES\tADDED\tCHANGED\tREMOVED\tOWN\tFOLDER")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", r.Time.Format(time.RFC3339), orDash(r.DeviceName),
					orDash(r.ProductVersion), r.Files, r.Added, r.Changed, r.Removed, humanBytes(r.OwnBytes), r.Path)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&root, "root", "", "backup root (default: the platform's MobileSync/Backup, or IOSBACKUP_ROOT)")
	return cmd
}

type forgetJSON struct {
	Path    string    `json:"path"`
	Time    time.Time `json:"time"`
	Keep    bool      `json:"keep"`
	Reasons []string  `json:"reasons"`
}

func newForgetCmd() *cobra.Command {
	var (
		k      keepFlags
		dryRun bool
		asJSON bool
		root   string
	)
	cmd := &cobra.Command{
		Use:   "forget [BACKUP] --keep-... [--dry-run]",
		Short: "Remove the snapshots the --keep-* rules do not keep",
		Long: `Remove the snapshots of BACKUP (default: of every backup in the root) that no --keep-*
rule keeps; the rules mean what they mean to restic's forget, and a snapshot any rule
keeps stays. Interrupted at any moment, forget leaves every remaining snapshot whole.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if k.p.Empty() {
				return usageError{fmt.Errorf("forget: give at least one --keep-* rule")}
			}
			lives, err := historyTargets(args, root)
			if err != nil {
				return err
			}
			var rows []forgetJSON
			for _, live := range lives {
				ds, err := history.Forget(live, k.p, time.Local, dryRun)
				for _, d := range ds {
					reasons := d.Reasons
					if reasons == nil {
						reasons = []string{}
					}
					rows = append(rows, forgetJSON{d.Dir, d.Time, d.Keep, reasons})
				}
				if err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if rows == nil {
					rows = []forgetJSON{}
				}
				return enc.Encode(rows)
			}
			verb := "removed"
			if dryRun {
				verb = "would remove"
			}
			for _, r := range rows {
				if r.Keep {
					fmt.Fprintf(out, "keep          %s (%s)\n", r.Path, strings.Join(r.Reasons, ", "))
				} else {
					fmt.Fprintf(out, "%-13s %s\n", verb, r.Path)
				}
			}
			return nil
		},
	}
	k.register(cmd)
	cmd.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "only say what would be removed")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&root, "root", "", "backup root (default: the platform's MobileSync/Backup, or IOSBACKUP_ROOT)")
	return cmd
}
