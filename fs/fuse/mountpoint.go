//go:build !windows

package fuse

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// CheckMountpoint refuses a mountpoint where mounting would hide something without a
// word: a filesystem already mounted there (a second mount would stack on top of it),
// or files in the folder (unless allowNonEmpty, as rclone's --allow-non-empty). Mount
// calls it; a command calls it too, to fail before asking for a password.
func CheckMountpoint(mountpoint string, allowNonEmpty bool) error {
	// Mount table first: stat of a mount whose server died fails with ENOTCONN, and
	// the user should hear that something is mounted there, not that.
	fstype, err := MountedAt(mountpoint)
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	if fstype != "" {
		return fmt.Errorf("mountpoint %s: already a mount point (of a %s filesystem): unmount it first, or choose an empty folder", mountpoint, fstype)
	}
	st, err := os.Stat(mountpoint)
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("mountpoint %s: not a folder", mountpoint)
	}
	if allowNonEmpty {
		return nil
	}
	d, err := os.Open(mountpoint)
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("mountpoint %s: %w", mountpoint, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("mountpoint %s is not empty (it holds %s...): the mount would hide its files; choose an empty folder, or --allow-non-empty", mountpoint, names[0])
	}
	return nil
}
