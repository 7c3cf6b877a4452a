package capture

// The host side of a capture: every file operation the device asks for, confined to the
// backup root.
//
// Two layers keep a hostile device (or a symlink planted in the root) from reaching
// anything outside: device paths are checked component by component before they are
// mapped (no absolute paths, no "." or "..", no empty components, nothing outside the
// device's own folder), and every operation goes through an os.Root, whose openat-style
// walk cannot leave the root even if the tree changes under it. On top of that, a
// symlink met on the way is refused rather than followed, even one pointing inside.
//
// The previous backup stays usable whatever happens to this run: the device works on a
// staging copy made of hard links (cheap, and safe because nothing is ever modified in
// place: every file is written to a temporary name and renamed), which replaces the
// old folder only once the device says the backup finished. File systems without hard
// links (exFAT, some network shares) fall back to working in place.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"iosbackup/backup"
	"iosbackup/history"
)

// workDir is the root-level folder that holds staging copies and temporary files. It
// has no Manifest at its top, so tools listing the root do not take it for a backup.
const workDir = backup.CaptureWorkDir

// store maps the device's paths ("UDID/...") into the backup root and performs the
// file operations DeviceLink asks for.
type store struct {
	root    *os.Root
	rootDir string
	udid    string
	// target is the folder (relative to root) that "UDID/..." maps to: the staging
	// copy, or the backup folder itself when working in place.
	target string
	// tmp is the folder (relative to root) for files being received.
	tmp    string
	staged bool
	// dirty is set when a file was received since the last flush (see beforeReplace).
	dirty bool
	// okDirs caches directories already verified to be real directories, so a deep
	// path is not re-checked for every file. Cleared whenever a directory may change.
	okDirs map[string]bool
	// cloner, set when history is kept, makes the staging copy with copy-on-write
	// clones where the file system has them (the snapshot then shares no inode with
	// the live folder), else hard links, else copies: history needs the previous
	// backup whole, so there is no working in place.
	cloner *history.Cloner
	// keep, when set, keeps the backup a capture replaces as a snapshot (staging.go).
	keep *keepOptions
	// dirs holds open handles of the folders files are received into (unix only, see
	// storedirs_unix.go); dropped with okDirs.
	dirs map[string]*folderHandle
}

// openStore opens the backup root (creating it if needed) for the device udid.
func openStore(rootDir, udid string) (*store, error) {
	if err := checkUDID(udid); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(rootDir, 0o755); err != nil {
		return nil, fmt.Errorf("create backup root %s: %w", rootDir, err)
	}
	r, err := os.OpenRoot(rootDir)
	if err != nil {
		return nil, fmt.Errorf("open backup root %s: %w", rootDir, err)
	}
	s := &store{root: r, rootDir: rootDir, udid: udid, target: udid, okDirs: map[string]bool{}}
	s.tmp = path.Join(workDir, udid+".tmp")
	return s, nil
}

func (s *store) close() error {
	s.closeDirs()
	return s.root.Close()
}

// dirsChanged forgets what the store knows of its folders: called whenever one may
// have been removed, moved or replaced.
func (s *store) dirsChanged() {
	s.okDirs = map[string]bool{}
	s.closeDirs()
}

// checkUDID refuses a device identifier that could not be a single folder name.
func checkUDID(udid string) error {
	if udid == "" || len(udid) > 128 || udid == "." || udid == ".." || strings.HasPrefix(udid, ".") {
		return fmt.Errorf("%w: device identifier %q", ErrUnsafePath, udid)
	}
	for _, c := range udid {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
		if !ok {
			return fmt.Errorf("%w: device identifier %q", ErrUnsafePath, udid)
		}
	}
	return nil
}

// exists reports whether rel exists (without following a final symlink).
func (s *store) exists(rel string) bool {
	_, err := s.root.Lstat(rel)
	return err == nil
}

