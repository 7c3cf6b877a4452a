package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/jpeg"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"iosbackup/artifacts/internal/gentest"
	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/internal/gen"
)

// folderOf is the conversation folder the export must make for a chat of the truth:
// the group's name, else its members' handles (no address book names here).
func folderOf(c gen.Chat) string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	return strings.Join(c.Members, ", ")
}

func TestExportMessagesMatchTruth(t *testing.T) {
	for _, v := range gentest.Versions {
		t.Run(v.Name, func(t *testing.T) {
			truth, b := gentest.Generate(t, v)
			dest := filepath.Join(t.TempDir(), "out")
			var calls int
			st, err := Messages(context.Background(), b, dest, Options{Formats: []string{"txt", "html", "json"},
				Progress: func(done, total int64) {
					calls++
					if done > total || total != int64(len(truth.Messages)) {
						t.Errorf("progress %d of %d", done, total)
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			if st.Items != len(truth.Chats) || st.Records != len(truth.Messages) || st.Missing != 1 || calls == 0 {
				t.Errorf("stats %+v (progress called %d times)", st, calls)
			}
			for _, c := range truth.Chats {
				var want []gen.Message
				for _, m := range truth.Messages {
					if m.ChatID == c.ID {
						want = append(want, m)
					}
				}
				dir := filepath.Join(dest, "messages", folderOf(c))
				checkText(t, truth, dir, want)
				checkJSON(t, dir, want)
				checkHTML(t, truth, dir, want)
			}
		})
	}
}

// checkText reads messages.txt: one line per message, local time, sender, and the
// text the truth says is shown (attachments, reactions and unsends in brackets).
func checkText(t *testing.T, truth *gen.Truth, dir string, want []gen.Message) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "messages.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%s: %d lines, want %d", dir, len(lines), len(want))
	}
	for i, w := range want {
		sender := w.Handle
		if w.FromMe {
			sender = "Me"
		}
		prefix := sqlitex.AppleTime(w.Date).In(time.Local).Format("2006-01-02 15:04:05") + "  " + sender + ": "
		body, ok := strings.CutPrefix(lines[i], prefix)
		if !ok {
			t.Errorf("line %q, want prefix %q", lines[i], prefix)
			continue
		}
		switch {
		case w.DateRetracted != 0:
			ok = body == "[unsent a message]"
		case w.ReactionType != 0:
			verb := map[int64]string{2000: "loved", 2006: "reacted 🔥 to", 3000: "removed love from"}[w.ReactionType]
			ok = body == "["+verb+" an attachment]"
		case len(w.Attachments) > 0:
			a := w.Attachments[0]
			if a.Missing {
				ok = body == "[attachment not in the backup: "+a.TransferName+"]"
			} else {
				name := strings.TrimPrefix(body, "[attachment: attachments/")
				name = strings.TrimSuffix(name, "]")
				ok = strings.HasSuffix(name, " "+a.TransferName) && checkAttachment(t, truth, filepath.Join(dir, "attachments", name), a, w)
			}
		case w.DateEdited != 0:
			ok = strings.HasPrefix(body, w.Shown+" [edited ") && strings.HasSuffix(body, "; before: “"+w.EditHistory[0]+"”]")
		default:
			ok = body == w.Shown
		}
		if !ok {
			t.Errorf("%s line %d: %q (message %+v)", filepath.Base(dir), i, body, w)
		}
	}
}

// checkAttachment compares an exported attachment with the backup's file, and its
// mtime with the message date (the attachment's creation, in seconds).
func checkAttachment(t *testing.T, truth *gen.Truth, path string, a gen.MessageAttachment, m gen.Message) bool {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return false
	}
	e := truth.Lookup(a.Domain, a.Path)
	want, _ := io.ReadAll(e.Content())
	if !bytes.Equal(got, want) {
		t.Errorf("%s: contents differ from %s/%s", path, a.Domain, a.Path)
		return false
	}
	fi, _ := os.Stat(path)
	if d := sqlitex.AppleTime(m.Date).Truncate(time.Second); !fi.ModTime().Equal(d) {
		t.Errorf("%s: mtime %v, want %v", path, fi.ModTime(), d)
	}
	return true
}

