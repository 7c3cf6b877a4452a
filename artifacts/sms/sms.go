// Package sms reads conversations from a backup's Messages database (HomeDomain
// Library/SMS/sms.db) into plain records: chats with their members, and their
// messages with text (from the text column, else decoded from the typedstream
// attributedBody), edits, unsends, reactions and attachments mapped to the backup's
// files. Columns are discovered from the file's schema, so every iOS release from 5
// on reads with the same code.
//
// Chats are listed without touching a message's body; a chat's messages are decoded
// only when asked for, so a view can list conversations of a 100,000-message database
// cheaply.
package sms

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/backup"
)

// Where the database lives in a backup.
const (
	Domain = "HomeDomain"
	Path   = "Library/SMS/sms.db"
)

// DB is an open Messages database of one backup.
type DB struct {
	b      *backup.Backup
	db     *sql.DB
	schema sqlitex.Schema
	// byHandle: the database has no chat tables (iOS 5 and synthetic ones): each handle
	// is one conversation.
	byHandle bool

	skipped atomic.Int64
	damaged atomic.Int64
}

// Open opens the backup's sms.db through the backup's (decrypting) reader.
func Open(ctx context.Context, b *backup.Backup) (*DB, error) {
	db, err := b.OpenSQLite(Domain, Path)
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	s, err := sqlitex.ReadSchema(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("messages: %s/%s: %w", Domain, Path, err)
	}
	if !s.Has("message", "ROWID") || !s.Has("handle", "ROWID", "id") {
		db.Close()
		return nil, fmt.Errorf("messages: %s/%s: no message and handle tables", Domain, Path)
	}
	d := &DB{b: b, db: db, schema: s}
	d.byHandle = !s.Has("chat", "ROWID") || !s.Has("chat_message_join", "chat_id", "message_id")
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Skipped is the number of rows left out because they could not be read.
func (d *DB) Skipped() int64 { return d.skipped.Load() }

// Damaged is the number of messages shown without text because their attributedBody
// could not be decoded.
func (d *DB) Damaged() int64 { return d.damaged.Load() }

// Chat is one conversation.
type Chat struct {
	ID          int64  // chat ROWID (handle ROWID when the database has no chats)
	GUID        string // e.g. iMessage;-;+15550100123
	Identifier  string // chat_identifier: a handle, or chatNNN for a group
	DisplayName string // the group's name, when it was given one
	Service     string
	Members     []string // the handles' ids (phone numbers, emails), in ROWID order
	Messages    int      // how many messages it holds
	Last        time.Time
}

// IsGroup reports whether the chat has more than one other member.
func (c *Chat) IsGroup() bool { return len(c.Members) > 1 }

// Message is one message of a chat.
type Message struct {
	RowID   int64
	GUID    string
	Date    time.Time
	FromMe  bool
	Sender  string // the handle's id; "" when FromMe
	Service string
	// Text is the text column, else the text of attributedBody; U+FFFC marks where an
	// attachment sits.
	Text     string
	Links    []string // from attributedBody
	Mentions []string // handles mentioned, from attributedBody
	// Edited and Retracted (unsent) are zero unless the message was edited or unsent
	// (iOS 16+).
	Edited, Retracted time.Time
	// Edits is the edit history of an edited message, oldest version first (the last
	// is the current text), from message_summary_info; nil when it holds none.
	Edits       []Edit
	Reaction    *Reaction
	Attachments []Attachment
	// Subject is the MMS subject line.
	Subject string
}

// ReactionKind names a tapback.
type ReactionKind string

// Reaction is a tapback on another message: associated_message_type 2000-2007 adds
// one, 3000-3007 removes it.
type Reaction struct {
	Kind    ReactionKind // love, like, dislike, laugh, emphasize, question, emoji, sticker
	Removed bool
	Emoji   string // the emoji of an emoji tapback (iOS 17+)
	Target  string // the GUID of the message reacted to
}

var reactionKinds = []ReactionKind{"love", "like", "dislike", "laugh", "emphasize", "question", "emoji", "sticker"}

// Attachment is a file sent or received with a message.
type Attachment struct {
	RowID        int64
	GUID         string
	Filename     string // as stored: ~/Library/SMS/Attachments/ab/12/GUID/IMG_1.HEIC
	TransferName string // the name it was sent under
	MIMEType     string
	TotalBytes   int64
	Created      time.Time
	// Domain and Path locate the file in the backup; empty when the backup does not
	// hold it (Missing).
	Domain, Path string
	Missing      bool
}
