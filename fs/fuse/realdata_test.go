//go:build !windows

package fuse

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"iosbackup/backup"
	"iosbackup/fs/view"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

// Real-data tests: backups written by internal/gen (the Truth says what is in them),
// opened by package backup, mounted, and looked at with ordinary tools.

const genPassword = "mount test ☃"

func generate(t *testing.T, opt gen.Options) *gen.Truth {
	t.Helper()
	if opt.Encrypted {
		opt.Password = genPassword
		opt.SHA256Rounds, opt.SHA1Rounds = 1000, 10 // instant KDF
	}
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "backup"), opt)
	if err != nil {
		t.Fatalf("generate %+v: %v", opt, err)
	}
	return truth
}

func openBackup(t *testing.T, truth *gen.Truth) view.Source {
	t.Helper()
	b, err := backup.Open(truth.Dir, backup.Options{
		Password: func() ([]byte, error) { return []byte(genPassword), nil },
	})
	if err != nil {
		t.Fatalf("open %s: %v", truth.Dir, err)
	}
	// Registered before the mount's cleanup, so it runs after it: the backup's folder
	// descriptor is not one the mount leaked, and is closed before an earlier mount's
	// leak check.
	t.Cleanup(func() { b.Close() })
	return fromBackup(b)
}

// lstatAsRecorded lstats e in the mount's domains/ view and checks its permission bits
// against the manifest's; ok is false (and the test failed) when it is not there.
func lstatAsRecorded(t *testing.T, m *testMount, e *manifest.Entry) (p string, fi os.FileInfo, ok bool) {
	t.Helper()
	p = m.path(path.Join("domains", e.Domain, e.Path))
	fi, err := os.Lstat(p)
	if err != nil {
		t.Errorf("lstat %s: %v", p, err)
		return p, nil, false
	}
	if got := uint32(fi.Mode().Perm()); got != e.Perm()&0o777 {
		t.Errorf("%s: perm %o, manifest %o", p, got, e.Perm())
	}
	return p, fi, true
}

func readSource(t *testing.T, src view.Source, e *manifest.Entry) []byte {
	t.Helper()
	f, err := src.OpenFile(e)
	if err != nil {
		t.Fatalf("library open %s/%s: %v", e.Domain, e.Path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		t.Fatalf("library read %s/%s: %v", e.Domain, e.Path, err)
	}
	return b
}

func truthContent(t *testing.T, te *gen.TruthEntry) []byte {
	t.Helper()
	b, err := io.ReadAll(te.Content())
	if err != nil {
		t.Fatalf("truth content %s: %v", te.Key(), err)
	}
	return b
}

// Every file of each kind of backup reads the same through the mount as through the
// library and as written, and stat's size is the length read.
func TestRealBackupsReadThroughMount(t *testing.T) {
	testenv.RequireTool(t, "getfattr")
	for _, c := range []struct {
		name string
		opt  gen.Options
	}{
		{"db-plain", gen.Options{Seed: 11, Format: gen.FormatDB, Entries: 300}},
		{"db-encrypted", gen.Options{Seed: 12, Format: gen.FormatDB, Entries: 300, Encrypted: true}},
		{"mbdb-plain", gen.Options{Seed: 13, Format: gen.FormatMBDB, Entries: 300}},
		{"mbdb-encrypted", gen.Options{Seed: 14, Format: gen.FormatMBDB, Entries: 300, Encrypted: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			truth := generate(t, c.opt)
			src := openBackup(t, truth)
			m := mountRoot(t, view.Options{}, view.Backup{Source: src})
			ix := src.Index()
			files := 0
			for i := int32(0); i < int32(ix.Len()); i++ {
				e := ix.Entry(i)
				p, fi, ok := lstatAsRecorded(t, m, e)
				if !ok {
					continue
				}
				if e.Kind != manifest.KindFile {
					continue
				}
				files++
				got, err := os.ReadFile(p)
				if err != nil {
					t.Errorf("read %s: %v", p, err)
					continue
				}
				want := readSource(t, src, e)
				if !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes through the mount differ from the library's %d", p, len(got), len(want))
				}
				if fi.Size() != int64(len(got)) {
					t.Errorf("%s: st_size %d, read %d bytes", p, fi.Size(), len(got))
				}
				if fi.ModTime().Unix() != e.MTime {
					t.Errorf("%s: mtime %d, manifest %d", p, fi.ModTime().Unix(), e.MTime)
				}
				if te := truth.Lookup(e.Domain, e.Path); te != nil && !bytes.Equal(got, truthContent(t, te)) {
					t.Errorf("%s: differs from what the generator wrote", p)
				}
			}
			if files < 100 {
				t.Errorf("only %d files checked", files)
			}
			// Whole-tree tools: no error anywhere.
			for _, tool := range [][]string{
				{"ls", "-lR", m.dir},
				{"find", m.dir, "-type", "f"},
				{"du", "-s", m.dir},
				{"getfattr", "-R", "-d", "-h", "--absolute-names", m.dir},
			} {
				if _, errOut, err := run(t, tool[0], tool[1:]...); err != nil || errOut != "" {
					t.Errorf("%s: %v %s", strings.Join(tool, " "), err, errOut)
				}
			}
			checkXattrsMatch(t, m, truth)
			checkDu(t, m, src)
		})
	}
}