// prepare sets up the folder the device will write to. With incremental, the staging
// copy starts as hard links to the previous backup; otherwise it starts empty. It
// reports whether it had to fall back to working in place.
func (s *store) prepare(incremental bool) (inPlace bool, skipped []string, err error) {
	if err := s.recoverLeftovers(); err != nil {
		return false, nil, err
	}
	if fi, err := s.root.Lstat(s.udid); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return false, nil, fmt.Errorf("%w: %s is a symbolic link", ErrUnsafePath, path.Join(s.rootDir, s.udid))
	} else if err == nil && !fi.IsDir() {
		return false, nil, fmt.Errorf("%s: not a directory", path.Join(s.rootDir, s.udid))
	}
	if err := s.root.MkdirAll(s.tmp, 0o700); err != nil {
		return false, nil, fmt.Errorf("create %s: %w", s.tmp, err)
	}
	if forceInPlace {
		// Working in place replaces the previous backup's files: nothing to keep.
		s.keep, s.cloner = nil, nil
		return true, nil, s.prepareInPlace()
	}
	stage := s.stagingDir()
	if err := s.root.Mkdir(stage, 0o755); err != nil {
		return false, nil, fmt.Errorf("create %s: %w", stage, err)
	}
	if incremental && s.exists(s.udid) {
		skipped, err = s.linkTree(s.udid, stage, true)
		if err != nil {
			if rerr := s.root.RemoveAll(stage); rerr != nil {
				return false, nil, fmt.Errorf("%w (and removing %s failed: %v)", err, stage, rerr)
			}
			if errors.Is(err, errNoHardLinks) {
				return true, nil, s.prepareInPlace()
			}
			_ = s.cleanup()
			return false, nil, err
		}
	}
	s.target, s.staged = stage, true
	s.dirsChanged()
	return false, skipped, nil
}

// prepareInPlace makes the device write straight into the backup folder, after
// removing a stale Snapshot folder that would break an incremental backup.
func (s *store) prepareInPlace() error {
	s.target, s.staged = s.udid, false
	s.dirsChanged()
	if err := s.root.MkdirAll(s.udid, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", s.udid, err)
	}
	snap := path.Join(s.udid, "Snapshot")
	if err := s.root.RemoveAll(snap); err != nil {
		return fmt.Errorf("remove stale %s: %w", snap, err)
	}
	return nil
}

// forceInPlace makes prepare work in place, as on a file system without hard links
// (set by tests).
var forceInPlace bool

// errNoHardLinks reports a file system that cannot make hard links.
var errNoHardLinks = errors.New("file system does not support hard links")

// linkTree recreates the tree src under dst with hard links to its files. Symlinks and
// special files are left out (reported in skipped); so is a top-level Snapshot folder,
// which only an interrupted run leaves behind.
func (s *store) linkTree(src, dst string, top bool) (skipped []string, err error) {
	d, err := s.root.Open(src)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", src, err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", src, err)
	}
	for _, e := range entries {
		name := e.Name()
		from, to := path.Join(src, name), path.Join(dst, name)
		switch {
		case top && name == "Snapshot":
			continue
		case e.Type().IsDir():
			if err := s.root.Mkdir(to, 0o755); err != nil {
				return skipped, fmt.Errorf("create %s: %w", to, err)
			}
			sub, err := s.linkTree(from, to, false)
			skipped = append(skipped, sub...)
			if err != nil {
				return skipped, err
			}
		case e.Type().IsRegular() && s.cloner != nil:
			// Paths made from the root's own name: both ends are inside the staging
			// copy and the previous backup, checked by prepare.
			if err := s.cloner.File(filepath.Join(s.rootDir, from), filepath.Join(s.rootDir, to)); err != nil {
				return skipped, err
			}
		case e.Type().IsRegular():
			if err := s.root.Link(from, to); err != nil {
				if isNoLinkError(err) {
					return skipped, fmt.Errorf("link %s: %w (%v)", from, errNoHardLinks, err)
				}
				return skipped, fmt.Errorf("link %s: %w", from, err)
			}
		default:
			skipped = append(skipped, from)
		}
	}
	return skipped, nil
}

func isNoLinkError(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EXDEV) ||
		errors.Is(err, syscall.EMLINK) || errors.Is(err, syscall.ENOTSUP) ||
		errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS)
}

// beforeReplace runs before the device moves or removes anything outside Snapshot.
// In place, those operations replace the previous backup's files, so everything
// received so far is flushed first: a crash must not leave a renamed file whose data
// never reached the disk. A staging copy needs nothing (publish flushes).
func (s *store) beforeReplace() error {
	if s.staged || !s.dirty {
		return nil
	}
	if err := syncFS(s.rootDir); err != nil {
		return fmt.Errorf("flush %s: %w", s.rootDir, err)
	}
	s.dirty = false
	return nil
}

// discard throws away what this run wrote: the staging copy, or, in place, the
// Snapshot folder and files being received. The previous backup is untouched.
func (s *store) discard() error {
	var errs []error
	if s.staged {
		errs = append(errs, s.root.RemoveAll(s.target))
		s.target, s.staged = s.udid, false
	} else {
		errs = append(errs, s.root.RemoveAll(path.Join(s.udid, "Snapshot")))
	}
	errs = append(errs, s.cleanup())
	return errors.Join(errs...)
}

