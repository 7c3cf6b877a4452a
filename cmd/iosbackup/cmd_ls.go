package main

import (
	"fmt"
	"io"
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
		Use:   "ls BACKUP [DOMAIN[/PATH]]",
		Short: "List domains, or the contents of a folder of a domain",
		Example: `  iosbackup ls ~/backups/00008030-001A
  iosbackup ls -l 00008030 HomeDomain/Library/SMS`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := openBackup(args[0], &u)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				for _, d := range b.Index.Domains() {
					fmt.Fprintln(out, d)
				}
				return nil
			}
			i, err := lookupArg(b, args[1])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
			defer tw.Flush()
			if b.Index.Entry(i).Kind != manifest.KindDir {
				printEntry(tw, b, i, b.Index.Name(i), long)
				return nil
			}
			return listDir(tw, b, i, long, recursive, "")
		},
	}
	cmd.Flags().BoolVarP(&long, "long", "l", false, "long listing: mode, owner, size, date")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "list subfolders too, with paths")
	u.register(cmd)
	return cmd
}

func listDir(w io.Writer, b *backup.Backup, dir int32, long, recursive bool, prefix string) error {
	for _, c := range b.Index.Children(dir) {
		name := prefix + b.Index.Name(c)
		printEntry(w, b, c, name, long)
		if recursive && b.Index.Entry(c).Kind == manifest.KindDir {
			if err := listDir(w, b, c, long, recursive, name+"/"); err != nil {
				return err
			}
		}
	}
	return nil
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

// lookupArg finds DOMAIN[/PATH] in the backup.
func lookupArg(b *backup.Backup, arg string) (int32, error) {
	arg = strings.Trim(arg, "/")
	domain, path, _ := strings.Cut(arg, "/")
	i, ok := b.Index.Lookup(domain, path)
	if !ok {
		if _, ok := b.Index.DomainRoot(domain); !ok {
			return -1, fmt.Errorf("%s: no domain %q in the backup ('iosbackup ls BACKUP' lists them)", arg, domain)
		}
		return -1, fmt.Errorf("%s: no such file or folder in the backup", arg)
	}
	return i, nil
}
