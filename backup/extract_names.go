package backup

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"

	"iosbackup/manifest"
)

// Names a device allows that Windows does not. iOS file names may be anything but "/"
// and NUL; Windows refuses some characters, reserves device names and compares names
// without case. Extracting onto Windows (always there, and with
// ExtractOptions.WindowsNames elsewhere, e.g. onto an exFAT or NTFS disk) renames, one
// path component at a time:
//
//   - a character Windows refuses in a name (< > : " \ | ? * and the controls U+0000 to
//     U+001F) becomes %XX, its byte in hex as in a URL: "a?b" is written "a%3Fb"; so does
//     a trailing dot or space, which Windows would silently drop ("name." is "name%2E",
//     and "." and ".." are "%2E" and "%2E%2E");
//   - a reserved device name (CON, PRN, AUX, NUL, COM0 to COM9, LPT0 to LPT9, with ¹ ² ³
//     too, CONIN$, CONOUT$), alone or before an extension, any case, gets "_" after the
//     device part: "CON" is "CON_", "aux.log" is "aux_.log";
//   - of names in one folder that Windows takes for the same (they differ only in case,
//     or became equal above), the first in the manifest's name order keeps its name and
//     each other gets " (2)", " (3)", ... before its extension: "README.TXT" and
//     "Readme.txt" are written "README.TXT" and "Readme (2).txt".
//
// A name that needs none of this is written as it is ("%" included). Extract counts the
// entries renamed (ExtractStats.Renamed) and names the first.

// windowsNamesAlways: on Windows the renaming cannot be turned off.
const windowsNamesAlways = runtime.GOOS == "windows"

// windowsReserved are the device names, upper-case, that Windows resolves in any folder.
var windowsReserved = func() map[string]bool {
	m := map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true}
	for _, d := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³"} {
		m["COM"+d], m["LPT"+d] = true, true
	}
	return m
}()

// windowsName is name as Windows can store it (see above), without the collision step.
func windowsName(name string) string {
	// The part that must stay literal: all but the trailing dots and spaces.
	body := strings.TrimRight(name, ". ")
	var b strings.Builder
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case i >= len(body), r < 0x20, strings.ContainsRune(`<>:"\|?*`, r):
			for _, c := range []byte(name[i : i+size]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		default:
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	out := b.String()
	// The device part is what comes before the first dot, trailing spaces dropped.
	stem, rest, dotted := strings.Cut(out, ".")
	switch {
	case !windowsReserved[strings.ToUpper(strings.TrimRight(stem, " "))]:
		return out
	case dotted:
		return stem + "_." + rest
	default:
		return stem + "_"
	}
}

// windowsFold is the key under which Windows takes two names for the same.
func windowsFold(name string) string { return strings.ToUpper(name) }

// withCopyNumber inserts " (n)" before name's extension ("a.txt" -> "a (2).txt").
func withCopyNumber(name string, n int) string {
	ext := ""
	if dot := strings.LastIndexByte(name, '.'); dot > 0 {
		name, ext = name[:dot], name[dot:]
	}
	return fmt.Sprintf("%s (%d)%s", name, n, ext)
}

// windowsNames maps the names of one folder's entries, in order: windowsName, then the
// collision step. A name kept as it maps is never taken by a numbered one.
func windowsNames(names []string) []string {
	out := make([]string, len(names))
	taken := make(map[string]bool, len(names))
	var clashes []int
	for i, n := range names {
		out[i] = windowsName(n)
		if k := windowsFold(out[i]); taken[k] {
			clashes = append(clashes, i)
		} else {
			taken[k] = true
		}
	}
	for _, i := range clashes {
		for n := 2; ; n++ {
			if c := withCopyNumber(out[i], n); !taken[windowsFold(c)] {
				taken[windowsFold(c)] = true
				out[i] = c
				break
			}
		}
	}
	return out
}

// destNamer gives each entry its name in the destination, relative to it.
type destNamer struct {
	ix      *manifest.Index
	windows bool
	domains map[string]string // domain -> its folder, when windows
}

func newDestNamer(ix *manifest.Index, windows bool) *destNamer {
	d := &destNamer{ix: ix, windows: windows}
	if windows {
		all := ix.Domains()
		mapped := windowsNames(all)
		d.domains = make(map[string]string, len(all))
		for i, name := range all {
			d.domains[name] = mapped[i]
		}
	}
	return d
}

// children returns the destination names of dir's children (ix.Children order), below
// dir's own destination name.
func (d *destNamer) children(dir int32, dirName string) []string {
	kids := d.ix.Children(dir)
	names := make([]string, len(kids))
	for k, c := range kids {
		names[k] = d.ix.Name(c)
	}
	if d.windows {
		names = windowsNames(names)
	}
	for k := range names {
		names[k] = filepath.Join(dirName, names[k])
	}
	return names
}

// name is entry i's destination name, worked out from its domain root down (for the
// roots of an extract; walk names the entries below from their parent's list).
func (d *destNamer) name(i int32) string {
	e := d.ix.Entry(i)
	if !d.windows {
		return filepath.Join(e.Domain, filepath.FromSlash(e.Path))
	}
	p := d.ix.Parent(i)
	if p < 0 {
		return d.domains[e.Domain]
	}
	for k, c := range d.ix.Children(p) {
		if c == i {
			return d.children(p, d.name(p))[k]
		}
	}
	return filepath.Join(d.name(p), windowsName(d.ix.Name(i))) // not listed: cannot happen
}

// renamed reports whether the last component of dest differs from the entry's own.
func renamed(e *manifest.Entry, dest string) bool {
	own := e.Domain
	if e.Path != "" {
		own = e.Path[strings.LastIndexByte(e.Path, '/')+1:]
	}
	return filepath.Base(dest) != own
}
