//go:build !windows

package fuse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"iosbackup/fs/view"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

// Mount tests mount in this process (go-fuse serves from its own goroutines) and look
// at the mount only through other processes (stat, cat, ls...) or from the test
// goroutine, never from a goroutine go-fuse needs.

var (
	mountedMu sync.Mutex
	mounted   = map[string]bool{} // mountpoints this process created
)

func TestMain(m *testing.M) {
	code := m.Run()
	if left := leftoverMounts(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: iosbackup mounts left behind: %q\n", left)
		for _, mp := range left {
			Unmount(mp)
		}
		code = 1
	}
	os.Exit(code)
}

// leftoverMounts lists iosbackup mounts of this process still in /proc/mounts.
func leftoverMounts() []string {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	mountedMu.Lock()
	defer mountedMu.Unlock()
	var left []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 3 || fields[2] != "fuse.iosbackup" {
			continue
		}
		mp := strings.ReplaceAll(fields[1], `\040`, " ")
		if mounted[mp] {
			left = append(left, mp)
		}
	}
	return left
}

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting fds: %v", err)
	}
	return len(fds)
}

func fdTargets() string {
	fds, _ := os.ReadDir("/proc/self/fd")
	var s []string
	for _, fd := range fds {
		l, _ := os.Readlink("/proc/self/fd/" + fd.Name())
		s = append(s, fd.Name()+"="+l)
	}
	return strings.Join(s, " ")
}

type testMount struct {
	dir    string
	server *gofuse.Server
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mountRoot mounts the backups and arranges the unmount, then checks that no file
// descriptor leaked and nothing is left mounted.
func mountRoot(t *testing.T, opt view.Options, backups ...view.Backup) *testMount {
	t.Helper()
	return mountRootWith(t, opt, MountOptions{}, backups...)
}

func mountRootWith(t *testing.T, opt view.Options, mopt MountOptions, backups ...view.Backup) *testMount {
	t.Helper()
	testenv.RequireFUSE(t)
	dir := t.TempDir()
	fdsBefore := openFDs(t)
	before := fdTargets()
	logs := &syncBuffer{}
	opt.Logger = log.New(logs, "", 0)
	root := view.New(opt, backups...)
	server, err := Mount(dir, root, mopt)
	if err != nil {
		testenv.Unavailable(t, "FUSE mount: "+err.Error())
	}
	mountedMu.Lock()
	mounted[dir] = true
	mountedMu.Unlock()
	done := make(chan struct{})
	go func() {
		server.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			if holders, err := Unmount(dir); err != nil || len(holders) > 0 {
				t.Errorf("forced unmount: %v; holders:\n%s", err, HoldersText(holders))
			}
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("server did not stop after unmount")
		}
		for _, mp := range leftoverMounts() {
			if mp == dir {
				t.Errorf("%s still mounted", dir)
			}
		}
		// Handles the kernel did not release are closed when the server stops, by a
		// goroutine of Mount: give it a moment.
		for i := 0; i < 100 && openFDs(t) > fdsBefore; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if after := openFDs(t); after > fdsBefore {
			t.Errorf("%d file descriptors leaked by the mount: %s\nbefore: %s", after-fdsBefore, fdTargets(), before)
		}
	})
	return &testMount{dir: dir, server: server, logs: logs}
}

func (m *testMount) path(p string) string { return filepath.Join(m.dir, p) }

// run executes a tool and returns its stdout, stderr and error.
func run(t *testing.T, name string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, name, args...)
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, errOut)
	}
	return out
}