// The generator's extended attributes read back with getfattr.
func checkXattrsMatch(t *testing.T, m *testMount, truth *gen.Truth) {
	t.Helper()
	testenv.RequireTool(t, "getfattr")
	n := 0
	for i := range truth.Entries {
		te := &truth.Entries[i]
		if len(te.XAttrs) == 0 || te.Kind == manifest.KindSymlink {
			continue
		}
		n++
		for name, value := range te.XAttrs {
			out, errOut, err := run(t, "getfattr", "--only-values", "-n", xattrPrefix+name, m.path(path.Join("domains", te.Domain, te.Path)))
			if err != nil || out != string(value) {
				t.Errorf("%s xattr %s: %q (%v %s), want %q", te.Key(), name, out, err, errOut, value)
			}
		}
	}
	if n == 0 {
		t.Logf("generated backup has no extended attributes")
	}
}

// du counts each distinct file once, whatever the number of views showing it.
func checkDu(t *testing.T, m *testMount, src view.Source) {
	t.Helper()
	ix := src.Index()
	var want int64
	for i := int32(0); i < int32(ix.Len()); i++ {
		if e := ix.Entry(i); e.Kind == manifest.KindFile {
			n, err := src.FileSize(e)
			if err == nil {
				want += n
			}
		}
	}
	out := mustRun(t, "du", "-s", "-b", m.dir) // -b: apparent size in bytes
	var got int64
	fmt.Sscan(out, &got)
	// Folders are 0 bytes; symlinks count their target length.
	if got < want || got > want+64*1024 {
		t.Errorf("du -sb %d, distinct file bytes %d", got, want)
	}
}

// Two mounts of one backup are identical to diff; revisions 0 and 1 differ in exactly
// the paths the generator changed, added and removed.
func TestRealDiffRevisions(t *testing.T) {
	opt := gen.Options{Seed: 21, Format: gen.FormatDB, Entries: 250}
	rev0 := generate(t, opt)
	opt.Revision = 1
	rev1 := generate(t, opt)

	a := mountRoot(t, view.Options{}, view.Backup{Source: openBackup(t, rev0)})
	b := mountRoot(t, view.Options{}, view.Backup{Source: openBackup(t, rev0)})
	// --no-dereference: device symlinks often point at paths the backup does not hold.
	if out, errOut, err := run(t, "diff", "-r", "--no-dereference", a.dir, b.dir); err != nil || out != "" {
		t.Errorf("diff -r of two mounts of one backup: %v\n%s%s", err, out, errOut)
	}
	// Inode numbers are the same in both mounts (stable across remounts).
	for _, p := range []string{"domains/HomeDomain/Library/SMS/sms.db", "device/var/mobile/Library", "photos"} {
		ia := mustRun(t, "stat", "-c", "%i", a.path(p))
		ib := mustRun(t, "stat", "-c", "%i", b.path(p))
		if ia != ib {
			t.Errorf("%s: inode %s in one mount, %s in the other", p, ia, ib)
		}
	}

	both := mountRoot(t, view.Options{}, view.Backup{Name: "rev0", Source: openBackup(t, rev0)}, view.Backup{Name: "rev1", Source: openBackup(t, rev1)})
	out, errOut, err := run(t, "diff", "-rq", "--no-dereference", both.path("rev0/domains"), both.path("rev1/domains"))
	if errOut != "" || (err != nil && !strings.Contains(err.Error(), "exit status 1")) {
		t.Fatalf("diff: %v %s", err, errOut)
	}
	got := parseDiff(t, out, both.path("rev0/domains"), both.path("rev1/domains"))
	want := expectedDiff(t, rev0, rev1)
	if !slices.Equal(got, want) {
		t.Errorf("diff reports\n  %q\nwant\n  %q", got, want)
	}
	if len(want) < 5 {
		t.Errorf("revision 1 changed too little to test: %q", want)
	}
}

