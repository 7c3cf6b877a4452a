package main

import (
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"iosbackup/backup"
	"iosbackup/manifest"
)

func newLsCmd() *cobra.Command {
	var (
		u         unlockFlags
		long      bool
		recursive bool
	)
	cmd := &cobra.Command{
		Use:   "ls BACKUP [DOMAIN[/PATH] | DEVICE-PATH]",
		Short: "List domains, or the contents of a folder of a domain or of the device",
		Long: `List the domains of a backup, or a folder: DOMAIN, DOMAIN/PATH, or a device path
(/var/mobile/Library/SMS, /private/var/... too), where the domains placed there are
merged as in the mount's device/ folder.`,
		Example: `  iosbackup ls ~/backups/00008030-001A
  iosbackup ls -l 00008030 HomeDomain/Library/SMS
  iosbackup ls -l 00008030 /var/mobile/Library/SMS`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := openBackup(args[0], &u)
			if err != nil {
				return err
			}
			warnDropped(b)
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				for _, d := range b.Index.Domains() {
					fmt.Fprintln(out, d)
				}
				return nil
			}
			p, err := resolveArg(b, args[1])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
			defer tw.Flush()
			if !p.IsDir(b.Index) {
				printPlace(tw, b, p, path.Base(p.Arg), long)
				return nil
			}
			listPlace(tw, b, p, long, recursive, "")
			return nil
		},
	}
	cmd.Flags().BoolVarP(&long, "long", "l", false, "long listing: mode, owner, size, date")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "list subfolders too, with paths")
	u.register(cmd)
	return cmd
}

// listPlace lists the folder p: a folder of a domain, or a device folder where domains
// are merged as in the mount's device/ view.
func listPlace(w io.Writer, b *backup.Backup, p *manifest.Place, long, recursive bool, prefix string) {
	for _, c := range b.Index.List(p) {
		name := prefix + path.Base(c.Arg)
		printPlace(w, b, c, name, long)
		if recursive && c.IsDir(b.Index) {
			listPlace(w, b, c, long, recursive, name+"/")
		}
	}
}

// printPlace prints the winning entry of p; a device folder that only leads to domains
// placed deeper has none, and shows as a read-only folder.
func printPlace(w io.Writer, b *backup.Backup, p *manifest.Place, name string, long bool) {
	if len(p.Entries) > 0 {
		printEntry(w, b, p.Entries[0], name, long)
		return
	}
	if !long {
		fmt.Fprintln(w, name+"/")
		return
	}
	fmt.Fprintf(w, "dr-xr-xr-x\t-\t-\t-\t-\t%s/\n", name)
}

func printEntry(w io.Writer, b *backup.Backup, i int32, name string, long bool) {
	e := b.Index.Entry(i)
	suffix := ""
	if e.Kind == manifest.KindDir {
		suffix = "/"
	}
	if !long {
		fmt.Fprintln(w, name+suffix)
		return
	}
	size := "-"
	if e.Kind == manifest.KindFile {
		if n, err := b.FileSize(e); err == nil {
			size = fmt.Sprint(n)
		} else {
			size = "missing"
		}
	}
	line := fmt.Sprintf("%s\t%d\t%d\t%s\t%s\t%s%s", modeString(e), e.UID, e.GID, size,
		time.Unix(e.MTime, 0).Local().Format("2006-01-02 15:04"), name, suffix)
	if e.Kind == manifest.KindSymlink {
		line += " -> " + e.Target()
	}
	fmt.Fprintln(w, line)
}

func modeString(e *manifest.Entry) string {
	c := byte('-')
	switch e.Kind {
	case manifest.KindDir:
		c = 'd'
	case manifest.KindSymlink:
		c = 'l'
	}
	const rwx = "rwxrwxrwx"
	var sb strings.Builder
	sb.WriteByte(c)
	for i := 0; i < 9; i++ {
		if e.Mode&(1<<uint(8-i)) != 0 {
			sb.WriteByte(rwx[i])
		} else {
			sb.WriteByte('-')
		}
	}
	return sb.String()
}