func TestMountFixture(t *testing.T) {
	testenv.RequireTool(t, "getfattr")
	src := newFixture("iPhone 2024-05-01 10.00")
	m := mountRoot(t, view.Options{}, view.Backup{Source: src})

	// Mounted read-only with our names.
	mounts, _ := os.ReadFile("/proc/mounts")
	var line string
	for _, l := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(l); len(f) > 3 && f[1] == m.dir {
			line = l
		}
	}
	if !strings.HasPrefix(line, "iosbackup "+m.dir+" fuse.iosbackup ro,") {
		t.Errorf("mount line %q: want iosbackup ... fuse.iosbackup ro,...", line)
	}

	// Contents, sizes, one inode across views.
	views := []string{"domains/HomeDomain/Library/SMS/sms.db", "device/var/mobile/Library/SMS/sms.db"}
	var stats []string
	for _, p := range views {
		got, err := os.ReadFile(m.path(p))
		if err != nil || string(got) != "SQLite format 3\x00home sms" {
			t.Errorf("%s: %q %v", p, got, err)
		}
		stats = append(stats, mustRun(t, "stat", "-c", "%i %h %s %a %Y %Z", m.path(p)))
	}
	e := src.ix.Entry(mustLookup(t, src.ix, "HomeDomain", "Library/SMS/sms.db"))
	if stats[0] != stats[1] {
		t.Errorf("stat differs between views: %q vs %q", stats[0], stats[1])
	}
	f := strings.Fields(stats[0])
	if f[1] != "2" || f[2] != fmt.Sprint(len("SQLite format 3\x00home sms")) || f[3] != "600" ||
		f[4] != fmt.Sprint(e.MTime) || f[5] != fmt.Sprint(e.CTime) {
		t.Errorf("stat %q: want nlink 2, size 25, mode 600, mtime %d, ctime %d", stats[0], e.MTime, e.CTime)
	}
	switch birth := strings.TrimSpace(mustRun(t, "stat", "-c", "%W", m.path(views[0]))); birth {
	case fmt.Sprint(e.Birth):
	case "0", "-":
		// Kernels before 6.6 do not ask FUSE for the birth time (no STATX).
		t.Logf("no birth time through this kernel")
	default:
		t.Errorf("birth time %s, want %d", birth, e.Birth)
	}

	// A symlink followed by cat lands on the device view's file.
	link := m.path("apps/Chat (com.example.chat)/data/Library/to-sms")
	target, err := os.Readlink(link)
	if err != nil || strings.HasPrefix(target, "/") {
		t.Errorf("readlink %s: %q %v", link, target, err)
	}
	if got := mustRun(t, "cat", link); got != "SQLite format 3\x00home sms" {
		t.Errorf("cat through symlink: %q", got)
	}
	if got, err := os.ReadFile(m.path("domains/HomeDomain/Library/escape")); err == nil {
		t.Errorf("escape link reached a file outside the mount: %q", got)
	}

	// xattrs.
	out := mustRun(t, "getfattr", "-d", m.path(views[1]))
	if !strings.Contains(out, `user.com.apple.quarantine="q"`) || !strings.Contains(out, `user.com.apple.metadata:kMDItemWhereFroms="where"`) {
		t.Errorf("getfattr -d: %q", out)
	}
	// Namespaces the mount never has are not supported (tools stop asking), not
	// merely empty; the user.* attributes stay readable after that.
	for _, name := range []string{"security.selinux", "trusted.x"} {
		var buf [64]byte
		if _, err := unix.Lgetxattr(m.path(views[1]), name, buf[:]); !errors.Is(err, syscall.ENOTSUP) {
			t.Errorf("lgetxattr %s: %v, want %v", name, err, syscall.ENOTSUP)
		}
	}
	if out := mustRun(t, "getfattr", "-n", "user.com.apple.quarantine", m.path(views[1])); !strings.Contains(out, `user.com.apple.quarantine="q"`) {
		t.Errorf("getfattr -n after unsupported names: %q", out)
	}

	// Missing blob: listed empty, EIO, one log line.
	if fi, err := os.Stat(m.path("domains/HomeDomain/Library/missing.txt")); err != nil || fi.Size() != 0 {
		t.Errorf("missing blob stat: %v %v", fi, err)
	}
	for i := 0; i < 2; i++ {
		_, errOut, err := run(t, "cat", m.path("device/var/mobile/Library/missing.txt"))
		if err == nil || !strings.Contains(errOut, "Input/output error") {
			t.Errorf("cat of a missing blob: %v %q", err, errOut)
		}
	}
	if lines := strings.Count(m.logs.String(), "\n"); lines != 1 || !strings.Contains(m.logs.String(), "HomeDomain/Library/missing.txt") {
		t.Errorf("log: %q", m.logs.String())
	}

	// Whole-tree tools work without errors.
	for _, tool := range [][]string{
		{"ls", "-lR", m.dir},
		{"find", m.dir, "-type", "f"},
		{"du", "-s", m.dir},
		{"getfattr", "-R", "-d", "-h", "--absolute-names", m.dir},
		{"stat", "-f", m.dir},
	} {
		if _, errOut, err := run(t, tool[0], tool[1:]...); err != nil || errOut != "" {
			t.Errorf("%s: %v %s", strings.Join(tool, " "), err, errOut)
		}
	}
	// du counts each file once: the sum of distinct files' blocks, whatever the views.
	duOut := mustRun(t, "du", "-s", "--apparent-size", "-B1", m.dir)
	var total int64
	for _, c := range src.data {
		total += int64(len(c))
	}
	var du int64
	fmt.Sscan(duOut, &du)
	if du < total || du > total+200*4096 { // folders add their (zero) size and a little
		t.Errorf("du --apparent-size %d, distinct file bytes %d", du, total)
	}
}