// parseDiff turns diff -rq output into the paths (relative to the compared folders).
func parseDiff(t *testing.T, out, a, b string) []string {
	var paths []string
	rel := func(p string) string {
		for _, root := range []string{a, b} {
			if r, ok := strings.CutPrefix(p, root+"/"); ok {
				return r
			}
		}
		t.Errorf("diff names %q outside the compared folders", p)
		return p
	}
	s := bufio.NewScanner(strings.NewReader(out))
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "Only in "):
			dir, name, _ := strings.Cut(strings.TrimPrefix(line, "Only in "), ": ")
			paths = append(paths, rel(dir+"/"+name))
		case strings.HasPrefix(line, "Files ") && strings.HasSuffix(line, " differ"):
			x, _, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(line, "Files "), " differ"), " and "+b)
			paths = append(paths, rel(x))
		case strings.HasPrefix(line, "Symbolic links "):
			x, _, _ := strings.Cut(strings.TrimPrefix(line, "Symbolic links "), " and "+b)
			paths = append(paths, rel(x))
		default:
			t.Errorf("unexpected diff line %q", line)
		}
	}
	sort.Strings(paths)
	return paths
}

// expectedDiff computes from the two truths what diff -rq must report: files whose
// contents differ, symlinks whose targets differ, and the topmost added or removed
// entries (diff does not descend into a folder that exists on one side only).
func expectedDiff(t *testing.T, a, b *gen.Truth) []string {
	changed, added, removed := gen.Diff(a, b)
	var want []string
	for _, k := range changed {
		i := strings.IndexByte(k, '/')
		domain, p := k, ""
		if i >= 0 {
			domain, p = k[:i], k[i+1:]
		}
		ea, eb := a.Lookup(domain, p), b.Lookup(domain, p)
		switch {
		case ea.Kind != eb.Kind:
			want = append(want, k)
		case ea.Kind == manifest.KindFile && sha256.Sum256(truthContent(t, ea)) != sha256.Sum256(truthContent(t, eb)):
			want = append(want, k)
		case ea.Kind == manifest.KindSymlink && ea.Target != eb.Target:
			want = append(want, k)
		}
	}
	topmost := func(keys []string, other *gen.Truth) {
		for _, k := range keys {
			if parent := path.Dir(k); parent == "." || other.Lookup(splitKey(parent)) != nil {
				want = append(want, k)
			}
		}
	}
	topmost(added, a)
	topmost(removed, b)
	sort.Strings(want)
	return want
}

func splitKey(k string) (string, string) {
	domain, p, _ := strings.Cut(k, "/")
	return domain, p
}

