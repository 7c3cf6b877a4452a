package fuse

import "syscall"

const (
	// readOnlyOption is the mount option that makes the kernel refuse writes.
	readOnlyOption = "ro"
	// directMountFlags are the mount(2) flags when mounting without fusermount: the
	// same restrictions as the options, as flags (mount(2) ignores them as strings).
	directMountFlags = syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC
)
