package dav

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"iosbackup/backup"
	"iosbackup/fs/view"
	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// A generated backup opened by package backup, adapted to the tree as the command
// does, counting the files it opens.
type countingSource struct {
	b     *backup.Backup
	opens atomic.Int64
}

func (s *countingSource) Index() *manifest.Index                    { return s.b.Index }
func (s *countingSource) FileSize(e *manifest.Entry) (int64, error) { return s.b.FileSize(e) }
func (s *countingSource) AppName(id string) string                  { return s.b.AppName(id) }
func (s *countingSource) Name() string                              { return s.b.Name() }

func (s *countingSource) OpenFile(e *manifest.Entry) (view.Reader, error) {
	s.opens.Add(1)
	f, err := s.b.OpenFile(e)
	if err != nil {
		return nil, err
	}
	return f, nil
}

const password = "dav test"

func openGenerated(t *testing.T, opt gen.Options) (*gen.Truth, *countingSource) {
	t.Helper()
	opt.Encrypted, opt.Password = true, password
	opt.SHA256Rounds, opt.SHA1Rounds = 1000, 10
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "b"), opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := backup.Open(truth.Dir, backup.Options{Password: func() ([]byte, error) { return []byte(password), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return truth, &countingSource{b: b}
}

// Listing folders never opens a file: types come from names and ETags from inodes, so
// no 512-byte sniff decrypts anything.
func TestPropfindOpensNoFile(t *testing.T) {
	_, src := openGenerated(t, gen.Options{Seed: 81, Format: gen.FormatDB, Entries: 200})
	srv := httptest.NewServer(Handler(view.New(view.Options{}, view.Backup{Source: src}), Options{}))
	defer srv.Close()
	walked := 0
	var walk func(p string)
	walk = func(p string) {
		req, _ := http.NewRequest("PROPFIND", srv.URL+p, nil)
		req.Header.Set("Depth", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 207 {
			t.Fatalf("PROPFIND %s: %s", p, resp.Status)
		}
		walked++
		for _, part := range strings.Split(string(body), "<D:href>")[1:] {
			href := part[:strings.Index(part, "</D:href>")]
			if strings.HasSuffix(href, "/") && href != p && len(href) > len(p) {
				walk(href)
			}
		}
	}
	walk("/domains/")
	if walked < 20 {
		t.Fatalf("walked only %d folders", walked)
	}
	if n := src.opens.Load(); n != 0 {
		t.Errorf("listing %d folders opened %d files", walked, n)
	}
}

// Reads at any offset, in any size, across the 1 MiB read-ahead chunk and AES blocks,
// give the generator's bytes; a Seek past the end reads nothing.
func TestFileSeekAndRead(t *testing.T) {
	const big = 2<<20 + 333
	truth, src := openGenerated(t, gen.Options{Seed: 82, Format: gen.FormatDB, Entries: 80, BigFileSize: big})
	want, err := io.ReadAll(truth.Lookup("MediaDomain", "Media/Recordings/big.mov").Content())
	if err != nil {
		t.Fatal(err)
	}
	fs := NewFileSystem(view.New(view.Options{}, view.Backup{Source: src}))
	ctx := context.Background()
	f, err := fs.OpenFile(ctx, "/domains/MediaDomain/Media/Recordings/big.mov", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewSource(1))
	offsets := []int64{0, 15, 16, 4095, readChunk - 1, readChunk, readChunk + 1, 2*readChunk - 7, big - 1}
	for range 40 {
		offsets = append(offsets, rng.Int63n(big))
	}
	for _, off := range offsets {
		n := 1 + rng.Intn(70000)
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		k, err := io.ReadFull(f, got)
		end := min(off+int64(n), big)
		if !bytes.Equal(got[:k], want[off:end]) || (err != nil && end-off == int64(n)) {
			t.Fatalf("read %d at %d: %d bytes, %v, equal %v", n, off, k, err, bytes.Equal(got[:k], want[off:end]))
		}
	}
	if pos, err := f.Seek(0, io.SeekEnd); err != nil || pos != big {
		t.Errorf("seek to end: %d %v", pos, err)
	}
	if k, err := f.Read(make([]byte, 10)); k != 0 || err != io.EOF {
		t.Errorf("read at the end: %d %v", k, err)
	}
	if _, err := f.Seek(-1, io.SeekStart); err == nil {
		t.Errorf("negative seek accepted")
	}
}

// The file system refuses every write itself, whatever reaches it, and does not
// serve symlinks.
func TestFileSystemReadOnly(t *testing.T) {
	truth, src := openGenerated(t, gen.Options{Seed: 83, Format: gen.FormatDB, Entries: 80})
	fs := NewFileSystem(view.New(view.Options{}, view.Backup{Source: src}))
	ctx := context.Background()
	file := "/domains/HomeDomain/Library/SMS/sms.db"
	for _, flag := range []int{os.O_WRONLY, os.O_RDWR, os.O_RDONLY | os.O_CREATE, os.O_RDONLY | os.O_TRUNC, os.O_WRONLY | os.O_APPEND} {
		if _, err := fs.OpenFile(ctx, file, flag, 0o644); !errors.Is(err, os.ErrPermission) {
			t.Errorf("open flag %#x: %v, want permission denied", flag, err)
		}
	}
	if err := fs.Mkdir(ctx, "/domains/x", 0o755); !errors.Is(err, os.ErrPermission) {
		t.Errorf("mkdir: %v", err)
	}
	if err := fs.RemoveAll(ctx, file); !errors.Is(err, os.ErrPermission) {
		t.Errorf("remove: %v", err)
	}
	if err := fs.Rename(ctx, file, file+".x"); !errors.Is(err, os.ErrPermission) {
		t.Errorf("rename: %v", err)
	}
	f, err := fs.OpenFile(ctx, file, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrPermission) {
		t.Errorf("write: %v", err)
	}
	f.Close()
	links := 0
	for _, e := range truth.Entries {
		if e.Kind != manifest.KindSymlink {
			continue
		}
		links++
		if _, err := fs.Stat(ctx, "/domains/"+e.Domain+"/"+e.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("symlink %s/%s: %v, want not served", e.Domain, e.Path, err)
		}
		// path, not filepath: WebDAV and manifest paths are slash-separated on Windows too.
		dir, err := fs.OpenFile(ctx, "/domains/"+e.Domain+"/"+path.Dir(e.Path), os.O_RDONLY, 0)
		if err != nil {
			t.Fatalf("the folder of symlink %s/%s: %v", e.Domain, e.Path, err)
		}
		infos, _ := dir.Readdir(0)
		for _, fi := range infos {
			if fi.Name() == path.Base(e.Path) {
				t.Errorf("symlink %s listed", e.Path)
			}
		}
	}
	if links == 0 {
		t.Errorf("the generated backup has no symlinks to check")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:1": true, "[::1]:80": true, "localhost:8080": true, "LOCALHOST:1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:80": false, "192.168.1.2:80": false, "example.com:80": false,
	} {
		if got, err := IsLoopback(addr); err != nil || got != want {
			t.Errorf("IsLoopback(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
	if _, err := IsLoopback("127.0.0.1"); err == nil {
		t.Errorf("an address without a port accepted")
	}
}

// The self-signed certificate names the hosts, and the fingerprint is its SHA-256.
func TestSelfSigned(t *testing.T) {
	cert, fp, err := SelfSigned([]string{"localhost", "127.0.0.1", "phone.local"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "phone.local"} {
		if err := c.VerifyHostname(h); err != nil {
			t.Errorf("certificate for %s: %v", h, err)
		}
	}
	sum := sha256.Sum256(cert.Certificate[0])
	if strings.ReplaceAll(fp, ":", "") != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Errorf("fingerprint %s, want %X", fp, sum)
	}
}

// Many clients at once: parallel ranged GETs of one encrypted file and PROPFINDs all
// get the right answers.
func TestManyClients(t *testing.T) {
	const big = 1<<20 + 4097
	truth, src := openGenerated(t, gen.Options{Seed: 84, Format: gen.FormatDB, Entries: 80, BigFileSize: big})
	want, err := io.ReadAll(truth.Lookup("MediaDomain", "Media/Recordings/big.mov").Content())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(view.New(view.Options{}, view.Backup{Source: src}), Options{}))
	defer srv.Close()
	url := srv.URL + "/device/var/mobile/Media/Recordings/big.mov"
	errs := make(chan error, 16)
	for g := range 16 {
		go func() {
			off := int64(g) * 65521 % big
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			if g%4 == 3 {
				req, _ = http.NewRequest("PROPFIND", srv.URL+"/domains/", nil)
				req.Header.Set("Depth", "1")
			} else {
				req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case err != nil:
				errs <- err
			case g%4 == 3 && (resp.StatusCode != 207 || !bytes.Contains(body, []byte("/domains/MediaDomain/"))):
				errs <- fmt.Errorf("PROPFIND: %s", resp.Status)
			case g%4 != 3 && (resp.StatusCode != 206 || !bytes.Equal(body, want[off:])):
				errs <- fmt.Errorf("GET from %d: %s, %d bytes", off, resp.Status, len(body))
			default:
				errs <- nil
			}
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
