package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newKeyCmd() *cobra.Command {
	var (
		u    unlockFlags
		save bool
	)
	cmd := &cobra.Command{
		Use:   "key BACKUP",
		Short: "Print or save the derived key of an encrypted backup",
		Long: `Derive the key of an encrypted backup from its password once, so later commands skip
the slow password step (about 10 million SHA-256 rounds on iOS 10.2 and later).

Without --save the key is printed as hex: anyone holding it can read the backup, so keep
it like the password (use it with --key-file FILE or IOSBACKUP_KEY). With --save it is
stored in your config folder (mode 0600) and used automatically from then on.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := openBackup(args[0], &u)
			if err != nil {
				return err
			}
			if !b.Encrypted {
				return errors.New(b.Dir + ": the backup is not encrypted: there is no key")
			}
			if !save {
				fmt.Fprintln(cmd.OutOrStdout(), hex.EncodeToString(b.KEK()))
				return nil
			}
			p, err := saveKey(b.KeybagID(), b.KEK())
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "key saved in %s (mode 0600)\n", p)
			return nil
		},
	}
	cmd.Flags().BoolVar(&save, "save", false, "save the key in the config folder instead of printing it")
	u.register(cmd)
	return cmd
}