// cleanup removes temporary files, the old backup, and the work folder when empty.
func (s *store) cleanup() error {
	s.dirsChanged()
	var errs []error
	errs = append(errs, s.root.RemoveAll(s.tmp), s.root.RemoveAll(s.oldDir()))
	if err := s.root.Remove(workDir); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotEmpty(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}

// mapPath checks a path the device sent and maps it into the root.
func (s *store) mapPath(p string) (string, error) {
	rel, err := mapDevicePath(s.udid, s.target, p)
	if err != nil {
		return "", err
	}
	return rel, nil
}

// mapDevicePath validates device path p ("UDID/a/b") and returns it relative to the
// root with the device folder replaced by target.
func mapDevicePath(udid, target, p string) (string, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %q: %s", ErrUnsafePath, p, why) }
	switch {
	case p == "":
		return "", bad("empty path")
	case len(p) > maxNameLen:
		return "", bad("too long")
	case strings.HasPrefix(p, "/"):
		return "", bad("absolute path")
	case strings.ContainsAny(p, "\x00\\:"):
		return "", bad("forbidden character")
	}
	parts := strings.Split(strings.TrimSuffix(p, "/"), "/")
	for _, c := range parts {
		if c == "" || c == "." || c == ".." {
			return "", bad("empty, '.' or '..' component")
		}
	}
	if parts[0] != udid {
		return "", bad("outside the device folder " + udid)
	}
	parts[0] = target
	return path.Join(parts...), nil
}

// checkDirs verifies that every existing ancestor of rel (below the root) is a real
// directory, not a symlink. Components that do not exist yet are fine: they will be
// created as directories.
func (s *store) checkDirs(rel string) error {
	dir := path.Dir(rel)
	if dir == "." {
		return nil
	}
	parts := strings.Split(dir, "/")
	cur := ""
	for _, c := range parts {
		cur = path.Join(cur, c)
		if s.okDirs[cur] {
			continue
		}
		fi, err := s.root.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("check %s: %w", cur, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s is a symbolic link", ErrUnsafePath, cur)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s: %w", cur, syscall.ENOTDIR)
		}
		s.okDirs[cur] = true
	}
	return nil
}

// lstatNoLink stats rel (after checking its ancestors) and refuses a symlink.
func (s *store) lstatNoLink(rel string) (fs.FileInfo, error) {
	if err := s.checkDirs(rel); err != nil {
		return nil, err
	}
	fi, err := s.lstatRel(rel)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%w: %s is a symbolic link", ErrUnsafePath, rel)
	}
	return fi, nil
}

// mkdirAll creates a directory the device asked for.
func (s *store) mkdirAll(devPath string) error {
	rel, err := s.mapPath(devPath)
	if err != nil {
		return err
	}
	if err := s.checkDirs(path.Join(rel, "x")); err != nil {
		return err
	}
	if err := s.root.MkdirAll(rel, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", devPath, err)
	}
	return nil
}

// ensureDir creates a directory (checked by checkDirs beforehand) unless it is known
// to exist already, which saves a walk of the path for every file received.
func (s *store) ensureDir(rel string) error {
	if rel == "." || s.okDirs[rel] {
		return nil
	}
	if err := s.root.MkdirAll(rel, 0o755); err != nil {
		return err
	}
	for d := rel; d != "." && !s.okDirs[d]; d = path.Dir(d) {
		s.okDirs[d] = true
	}
	return nil
}

// incoming is a file being received under a temporary name.
type incoming struct {
	f     *os.File
	tmp   string
	final string
}

// create opens a temporary file for the device path; commit moves it into place.
func (s *store) create(devPath string) (*incoming, error) {
	rel, err := s.mapPath(devPath)
	if err != nil {
		return nil, err
	}
	if rel == s.target {
		return nil, fmt.Errorf("%w: %q would replace the device folder", ErrUnsafePath, devPath)
	}
	if err := s.checkDirs(rel); err != nil {
		return nil, err
	}
	f, tmp, err := s.tempFileFor(rel)
	if err != nil {
		return nil, err
	}
	return &incoming{f: f, tmp: tmp, final: rel}, nil
}

// partPrefix starts the name of a file being received beside its final name.
const partPrefix = ".iosbackup-part-"

