package backup

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"iosbackup/manifest"
)

// Existing says what Extract does with a file or symlink already in the destination.
type Existing int

const (
	// ExistingRefuse leaves it and reports every such file once, as an *ExistsError.
	ExistingRefuse Existing = iota
	// ExistingSkip leaves it, silently: a re-run completes an interrupted extract.
	ExistingSkip
	// ExistingOverwrite replaces it.
	ExistingOverwrite
)

// ExtractOptions select what Extract copies.
type ExtractOptions struct {
	// Roots are the entries whose subtrees are copied (from Place.Roots); nil means
	// every domain.
	Roots []int32
	// DomainGlob keeps only the domains matching it (path.Match); "" keeps all.
	DomainGlob string
	// PathGlob keeps only entries whose path in their domain matches it, and
	// everything below a matching folder; "" keeps all.
	PathGlob string
	Existing Existing
	// Warn receives per-file problems (a blob missing, a write that failed); nil
	// discards them. They are counted in ExtractStats.Failed.
	Warn func(string)
	// WindowsNames renames what Windows cannot store (extract_names.go says how):
	// always on Windows; elsewhere for a destination on a Windows file system.
	WindowsNames bool
}

// ExtractStats count what Extract did.
type ExtractStats struct {
	Files, Dirs, Links int
	Bytes              int64
	Skipped            int // already in the destination, left as they were
	Failed             int // could not be extracted (see Warn)
	// Renamed entries have a name Windows cannot store (ExtractOptions.WindowsNames);
	// FirstRenamed is the first one's domain/path and FirstRenamedTo where it went,
	// both relative to the destination.
	Renamed                      int
	FirstRenamed, FirstRenamedTo string
	// LinksNotMade are symlinks the destination does not allow (Windows without
	// Developer Mode or an administrator, see symlinkNotAllowed): left out, not failed.
	LinksNotMade int
}

// ExistsError is Extract's refusal to touch files already in the destination.
type ExistsError struct {
	Count int
	First string // the first of them, relative to the destination
}

func (e *ExistsError) Error() string {
	if e.Count == 1 {
		return fmt.Sprintf("%s already exists in the destination", e.First)
	}
	return fmt.Sprintf("%d files already exist in the destination (%s, ...)", e.Count, e.First)
}

// Extract copies entries out of the backup into dest/<Domain>/<path>, decrypting file
// contents and keeping modes and modification times. Every write goes through an
// os.Root on dest: whatever symlinks dest holds or the backup creates, nothing is
// written outside it. Per-file failures are counted and warned about, not fatal.
func (b *Backup) Extract(dest string, opt ExtractOptions) (ExtractStats, error) {
	x := extractor{b: b, opt: opt}
	if err := x.run(dest); err != nil {
		return x.stats, err
	}
	if x.existing > 0 {
		return x.stats, &ExistsError{Count: x.existing, First: x.firstExisting}
	}
	return x.stats, nil
}

type extractor struct {
	b     *Backup
	opt   ExtractOptions
	root  *os.Root
	umask fs.FileMode // masks the recorded modes (extract_limits.go)
	names *destNamer  // the entries' names in the destination (extract_names.go)

	stats         ExtractStats
	existing      int
	firstExisting string
	dirTimes      []dirTime // folders whose mode and times are set last
}

type dirTime struct {
	i    int32
	name string // in the destination
}

func (x *extractor) warn(format string, a ...any) {
	x.stats.Failed++
	if x.opt.Warn != nil {
		x.opt.Warn(fmt.Sprintf(format, a...))
	}
}

func (x *extractor) run(dest string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer root.Close()
	x.root = root
	x.umask = currentUmask()
	ix := x.b.Index
	x.names = newDestNamer(ix, x.opt.WindowsNames || windowsNamesAlways)
	roots := x.opt.Roots
	if roots == nil {
		for _, d := range ix.Domains() {
			r, _ := ix.DomainRoot(d)
			roots = append(roots, r)
		}
	}
	for _, r := range roots {
		if x.opt.DomainGlob != "" {
			if ok, _ := path.Match(x.opt.DomainGlob, ix.Entry(r).Domain); !ok {
				continue
			}
		}
		if err := x.walk(r, x.opt.PathGlob == "", x.names.name(r)); err != nil {
			return err
		}
	}
	// Folders last, deepest first: writing children changes a folder's mtime, and a
	// read-only folder mode would stop its children being written.
	for i := len(x.dirTimes) - 1; i >= 0; i-- {
		e, name := ix.Entry(x.dirTimes[i].i), x.dirTimes[i].name
		if err := root.Chmod(name, extractDirMode(e.Perm(), x.umask)); err != nil {
			x.warn("%s: %v", name, err)
		}
		t := time.Unix(e.MTime, 0)
		if err := root.Chtimes(name, t, t); err != nil {
			x.warn("%s: %v", name, err)
		}
	}
	return nil
}

