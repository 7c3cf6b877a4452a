package main

import (
	"io/fs"
	"os"
)

// A derived key opens the backup like its password. As ssh does for private keys, a
// key others can read draws a warning; the saved-keys folder and its files are ours, so
// they are also set back to 0700 and 0600. A --key-file is the user's own file: it is
// only warned about.

// keepPrivate sets path back to mode want (0700 or 0600) if group or others have any
// access to it, saying so.
func keepPrivate(path, what string, want fs.FileMode) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink != 0 || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	if err := os.Chmod(path, want); err != nil {
		warnf("%s %s is mode %04o: other users may read the keys (cannot fix: %v)", what, path, fi.Mode().Perm(), err)
		return
	}
	warnf("%s %s was mode %04o: other users could read the keys; set to %04o", what, path, fi.Mode().Perm(), want)
}

// warnIfShared warns when a key file given by the user is readable by other users.
func warnIfShared(path, what string) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	warnf("%s %s is mode %04o: other users may be able to read the key, which opens the backup like its password (chmod 600 it)",
		what, path, fi.Mode().Perm())
}
