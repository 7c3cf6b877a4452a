package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"iosbackup/backup"
)

func newInfoCmd() *cobra.Command {
	var u unlockFlags
	cmd := &cobra.Command{
		Use:   "info BACKUP",
		Short: "Describe a backup: device, date, encryption, and what each domain holds",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := openBackup(args[0], &u)
			if err != nil {
				return err
			}
			s, err := backup.Summarize(b.Dir, true)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
			row("Folder", b.Dir)
			row("Device", orDash(s.DeviceName))
			row("Model", orDash(s.ProductType))
			row("iOS", orDash(s.ProductVersion))
			row("UDID", orDash(s.UDID))
			if b.Info != nil && b.Info.SerialNumber != "" {
				row("Serial", b.Info.SerialNumber)
			}
			row("Date", formatDate(s.Date))
			row("Encrypted", yesNo(b.Encrypted))
			complete := "yes"
			switch {
			case !s.HasStatus:
				complete = "unknown (no Status.plist)"
			case !s.Complete:
				complete = "no (Status.plist does not say the last snapshot finished)"
			}
			row("Complete", complete)
			row("Manifest", b.Format.String())
			row("Size", humanBytes(s.Size))
			row("Entries", fmt.Sprintf("%d (%s read, %d skipped, %s implied, %d left out)",
				b.Index.Len(), plural(b.Stats.Rows, "row", "rows"), b.Stats.Skipped,
				plural(b.Stats.Synthesized, "folder", "folders"), b.Stats.Dropped.Total()))
			if err := tw.Flush(); err != nil {
				return err
			}
			printDropped(out, b)
			fmt.Fprintln(out)
			counts := b.Index.DomainCounts()
			tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "FILES\tDIRS\tLINKS\t  DOMAIN")
			var tot [3]int
			for _, d := range b.Index.Domains() {
				c := counts[d]
				for i := range tot {
					tot[i] += c[i]
				}
				fmt.Fprintf(tw, "%d\t%d\t%d\t  %s\n", c[0], c[1], c[2], d)
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t  %s\n", tot[0], tot[1], tot[2], "total in "+plural(len(counts), "domain", "domains"))
			return tw.Flush()
		},
	}
	u.register(cmd)
	return cmd
}

// plural is n with the noun that fits it: "1 domain", "2 domains".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
