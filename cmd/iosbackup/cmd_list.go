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
)

func newListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [ROOT]",
		Short: "List the backups in a folder (default: the platform's backup folder)",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			roots := backup.DefaultRoots()
			if len(args) == 1 {
				roots = []string{args[0]}
			}
			all, err := backup.ScanRoots(roots, true)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(summariesJSON(all))
			}
			if len(all) == 0 {
				fmt.Fprintf(os.Stderr, "no backups in %s\n", strings.Join(roots, " or "))
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			// UDID from Info.plist; FOLDER is what to pass as BACKUP (the same for a
			// backup iTunes or Finder keeps, not for a copied or archived one).
			fmt.Fprintln(tw, "NAME\tMODEL\tIOS\tDATE\tENCRYPTED\tCOMPLETE\tSIZE\tUDID\tFOLDER")
			for _, s := range all {
				folder := filepath.Base(s.Dir)
				if backup.IsLeftover(s.Dir) {
					folder = filepath.Join(backup.CaptureWorkDir, folder)
					warnLeftover(s.Dir)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
					orDash(s.DeviceName), orDash(s.ProductType), orDash(s.ProductVersion),
					formatDate(s.Date), yesNo(s.Encrypted), yesNo(s.Complete), humanBytes(s.Size), orDash(s.UDID), folder)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type summaryJSON struct {
	Path           string    `json:"path"`
	UDID           string    `json:"udid"`
	DeviceName     string    `json:"device_name"`
	ProductType    string    `json:"product_type"`
	ProductVersion string    `json:"ios_version"`
	Date           time.Time `json:"date"`
	Encrypted      bool      `json:"encrypted"`
	Complete       bool      `json:"complete"`
	Format         string    `json:"format"`
	Size           int64     `json:"size_bytes"`
}

func summariesJSON(all []backup.Summary) []summaryJSON {
	out := make([]summaryJSON, 0, len(all))
	for _, s := range all {
		out = append(out, summaryJSON{s.Dir, s.UDID, s.DeviceName, s.ProductType, s.ProductVersion,
			s.Date, s.Encrypted, s.Complete, s.Format.String(), s.Size})
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
