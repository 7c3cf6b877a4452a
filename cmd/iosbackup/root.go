package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "iosbackup",
		Short: "Read, mount and capture iPhone and iPad backups",
		Long: `iosbackup reads iOS device backups made by iTunes, Finder, libimobiledevice or itself
(iOS 5 to 18, encrypted or not), mounts them as read-only filesystems and takes new
backups from a device over USB.

BACKUP is a backup folder, or a UDID or device-name prefix of a backup in the default
root (` + "`iosbackup list`" + ` shows them; IOSBACKUP_ROOT overrides the root).

Passwords are never taken from the command line: they are read from a prompt without
echo, from --password-file FILE, or from the IOSBACKUP_PASSWORD environment variable.
A derived key saved with 'iosbackup key --save' unlocks without the slow password step.

Exit status: 0 ok, 1 error, 2 usage, 3 wrong password (verify and diff, as diff(1):
0 sound or same, 1 problems or differences, 2 trouble; restore adds 10-17, see
restore --help).`,
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newListCmd(),
		newInfoCmd(),
		newLsCmd(),
		newCatCmd(),
		newExtractCmd(),
		newExportCmd(),
		newKeyCmd(),
		newMountCmd(),
		newUnmountCmd(),
		newServeCmd(),
		newDevicesCmd(),
		newCaptureCmd(),
		newRestoreCmd(),
		newSnapshotsCmd(),
		newForgetCmd(),
		newEncryptionCmd(),
		newPairCmd(),
		newSpeedCmd(),
		newVersionCmd(),
		newGenManCmd(),
		newVerifyCmd(),
		newDiffCmd(),
	)
	addCompletions(root)
	return root
}

// exactArgs and rangeArgs wrap cobra's validators so their errors exit with status 2.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// warnf prints a non-fatal message on stderr.
func warnf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "iosbackup: warning: "+format+"\n", a...)
}