// The sqlite3 command-line tool queries the SMS database of an encrypted backup
// through the mount, and finds the generator's messages.
func TestRealSQLiteThroughMount(t *testing.T) {
	sqlite3 := testenv.RequireTool(t, "sqlite3")
	truth := generate(t, gen.Options{Seed: 31, Format: gen.FormatDB, Entries: 200, Encrypted: true})
	m := mountRoot(t, view.Options{}, view.Backup{Source: openBackup(t, truth)})
	db := m.path("domains/HomeDomain/Library/SMS/sms.db")
	out, errOut, err := run(t, sqlite3, "-readonly", db, "SELECT text FROM message ORDER BY ROWID")
	if err != nil {
		t.Fatalf("sqlite3: %v %s", err, errOut)
	}
	var want []string
	for _, msg := range truth.Messages {
		want = append(want, msg.Text)
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("messages through the mount:\n%q\nwant\n%q", got, want)
	}
	// The same through the device view, by real device path.
	out2 := mustRun(t, sqlite3, "-readonly", m.path("device/var/mobile/Library/SMS/sms.db"), "SELECT count(*) FROM message")
	if strings.TrimSpace(out2) != fmt.Sprint(len(want)) {
		t.Errorf("count through device/: %q, want %d", out2, len(want))
	}
}

// cp -a of photos/ keeps names, sizes and modification times.
func TestRealCopyPhotos(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 41, Format: gen.FormatDB, Entries: 200})
	src := openBackup(t, truth)
	m := mountRoot(t, view.Options{}, view.Backup{Source: src})
	dest := filepath.Join(t.TempDir(), "photos")
	mustRun(t, "cp", "-a", m.path("photos"), dest)
	n := 0
	for i := range truth.Entries {
		te := &truth.Entries[i]
		rel, ok := strings.CutPrefix(te.Path, "Media/DCIM/")
		if te.Domain != "CameraRollDomain" || !ok {
			continue
		}
		fi, err := os.Lstat(filepath.Join(dest, rel))
		if err != nil {
			t.Errorf("%s not copied: %v", rel, err)
			continue
		}
		if fi.ModTime().Unix() != te.MTime && !te.Synthetic {
			t.Errorf("%s: copied mtime %d, want %d", rel, fi.ModTime().Unix(), te.MTime)
		}
		if te.Kind == manifest.KindFile {
			n++
			if fi.Size() != te.TrueSize {
				t.Errorf("%s: copied size %d, want %d", rel, fi.Size(), te.TrueSize)
			}
		}
	}
	if n == 0 {
		t.Fatalf("the generated backup has no photos")
	}
	// Nothing else was copied.
	count := 0
	filepath.Walk(dest, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			count++
		}
		return nil
	})
	if count != n {
		t.Errorf("copied %d files, the camera roll has %d", count, n)
	}
}

// 16 readers at random offsets of a big encrypted file see what the library reads.
func TestRealParallelEncryptedReads(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 51, Format: gen.FormatDB, Entries: 150, Encrypted: true, BigFileSize: 5<<20 + 77})
	src := openBackup(t, truth)
	m := mountRoot(t, view.Options{}, view.Backup{Source: src})
	i, ok := src.Index().Lookup("MediaDomain", "Media/Recordings/big.mov")
	if !ok {
		t.Fatal("no big file in the generated backup")
	}
	lib, err := src.OpenFile(src.Index().Entry(i))
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	size := lib.Size()
	if fi, err := os.Stat(m.path("domains/MediaDomain/Media/Recordings/big.mov")); err != nil || fi.Size() != size {
		t.Fatalf("stat big file: %v, size %v want %d", err, fi, size)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			f, err := os.Open(m.path("device/var/mobile/Media/Recordings/big.mov"))
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			r := rand.New(rand.NewSource(seed))
			got := make([]byte, 300<<10)
			want := make([]byte, len(got))
			for k := 0; k < 30; k++ {
				off := r.Int63n(size)
				n := r.Intn(len(got)) + 1
				g, gerr := f.ReadAt(got[:n], off)
				w, werr := lib.ReadAt(want[:n], off)
				if g != w || !bytes.Equal(got[:g], want[:w]) || (gerr == nil) != (werr == nil) {
					errs <- fmt.Errorf("at %d+%d: mount %d bytes (%v), library %d (%v)", off, n, g, gerr, w, werr)
					return
				}
			}
		}(int64(g))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A blob deleted from the backup folder: the file is listed with size 0, reading it
