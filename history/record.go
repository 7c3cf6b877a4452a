// Package history keeps the backups a capture replaces as snapshots beside the live
// backup folder, ROOT/<UDID>.history/<RFC 3339 time>/, each a complete backup folder
// that every read command accepts. It takes, lists and forgets them, and shares the
// unchanged files between them (copy-on-write clones, else hard links, else copies).
package history

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// RecordName is the file, at the top of every snapshot folder, that records what each
// of the snapshot's files must be. It is written when the snapshot is taken, before the
// snapshot gets its final name, so a snapshot without one is not a snapshot.
//
// The format is text, one header line and then one line per regular file of the
// snapshot (the record itself excepted), sorted by path:
//
//	iosbackup snapshot record 1
//	<SHA-256 of the contents, 64 lowercase hex> <size in bytes> <path>
//
// <path> is relative to the snapshot folder, with "/" separators ("Manifest.db",
// "3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28"); it runs to the end of the line, and
// is written as a Go quoted string when it contains a control character or starts
// with a double quote.
const RecordName = ".iosbackup-record"

const recordHeader = "iosbackup snapshot record 1"

// maxRecordSize bounds what ReadRecord accepts: about 150 bytes a file, so this covers
// several million files while refusing a planted multi-gigabyte record.
const maxRecordSize = 1 << 30

// BlobRecord is what one file of a snapshot must be.
type BlobRecord struct {
	Path   string // relative to the snapshot folder, "/"-separated
	Size   int64
	SHA256 [32]byte
}

// Record is a snapshot's record, read back.
type Record struct {
	// Blobs are the files named by a file ID (40 hex digits): the contents of the
	// manifest's file rows, keyed by that file ID in lowercase.
	Blobs map[string]BlobRecord
	// Files are the other files (Manifest.db, Info.plist, Status.plist, ...), keyed
	// by their path.
	Files map[string]BlobRecord
}

// All returns every recorded file, sorted by path.
func (r *Record) All() []BlobRecord {
	out := make([]BlobRecord, 0, len(r.Blobs)+len(r.Files))
	for _, b := range r.Blobs {
		out = append(out, b)
	}
	for _, b := range r.Files {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// ErrNoRecord is returned by ReadRecord for a folder that has no record: not a
// snapshot, or one an older version wrote.
var ErrNoRecord = errors.New("no snapshot record")

// ReadRecord reads the record of the snapshot folder dir. The record is opened
// without following a symlink and must be a regular file.
func ReadRecord(dir string) (*Record, error) {
	name := path.Join(dir, RecordName)
	f, err := openRegular(dir, RecordName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", name, ErrNoRecord)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rec, err := ParseRecord(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rec, nil
}

// openRegular opens dir/name read-only, refusing a symlink (anywhere in name) and
// anything that is not a regular file, without blocking on a FIFO.
func openRegular(dir, name string) (*os.File, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fi, err := r.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path.Join(dir, name), fi.Mode().Type())
	}
	f, err := r.OpenFile(name, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", path.Join(dir, name))
	}
	return f, nil
}

// ParseRecord reads a record in the format described at RecordName. Errors name the
// line.
func ParseRecord(r io.Reader) (*Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	rec := &Record{Blobs: map[string]BlobRecord{}, Files: map[string]BlobRecord{}}
	line := 0
	total := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		total += len(text) + 1
		if total > maxRecordSize {
			return nil, fmt.Errorf("record larger than %d bytes", maxRecordSize)
		}
		if line == 1 {
			if text != recordHeader {
				return nil, fmt.Errorf("line 1: not a snapshot record (want %q)", recordHeader)
			}
			continue
		}
		b, err := parseRecordLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if _, dup := rec.Files[b.Path]; dup {
			return nil, fmt.Errorf("line %d: %s recorded twice", line, b.Path)
		}
		if id, ok := FileIDOf(b.Path); ok {
			if _, dup := rec.Blobs[id]; dup {
				return nil, fmt.Errorf("line %d: file ID %s recorded twice", line, id)
			}
			rec.Blobs[id] = b
		} else {
			rec.Files[b.Path] = b
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if line == 0 {
		return nil, errors.New("empty record")
	}
	return rec, nil
}

func parseRecordLine(text string) (BlobRecord, error) {
	var b BlobRecord
	sum, rest, ok := strings.Cut(text, " ")
	if !ok || len(sum) != 64 {
		return b, errors.New("want <sha256> <size> <path>")
	}
	if _, err := hex.Decode(b.SHA256[:], []byte(sum)); err != nil || strings.ToLower(sum) != sum {
		return b, fmt.Errorf("bad SHA-256 %q", sum)
	}
	size, p, ok := strings.Cut(rest, " ")
	if !ok {
		return b, errors.New("want <sha256> <size> <path>")
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != size {
		return b, fmt.Errorf("bad size %q", size)
	}
	b.Size = n
	if strings.HasPrefix(p, `"`) {
		if p, err = strconv.Unquote(p); err != nil {
			return b, fmt.Errorf("bad quoted path: %w", err)
		}
	}
	if !validRelPath(p) {
		return b, fmt.Errorf("bad path %q", p)
	}
	b.Path = p
	return b, nil
}

// validRelPath accepts a relative "/"-separated path without empty, "." or ".."
// components, or NUL bytes.
func validRelPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) || p == RecordName {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

// FileIDOf returns the file ID a snapshot path names: its last component when that is
// 40 hex digits (blobs live at "xx/<id>" in Manifest.db backups, at "<id>" in older
// ones), in lowercase.
func FileIDOf(p string) (string, bool) {
	base := path.Base(p)
	if len(base) != 40 {
		return "", false
	}
	for _, c := range base {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	return strings.ToLower(base), true
}

// formatRecordLine is the inverse of parseRecordLine.
func formatRecordLine(b BlobRecord) string {
	p := b.Path
	if strings.HasPrefix(p, `"`) || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		p = strconv.Quote(p)
	}
	return hex.EncodeToString(b.SHA256[:]) + " " + strconv.FormatInt(b.Size, 10) + " " + p
}

// CheckFile reports whether the file b.Path of the snapshot folder dir still is what
// the record says: a regular file (not followed through a symlink) of b.Size bytes
// whose SHA-256 is b.SHA256. The error names the file and what differs.
func CheckFile(dir string, b BlobRecord) error {
	f, err := openRegular(dir, b.Path)
	if err != nil {
		return fmt.Errorf("%s: %w", path.Join(dir, b.Path), err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("read %s: %w", path.Join(dir, b.Path), err)
	}
	if n != b.Size {
		return fmt.Errorf("%s: %d bytes, the snapshot recorded %d", path.Join(dir, b.Path), n, b.Size)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	if sum != b.SHA256 {
		return fmt.Errorf("%s: contents changed since the snapshot was taken (SHA-256 %x, recorded %x)", path.Join(dir, b.Path), sum, b.SHA256)
	}
	return nil
}
