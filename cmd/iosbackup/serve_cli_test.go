package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// A served backup: `iosbackup serve` running as its own process, as a user runs it.
type served struct {
	url         string
	fingerprint string // printed for TLS
	stderr      *bytes.Buffer
}

// startServe runs `iosbackup serve --addr 127.0.0.1:0 ARGS...` (unless ARGS give an
// --addr), waits for the line saying where it serves, and stops it with SIGINT (as
// Ctrl-C does) when the test ends, checking that it exits cleanly.
func startServe(t *testing.T, env []string, args ...string) *served {
	t.Helper()
	if !slices.Contains(args, "--addr") {
		args = append([]string{"--addr", "127.0.0.1:0"}, args...)
	}
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{stderr: &bytes.Buffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		l := lines.Text()
		if rest, ok := strings.CutPrefix(l, "TLS certificate SHA-256 fingerprint: "); ok {
			s.fingerprint = rest
		}
		if strings.HasPrefix(l, "Serving ") {
			f := strings.Fields(l)
			s.url = f[len(f)-1]
		}
		if strings.HasPrefix(l, "Ctrl-C stops") {
			break
		}
	}
	go func() { io.Copy(io.Discard, stdout); exited <- cmd.Wait() }()
	if s.url == "" {
		cmd.Process.Kill()
		<-exited
		t.Fatalf("serve %q printed no URL; stderr:\n%s", args, s.stderr)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("serve after Ctrl-C: %v\n%s", err, s.stderr)
			}
			if !strings.Contains(s.stderr.String(), "stopped serving") {
				t.Errorf("serve did not say it stopped:\n%s", s.stderr)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("serve still running 20 s after Ctrl-C")
		}
	})
	return s
}

// rclone runs rclone against the served tree (remote ":webdav:") with no config of
// the user's.
func rclone(t *testing.T, s *served, args ...string) (string, error) {
	t.Helper()
	bin := testenv.RequireTool(t, "rclone")
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"--config", conf, "--webdav-url", s.url}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// treeListing is what `rclone lsf -R` prints for a local folder: every file and
// folder below root ("dir/" for folders), symlinks left out as the server leaves them.
func treeListing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk %s: %v", p, err)
			return nil
		}
		if p == root || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// checkServedTree holds the served tree against `iosbackup extract` of the same backup
// and against its FUSE mount: rclone lsf -R lists what the mount shows (symlinks
// aside); rclone check --download finds every extracted file with the same bytes under
// domains/, and the whole tree equal to the mount's; rclone copy brings the whole tree,
// and its domains/ is the extracted folder (symlinks aside). With missing blobs the
// copy and the whole-tree check are left out: those files cannot be read either way.
func checkServedTree(t *testing.T, env []string, backupDir string, missingBlobs bool, listed string) {
	extracted := filepath.Join(t.TempDir(), "extracted")
	if out, err := cli(t, env, "extract", "-q", backupDir, extracted); err != nil && !missingBlobs {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	mp := mountBG(t, env, backupDir)
	s := startServe(t, env, backupDir)

	out, err := rclone(t, s, "lsf", "-R", ":webdav:"+listed)
	if err != nil {
		t.Fatalf("rclone lsf -R: %v\n%s", err, out)
	}
	if got, want := lines(out), treeListing(t, filepath.Join(mp, listed)); !slices.Equal(got, want) {
		t.Errorf("rclone lsf -R lists %d names, the mount %d; first differences: %s", len(got), len(want), firstDiff(got, want))
	}
	if out, err := rclone(t, s, "check", "--download", "--one-way", extracted, ":webdav:domains"); err != nil {
		t.Errorf("rclone check --download extract vs served domains/: %v\n%s", err, out)
	}
	if missingBlobs {
		return
	}
	if out, err := rclone(t, s, "check", "--download", mp, ":webdav:"); err != nil {
		t.Errorf("rclone check --download mount vs served tree: %v\n%s", err, out)
	}
	copied := filepath.Join(t.TempDir(), "copied")
	if out, err := rclone(t, s, "copy", "--create-empty-src-dirs", ":webdav:", copied); err != nil {
		t.Fatalf("rclone copy: %v\n%s", err, out)
	}
	out = diffR(extracted, filepath.Join(copied, "domains"))
	for _, l := range lines(out) {
		// Symlinks are not served; everything else must be the same.
		dir, name, ok := strings.Cut(strings.TrimPrefix(l, "Only in "), ": ")
		if !ok || !strings.HasPrefix(l, "Only in "+extracted) {
			t.Errorf("diff -r extract vs rclone copy: %s", l)
			continue
		}
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("diff -r extract vs rclone copy: %s (not a symlink)", l)
		}
	}
}