func mustLookup(t *testing.T, ix *manifest.Index, domain, p string) int32 {
	t.Helper()
	i, ok := ix.Lookup(domain, p)
	if !ok {
		t.Fatalf("%s/%s not in index", domain, p)
	}
	return i
}

// Writes of every kind fail with "Read-only file system".
func TestMountReadOnly(t *testing.T) {
	testenv.RequireTool(t, "setfattr")
	m := mountRoot(t, view.Options{}, view.Backup{Source: newFixture("b")})
	file := m.path("domains/HomeDomain/Library/SMS/sms.db")
	dir := m.path("domains/HomeDomain/Library")
	for _, c := range [][]string{
		{"touch", file},
		{"touch", dir + "/new"},
		{"sh", "-c", "echo x > '" + file + "'"},
		{"sh", "-c", "echo x >> '" + file + "'"},
		{"mkdir", dir + "/newdir"},
		{"rm", "-f", file},
		{"rmdir", m.path("domains/HomeDomain/Library/SMS")},
		{"mv", file, dir + "/moved"},
		{"chmod", "777", file},
		{"chown", "1:1", file},
		{"truncate", "-s", "0", file},
		{"ln", "-s", "x", dir + "/lnk"},
		{"ln", file, dir + "/hard"},
		{"setfattr", "-n", "user.x", "-v", "1", file},
	} {
		_, errOut, err := run(t, c[0], c[1:]...)
		if err == nil || !strings.Contains(errOut, "Read-only file system") {
			t.Errorf("%s: err %v, stderr %q; want Read-only file system", strings.Join(c, " "), err, errOut)
		}
	}
	if got, _ := os.ReadFile(file); string(got) != "SQLite format 3\x00home sms" {
		t.Errorf("file changed: %q", got)
	}
	// The same from Go, checking the errno itself.
	if _, err := os.OpenFile(file, os.O_WRONLY, 0); !errorsIsErrno(err, syscall.EROFS) {
		t.Errorf("open for writing: %v", err)
	}
	if err := os.Mkdir(dir+"/x", 0o755); !errorsIsErrno(err, syscall.EROFS) {
		t.Errorf("mkdir: %v", err)
	}
}

