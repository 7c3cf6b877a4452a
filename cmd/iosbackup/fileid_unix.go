//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// fileIdentity is a file's device and inode number: hard links share it.
func fileIdentity(fi os.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d:%d", uint64(st.Dev), uint64(st.Ino)), true
}
