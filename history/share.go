package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Share makes each regular file of dir that has the same path, size and contents as
// the file in other (and is not already the same inode, nor a hard link shared with
// an earlier snapshot) a clone or hard link of it,
// and returns the bytes that no longer take space twice. A full capture writes every
// file anew; sharing the previous backup's unchanged files with it before that backup
// is sealed keeps the snapshot as cheap as after an incremental one. Contents are
// compared byte for byte; each file is replaced by one rename, so an interruption
// leaves either file whole. With a Cloner that can only copy, nothing is done.
func Share(dir, other string, c *Cloner) (int64, error) {
	var saved int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || c.Method == Copy {
			return err
		}
		if strings.HasSuffix(p, shareTmp) {
			return os.Remove(p) // left by an interrupted Share
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == RecordName {
			return err
		}
		o := filepath.Join(other, rel)
		a, err := os.Lstat(p)
		if err != nil {
			return err
		}
		b, err := os.Lstat(o)
		if err != nil || !b.Mode().IsRegular() || a.Size() != b.Size() || os.SameFile(a, b) {
			return nil
		}
		if linkCount(a) > 1 {
			// Shared with an earlier snapshot already: relinking it would free
			// nothing and only move which snapshots share it.
			return nil
		}
		same, err := sameContents(p, o)
		if err != nil || !same {
			return err
		}
		tmp := p + shareTmp
		_ = os.Remove(tmp)
		if err := c.File(o, tmp); err != nil {
			return err
		}
		if c.Method == Copy {
			// The file system turned out to share nothing: keep the original.
			return os.Remove(tmp)
		}
		if err := os.Rename(tmp, p); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("share %s: %w", p, err)
		}
		saved += a.Size()
		return nil
	})
	if err != nil {
		return saved, fmt.Errorf("share unchanged files of %s with %s: %w", dir, other, err)
	}
	return saved, nil
}

const shareTmp = ".share-tmp"

func sameContents(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 256<<10), make([]byte, 256<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if errors.Is(ea, io.EOF) || errors.Is(ea, io.ErrUnexpectedEOF) {
			return errors.Is(eb, io.EOF) || errors.Is(eb, io.ErrUnexpectedEOF), nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}
