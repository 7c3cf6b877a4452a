//go:build unix

package capture

import (
	"fmt"
	"os"
	"syscall"
)

// dirIdentity names a folder by device and inode, which a rename keeps: the publish
// journal uses it to tell where the staging folder went.
func dirIdentity(r *os.Root, rel string) (string, error) {
	fi, err := r.Lstat(rel)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("%s: no inode number", rel)
	}
	return fmt.Sprintf("%d:%d", uint64(st.Dev), uint64(st.Ino)), nil
}