// fails with EIO and one log line names it; the rest of the mount works.
func TestRealMissingBlob(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 61, Format: gen.FormatDB, Entries: 150})
	victim := truth.Lookup("HomeDomain", "Library/SMS/sms.db")
	id := victim.ID().String()
	if err := os.Remove(filepath.Join(truth.Dir, id[:2], id)); err != nil {
		t.Fatal(err)
	}
	m := mountRoot(t, view.Options{}, view.Backup{Source: openBackup(t, truth)})
	p := m.path("domains/HomeDomain/Library/SMS/sms.db")
	if fi, err := os.Stat(p); err != nil || fi.Size() != 0 {
		t.Errorf("stat: %v %v", fi, err)
	}
	for k := 0; k < 2; k++ {
		if _, err := os.ReadFile(p); !errorsIsErrno(err, syscall.EIO) {
			t.Errorf("read: %v, want EIO", err)
		}
	}
	logs := m.logs.String()
	if strings.Count(logs, "\n") != 1 || !strings.Contains(logs, "HomeDomain/Library/SMS/sms.db") || !strings.Contains(logs, id) {
		t.Errorf("log %q: want one line naming the file and its blob", logs)
	}
	if _, err := os.ReadFile(m.path("domains/HomeDomain/Library/Preferences/.GlobalPreferences.plist")); err != nil && !os.IsNotExist(err) {
		t.Errorf("another file: %v", err)
	}
}

// sharedSamples is the worktree's ../shared/samples seen from this package's folder.
var sharedSamples = filepath.Join("..", "..", "..", "shared", "samples")

// The shared samples through the mount: every entry of the real iOS 14 manifest is
// listed with its recorded mode (0000 folders included, which must still be walked);
// every file whose blob is there reads as the library reads it, with st_size its
// length, and every file whose blob is missing fails with EIO; the encrypted sample
// reads its known text.
func TestSharedSamplesReadThroughMount(t *testing.T) {
	t.Run("ios14-mvt", func(t *testing.T) {
		b, err := backup.Open(filepath.Join(sharedSamples, "ios14-mvt"), backup.Options{})
		if err != nil {
			t.Fatal(err)
		}
		src := fromBackup(b)
		m := mountRoot(t, view.Options{}, view.Backup{Source: src})
		ix := src.Index()
		read, missing := 0, 0
		for i := int32(0); i < int32(ix.Len()); i++ {
			e := ix.Entry(i)
			p, fi, ok := lstatAsRecorded(t, m, e)
			if !ok {
				continue
			}
			if e.Kind != manifest.KindFile {
				continue
			}
			f, libErr := src.OpenFile(e)
			got, err := os.ReadFile(p)
			if libErr != nil {
				missing++
				if !errorsIsErrno(err, syscall.EIO) {
					t.Errorf("%s: the library cannot open it (%v), the mount reads %v", p, libErr, err)
				}
				continue
			}
			want, libErr := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
			f.Close()
			read++
			if err != nil || libErr != nil {
				t.Errorf("read %s: mount %v, library %v", p, err, libErr)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes through the mount differ from the library's %d", p, len(got), len(want))
			}
			if fi.Size() != int64(len(got)) {
				t.Errorf("%s: st_size %d, read %d bytes", p, fi.Size(), len(got))
			}
		}
		t.Logf("%d files read, %d without contents (EIO)", read, missing)
		// The sample's README: 10 payload blobs, most of the others absent.
		if read < 10 || missing < 100 {
			t.Errorf("read %d files, %d without contents: the sample should have 10 and hundreds", read, missing)
		}
		if _, errOut, err := run(t, "find", m.dir); err != nil || errOut != "" {
			t.Errorf("find: %v %s", err, errOut)
		}
	})
	t.Run("encrypted-synthetic-pw0000", func(t *testing.T) {
		b, err := backup.Open(filepath.Join(sharedSamples, "encrypted-synthetic-pw0000"), backup.Options{
			Password: func() ([]byte, error) { return []byte("0000"), nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		m := mountRoot(t, view.Options{}, view.Backup{Source: fromBackup(b)})
		got, err := os.ReadFile(m.path("domains/MyTestDomain/Media/Test.txt"))
		if err != nil || string(got) != "Test data" {
			t.Errorf("Test.txt through the mount: %q, %v; want \"Test data\"", got, err)
		}
	})
}
