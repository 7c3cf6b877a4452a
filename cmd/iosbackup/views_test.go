//go:build linux

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"iosbackup/artifacts/contacts"
	"iosbackup/artifacts/export"
	"iosbackup/artifacts/sms"
	"iosbackup/backup"
	"iosbackup/fs/dav"
	"iosbackup/fs/fuse"
	"iosbackup/fs/view"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

const viewsPassword = "views test"

// countingSource is the command's adapter with the chats decoded counted: a listing of
// messages/ must decode none.
type countingSource struct {
	backupSource
	decoded *atomic.Int64
}

func (s countingSource) Messages() (view.Messages, error) {
	m, err := s.backupSource.Messages()
	if err != nil {
		return nil, err
	}
	return countingMessages{m, s.decoded}, nil
}

type countingMessages struct {
	db      view.Messages
	decoded *atomic.Int64
}

func (m countingMessages) Chats(ctx context.Context) ([]sms.Chat, error) { return m.db.Chats(ctx) }
func (m countingMessages) Skipped() int64                                { return m.db.Skipped() }
func (m countingMessages) Damaged() int64                                { return m.db.Damaged() }

func (m countingMessages) Messages(ctx context.Context, id int64, fn func(*sms.Message) error) error {
	m.decoded.Add(1)
	return m.db.Messages(ctx, id, fn)
}

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type viewsMount struct {
	dir     string
	root    *view.Root
	b       *backup.Backup
	decoded *atomic.Int64
	logs    *lockedLog
}

func genViewsBackup(t *testing.T, opt gen.Options) *gen.Truth {
	t.Helper()
	if opt.Encrypted {
		opt.Password, opt.SHA256Rounds, opt.SHA1Rounds = viewsPassword, 1000, 10
	}
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "backup"), opt)
	if err != nil {
		t.Fatal(err)
	}
	return truth
}

