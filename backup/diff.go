package backup

import (
	"bytes"
	"fmt"
	"maps"
	"strings"

	"iosbackup/manifest"
)

// DiffKind says how an entry differs between the backups A and B.
type DiffKind string

const (
	DiffAdded   DiffKind = "added"   // only in B
	DiffRemoved DiffKind = "removed" // only in A
	DiffChanged DiffKind = "changed" // contents or type differ (or may: see Undecided)
	DiffAttrs   DiffKind = "attrs"   // same contents; mode, times, owner, size record or xattrs differ
)

// Difference is one entry that is not the same in A and B.
type Difference struct {
	Kind   DiffKind
	Domain string
	Path   string
	Type   string // file, dir or symlink (B's; A's for a removed entry)
	// Fields name what differs: contents, type, target, mode, mtime, owner, size
	// (the recorded size) and xattrs.
	Fields []string
	// Undecided: the records differ in size, mtime or inode and the contents were not
	// compared (no --content), so the contents may still be the same.
	Undecided bool
}

// Key is "Domain/path" ("Domain" for a domain root).
func (d Difference) Key() string { return entryKey(d.Domain, d.Path) }

// DiffOptions say how hard to look.
type DiffOptions struct {
	// Content decrypts and compares the contents of files whose records cannot tell.
	Content bool
}

// DiffResult lists the differences in domain, then path order.
type DiffResult struct {
	Differences []Difference
	Entries     int // entries compared (present in both)
	Compared    int // files whose contents were read
}

// Same reports whether no difference was found.
func (r *DiffResult) Same() bool { return len(r.Differences) == 0 }

// DomainStat counts one domain's differences.
type DomainStat struct {
	Domain                         string
	Added, Removed, Changed, Attrs int
}

// Stat counts the differences per domain, in domain order.
func (r *DiffResult) Stat() []DomainStat {
	var out []DomainStat
	for _, d := range r.Differences {
		if len(out) == 0 || out[len(out)-1].Domain != d.Domain {
			out = append(out, DomainStat{Domain: d.Domain})
		}
		s := &out[len(out)-1]
		switch d.Kind {
		case DiffAdded:
			s.Added++
		case DiffRemoved:
			s.Removed++
		case DiffChanged:
			s.Changed++
		case DiffAttrs:
			s.Attrs++
		}
	}
	return out
}

// Diff compares backup A with backup B from their manifests: a merge of the two sorted
// indexes, so two million-entry manifests cost one pass over each. Contents count as
// the same when the records say so (same size, mtime, inode and digest), when both
// record a digest and the digests agree, or when both rows point at the same blob
// inode (a snapshot sharing a blob with the live backup). Otherwise the file is
// reported changed, Undecided, unless opt.Content compares the plaintexts.
func Diff(a, b *Backup, opt DiffOptions) (*DiffResult, error) {
	res := &DiffResult{}
	da, db := a.Index.Domains(), b.Index.Domains()
	i, j := 0, 0
	for i < len(da) || j < len(db) {
		switch {
		case j == len(db) || (i < len(da) && da[i] < db[j]):
			res.allOf(a, da[i], DiffRemoved)
			i++
		case i == len(da) || db[j] < da[i]:
			res.allOf(b, db[j], DiffAdded)
			j++
		default:
			if err := res.domain(a, b, da[i], opt); err != nil {
				return nil, err
			}
			i++
			j++
		}
	}
	return res, nil
}

// allOf reports every entry of a domain present on one side only.
func (r *DiffResult) allOf(b *Backup, domain string, kind DiffKind) {
	start, end, _ := b.Index.DomainSpan(domain)
	for k := start; k < end; k++ {
		r.only(b.Index.Entry(k), kind)
	}
}

func (r *DiffResult) only(e *manifest.Entry, kind DiffKind) {
	r.Differences = append(r.Differences, Difference{Kind: kind, Domain: e.Domain, Path: e.Path, Type: e.Kind.String()})
}

