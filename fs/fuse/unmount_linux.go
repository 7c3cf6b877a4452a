package fuse

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Unmount unmounts the filesystem at mountpoint (made by Mount in this process or
// another, or left behind by one that crashed). When the mount is busy it lists the
// processes keeping it so (open files, working folders, memory maps under it), then
// detaches it lazily (MNT_DETACH): the mount leaves the namespace at once and the kernel
// finishes the unmount when the last holder lets go. holders is non-empty only then, so
// the caller can tell the user who still uses the mount.
//
// A server started by Mount in this process notices the unmount: its Wait returns.
//
// It acts only on an iosbackup mount (fuse.iosbackup in /proc/self/mountinfo): run as
// root, umount2 would unmount anything, and a lazy detach of someone else's busy
// filesystem is not ours to do. Anything else is refused with ErrNotOurs, a folder
// with nothing mounted on it with ErrNotMounted.
func Unmount(mountpoint string) (holders []Holder, err error) {
	mp, err := ourMount(mountpoint)
	if err != nil {
		return nil, err
	}
	err = unmountLinux(mp, false)
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, syscall.EBUSY) {
		return nil, fmt.Errorf("unmount %s: %w", mp, err)
	}
	holders = FindHolders(mp)
	// Look again before the lazy detach: what is on top may have changed meanwhile.
	if _, err := ourMount(mp); err != nil {
		return holders, err
	}
	if err := unmountLinux(mp, true); err != nil {
		return holders, fmt.Errorf("lazy unmount %s: %w", mp, err)
	}
	return holders, nil
}

// unmountLinux uses umount2(2) when allowed (root), fusermount otherwise.
func unmountLinux(mp string, lazy bool) error {
	flags := 0
	if lazy {
		flags = syscall.MNT_DETACH
	}
	err := syscall.Unmount(mp, flags)
	if err == nil || !errors.Is(err, syscall.EPERM) {
		return err
	}
	bin, lerr := exec.LookPath("fusermount3")
	if lerr != nil {
		if bin, lerr = exec.LookPath("fusermount"); lerr != nil {
			return err // EPERM, and no helper to do it for us
		}
	}
	args := []string{"-u"}
	if lazy {
		args = append(args, "-z")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, "--", mp)...)
	cmd.Stderr = &stderr
	if cerr := cmd.Run(); cerr != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "busy") {
			return fmt.Errorf("%s: %w", msg, syscall.EBUSY)
		}
		return fmt.Errorf("%s %s: %s: %w", bin, strings.Join(args, " "), msg, cerr)
	}
	return nil
}

// FindHolders scans /proc for processes using anything under mountpoint: working
// folder, root, open files, memory-mapped files. Processes it may not inspect (other
// users' when not root) are skipped. Reading /proc links sends nothing to the FUSE
// server, so this is safe even when the server is stuck.
func FindHolders(mountpoint string) []Holder {
	mp := filepath.Clean(mountpoint)
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []Holder
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		dir := "/proc/" + p.Name()
		var found []Holder
		add := func(how, path string) {
			found = append(found, Holder{PID: pid, Path: path, How: how})
		}
		for _, link := range []string{"cwd", "root"} {
			if t, err := os.Readlink(dir + "/" + link); err == nil && under(t, mp) {
				add(link, t)
			}
		}
		if fds, err := os.ReadDir(dir + "/fd"); err == nil {
			for _, fd := range fds {
				if t, err := os.Readlink(dir + "/fd/" + fd.Name()); err == nil && under(t, mp) {
					add("fd "+fd.Name(), t)
				}
			}
		}
		if maps, err := os.ReadFile(dir + "/maps"); err == nil {
			seen := map[string]bool{}
			for _, line := range strings.Split(string(maps), "\n") {
				// address perms offset dev inode path: the path starts at the first '/'.
				i := strings.IndexByte(line, '/')
				if i < 0 {
					continue
				}
				if t := line[i:]; under(t, mp) && !seen[t] {
					seen[t] = true
					add("mmap", t)
				}
			}
		}
		if len(found) > 0 {
			comm, _ := os.ReadFile(dir + "/comm")
			for i := range found {
				found[i].Command = strings.TrimSpace(string(comm))
			}
			out = append(out, found...)
		}
	}
	return out
}
