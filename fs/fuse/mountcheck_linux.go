package fuse

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ourMount returns the canonical path of mountpoint when an iosbackup filesystem is
// mounted on top of it, and a clear error saying what is there otherwise.
func ourMount(mountpoint string) (string, error) {
	mp, err := canonicalMountpoint(mountpoint)
	if err != nil {
		return "", fmt.Errorf("unmount %s: %w", mountpoint, err)
	}
	rec, ok, err := mountAt(mp)
	if err != nil {
		return "", fmt.Errorf("unmount %s: %w", mountpoint, err)
	}
	switch {
	case ok && rec.FSType == ourFSType:
		return mp, nil
	case ok:
		return "", fmt.Errorf("unmount %s: %w (it is a %s filesystem, from %s)", mountpoint, ErrNotOurs, rec.FSType, rec.Source)
	}
	if _, err := os.Lstat(mp); err != nil {
		return "", fmt.Errorf("unmount %s: %w", mountpoint, err)
	}
	return "", fmt.Errorf("unmount %s: %w", mountpoint, ErrNotMounted)
}

// MountedAt says what is mounted exactly at path: its filesystem type, or "" when
// path is a plain folder (or a folder inside a mount, not its root).
func MountedAt(path string) (fstype string, err error) {
	mp, err := canonicalMountpoint(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil // nothing can be mounted where no folder leads
	}
	if err != nil {
		return "", err
	}
	rec, ok, err := mountAt(mp)
	if err != nil || !ok {
		return "", err
	}
	return rec.FSType, nil
}