// diffR is diff -r comparing symlinks as links (diffutils is essential: no RequireTool).
func diffR(a, b string) string {
	out, _ := exec.Command("diff", "-r", "--no-dereference", a, b).CombinedOutput()
	return string(out)
}

func runTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(testenv.RequireTool(t, name), args...).CombinedOutput()
	return string(out), err
}

func firstDiff(got, want []string) string {
	var d []string
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok && len(d) < 5 {
			d = append(d, "+"+g)
		}
	}
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok && len(d) < 10 {
			d = append(d, "-"+w)
		}
	}
	return strings.Join(d, " ")
}

// The served tree, read by rclone, is what extract writes and what the mount shows:
// both manifest formats, plain and encrypted, and the shared samples.
func TestServeRcloneMatchesExtractAndMount(t *testing.T) {
	testenv.RequireTool(t, "rclone")
	for _, c := range []struct {
		name string
		opt  gen.Options
	}{
		{"db-plain", gen.Options{Seed: 71, Format: gen.FormatDB, Entries: 150}},
		{"db-encrypted", gen.Options{Seed: 72, Format: gen.FormatDB, Entries: 150, Encrypted: true, Password: "serve pw"}},
		{"mbdb-plain", gen.Options{Seed: 73, Format: gen.FormatMBDB, Entries: 150}},
		{"mbdb-encrypted", gen.Options{Seed: 74, Format: gen.FormatMBDB, Entries: 150, Encrypted: true, Password: "serve pw"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			truth := genBackup(t, filepath.Join(t.TempDir(), "b"), c.opt)
			checkServedTree(t, []string{"IOSBACKUP_PASSWORD=serve pw"}, truth.Dir, false, "")
		})
	}
	t.Run("sample-ios14-mvt", func(t *testing.T) {
		// Listed below HomeDomain only: rclone 1.60 paces WebDAV requests at 10 ms or
		// more each, and the whole tree is 10,000 folders (about two minutes).
		checkServedTree(t, nil, filepath.Join(samples, "ios14-mvt"), true, "domains/HomeDomain")
	})
	t.Run("sample-encrypted", func(t *testing.T) {
		checkServedTree(t, []string{"IOSBACKUP_PASSWORD=0000"}, filepath.Join(samples, "encrypted-synthetic-pw0000"), false, "")
	})
}

