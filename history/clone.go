package history

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Method is how a file is shared between the live backup and its snapshots.
type Method int

const (
	// Reflink makes a copy-on-write clone (FICLONE on btrfs and XFS, clonefile on
	// APFS): its own inode, so rewriting the live file in place leaves history alone,
	// and no new data blocks.
	Reflink Method = iota
	// HardLink shares the inode: no new space, but only safe because nothing rewrites
	// a backup file in place (capture and idevicebackup2 replace files), and snapshot
	// files are read-only and recorded to catch a tool that does.
	HardLink
	// Copy takes the space again, where the file system can do neither.
	Copy
)

func (m Method) String() string {
	switch m {
	case Reflink:
		return "copy-on-write clones"
	case HardLink:
		return "hard links"
	}
	return "copies"
}

// Cloner shares files by the best method the file system supports. It starts with
// Reflink and steps down for good the first time a method is not supported, so the
// methods that fail are tried once, not for every file.
type Cloner struct {
	Method Method
}

// File makes dst (which must not exist) hold the contents of the regular file src,
// both on the same file system.
func (c *Cloner) File(src, dst string) error {
	for {
		var err error
		switch c.Method {
		case Reflink:
			err = reflink(src, dst)
		case HardLink:
			err = os.Link(src, dst)
		default:
			return copyFile(src, dst)
		}
		if err == nil {
			return nil
		}
		if !unsupported(err) {
			return fmt.Errorf("%s %s: %w", c.Method, src, err)
		}
		c.Method++
	}
}

// unsupported tells an error that says "this file system cannot do that" from a real
// failure.
func unsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EXDEV) ||
		errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EPERM) ||
		errors.Is(err, syscall.EMLINK) || errors.Is(err, syscall.ENOTTY) ||
		errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		os.Remove(dst)
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}
