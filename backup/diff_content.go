package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"iosbackup/manifest"
)

// sameBlobInode reports whether the two rows' blobs are one file on disk (a hard link
// or the same path): then their contents are the same whatever the records say. A
// clone (FICLONE) is a different inode and is not recognised here.
func sameBlobInode(a, b *Backup, x, y *manifest.Entry) bool {
	fx, err := os.Stat(a.BlobPath(x))
	if err != nil {
		return false
	}
	fy, err := os.Stat(b.BlobPath(y))
	if err != nil {
		return false
	}
	return os.SameFile(fx, fy) // device and inode on Unix
}

// diffChunk is how much of each file sameContents reads at a time.
const diffChunk = 256 << 10

// sameContents reads both files' plaintexts (decrypting as needed, in memory only) and
// compares them. A blob missing on both sides counts as the same (nothing to restore
// either way); missing on one side only, as different.
func sameContents(a, b *Backup, x, y *manifest.Entry) (bool, error) {
	fx, errx := a.OpenFile(x)
	fy, erry := b.OpenFile(y)
	if fx != nil {
		defer fx.Close()
	}
	if fy != nil {
		defer fy.Close()
	}
	missingX, missingY := errors.Is(errx, ErrBlobMissing), errors.Is(erry, ErrBlobMissing)
	switch {
	case errx != nil && !missingX:
		return false, fmt.Errorf("compare contents: %w", errx)
	case erry != nil && !missingY:
		return false, fmt.Errorf("compare contents: %w", erry)
	case missingX || missingY:
		return missingX && missingY, nil
	}
	if fx.Size() != fy.Size() {
		return false, nil
	}
	bx, by := make([]byte, diffChunk), make([]byte, diffChunk)
	for off := int64(0); off < fx.Size(); {
		n := int(min(int64(diffChunk), fx.Size()-off))
		if _, err := fx.ReadAt(bx[:n], off); err != nil && err != io.EOF {
			return false, fmt.Errorf("compare contents: %w", err)
		}
		if _, err := fy.ReadAt(by[:n], off); err != nil && err != io.EOF {
			return false, fmt.Errorf("compare contents: %w", err)
		}
		if !bytes.Equal(bx[:n], by[:n]) {
			return false, nil
		}
		off += int64(n)
	}
	return true, nil
}
