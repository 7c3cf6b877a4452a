package main

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"iosbackup/backup"
	"iosbackup/manifest"
)

// Rows of the manifest that are not in the index (damaged records, duplicates, hostile
// names) are said on every command that reads the tree: a row that vanishes silently
// looks like a file the device never had. info lists them, ls, cat and mount warn in
// one line, extract counts those it would have written and then exits with status 1.

// droppedExamples is how many rows of each reason info names.
const droppedExamples = 5

// droppedWarning is the one-line warning for b; "" when no row was left out.
func droppedWarning(b *backup.Backup) string {
	d := b.Stats.Dropped
	if d.Total() == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %s of the manifest left out (%s): 'iosbackup info' names them",
		b.Dir, plural(d.Total(), "row", "rows"), d.Summary())
}

func warnDropped(b *backup.Backup) {
	if s := droppedWarning(b); s != "" {
		warnf("%s", s)
	}
}

// printDropped lists the rows left out, a few of each reason, for info.
func printDropped(w io.Writer, b *backup.Backup) {
	d := b.Stats.Dropped
	if d.Total() == 0 {
		return
	}
	fmt.Fprintf(w, "\nLeft out of the manifest: %s (%s)\n", plural(d.Total(), "row", "rows"), d.Summary())
	shown := 0
	for _, r := range d.Examples(droppedExamples) {
		fmt.Fprintf(w, "  %s\n", r)
		shown++
	}
	if shown < d.Total() {
		fmt.Fprintf(w, "  ... and %d more\n", d.Total()-shown)
	}
}

// droppedMatching counts the rows left out that an extract with opt (after Select)
// would have written, by the rules Extract selects entries with: below one of
// opt.Roots, in a domain matching DomainGlob, at or below a path matching PathGlob.
// Rows beyond those Drops keeps cannot be told apart: they count as matching.
func droppedMatching(b *backup.Backup, opt backup.ExtractOptions) int {
	d := b.Stats.Dropped
	n := d.Total() - len(d.Rows())
	for _, r := range d.Rows() {
		if opt.DomainGlob != "" {
			if ok, _ := path.Match(opt.DomainGlob, r.Domain); !ok {
				continue
			}
		}
		if opt.Roots != nil && !belowARoot(b.Index, opt.Roots, r.Domain, r.Path) {
			continue
		}
		if opt.PathGlob == "" || pathOrParentMatches(opt.PathGlob, r.Path) {
			n++
		}
	}
	return n
}

// belowARoot reports whether (domain, p) is one of roots or inside one.
func belowARoot(ix *manifest.Index, roots []int32, domain, p string) bool {
	for _, i := range roots {
		e := ix.Entry(i)
		if e.Domain == domain && (e.Path == "" || p == e.Path || strings.HasPrefix(p, e.Path+"/")) {
			return true
		}
	}
	return false
}

// pathOrParentMatches reports whether p, or a folder above it, matches glob: a matching
// folder brings everything below it.
func pathOrParentMatches(glob, p string) bool {
	for p != "" {
		if ok, _ := path.Match(glob, p); ok {
			return true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return false
}

// resolveArg is Index.Resolve, saying so when DOMAIN/PATH names a row that was left
// out of the tree (cat of a file whose record is damaged must not answer "no such
// file").
func resolveArg(b *backup.Backup, arg string) (*manifest.Place, error) {
	p, err := b.Index.Resolve(arg)
	var nf *manifest.NotFoundError
	if err == nil || !errors.As(err, &nf) {
		return p, err
	}
	domain, rel, _ := strings.Cut(strings.Trim(arg, "/"), "/")
	if r, ok := b.Stats.Dropped.Find(domain, rel); ok {
		return nil, fmt.Errorf("%s: listed in the manifest but left out of the backup's tree: %s", arg, r)
	}
	return nil, err
}
