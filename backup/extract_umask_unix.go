//go:build unix

package backup

import (
	"io/fs"
	"syscall"
)

// umaskBySetting reads the umask the only way umask(2) allows: by setting it, here to
// 077 (the safe side) for that instant, and back.
func umaskBySetting() fs.FileMode {
	m := syscall.Umask(0o077)
	syscall.Umask(m)
	return fs.FileMode(m) & fs.ModePerm
}
