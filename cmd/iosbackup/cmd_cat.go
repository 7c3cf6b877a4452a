package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"iosbackup/manifest"
)

func newCatCmd() *cobra.Command {
	var u unlockFlags
	cmd := &cobra.Command{
		Use:   "cat BACKUP DOMAIN/PATH | DEVICE-PATH",
		Short: "Write a file of the backup to standard output",
		Example: `  iosbackup cat 00008030 HomeDomain/Library/SMS/sms.db > sms.db
  iosbackup cat 00008030 /var/mobile/Library/SMS/sms.db > sms.db`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := openBackup(args[0], &u)
			if err != nil {
				return err
			}
			warnDropped(b)
			p, err := resolveArg(b, args[1])
			if err != nil {
				return err
			}
			if p.IsDir(b.Index) {
				return fmt.Errorf("%s: is a folder, not a file ('iosbackup ls' lists it)", args[1])
			}
			e := b.Index.Entry(p.Entries[0])
			if e.Kind != manifest.KindFile {
				return fmt.Errorf("%s: is a %s, not a file", args[1], e.Kind)
			}
			f, err := b.OpenFile(e)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(cmd.OutOrStdout(), io.NewSectionReader(f, 0, f.Size())); err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			return nil
		},
	}
	u.register(cmd)
	return cmd
}
