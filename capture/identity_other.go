//go:build !unix

package capture

import (
	"fmt"
	"os"
)

// dirIdentity names a folder by its modification time, which a rename keeps and
// nothing changes once the staging copy is finished (there are no inode numbers).
func dirIdentity(r *os.Root, rel string) (string, error) {
	fi, err := r.Lstat(rel)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("mtime:%d", fi.ModTime().UnixNano()), nil
}
