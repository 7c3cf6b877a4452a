//go:build !linux && !windows

package fuse

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Unmount unmounts the iosbackup filesystem at mountpoint (see ourMount). When it is busy it forces the unmount
// (there is no lazy unmount outside Linux); holders are not listed on this platform
// (lsof +f -- MOUNTPOINT does it).
func Unmount(mountpoint string) (holders []Holder, err error) {
	mp, err := ourMount(mountpoint)
	if err != nil {
		return nil, err
	}
	err = unix.Unmount(mp, 0)
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, unix.EBUSY) {
		return nil, fmt.Errorf("unmount %s: %w", mp, err)
	}
	if err := unix.Unmount(mp, unix.MNT_FORCE); err != nil {
		return nil, fmt.Errorf("forced unmount %s: %w", mp, err)
	}
	return nil, nil
}

// FindHolders is not implemented outside Linux.
func FindHolders(mountpoint string) []Holder { return nil }