// mountViews opens the backup and mounts it in this process (to count the decodes),
// unmounting on cleanup.
func mountViews(t *testing.T, dir string) *viewsMount {
	t.Helper()
	testenv.RequireFUSE(t)
	b, err := backup.Open(dir, backup.Options{Password: func() ([]byte, error) { return []byte(viewsPassword), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	m := &viewsMount{dir: t.TempDir(), b: b, decoded: &atomic.Int64{}, logs: &lockedLog{}}
	src := countingSource{backupSource{b}, m.decoded}
	m.root = view.New(view.Options{Logger: log.New(m.logs, "", 0)}, view.Backup{Source: src})
	server, err := fuse.Mount(m.dir, m.root, fuse.MountOptions{})
	if err != nil {
		testenv.Unavailable(t, "FUSE mount: "+err.Error())
	}
	t.Cleanup(func() {
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount %s: %v", m.dir, err)
		}
	})
	return m
}

func (m *viewsMount) path(p string) string { return filepath.Join(m.dir, p) }

func statT(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatalf("stat: %v", err)
	}
	return &st
}

// expectedConversations renders each chat with messages with the export's renderer,
// read independently of the mount, keyed by folder name as the export names them.
func expectedConversations(t *testing.T, b *backup.Backup) map[string]*export.Conversation {
	t.Helper()
	ctx := context.Background()
	res, err := contacts.Read(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sms.Open(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	chats, err := db.Chats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*export.Conversation{}
	for _, c := range chats {
		var msgs []*sms.Message
		if err := db.Messages(ctx, c.ID, func(m *sms.Message) error { msgs = append(msgs, m); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			continue
		}
		conv := export.NewConversation(c, msgs, res.Names())
		name := conv.Name
		for n := 2; out[name] != nil; n++ {
			name = fmt.Sprintf("%s (%d)", conv.Name, n)
		}
		conv.Name = name
		out[name] = conv
	}
	return out
}

func appleUnix(sec float64) int64 { return int64(math.Floor(sec)) + 978307200 }

// TestViewsThroughMount mounts generated backups of iOS releases (one encrypted, one
// of the old MBDB format) and reads every data view back against the generator's truth
// and the export's renderers.
func TestViewsThroughMount(t *testing.T) {
	for _, v := range []struct {
		name string
		opt  gen.Options
	}{
		{"iOS9", gen.Options{Seed: 3, Format: gen.FormatMBDB, ProductVersion: "9.3.5"}},
		{"iOS16-encrypted", gen.Options{Seed: 4, Format: gen.FormatDB, ProductVersion: "16.7.2", Encrypted: true}},
		{"iOS18", gen.Options{Seed: 5, Format: gen.FormatDB, ProductVersion: "18.1"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			truth := genViewsBackup(t, v.opt)
			m := mountViews(t, truth.Dir)

			// ls -l messages/ stats every conversation folder and decodes nothing.
			out, err := exec.Command("ls", "-l", m.path("messages")).CombinedOutput()
			if err != nil {
				t.Fatalf("ls -l messages: %v\n%s", err, out)
			}
			if n := m.decoded.Load(); n != 0 {
				t.Errorf("ls -l messages/ decoded %d conversations, want 0", n)
			}
			want := expectedConversations(t, m.b)
			listed, err := os.ReadDir(m.path("messages"))
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != len(want) || len(want) == 0 {
				t.Errorf("messages/ lists %d conversations, want %d", len(listed), len(want))
			}
			checkConversations(t, m, truth, want)
			checkPhotos(t, m, truth)
			checkContacts(t, m, truth)
			checkCalls(t, m, truth)
		})
	}
}

func checkConversations(t *testing.T, m *viewsMount, truth *gen.Truth, want map[string]*export.Conversation) {
	t.Helper()
	shownIn := map[int64][]string{} // chat ROWID -> texts the truth says are shown
	for _, msg := range truth.Messages {
		// U+FFFC marks where an attachment sits: the text shows the attachment instead.
		text := strings.TrimSpace(strings.ReplaceAll(msg.Shown, "\uFFFC", ""))
		if text != "" && msg.ReactionType == 0 && msg.DateRetracted == 0 {
			shownIn[msg.ChatID] = append(shownIn[msg.ChatID], text)
		}
	}
	attachments := 0
	for name, conv := range want {
		dir := m.path("messages/" + name)
		got, err := os.ReadFile(dir + "/messages.txt")
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		var exp bytes.Buffer
		if err := conv.WriteText(&exp); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, exp.Bytes()) {
			t.Errorf("%s/messages.txt differs from the export's rendering:\n%s\nwant:\n%s", name, got, exp.Bytes())
		}
		for _, s := range shownIn[conv.Chat.ID] {
			if !strings.Contains(string(got), strings.Split(s, "\n")[0]) {
				t.Errorf("%s/messages.txt lacks %q", name, s)
			}
		}
		if fi := statT(t, dir+"/messages.txt"); fi.Size != int64(len(got)) {
			t.Errorf("%s/messages.txt: stat size %d, read %d bytes", name, fi.Size, len(got))
		}
		html, err := os.ReadFile(dir + "/messages.html")
		if err != nil || !bytes.Contains(html, []byte("<html")) {
			t.Errorf("%s/messages.html: %v, %.100q", name, err, html)
		}
		for _, msg := range conv.Messages {
			for _, a := range msg.Attachments {
				file := conv.Files[a.RowID]
				if file == "" {
					continue
				}
				attachments++
				got := statT(t, dir+"/attachments/"+file)
				orig := statT(t, m.path("domains/"+a.Domain+"/"+a.Path))
				if got.Ino != orig.Ino || got.Mtim != orig.Mtim || got.Size != orig.Size {
					t.Errorf("%s/attachments/%s: ino %d mtime %v size %d, original %d %v %d", name, file,
						got.Ino, got.Mtim, got.Size, orig.Ino, orig.Mtim, orig.Size)
				}
			}
		}
	}
	if attachments == 0 {
		t.Errorf("no attachment checked")
	}
}

func checkPhotos(t *testing.T, m *viewsMount, truth *gen.Truth) {
	t.Helper()
	checked, inAlbums := 0, 0
	for _, p := range truth.Photos {
		created := time.Unix(appleUnix(p.Created), 0).In(time.Local)
		rel := "photos/by-date/" + created.Format("2006") + "/" + created.Format("2006-01-02") + "/" + p.Filename
		if p.Missing {
			if _, err := os.Stat(m.path(rel)); err == nil {
				t.Errorf("%s: shown, but the backup lacks it", rel)
			}
			continue
		}
		checked++
		got := statT(t, m.path(rel))
		orig := statT(t, m.path("domains/CameraRollDomain/Media/"+p.Directory+"/"+p.Filename))
		if got.Ino != orig.Ino {
			t.Errorf("%s: inode %d, original's %d", rel, got.Ino, orig.Ino)
		}
		if got.Mtim.Sec != created.Unix() || orig.Mtim.Sec != created.Unix() {
			t.Errorf("%s: mtime %d (original %d), want the creation date %d", rel, got.Mtim.Sec, orig.Mtim.Sec, created.Unix())
		}
		for _, al := range p.Albums {
			inAlbums++
			if a := statT(t, m.path("photos/albums/"+export.SafeName(al)+"/"+p.Filename)); a.Ino != orig.Ino {
				t.Errorf("album %s: %s is inode %d, original %d", al, p.Filename, a.Ino, orig.Ino)
			}
		}
	}
	if checked == 0 || inAlbums == 0 {
		t.Errorf("checked %d photos, %d album placements", checked, inAlbums)
	}
}

func checkContacts(t *testing.T, m *viewsMount, truth *gen.Truth) {
	t.Helper()
	f, err := os.Open(m.path("contacts/all.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vcard.NewDecoder(f)
	var got []string
	for {
		card, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("contacts/all.vcf: %v", err)
		}
		got = append(got, card.PreferredValue(vcard.FieldFormattedName))
	}
	var want []string
	for _, c := range truth.Contacts {
		want = append(want, c.FullName)
		if _, err := os.Stat(m.path("contacts/" + export.SafeName(c.FullName) + ".vcf")); err != nil {
			t.Errorf("%v", err)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("all.vcf names:\n%q\nwant:\n%q", got, want)
	}
}

func checkCalls(t *testing.T, m *viewsMount, truth *gen.Truth) {
	t.Helper()
	f, err := os.Open(m.path("calls/calls.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("calls.csv: %v", err)
	}
	if len(rows) != len(truth.Calls)+1 {
		t.Fatalf("calls.csv has %d rows, want a header and %d calls", len(rows), len(truth.Calls))
	}
	for i, c := range truth.Calls {
		r := rows[i+1]
		when := time.Unix(appleUnix(c.Date), 0).In(time.Local).Format(time.RFC3339)
		dir := map[bool]string{true: "outgoing", false: "incoming"}[c.Outgoing]
		if r[0] != when || r[1] != dir || r[4] != c.Address {
			t.Errorf("calls.csv row %d: %q, want %s %s %s", i+1, r, when, dir, c.Address)
		}
	}
}

// TestViewsWithoutSMSDB: a backup whose sms.db blob is gone shows no messages/ (the
// other views stay), and the log says why once however often the root is listed.
func TestViewsWithoutSMSDB(t *testing.T) {
	truth := genViewsBackup(t, gen.Options{Seed: 6, Format: gen.FormatDB, ProductVersion: "17.5.1"})
	b, err := backup.Open(truth.Dir, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	i, ok := b.Index.Lookup(sms.Domain, sms.Path)
	if !ok {
		t.Fatal("the generated backup has no sms.db")
	}
	blob := b.BlobPath(b.Index.Entry(i))
	b.Close()
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	m := mountViews(t, truth.Dir)
	for range 3 {
		names, err := os.ReadDir(m.dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range names {
			got = append(got, n.Name())
		}
		if strings.Join(got, " ") != "apps calls contacts device domains photos" {
			t.Errorf("root lists %q", got)
		}
	}
	if _, err := os.Stat(m.path("messages")); !os.IsNotExist(err) {
		t.Errorf("messages/: %v, want no such folder", err)
	}
	if n := strings.Count(m.logs.String(), "no messages/ view"); n != 1 {
		t.Errorf("the log says %d times why messages/ is missing, want once:\n%s", n, m.logs.String())
	}
	if !strings.Contains(m.logs.String(), "sms.db") {
		t.Errorf("the log does not name sms.db:\n%s", m.logs.String())
	}
}

// TestViewsServedOverDAV: serve's handler shows the same messages.txt as the export.
func TestViewsServedOverDAV(t *testing.T) {
	truth := genViewsBackup(t, gen.Options{Seed: 7, Format: gen.FormatDB, ProductVersion: "14.8"})
	b, err := backup.Open(truth.Dir, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	root := view.New(view.Options{Logger: log.New(io.Discard, "", 0)}, view.Backup{Source: fromBackup(b)})
	srv := httptest.NewServer(dav.Handler(root, dav.Options{Logger: log.New(io.Discard, "", 0)}))
	defer srv.Close()
	want := expectedConversations(t, b)
	if len(want) == 0 {
		t.Fatal("no conversations")
	}
	for name, conv := range want {
		resp, err := http.Get(srv.URL + "/messages/" + url.PathEscape(name) + "/messages.txt")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %s", name, err, resp.Status)
		}
		var exp bytes.Buffer
		if err := conv.WriteText(&exp); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, exp.Bytes()) {
			t.Errorf("served %s/messages.txt differs from the export's:\n%s\nwant:\n%s", name, got, exp.Bytes())
		}
	}
}

// TestViewsSkipDamagedMessage: a message row whose date is not a number is left out of
// its conversation (counted in the log), and every conversation is still shown.
func TestViewsSkipDamagedMessage(t *testing.T) {
	truth := genViewsBackup(t, gen.Options{Seed: 9, Format: gen.FormatDB, ProductVersion: "16.7"})
	// Damage our own generated copy's sms.db blob in place.
	id := truth.Lookup(sms.Domain, sms.Path).ID().String()
	raw, err := sql.Open("sqlite", filepath.Join(truth.Dir, id[:2], id))
	if err != nil {
		t.Fatal(err)
	}
	var damaged gen.Message
	for _, m := range truth.Messages {
		if m.Shown != "" && !strings.ContainsRune(m.Shown, '\uFFFC') && m.ReactionType == 0 {
			damaged = m
			break
		}
	}
	if _, err := raw.Exec(`UPDATE message SET date = 'not a date' WHERE ROWID = ?`, damaged.RowID); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	m := mountViews(t, truth.Dir)
	want := expectedConversations(t, m.b) // the export's reader skips the row as well
	listed, err := os.ReadDir(m.path("messages"))
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(want) || len(want) < 2 {
		t.Errorf("messages/ lists %d conversations, want %d", len(listed), len(want))
	}
	found := false
	for name, conv := range want {
		got, err := os.ReadFile(m.path("messages/" + name + "/messages.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if conv.Chat.ID == damaged.ChatID {
			found = true
			if strings.Contains(string(got), damaged.Shown) {
				t.Errorf("%s shows the damaged message %q", name, damaged.Shown)
			}
			if len(got) == 0 {
				t.Errorf("%s is empty: the whole conversation was dropped", name)
			}
		}
	}
	if !found {
		t.Fatalf("no conversation for chat %d", damaged.ChatID)
	}
	if !strings.Contains(m.logs.String(), ": 1 damaged messages skipped") {
		t.Errorf("the log does not count the damaged message:\n%s", m.logs.String())
	}
}
