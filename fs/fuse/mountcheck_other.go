//go:build !linux && !darwin && !windows

package fuse

import (
	"fmt"
	"path/filepath"
)

// ourMount cannot tell whose filesystem is mounted on this platform: it only makes the
// path absolute. Unmount here acts on what it is given.
func ourMount(mountpoint string) (string, error) {
	mp, err := filepath.Abs(mountpoint)
	if err != nil {
		return "", fmt.Errorf("unmount %s: %w", mountpoint, err)
	}
	return mp, nil
}

// MountedAt cannot tell on this platform: it says nothing is mounted.
func MountedAt(path string) (fstype string, err error) { return "", nil }
