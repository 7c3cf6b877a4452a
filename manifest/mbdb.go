package manifest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
)

// mbdbHeader opens every Manifest.mbdb (iOS 5 to 9): the magic and format version 5.0.
const mbdbHeader = "mbdb\x05\x00"

// mbdbNull is the string length that stands for a null string.
const mbdbNull = 0xFFFF

// MBDBStats counts what ReadMBDB met besides the entries it delivered.
type MBDBStats struct {
	Records int // records read
	Entries int // entries handed to fn
	// BadMode records have a Mode naming no file, directory or symlink: left out.
	BadMode int
	// Dropped names them (DropNoType); nil when there are none.
	Dropped *Drops
}

// ReadMBDB streams the records of a Manifest.mbdb (big-endian; see backup-format.md)
// and calls fn for each entry, in file order. Strings are bounded by their 16-bit
// length; extended attributes become XAttrs, the EncryptionKey (class prefix + wrapped
// key) becomes ProtectionClass (when the record's is 0) and WrappedKey, DataHash becomes
// Digest, and ID is ComputeFileID(domain, path): Manifest.mbdb does not store it.
//
// As with ReadDB, fn must not keep the *Entry, which is reused; copying *e is enough,
// since its slices, maps and strings are fresh for each record. An error from fn stops
// the read and is returned unchanged. A record cut short is an error naming the record
// number and byte offsets.
func ReadMBDB(r io.Reader, fn func(*Entry) error) (MBDBStats, error) {
	var st MBDBStats
	br := &mbdbReader{r: bufio.NewReaderSize(r, 64<<10)}
	var hdr [len(mbdbHeader)]byte
	if err := br.full(hdr[:]); err != nil {
		return st, fmt.Errorf("Manifest.mbdb: header: %w", noEOF(err))
	}
	if string(hdr[:]) != mbdbHeader {
		return st, fmt.Errorf("Manifest.mbdb: header %q, want %q", hdr[:], mbdbHeader)
	}

	domains := make(map[string]string)
	var e Entry
	for {
		// A clean end of file between records is the end of the list.
		if _, err := br.r.Peek(1); err == io.EOF {
			return st, nil
		}
		start := br.off
		st.Records++
		ok, err := br.record(&e, domains)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return st, fmt.Errorf("Manifest.mbdb: record %d at byte offset %d: truncated at byte offset %d", st.Records, start, br.off)
			}
			return st, fmt.Errorf("Manifest.mbdb: record %d at byte offset %d: %w", st.Records, start, err)
		}
		if !ok {
			st.BadMode++
			addDrop(&st.Dropped, DroppedRow{Reason: DropNoType, Row: st.Records, Domain: e.Domain, Path: e.Path,
				FileID: e.ID.String(), Detail: fmt.Sprintf("mode %#o names no file, directory or symlink", e.Mode)})
			continue
		}
		if err := fn(&e); err != nil {
			return st, err
		}
		st.Entries++
	}
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// mbdbReader reads big-endian fields and keeps the byte offset for error messages.
type mbdbReader struct {
	r   *bufio.Reader
	off int64
	buf [8]byte
}

func (m *mbdbReader) full(p []byte) error {
	n, err := io.ReadFull(m.r, p)
	m.off += int64(n)
	return err
}

func (m *mbdbReader) uint(size int) (uint64, error) {
	b := m.buf[:size]
	if err := m.full(b); err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// bytes reads a length-prefixed string into a fresh slice; nil for the null string.
func (m *mbdbReader) bytes() ([]byte, error) {
	n, err := m.uint(2)
	if err != nil || n == mbdbNull {
		return nil, err
	}
	b := make([]byte, n)
	return b, m.full(b)
}

func (m *mbdbReader) string() (string, error) {
	b, err := m.bytes()
	return string(b), err
}

// record reads one record into e; ok is false when its mode names no type we show.
func (m *mbdbReader) record(e *Entry, domains map[string]string) (ok bool, err error) {
	domain, err := m.bytes()
	if err != nil {
		return false, err
	}
	if domain == nil {
		return false, errors.New("domain is null")
	}
	d, found := domains[string(domain)]
	if !found {
		d = string(domain)
		domains[d] = d
	}
	*e = Entry{Domain: d}
	if e.Path, err = m.string(); err != nil {
		return false, err
	}
	target, err := m.string()
	if err != nil {
		return false, err
	}
	digest, err := m.bytes()
	if err != nil {
		return false, err
	}
	key, err := m.bytes()
	if err != nil {
		return false, err
	}

	var f [10]uint64
	for i, size := range []int{2, 8, 4, 4, 4, 4, 4, 8, 1, 1} {
		if f[i], err = m.uint(size); err != nil {
			return false, err
		}
	}
	mode, inode, uid, gid, mtime, ctime, birth, size, class, nprops := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]
	var xattrs map[string][]byte
	for i := uint64(0); i < nprops; i++ {
		name, err := m.string()
		if err != nil {
			return false, err
		}
		value, err := m.bytes()
		if err != nil {
			return false, err
		}
		if xattrs == nil {
			xattrs = make(map[string][]byte, nprops)
		}
		if value == nil {
			value = []byte{}
		}
		xattrs[name] = value
	}
	e.SetExtra(target, digest, xattrs)
	if size > math.MaxInt64 {
		return false, fmt.Errorf("size %d out of range", size)
	}

	e.ID = ComputeFileID(d, e.Path)
	e.Mode = uint32(mode)
	e.Kind = kindFromMode(e.Mode)
	e.Inode = inode
	e.UID, e.GID = uint32(uid), uint32(gid)
	e.MTime, e.CTime, e.Birth = int64(mtime), int64(ctime), int64(birth)
	e.Size = int64(size)
	e.ProtectionClass = uint32(class)
	if len(key) > 0 {
		pc, wrapped, err := splitEncryptionKey(key)
		if err != nil {
			return false, fmt.Errorf("EncryptionKey: %w", err)
		}
		e.WrappedKey = wrapped
		if e.ProtectionClass == 0 {
			e.ProtectionClass = pc
		}
	}
	return e.Kind != 0, nil
}
