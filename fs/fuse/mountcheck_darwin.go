package fuse

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ourMount returns the absolute path of mountpoint when an iosbackup filesystem is
// mounted there (statfs: mounted on exactly this path, from "iosbackup", the FsName
// Mount gives), and a clear error saying what is there otherwise.
func ourMount(mountpoint string) (string, error) {
	mp, on, from, fstype, err := statMount(mountpoint)
	if err != nil {
		return "", fmt.Errorf("unmount %s: %w", mountpoint, err)
	}
	switch {
	case on != mp:
		return "", fmt.Errorf("unmount %s: %w", mountpoint, ErrNotMounted)
	case from != "iosbackup":
		return "", fmt.Errorf("unmount %s: %w (it is a %s filesystem, from %s)", mountpoint, ErrNotOurs, fstype, from)
	}
	return mp, nil
}

// MountedAt says what is mounted exactly at path: its filesystem type, or "" when
// path is a plain folder (or a folder inside a mount, not its root).
func MountedAt(path string) (fstype string, err error) {
	mp, on, _, fstype, err := statMount(path)
	if err != nil || on != mp {
		return "", err
	}
	return fstype, nil
}

// statMount makes p absolute (its parent's symlinks resolved) and says which mount
// holds it: where that is mounted, from what, of which type.
func statMount(p string) (mp, on, from, fstype string, err error) {
	if mp, err = filepath.Abs(p); err != nil {
		return
	}
	if real, rerr := filepath.EvalSymlinks(filepath.Dir(mp)); rerr == nil {
		mp = filepath.Join(real, filepath.Base(mp))
	}
	if _, err = os.Lstat(mp); err != nil {
		return
	}
	var st unix.Statfs_t
	if err = unix.Statfs(mp, &st); err != nil {
		return
	}
	on = string(bytes.TrimRight(st.Mntonname[:], "\x00"))
	from = string(bytes.TrimRight(st.Mntfromname[:], "\x00"))
	fstype = string(bytes.TrimRight(st.Fstypename[:], "\x00"))
	return
}
