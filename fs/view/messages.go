package view

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"iosbackup/artifacts/export"
	"iosbackup/artifacts/sms"
	"iosbackup/manifest"
)

// messages/<conversation>/messages.txt, messages.html and attachments/<date> <name>:
// one folder per chat with messages, named as `iosbackup export messages` names it.
// Listing messages/ reads only the chats (sms Chats); a conversation's messages are
// decoded when its folder is first listed or one of its files first used, then kept.
func (t *tree) messagesDir(db Messages, names export.Names) (Node, error) {
	chats, err := db.Chats(context.Background())
	if err != nil {
		return nil, err
	}
	t.noteSkipped("messages/", db.Skipped())
	b := memBuilder{}
	used := map[string]bool{}
	for _, c := range chats {
		if c.Messages == 0 {
			continue // the export writes no folder for an empty chat either
		}
		base := export.ConversationName(c, names)
		name := base
		for n := 2; used[strings.ToLower(name)]; n++ {
			name = fmt.Sprintf("%s (%d)", base, n)
		}
		used[strings.ToLower(name)] = true
		when := t.when
		if !c.Last.IsZero() {
			when = c.Last.Unix()
		}
		b[name] = &convDir{t: t, db: db, chat: c, names: names, name: name,
			path: "messages/" + name, when: when}
	}
	return b.dir(t, "messages", t.when), nil
}

// convDir is one conversation's folder.
type convDir struct {
	t     *tree
	db    Messages
	chat  sms.Chat
	names export.Names
	name  string
	path  string
	when  int64

	once sync.Once
	dir  *memDir // messages.txt, messages.html, attachments/
}

var _ Dir = (*convDir)(nil)

func (d *convDir) Ino() uint64               { return d.t.dirIno(d.path) }
func (d *convDir) Kind() Kind                { return KindDir }
func (d *convDir) XAttrs() map[string][]byte { return nil }
func (d *convDir) Prefetch()                 {}

// Attr has attachments/ counted without decoding: ls -l messages/ must stay cheap.
func (d *convDir) Attr() Attr {
	return Attr{Ino: d.Ino(), Kind: KindDir, Perm: 0o555, Nlink: 3, UID: d.t.c.uid, GID: d.t.c.gid,
		MTime: d.when, CTime: d.when, Birth: d.when}
}

func (d *convDir) Lookup(name string) Node { return d.load().Lookup(name) }
func (d *convDir) List() Cursor            { return d.load().List() }

// load decodes the chat's messages and makes its files. A chat whose messages cannot
// be read shows a folder holding only the error's note.
func (d *convDir) load() *memDir {
	d.once.Do(func() {
		var msgs []*sms.Message
		err := d.db.Messages(context.Background(), d.chat.ID, func(m *sms.Message) error {
			msgs = append(msgs, m)
			return nil
		})
		b := memBuilder{}
		if err != nil {
			d.t.c.log.Printf("iosbackup: %s: %s: %v", d.t.src.Name(), d.path, err)
			b["README.txt"] = &noteFile{c: d.t.c, ino: hashIno(d.t.id, inoGen, d.path+"/README.txt", ""),
				text: []byte(fmt.Sprintf("The messages of this conversation could not be read: %v\n", err)), when: d.when}
			d.dir = b.dir(d.t, d.path, d.when)
			return
		}
		if n := d.chat.Messages - len(msgs); n > 0 {
			// Chats counts every row; the reader skips the ones it cannot read.
			d.t.c.log.Printf("iosbackup: %s: %s: %d damaged messages skipped", d.t.src.Name(), d.path, n)
		}
		conv := export.NewConversation(d.chat, msgs, d.names)
		conv.Name = d.name
		// Both are rendered now, from the one decode: the decoded messages (several
		// times the size of the text) are then dropped, not kept for the mount's life.
		txt := newGenFile(d.t, d.path+"/messages.txt", d.when, conv.WriteText)
		html := newGenFile(d.t, d.path+"/messages.html", d.when, conv.WriteHTML)
		txt.load()
		html.load()
		b["messages.txt"], b["messages.html"] = txt, html
		if att := d.attachments(conv); len(att) > 0 {
			b["attachments"] = att.dir(d.t, d.path+"/attachments", d.when)
		}
		d.dir = b.dir(d.t, d.path, d.when)
	})
	return d.dir
}

// attachments are the backup's own file nodes (the same inodes as under domains/),
// named as the export names them; attachments the backup lacks are left out.
func (d *convDir) attachments(conv *export.Conversation) memBuilder {
	b := memBuilder{}
	for _, m := range conv.Messages {
		for _, a := range m.Attachments {
			name := conv.Files[a.RowID]
			if name == "" || len(name) > MaxNameLen {
				continue
			}
			idx, ok := d.t.ix.Lookup(a.Domain, a.Path)
			if !ok || d.t.ix.Entry(idx).Kind != manifest.KindFile {
				continue
			}
			b[name] = &fileNode{t: d.t, idx: idx}
		}
	}
	return b
}
