package manifest

import (
	"fmt"
	"strings"
)

// DropReason says why a row of the manifest is not in the index. Every row a reader or
// NewIndex leaves out is counted under one reason: a row must never vanish silently
// (a damaged record of sms.db would otherwise look like a backup without sms.db).
type DropReason uint8

const (
	// DropUnreadable: the row's record (the `file` column, or a Manifest.mbdb
	// record's fields) cannot be decoded.
	DropUnreadable DropReason = iota + 1
	// DropNoType: the record names no file, folder or symlink (a FIFO, a socket, mode 0
	// with flags that say nothing either).
	DropNoType
	// DropTooLong: a column is longer than any real one (a hostile manifest): it was
	// not read.
	DropTooLong
	// DropMissing: the domain, relativePath or file column is NULL on a row that is not
	// one of Apple's placeholder rows (flags 16, everything NULL).
	DropMissing
	// DropBadDomain: the domain cannot be a folder name ("", ".", "..", or with a '/'
	// or NUL in it): a domain "." would put its files over another domain's.
	DropBadDomain
	// DropBadPath: the path has an empty, "." or ".." component or a NUL byte.
	DropBadPath
	// DropDuplicate: the same domain and path as an earlier row, which is kept.
	DropDuplicate
	// DropBelowFile: the path is inside a path that is a file or symlink.
	DropBelowFile

	numDropReasons = iota + 1
)

var dropNames = [numDropReasons][2]string{
	DropUnreadable: {"unreadable record", "unreadable records"},
	DropNoType:     {"record of no file type", "records of no file type"},
	DropTooLong:    {"column too long", "columns too long"},
	DropMissing:    {"row with a NULL column", "rows with a NULL column"},
	DropBadDomain:  {"invalid domain name", "invalid domain names"},
	DropBadPath:    {"invalid path", "invalid paths"},
	DropDuplicate:  {"duplicate path", "duplicate paths"},
	DropBelowFile:  {"path inside a file", "paths inside a file"},
}

func (r DropReason) String() string {
	if r == 0 || r >= numDropReasons {
		return fmt.Sprintf("reason(%d)", uint8(r))
	}
	return dropNames[r][0]
}

// DroppedRow is one row left out, with what could be read of it.
type DroppedRow struct {
	Reason DropReason
	// Row is the 1-based row (Manifest.db) or record (Manifest.mbdb) number; 0 when
	// the row was dropped by NewIndex, which sees entries, not rows.
	Row    int
	Domain string
	Path   string
	FileID string // hex; "" when it could not be read
	Detail string // what was wrong, when there is more to say than the reason
}

// String quotes the names: they come from a hostile file and may hold anything, a
// newline or a terminal escape included.
func (d DroppedRow) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: domain %q path %q", d.Reason, d.Domain, d.Path)
	var where []string
	if d.Row > 0 {
		where = append(where, fmt.Sprintf("row %d", d.Row))
	}
	if d.FileID != "" {
		where = append(where, "fileID "+d.FileID)
	}
	if len(where) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(where, ", "))
	}
	if d.Detail != "" {
		b.WriteString(": " + d.Detail)
	}
	return b.String()
}

// maxKeptDrops bounds the rows Drops keeps in full; beyond it only counts grow. Enough
// to name every row a damaged backup loses, and a few MB at most for a hostile one.
const maxKeptDrops = 1000

// Drops counts the rows left out by reason and keeps the first maxKeptDrops of them.
// The zero value is empty and ready; a nil *Drops reads as empty.
type Drops struct {
	counts [numDropReasons]int
	rows   []DroppedRow
}

// Add counts d and keeps it if there is room.
func (s *Drops) Add(d DroppedRow) {
	s.counts[d.Reason%numDropReasons]++
	if len(s.rows) < maxKeptDrops {
		s.rows = append(s.rows, d)
	}
}

// Merge adds every row o counted (its kept rows first, as far as there is room).
func (s *Drops) Merge(o *Drops) {
	if o == nil {
		return
	}
	for r, n := range o.counts {
		s.counts[r] += n
	}
	room := max(0, maxKeptDrops-len(s.rows))
	s.rows = append(s.rows, o.rows[:min(room, len(o.rows))]...)
}

// Count is the number of rows dropped for reason r.
func (s *Drops) Count(r DropReason) int {
	if s == nil || r >= numDropReasons {
		return 0
	}
	return s.counts[r]
}

// Total is the number of rows dropped.
func (s *Drops) Total() int {
	if s == nil {
		return 0
	}
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

// Rows are the dropped rows kept, in the order they were met. All of them when
// Complete says so.
func (s *Drops) Rows() []DroppedRow {
	if s == nil {
		return nil
	}
	return s.rows
}

// Complete reports whether Rows holds every dropped row.
func (s *Drops) Complete() bool { return len(s.Rows()) == s.Total() }

// Examples are up to n kept rows of each reason, reasons in their order.
func (s *Drops) Examples(n int) []DroppedRow {
	var out []DroppedRow
	for r := DropReason(1); r < numDropReasons; r++ {
		k := 0
		for _, d := range s.Rows() {
			if d.Reason == r && k < n {
				out = append(out, d)
				k++
			}
		}
	}
	return out
}

// Summary is the counts in words, e.g. "1 unreadable record, 2 duplicate paths"; ""
// when nothing was dropped.
func (s *Drops) Summary() string {
	var parts []string
	for r := DropReason(1); r < numDropReasons; r++ {
		switch n := s.Count(r); n {
		case 0:
		case 1:
			parts = append(parts, "1 "+dropNames[r][0])
		default:
			parts = append(parts, fmt.Sprintf("%d %s", n, dropNames[r][1]))
		}
	}
	return strings.Join(parts, ", ")
}

// Find returns the kept dropped row with this domain and path.
func (s *Drops) Find(domain, path string) (DroppedRow, bool) {
	for _, d := range s.Rows() {
		if d.Domain == domain && d.Path == path {
			return d, true
		}
	}
	return DroppedRow{}, false
}

// addDrop records d in *s, allocating the Drops on the first one: a manifest without
// drops keeps a nil *Drops, so that its stats compare equal.
func addDrop(s **Drops, d DroppedRow) {
	if *s == nil {
		*s = new(Drops)
	}
	(*s).Add(d)
}

// String is the summary and every kept row, one per line.
func (s *Drops) String() string {
	if s.Total() == 0 {
		return "no rows dropped"
	}
	var b strings.Builder
	b.WriteString(s.Summary())
	for _, d := range s.Rows() {
		b.WriteString("\n\t" + d.String())
	}
	return b.String()
}