// davfs2 mounts the served tree; diff -r finds it the same as the FUSE mount's, but for
// the symlinks WebDAV cannot carry. The server asks for a password, given to davfs2
// in its secrets file.
func TestServeDavfs2DiffAgainstMount(t *testing.T) {
	davfs := testenv.RequireTool(t, "mount.davfs")
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "mount.davfs needs root here")
	}
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 75, Format: gen.FormatDB, Entries: 200, Encrypted: true, Password: "pw"})
	env := []string{"IOSBACKUP_PASSWORD=pw", "IOSBACKUP_SERVE_PASSWORD=dav secret"}
	fuseMP := mountBG(t, env, truth.Dir)
	s := startServe(t, env, "--user", "examiner", truth.Dir)

	work := t.TempDir()
	// mount.davfs drops to the davfs2 user, which must reach its cache: let it through
	// this test's folders (search only, no listing).
	for d := work; strings.HasPrefix(d, testTemp); d = filepath.Dir(d) {
		os.Chmod(d, 0o711)
	}
	cache := filepath.Join(work, "cache")
	if err := os.Mkdir(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(cache, 0o777) // and write there
	secrets := filepath.Join(work, "secrets")
	if err := os.WriteFile(secrets, []byte(s.url+" examiner \"dav secret\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// use_locks 0: the server is class 1; buf_size 64: davfs2 1.6's readdir buffer is
	// too small for Linux 6.16+ (davfs2 issue #22).
	conf := fmt.Sprintf("use_locks 0\nbuf_size 64\ncache_dir %s\nsecrets %s\nask_auth 0\n", cache, secrets)
	confPath := filepath.Join(work, "davfs2.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	davMP := filepath.Join(work, "mnt")
	if err := os.Mkdir(davMP, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(davfs, s.url, davMP, "-o", "ro,conf="+confPath).CombinedOutput(); err != nil {
		t.Fatalf("mount.davfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", davMP).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", davMP, err, out)
		}
	})
	for _, view := range []string{"apps", "device", "domains", "photos"} {
		out := diffR(filepath.Join(fuseMP, view), filepath.Join(davMP, view))
		for _, l := range lines(out) {
			dir, name, ok := strings.Cut(strings.TrimPrefix(l, "Only in "), ": ")
			if ok && strings.HasPrefix(l, "Only in "+fuseMP) {
				if fi, err := os.Lstat(filepath.Join(dir, name)); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
					continue // WebDAV has no symlinks
				}
			}
			t.Errorf("diff -r %s: %s", view, l)
		}
	}
	if got, want := treeListing(t, filepath.Join(davMP, "domains")), treeListing(t, filepath.Join(fuseMP, "domains")); !slices.Equal(got, want) {
		t.Errorf("davfs2 lists %d names under domains/, the mount %d: %s", len(got), len(want), firstDiff(got, want))
	}
}

// curl against the server: byte ranges across AES and read-chunk boundaries read the
// generator's bytes; ETags and dates answer 304; every write method is refused with 403
// and changes nothing; depth infinity is refused.
func TestServeCurlRangesETagsAndRefusals(t *testing.T) {
	testenv.RequireTool(t, "curl")
	const big = 3<<20 + 77
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 76, Format: gen.FormatDB, Entries: 120, Encrypted: true, Password: "pw", BigFileSize: big})
	te := truth.Lookup("MediaDomain", "Media/Recordings/big.mov")
	if te == nil {
		t.Fatal("no big file in the generated backup")
	}
	want, err := io.ReadAll(te.Content())
	if err != nil || len(want) != big {
		t.Fatalf("truth of the big file: %d bytes, %v", len(want), err)
	}
	s := startServe(t, []string{"IOSBACKUP_PASSWORD=pw"}, truth.Dir)
	url := s.url + "domains/MediaDomain/Media/Recordings/big.mov"

	curl := func(args ...string) (string, string) { // headers, body
		t.Helper()
		hdr := filepath.Join(t.TempDir(), "h")
		out, err := runTool(t, "curl", append([]string{"-sS", "-D", hdr, "-o", "-"}, args...)...)
		if err != nil {
			t.Fatalf("curl %q: %v\n%s", args, err, out)
		}
		h, _ := os.ReadFile(hdr)
		return string(h), out
	}
	status := func(h string) string { return strings.Fields(h)[1] }
	header := func(h, name string) string {
		for _, l := range strings.Split(h, "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}

	for _, r := range [][2]int{{0, 15}, {15, 16}, {16, 31}, {4095, 4096}, {65535, 65536}, {1<<20 - 1, 1 << 20}, {1<<20 - 16, 1<<20 + 16}, {big - 17, big - 1}, {0, big - 1}} {
		h, body := curl("-r", fmt.Sprintf("%d-%d", r[0], r[1]), url)
		if status(h) != "206" || body != string(want[r[0]:r[1]+1]) {
			t.Errorf("range %d-%d: %s, %d bytes, equal %v", r[0], r[1], status(h), len(body), body == string(want[r[0]:r[1]+1]))
		}
	}
	h, body := curl("-r", "-100", url)
	if status(h) != "206" || body != string(want[big-100:]) {
		t.Errorf("suffix range: %s, %d bytes", status(h), len(body))
	}
	if h, _ := curl("-r", fmt.Sprintf("%d-", big+10), url); status(h) != "416" {
		t.Errorf("range past the end: %s, want 416", status(h))
	}
	h, body = curl(url)
	etag, lastMod := header(h, "ETag"), header(h, "Last-Modified")
	if status(h) != "200" || body != string(want) || etag == "" || lastMod == "" {
		t.Fatalf("GET: %s, %d bytes, ETag %q, Last-Modified %q", status(h), len(body), etag, lastMod)
	}
	if ct := header(h, "Content-Type"); ct != "video/quicktime" {
		t.Errorf("Content-Type %q, want video/quicktime (from .mov)", ct)
	}
	if h, _ := curl("-H", "If-None-Match: "+etag, url); status(h) != "304" {
		t.Errorf("If-None-Match of the ETag: %s, want 304", status(h))
	}
	if h, _ := curl("-H", "If-Modified-Since: "+lastMod, url); status(h) != "304" {
		t.Errorf("If-Modified-Since: %s, want 304", status(h))
	}
	if h, _ := curl("-H", `If-None-Match: "other"`, "-r", "0-0", url); status(h) != "206" {
		t.Errorf("If-None-Match of another ETag: %s, want 206", status(h))
	}
	// The same file under device/ is the same inode: the same ETag.
	if h, _ := curl("-I", s.url+"device/var/mobile/Media/Recordings/big.mov"); header(h, "ETag") != etag {
		t.Errorf("device/ view ETag %q, domains/ %q", header(h, "ETag"), etag)
	}

	for _, m := range [][]string{
		{"-X", "PUT", "--data-binary", "x", url},
		{"-X", "PUT", "--data-binary", "x", s.url + "domains/new.txt"},
		{"-X", "DELETE", url},
		{"-X", "MKCOL", s.url + "domains/newdir/"},
		{"-X", "MOVE", "-H", "Destination: " + s.url + "domains/moved.mov", url},
		{"-X", "COPY", "-H", "Destination: " + s.url + "domains/copied.mov", url},
		{"-X", "PROPPATCH", "--data-binary", `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">1</x></D:prop></D:set></D:propertyupdate>`, url},
		{"-X", "LOCK", "--data-binary", `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`, url},
		{"-X", "PROPFIND", "-H", "Depth: infinity", s.url},
		{"-X", "PROPFIND", s.url}, // no Depth: infinity by RFC 4918
	} {
		if h, _ := curl(m...); status(h) != "403" {
			t.Errorf("curl %q: %s, want 403", m, status(h))
		}
	}
	if h, _ := curl("-X", "POST", "--data", "x", url); status(h) != "405" {
		t.Errorf("POST: %s, want 405", status(h))
	}
	for _, p := range []string{"domains/new.txt", "domains/newdir/", "domains/moved.mov", "domains/copied.mov"} {
		if h, _ := curl("-X", "PROPFIND", "-H", "Depth: 0", s.url+p); status(h) != "404" {
			t.Errorf("%s after the refused writes: %s, want 404", p, status(h))
		}
	}
	if h, body := curl(url); status(h) != "200" || body != string(want) {
		t.Errorf("the file after the refused writes: %s, %d bytes", status(h), len(body))
	}
	h, _ = curl("-X", "OPTIONS", s.url)
	if header(h, "DAV") != "1" || !strings.Contains(header(h, "Allow"), "PROPFIND") || strings.Contains(header(h, "Allow"), "PUT") {
		t.Errorf("OPTIONS: DAV %q, Allow %q", header(h, "DAV"), header(h, "Allow"))
	}
	if h, body := curl("-X", "PROPFIND", "-H", "Depth: 1", s.url+"domains/"); status(h) != "207" || !strings.Contains(body, "<D:href>/domains/MediaDomain/</D:href>") {
		t.Errorf("PROPFIND depth 1: %s\n%.500s", status(h), body)
	}
}

// A non-loopback address is refused without a user and TLS; with both it serves https
// with the printed certificate, and asks for the password.
func TestServeNonLoopbackNeedsCredentialsAndTLS(t *testing.T) {
	testenv.RequireTool(t, "curl")
	sample := filepath.Join(samples, "ios14-mvt")
	for _, c := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"--addr", "0.0.0.0:0"}},
		{nil, []string{"--addr", ":0"}},
		{[]string{"IOSBACKUP_SERVE_PASSWORD=s3cret"}, []string{"--addr", "0.0.0.0:0", "--user", "u"}},
		{nil, []string{"--addr", "0.0.0.0:0", "--tls-self-signed"}},
		{nil, []string{"--addr", "0.0.0.0:0", "--user", "u", "--tls-self-signed"}}, // no password
	} {
		out, err := cli(t, c.env, append(append([]string{"serve"}, c.args...), sample)...)
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 2 || !(strings.Contains(out, "not a loopback address") || strings.Contains(out, "needs a password")) {
			t.Errorf("serve %q: exit %d, want 2 and a refusal:\n%s", c.args, code, out)
		}
	}

	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("s3cret\n"), 0o600)
	s := startServe(t, nil, "--addr", "0.0.0.0:0", "--user", "examiner", "--user-password-file", pwFile, "--tls-self-signed", sample)
	if !strings.HasPrefix(s.url, "https://") || s.fingerprint == "" {
		t.Fatalf("served at %s, fingerprint %q", s.url, s.fingerprint)
	}
	conn, err := tls.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(s.url, "https://"), "/"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	conn.Close()
	if got := strings.ReplaceAll(s.fingerprint, ":", ""); !strings.EqualFold(got, fmt.Sprintf("%x", sum)) {
		t.Errorf("printed fingerprint %s, certificate's %x", s.fingerprint, sum)
	}
	code := func(args ...string) string {
		out, err := runTool(t, "curl", append([]string{"-k", "-s", "-o", "/dev/null", "-w", "%{http_code}"}, args...)...)
		if err != nil {
			t.Fatalf("curl %q: %v %s", args, err, out)
		}
		return out
	}
	if c := code("-X", "PROPFIND", "-H", "Depth: 0", s.url); c != "401" {
		t.Errorf("no credentials: %s, want 401", c)
	}
	if c := code("-u", "examiner:wrong", "-X", "PROPFIND", "-H", "Depth: 0", s.url); c != "401" {
		t.Errorf("wrong password: %s, want 401", c)
	}
	if c := code("-u", "someone:s3cret", "-X", "PROPFIND", "-H", "Depth: 0", s.url); c != "401" {
		t.Errorf("wrong user: %s, want 401", c)
	}
	if c := code("-u", "examiner:s3cret", "-X", "PROPFIND", "-H", "Depth: 0", s.url); c != "207" {
		t.Errorf("right credentials: %s, want 207", c)
	}
	if c := code("-u", "examiner:s3cret", "-X", "PUT", "--data", "x", s.url+"x"); c != "403" {
		t.Errorf("authenticated PUT: %s, want 403", c)
	}
}

