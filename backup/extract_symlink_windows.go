package backup

import (
	"errors"
	"syscall"
)

// symlinkNotAllowed: Windows makes symlinks only for an administrator or in Developer
// Mode (ERROR_PRIVILEGE_NOT_HELD), and not on every file system (ERROR_NOT_SUPPORTED:
// FAT, exFAT, Wine). Such a symlink is left out and counted, not a failure: its target
// is a device path, whose file extract writes where its own entry goes.
func symlinkNotAllowed(err error) bool {
	const errorPrivilegeNotHeld, errorNotSupported = syscall.Errno(1314), syscall.Errno(50)
	return errors.Is(err, errorPrivilegeNotHeld) || errors.Is(err, errorNotSupported)
}
