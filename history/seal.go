package history

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Seal makes the folder dir a snapshot: it records every regular file's size and
// SHA-256 in dir/RecordName and makes the files read-only, so a tool that would
// rewrite one in place (and, through a hard link, history with it) is refused, and
// one that does it anyway (root) is caught by CheckFile. Symlinks and special files
// are not part of a backup's contents and are left out of the record.
//
// prev, when not empty, is an earlier sealed snapshot: a file that is the same inode
// as one recorded there is not read again, which makes sealing cost what changed.
func Seal(dir, prev string) error {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("seal snapshot: %w", err)
	}
	defer r.Close()
	var known map[string]BlobRecord
	var prevRoot *os.Root
	if prev != "" {
		if rec, err := ReadRecord(prev); err == nil {
			if pr, err := os.OpenRoot(prev); err == nil {
				prevRoot, known = pr, map[string]BlobRecord{}
				defer pr.Close()
				for _, b := range rec.All() {
					known[b.Path] = b
				}
			}
		}
	}
	var paths []string
	err = fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && p != RecordName && !strings.HasPrefix(p, RecordName+".") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seal snapshot %s: %w", dir, err)
	}
	sort.Strings(paths)
	recs := make([]BlobRecord, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				recs[i], errs[i] = recordFile(r, paths[i], prevRoot, known)
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("seal snapshot %s: %w", dir, err)
	}
	if err := writeRecord(r, recs); err != nil {
		return fmt.Errorf("seal snapshot %s: %w", dir, err)
	}
	for _, p := range paths {
		if err := r.Chmod(p, 0o444); err != nil {
			return fmt.Errorf("seal snapshot %s: make %s read-only: %w", dir, p, err)
		}
	}
	return nil
}

// recordFile hashes one file, or takes its record from the previous snapshot when it
// is the same inode with the same size.
func recordFile(r *os.Root, p string, prevRoot *os.Root, known map[string]BlobRecord) (BlobRecord, error) {
	f, err := r.OpenFile(p, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if err != nil {
		return BlobRecord{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return BlobRecord{}, err
	}
	if !fi.Mode().IsRegular() {
		return BlobRecord{}, fmt.Errorf("%s: not a regular file", p)
	}
	if b, ok := known[p]; ok && b.Size == fi.Size() {
		if pfi, err := prevRoot.Lstat(p); err == nil && os.SameFile(fi, pfi) {
			return b, nil
		}
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return BlobRecord{}, fmt.Errorf("read %s: %w", p, err)
	}
	b := BlobRecord{Path: path.Clean(p), Size: n}
	h.Sum(b.SHA256[:0])
	return b, nil
}

// writeRecord writes the record under a temporary name, flushes it and renames it
// into place, so a record is either whole or absent.
func writeRecord(r *os.Root, recs []BlobRecord) error {
	tmp := RecordName + ".tmp"
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|oNoFollow, 0o444)
	if err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	var sb strings.Builder
	sb.WriteString(recordHeader + "\n")
	for _, b := range recs {
		sb.WriteString(formatRecordLine(b))
		sb.WriteByte('\n')
	}
	if _, err := io.WriteString(f, sb.String()); err != nil {
		f.Close()
		return fmt.Errorf("write record: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write record: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	if err := r.Rename(tmp, RecordName); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}