// litmus, the WebDAV compliance suite, against the read-only server: its basic and
// props groups start by creating a collection (MKCOL), which a read-only server
// refuses, so only "init" can pass; what matters is that every request it sends is
// answered, it finishes, and nothing was created.
func TestServeLitmus(t *testing.T) {
	litmus := testenv.RequireTool(t, "litmus")
	s := startServe(t, nil, filepath.Join(samples, "ios14-mvt"))
	for _, group := range []string{"basic", "props", "http"} {
		cmd := exec.Command(litmus, s.url)
		cmd.Dir = t.TempDir() // its debug.log
		cmd.Env = append(os.Environ(), "TESTS="+group)
		out, _ := cmd.CombinedOutput()
		t.Logf("litmus %s:\n%s", group, out)
		text := string(out)
		if !strings.Contains(text, "init.................. pass") {
			t.Errorf("litmus %s: init did not pass", group)
		}
		if !strings.Contains(text, "<- summary for `"+group+"'") {
			t.Errorf("litmus %s did not finish its run", group)
		}
		if !strings.Contains(text, "403 Forbidden") {
			t.Errorf("litmus %s: the MKCOL it starts with was not refused with 403", group)
		}
	}
	out, err := runTool(t, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PROPFIND", "-H", "Depth: 0", s.url+"litmus/")
	if err != nil || out != "404" {
		t.Errorf("after litmus, /litmus/: %s %v, want 404", out, err)
	}
}

// A backup with snapshots is served as the mount shows it: latest/ and
// history/<time>/, each reading its own revision.
func TestServeShowsHistory(t *testing.T) {
	testenv.RequireTool(t, "curl")
	isolate(t)
	live, srcs := captureRevisions(t, t.TempDir(), 2)
	snaps, err := os.ReadDir(live + ".history")
	if err != nil || len(snaps) != 1 {
		t.Fatalf("history: %v %v", snaps, err)
	}
	s := startServe(t, nil, live)
	for i, p := range []string{"history/" + snaps[0].Name(), "latest"} {
		want, err := readSourceFile(srcs[i], "HomeDomain", "Library/SMS/sms.db")
		if err != nil {
			t.Fatal(err)
		}
		got, err := runTool(t, "curl", "-sS", "-f", s.url+p+"/domains/HomeDomain/Library/SMS/sms.db")
		if err != nil || got != string(want) {
			t.Errorf("%s: sms.db of revision %d: %v (%d bytes, want %d)", p, i, err, len(got), len(want))
		}
	}
}