// walk extracts entry i and below as name. selected is true once an ancestor matched
// the glob.
func (x *extractor) walk(i int32, selected bool, name string) error {
	ix := x.b.Index
	e := ix.Entry(i)
	if !selected && e.Path != "" {
		selected, _ = path.Match(x.opt.PathGlob, e.Path)
	}
	if selected && x.names.windows && renamed(e, name) {
		if x.stats.Renamed == 0 {
			x.stats.FirstRenamed, x.stats.FirstRenamedTo = path.Join(e.Domain, e.Path), name
		}
		x.stats.Renamed++
	}
	if pathDepth(e.Path) > maxExtractDepth {
		// Nothing this deep can match PathGlob itself (a '*' stays within a folder).
		if selected {
			n := subtreeSize(ix, i)
			x.warn("%s: not extracted, with the %d entries below it: deeper than %d folders", name, n-1, maxExtractDepth)
			x.stats.Failed += n - 1
		}
		return nil
	}
	switch e.Kind {
	case manifest.KindDir:
		if selected {
			if err := x.root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("extract %s: %w", name, err)
			}
			x.stats.Dirs++
			x.dirTimes = append(x.dirTimes, dirTime{i, name})
		}
		names := x.names.children(i, name)
		for k, c := range ix.Children(i) {
			if err := x.walk(c, selected, names[k]); err != nil {
				return err
			}
		}
	case manifest.KindSymlink:
		if selected {
			x.extractLink(e, name)
		}
	case manifest.KindFile:
		if selected {
			if err := x.extractFile(e, name); err != nil {
				x.warn("%v", err)
			}
		}
	}
	return nil
}

// exists handles a name already in the destination: true when the entry is done with
// (refused or skipped), false to go on and replace it.
func (x *extractor) exists(name string) bool {
	switch x.opt.Existing {
	case ExistingOverwrite:
		return false
	case ExistingSkip:
		x.stats.Skipped++
	default:
		if x.existing == 0 {
			x.firstExisting = name
		}
		x.existing++
	}
	return true
}

func (x *extractor) extractLink(e *manifest.Entry, name string) {
	if err := x.root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		x.warn("extract %s: %v", name, err)
		return
	}
	if _, err := x.root.Lstat(name); err == nil {
		if x.exists(name) {
			return
		}
		_ = x.root.Remove(name)
	}
	if err := x.root.Symlink(e.Target(), name); err != nil {
		if symlinkNotAllowed(err) {
			x.stats.LinksNotMade++
			return
		}
		x.warn("extract %s: %v", name, err)
		return
	}
	x.stats.Links++
}

func (x *extractor) extractFile(e *manifest.Entry, name string) error {
	if err := x.root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if x.opt.Existing == ExistingOverwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		// A symlink in its place is replaced, not followed: os.Root would refuse one
		// that leads outside, and one inside would write another file.
		if st, err := x.root.Lstat(name); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			_ = x.root.Remove(name)
		}
	}
	src, err := x.b.OpenFile(e)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := x.root.OpenFile(name, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		x.exists(name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	n, err := io.Copy(dst, io.NewSectionReader(src, 0, src.Size()))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = x.root.Remove(name) // never leave a truncated file that looks complete
		return fmt.Errorf("extract %s: %w", name, err)
	}
	// The mode is applied after the data so a 0400 file can still be written first.
	if err := x.root.Chmod(name, extractFileMode(e.Perm(), x.umask)); err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	t := time.Unix(e.MTime, 0)
	if err := x.root.Chtimes(name, t, t); err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	x.stats.Files++
	x.stats.Bytes += n
	return nil
}