// domain merges the entries of one domain present in both backups.
func (r *DiffResult) domain(a, b *Backup, domain string, opt DiffOptions) error {
	sa, ea, _ := a.Index.DomainSpan(domain)
	sb, eb, _ := b.Index.DomainSpan(domain)
	for sa < ea || sb < eb {
		var c int
		switch {
		case sb == eb:
			c = -1
		case sa == ea:
			c = 1
		default:
			c = manifest.ComparePaths(a.Index.Entry(sa).Path, b.Index.Entry(sb).Path)
		}
		switch {
		case c < 0:
			r.only(a.Index.Entry(sa), DiffRemoved)
			sa++
		case c > 0:
			r.only(b.Index.Entry(sb), DiffAdded)
			sb++
		default:
			r.Entries++
			if err := r.pair(a, b, a.Index.Entry(sa), b.Index.Entry(sb), opt); err != nil {
				return err
			}
			sa++
			sb++
		}
	}
	return nil
}

// pair compares one entry present in both.
func (r *DiffResult) pair(a, b *Backup, x, y *manifest.Entry, opt DiffOptions) error {
	d := Difference{Domain: y.Domain, Path: y.Path, Type: y.Kind.String()}
	if x.Kind != y.Kind {
		d.Kind, d.Fields = DiffChanged, append([]string{"type"}, attrFields(x, y)...)
		r.Differences = append(r.Differences, d)
		return nil
	}
	attrs := attrFields(x, y)
	if x.Kind == manifest.KindSymlink && x.Target() != y.Target() {
		d.Kind, d.Fields = DiffChanged, append([]string{"target"}, attrs...)
		r.Differences = append(r.Differences, d)
		return nil
	}
	if x.Kind == manifest.KindFile {
		same, decided := recordsTell(a, b, x, y)
		if !decided && opt.Content {
			var err error
			if same, err = sameContents(a, b, x, y); err != nil {
				return err
			}
			decided = true
			r.Compared++
		}
		if !same {
			d.Kind, d.Fields, d.Undecided = DiffChanged, append([]string{"contents"}, attrs...), !decided
			r.Differences = append(r.Differences, d)
			return nil
		}
	}
	if len(attrs) > 0 {
		d.Kind, d.Fields = DiffAttrs, attrs
		r.Differences = append(r.Differences, d)
	}
	return nil
}

// attrFields lists the metadata that differs between two rows of the same path.
func attrFields(x, y *manifest.Entry) []string {
	var f []string
	if x.Perm() != y.Perm() {
		f = append(f, "mode")
	}
	if x.MTime != y.MTime {
		f = append(f, "mtime")
	}
	if x.UID != y.UID || x.GID != y.GID {
		f = append(f, "owner")
	}
	if x.Kind == manifest.KindFile && y.Kind == manifest.KindFile && x.Size != y.Size {
		f = append(f, "size")
	}
	if !maps.EqualFunc(x.XAttrs(), y.XAttrs(), bytes.Equal) {
		f = append(f, "xattrs")
	}
	return f
}

// recordsTell decides from the manifests and a stat whether two files hold the same
// contents: decided is false when only reading them can tell.
func recordsTell(a, b *Backup, x, y *manifest.Entry) (same, decided bool) {
	dx, dy := x.Digest(), y.Digest()
	if len(dx) > 0 && len(dy) > 0 {
		return bytes.Equal(dx, dy), true
	}
	if x.Size == y.Size && x.MTime == y.MTime && x.Inode == y.Inode && len(dx) == len(dy) {
		return true, true
	}
	if sameBlobInode(a, b, x, y) {
		return true, true
	}
	return false, false
}

// DiffText writes r like `diff -rq`, one line per entry: the kind, the entry, and in
// parentheses what differs.
func DiffText(r *DiffResult) string {
	var sb strings.Builder
	for _, d := range r.Differences {
		fmt.Fprintf(&sb, "%-8s %s", d.Kind, d.Key())
		if d.Type == "dir" && d.Kind != DiffChanged {
			sb.WriteByte('/')
		}
		if len(d.Fields) > 0 {
			sb.WriteString(" (" + strings.Join(d.Fields, ", "))
			if d.Undecided {
				sb.WriteString("; records differ, contents not compared")
			}
			sb.WriteByte(')')
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