func checkJSON(t *testing.T, dir string, want []gen.Message) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "messages.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Messages []struct {
			ID          int64     `json:"id"`
			Date        time.Time `json:"date"`
			FromMe      bool      `json:"from_me"`
			Sender      string    `json:"sender"`
			Text        string    `json:"text"`
			Links       []string  `json:"links"`
			Attachments []struct {
				Missing bool `json:"missing"`
			} `json:"attachments"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	if len(got.Messages) != len(want) {
		t.Fatalf("%s: %d messages in JSON, want %d", dir, len(got.Messages), len(want))
	}
	for i, w := range want {
		g := got.Messages[i]
		sender := w.Handle
		if w.FromMe {
			sender = ""
		}
		if g.ID != w.RowID || g.Text != w.Shown || g.FromMe != w.FromMe || g.Sender != sender ||
			!g.Date.Equal(sqlitex.AppleTime(w.Date)) || !slices.Equal(g.Links, w.Links) || len(g.Attachments) != len(w.Attachments) {
			t.Errorf("%s JSON message %d: %+v, want %+v", filepath.Base(dir), i, g, w)
		}
	}
}

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{"meta": true, "img": true, "br": true, "link": true, "hr": true, "input": true}

// checkHTML tokenizes messages.html with x/net/html and checks every element is
// closed in order, one message div per message, every image resolves to a JPEG in
// attachments/, and the texts are there.
func checkHTML(t *testing.T, truth *gen.Truth, dir string, want []gen.Message) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "messages.html"))
	if err != nil {
		t.Fatal(err)
	}
	z := html.NewTokenizer(bytes.NewReader(data))
	var stack []string
	var text strings.Builder
	msgs, imgs := 0, 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatalf("%s: %v", dir, z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken:
			if !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
			for _, a := range tok.Attr {
				if tok.Data == "div" && a.Key == "id" && strings.HasPrefix(a.Val, "m") {
					msgs++
				}
				if tok.Data == "img" && a.Key == "src" {
					imgs++
					p, err := url.PathUnescape(a.Val)
					if err != nil {
						t.Errorf("img src %q: %v", a.Val, err)
						continue
					}
					f, err := os.Open(filepath.Join(dir, filepath.FromSlash(p)))
					if err != nil {
						t.Errorf("img src %q does not resolve: %v", a.Val, err)
						continue
					}
					if _, err := jpeg.Decode(f); err != nil {
						t.Errorf("img %q: not a JPEG: %v", a.Val, err)
					}
					f.Close()
				}
			}
		case html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("%s: </%s> closes %v", dir, tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
		case html.TextToken:
			text.WriteString(tok.Data)
		}
	}
	if len(stack) != 0 {
		t.Errorf("%s: unclosed %v", dir, stack)
	}
	wantImgs := 0
	for _, w := range want {
		for _, a := range w.Attachments {
			if !a.Missing {
				wantImgs++
			}
		}
		if w.ReactionType == 0 && w.DateRetracted == 0 {
			for _, part := range strings.Split(w.Shown, "\uFFFC") {
				if !strings.Contains(text.String(), part) {
					t.Errorf("%s: text %q not in the HTML", dir, part)
				}
			}
		}
	}
	if msgs != len(want) || imgs != wantImgs {
		t.Errorf("%s: %d message divs, %d images; want %d, %d", dir, msgs, imgs, len(want), wantImgs)
	}
}

func TestExportMessagesFilters(t *testing.T) {
	truth, b := gentest.Generate(t, gentest.Named("iOS17"))
	ctx := context.Background()
	// --conversation by display name: only that folder.
	dest := filepath.Join(t.TempDir(), "out")
	st, err := Messages(ctx, b, dest, Options{Conversation: "family 👪"})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dest, "messages"))
	if len(entries) != 1 || entries[0].Name() != "Family 👪" || st.Items != 1 {
		t.Errorf("conversation filter wrote %v", entries)
	}
	if _, err := Messages(ctx, b, t.TempDir(), Options{Conversation: "nobody"}); err == nil {
		t.Error("an unknown conversation is not an error")
	}

	// --since/--until: the middle of the messages' dates.
	var dates []time.Time
	for _, m := range truth.Messages {
		dates = append(dates, sqlitex.AppleTime(m.Date))
	}
	slices.SortFunc(dates, func(a, b time.Time) int { return a.Compare(b) })
	since, until := dates[3], dates[len(dates)-3]
	want := 0
	for _, d := range dates {
		if !d.Before(since) && d.Before(until) {
			want++
		}
	}
	st, err = Messages(ctx, b, filepath.Join(t.TempDir(), "out"), Options{Since: since, Until: until, Formats: []string{"json"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != want || want == 0 || want == len(dates) {
		t.Errorf("%d messages in range, want %d of %d", st.Records, want, len(dates))
	}

	// A second export into the same DEST replaces nothing.
	_, err = Messages(ctx, b, dest, Options{Conversation: "Family 👪"})
	if !errors.Is(err, ErrExists) {
		t.Errorf("export over an earlier one: %v, want ErrExists", err)
	}
	if _, err := Messages(ctx, b, t.TempDir(), Options{Formats: []string{"pdf"}}); err == nil {
		t.Error("format pdf accepted")
	}
}

// DEST may hold a symlink planted to lead outside: the export must not follow it.
func TestExportMessagesStaysInDest(t *testing.T) {
	_, b := gentest.Generate(t, gentest.Named("iOS14"))
	dest := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dest, "messages")); err != nil {
		t.Fatal(err)
	}
	_, err := Messages(context.Background(), b, dest, Options{})
	if err == nil {
		t.Fatal("export through a symlink leading out of DEST succeeded")
	}
	left, _ := os.ReadDir(outside)
	if len(left) != 0 {
		t.Errorf("written outside DEST: %v", left)
	}
}
