package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errNoFUSE is what mount and unmount say on Windows: go-fuse (and so package fs) has
// no Windows port, and `serve` shows the same tree to Explorer without a driver.
var errNoFUSE = errors.New("mounting needs FUSE (Linux, macOS); on Windows use 'iosbackup serve' (WebDAV)")

func newMountCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "mount [BACKUP|ROOT] MOUNTPOINT",
		Short:              "Mount a backup as a filesystem (Linux, macOS; on Windows use serve)",
		Long:               errNoFUSE.Error() + ".",
		DisableFlagParsing: true, // any flags of the Unix mount: the answer is the same
		RunE:               func(*cobra.Command, []string) error { return errNoFUSE },
	}
}

func newUnmountCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "unmount MOUNTPOINT",
		Short:              "Unmount a mounted backup (Linux, macOS)",
		Long:               errNoFUSE.Error() + ".",
		DisableFlagParsing: true,
		RunE:               func(*cobra.Command, []string) error { return errNoFUSE },
	}
}