// tempFileFor creates the temporary file for a file to be received as rel. In a
// staging copy it goes beside rel, in rel's folder (a failed run discards the whole
// copy, temporary files with it): ext4 places a new file's inode near its folder's,
// and with every file of a capture created in the one temporary folder, finding a free
// inode there (among the recently deleted ones of the previous run) was a third of
// the capture's system time (perf, make bench W8). In place, the temporary folder
// keeps the backup folder free of partial files.
func (s *store) tempFileFor(rel string) (*os.File, string, error) {
	if !s.staged {
		return s.tempFile()
	}
	dir := path.Dir(rel)
	if err := s.ensureDir(dir); err != nil {
		return nil, "", fmt.Errorf("create folder of %s: %w", rel, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, partPrefix+hex.EncodeToString(rnd[:]))
	f, err := s.createExclusive(tmp)
	if err != nil {
		return nil, "", fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	return f, tmp, nil
}

// tempFile creates an empty file with a fresh name in the temporary folder.
func (s *store) tempFile() (*os.File, string, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(s.tmp, hex.EncodeToString(rnd[:]))
	f, err := s.createExclusive(tmp)
	if errors.Is(err, fs.ErrNotExist) {
		if err = s.root.MkdirAll(s.tmp, 0o700); err == nil {
			f, err = s.createExclusive(tmp)
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("create temporary file in %s: %w", s.tmp, err)
	}
	return f, tmp, nil
}

// commit closes the file and renames it to its final name, replacing a file there.
func (s *store) commit(in *incoming) error {
	if err := in.f.Close(); err != nil {
		_ = s.root.Remove(in.tmp)
		return fmt.Errorf("write %s: %w", in.final, err)
	}
	if err := s.ensureDir(path.Dir(in.final)); err != nil {
		_ = s.root.Remove(in.tmp)
		return fmt.Errorf("create folder of %s: %w", in.final, err)
	}
	if fi, err := s.lstatRel(in.final); err == nil && fi.IsDir() {
		_ = s.root.Remove(in.tmp)
		return fmt.Errorf("%s: %w", in.final, syscall.EISDIR)
	}
	if err := s.renameFile(in.tmp, in.final); err != nil {
		_ = s.root.Remove(in.tmp)
		return fmt.Errorf("move %s into place: %w", in.final, err)
	}
	s.dirty = true
	return nil
}

// abort throws a partly received file away.
func (s *store) abort(in *incoming) {
	_ = in.f.Close()
	_ = s.root.Remove(in.tmp)
}

// writeFile writes a whole file the host itself produces (Info.plist).
func (s *store) writeFile(devPath string, data []byte) error {
	in, err := s.create(devPath)
	if err != nil {
		return err
	}
	if _, err := in.f.Write(data); err != nil {
		s.abort(in)
		return fmt.Errorf("write %s: %w", devPath, err)
	}
	return s.commit(in)
}

// open opens a regular file for the device to download.
func (s *store) open(devPath string) (io.ReadCloser, error) {
	rel, err := s.mapPath(devPath)
	if err != nil {
		return nil, err
	}
	fi, err := s.lstatNoLink(rel)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", devPath, syscall.EISDIR)
	}
	return s.root.Open(rel)
}

// remove deletes a file or tree; a missing path is fine. The device folder itself
// is never removed.
func (s *store) remove(devPath string) error {
	rel, err := s.mapPath(devPath)
	if err != nil {
		return err
	}
	if rel == s.target {
		return fmt.Errorf("remove %s: refusing to remove the device folder: %w", devPath, syscall.EPERM)
	}
	if err := s.checkDirs(rel); err != nil {
		return err
	}
	if err := s.root.RemoveAll(rel); err != nil {
		return fmt.Errorf("remove %s: %w", devPath, err)
	}
	s.dirsChanged()
	return nil
}

// move renames src to dst, replacing whatever dst was.
func (s *store) move(src, dst string) error {
	from, err := s.mapPath(src)
	if err != nil {
		return err
	}
	to, err := s.mapPath(dst)
	if err != nil {
		return err
	}
	if from == s.target || to == s.target {
		return fmt.Errorf("move %s to %s: %w", src, dst, syscall.EPERM)
	}
	fi, err := s.lstatNoLink(from)
	if err != nil {
		return fmt.Errorf("move %s: %w", src, err)
	}
	if err := s.checkDirs(to); err != nil {
		return err
	}
	if fi.IsDir() && (to == from || strings.HasPrefix(to, from+"/")) {
		return fmt.Errorf("move %s into itself: %w", src, syscall.EINVAL)
	}
	if old, err := s.lstatRel(to); err == nil {
		if err := s.root.RemoveAll(to); err != nil {
			return fmt.Errorf("replace %s: %w", dst, err)
		}
		if old.IsDir() {
			s.dirsChanged()
		}
	}
	if err := s.ensureDir(path.Dir(to)); err != nil {
		return fmt.Errorf("create folder of %s: %w", dst, err)
	}
	rename := s.root.Rename
	if !fi.IsDir() {
		rename = s.renameFile
	}
	if err := rename(from, to); err != nil {
		return fmt.Errorf("move %s to %s: %w", src, dst, err)
	}
	if fi.IsDir() {
		s.dirsChanged()
	}
	return nil
}

// copyItem copies a file or a tree (symlinks inside it are left out).
func (s *store) copyItem(src, dst string) error {
	from, err := s.mapPath(src)
	if err != nil {
		return err
	}
	to, err := s.mapPath(dst)
	if err != nil {
		return err
	}
	fi, err := s.lstatNoLink(from)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := s.checkDirs(to); err != nil {
		return err
	}
	if fi.IsDir() && (to == from || strings.HasPrefix(to, from+"/")) {
		return fmt.Errorf("copy %s into itself: %w", src, syscall.EINVAL)
	}
	return s.copyRel(from, to, fi)
}

func (s *store) copyRel(from, to string, fi fs.FileInfo) error {
	switch {
	case fi.Mode().IsRegular():
		src, err := s.root.Open(from)
		if err != nil {
			return err
		}
		defer src.Close()
		f, tmp, err := s.tempFile()
		if err != nil {
			return err
		}
		in := &incoming{f: f, tmp: tmp, final: to}
		if _, err := io.Copy(f, src); err != nil {
			s.abort(in)
			return fmt.Errorf("copy %s: %w", from, err)
		}
		return s.commit(in)
	case fi.IsDir():
		if err := s.root.MkdirAll(to, 0o755); err != nil {
			return err
		}
		d, err := s.root.Open(from)
		if err != nil {
			return err
		}
		entries, err := d.ReadDir(-1)
		d.Close()
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.Type().IsDir() && !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			if err := s.copyRel(path.Join(from, e.Name()), path.Join(to, e.Name()), info); err != nil {
				return err
			}
		}
	}
	return nil
}

// dirEntry is one line of a DLContentsOfDirectory answer.
type dirEntry struct {
	Type    string
	Size    int64
	ModTime time.Time
}

// list returns a directory's entries; a missing directory lists as empty, as the
// device expects when it probes for a previous backup.
func (s *store) list(devPath string) (map[string]dirEntry, error) {
	rel, err := s.mapPath(devPath)
	if err != nil {
		return nil, err
	}
	out := map[string]dirEntry{}
	fi, err := s.lstatNoLink(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("list %s: %w", devPath, syscall.ENOTDIR)
	}
	d, err := s.root.Open(rel)
	if err != nil {
		return nil, err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", devPath, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue
		}
		t := "DLFileTypeUnknown"
		switch {
		case info.IsDir():
			t = "DLFileTypeDirectory"
		case info.Mode().IsRegular():
			t = "DLFileTypeRegular"
		}
		out[e.Name()] = dirEntry{Type: t, Size: info.Size(), ModTime: info.ModTime()}
	}
	return out, nil
}

// readTarget reads a small file of the folder the device writes to (Status.plist).
func (s *store) readTarget(name string) ([]byte, error) {
	rel := path.Join(s.target, name)
	fi, err := s.lstatNoLink(rel)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > 16<<20 {
		return nil, fmt.Errorf("%s: not a small regular file", rel)
	}
	return s.root.ReadFile(rel)
}

// readBackup reads a small file of the published backup folder.
func (s *store) readBackup(name string) ([]byte, error) {
	rel := path.Join(s.udid, name)
	fi, err := s.lstatNoLink(rel)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > 16<<20 {
		return nil, fmt.Errorf("%s: not a small regular file", rel)
	}
	return s.root.ReadFile(rel)
}

// backupSize adds up the sizes of the regular files of the published backup.
func (s *store) backupSize() int64 {
	var total int64
	sub, err := s.root.OpenRoot(s.udid)
	if err != nil {
		return 0
	}
	defer sub.Close()
	_ = fs.WalkDir(sub.FS(), ".", func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}

// syncDir flushes a directory's entries (the renames in it) to disk.
func syncDir(r *os.Root, rel string) error {
	d, err := r.Open(rel)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}