func errorsIsErrno(err error, want syscall.Errno) bool {
	var errno syscall.Errno
	for err != nil {
		if e, ok := err.(syscall.Errno); ok {
			errno = e
			break
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	return errno == want
}

// Many readers at once on one big file, each at random offsets.
func TestMountParallelReads(t *testing.T) {
	src := newFixture("b")
	big := make([]byte, 3<<20+123)
	rand.New(rand.NewSource(1)).Read(big)
	src.data["HomeDomain/Library/SMS/sms.db"] = big
	m := mountRoot(t, view.Options{}, view.Backup{Source: src})
	p := m.path("device/var/mobile/Library/SMS/sms.db")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			f, err := os.Open(p)
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			r := rand.New(rand.NewSource(seed))
			buf := make([]byte, 256<<10)
			for i := 0; i < 40; i++ {
				off := r.Int63n(int64(len(big)))
				n := r.Intn(len(buf)) + 1
				got, err := f.ReadAt(buf[:n], off)
				want := big[off:min(off+int64(n), int64(len(big)))]
				if !bytes.Equal(buf[:got], want) {
					errs <- fmt.Errorf("read %d at %d: got %d bytes (%v), differ", n, off, got, err)
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

// A busy mount is reported with its holder, then detached.
func TestUnmountBusy(t *testing.T) {
	testenv.RequireFUSE(t)
	dir := t.TempDir()
	root := view.New(view.Options{}, view.Backup{Source: newFixture("b")})
	server, err := Mount(dir, root, MountOptions{})
	if err != nil {
		testenv.Unavailable(t, "FUSE mount: "+err.Error())
	}
	mountedMu.Lock()
	mounted[dir] = true
	mountedMu.Unlock()
	done := make(chan struct{})
	go func() { server.Wait(); close(done) }()

	// A shell sitting in a folder of the mount (cd after exec: no fork-time access).
	holder := exec.Command("sh", "-c", "cd \"$1\" && echo ready && exec sleep 60", "sh", filepath.Join(dir, "domains"))
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	bufio.NewReader(stdout).ReadString('\n')

	holders, err := Unmount(dir)
	if err != nil {
		t.Fatalf("Unmount: %v", err)
	}
	found := false
	for _, h := range holders {
		if h.PID == holder.Process.Pid && h.How == "cwd" && strings.HasSuffix(h.Path, "/domains") {
			found = true
		}
	}
	if !found {
		t.Errorf("holders %v do not name pid %d", holders, holder.Process.Pid)
	}
	if len(leftoverMounts()) > 0 {
		t.Errorf("still in /proc/mounts after lazy unmount")
	}
	holder.Process.Kill()
	holder.Wait()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("server still running after the last holder left")
	}
}

// Unmount of an idle mount: no holders, and the server stops.
func TestUnmountIdle(t *testing.T) {
	testenv.RequireFUSE(t)
	dir := t.TempDir()
	server, err := Mount(dir, view.New(view.Options{}, view.Backup{Source: newFixture("b")}), MountOptions{})
	if err != nil {
		testenv.Unavailable(t, "FUSE mount: "+err.Error())
	}
	mountedMu.Lock()
	mounted[dir] = true
	mountedMu.Unlock()
	done := make(chan struct{})
	go func() { server.Wait(); close(done) }()
	if _, err := os.Stat(filepath.Join(dir, "device/var/mobile")); err != nil {
		t.Errorf("stat before unmount: %v", err)
	}
	holders, err := Unmount(dir)
	if err != nil || len(holders) != 0 {
		t.Fatalf("Unmount: %v, holders %v", err, holders)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("server still running after Unmount")
	}
	if _, err := Unmount(dir); !errors.Is(err, ErrNotMounted) {
		t.Errorf("second Unmount of %s: %v, want %v", dir, err, ErrNotMounted)
	}
}

// NoXAttrs hides the backup's attributes; the kernel stops asking.
func TestMountNoXAttrs(t *testing.T) {
	testenv.RequireTool(t, "getfattr")
	m := mountRootWith(t, view.Options{}, MountOptions{NoXAttrs: true}, view.Backup{Source: newFixture("b")})
	out, errOut, _ := run(t, "getfattr", "-d", m.path("domains/HomeDomain/Library/SMS/sms.db"))
	if strings.Contains(out, "quarantine") {
		t.Errorf("NoXAttrs still shows attributes: %q", out)
	}
	if errOut != "" && !strings.Contains(errOut, "not supported") {
		t.Errorf("getfattr: %q", errOut)
	}
}

// The leak check of TestMain counts only the mounts this process made: an iosbackup
// mount it did not record (as a user's own under /tmp would be) is not a leak.
func TestLeakCheckCountsOnlyOurMounts(t *testing.T) {
	testenv.RequireFUSE(t)
	dir := t.TempDir()
	server, err := Mount(dir, view.New(view.Options{}, view.Backup{Source: newFixture("b")}), MountOptions{})
	if err != nil {
		testenv.Unavailable(t, "FUSE mount: "+err.Error())
	}
	done := make(chan struct{})
	go func() { server.Wait(); close(done) }()
	t.Cleanup(func() {
		mountedMu.Lock()
		delete(mounted, dir)
		mountedMu.Unlock()
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
		<-done
	})
	if slices.Contains(leftoverMounts(), dir) {
		t.Errorf("leftoverMounts lists %s, a mount this process did not record", dir)
	}
	mountedMu.Lock()
	mounted[dir] = true
	mountedMu.Unlock()
	if !slices.Contains(leftoverMounts(), dir) {
		t.Errorf("leftoverMounts does not list %s, a recorded mount still mounted", dir)
	}
}

// find walks the whole mount without one size look-up (listings send files without
// attributes); stat through the same mount then reports every file's exact size.
func TestMountFindReadsNoSize(t *testing.T) {
	src := newFixture("b") // find: findutils, essential in Debian
	m := mountRoot(t, view.Options{}, view.Backup{Source: src})
	out := mustRun(t, "find", m.dir)
	if got := src.sizes.Load(); got != 0 {
		t.Errorf("find made %d FileSize calls, want 0", got)
	}
	checked := 0
	for _, f := range fixtureEntries() {
		if f.kind != manifest.KindFile || f.domain != "HomeDomain" || len(filepath.Base(f.path)) > view.MaxNameLen {
			continue // a name longer than the kernel allows is not listed
		}
		p := m.path("domains/HomeDomain/" + f.path)
		if !strings.Contains(out, p+"\n") {
			t.Errorf("find did not list %s", p)
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			t.Errorf("stat after find: %v", err)
			continue
		}
		if fi.Size() != int64(len(f.data)) {
			t.Errorf("%s: size %d after find, want %d", f.path, fi.Size(), len(f.data))
		}
		checked++
	}
	if checked < 4 {
		t.Fatalf("checked %d HomeDomain files, want the fixture's few", checked)
	}
}
