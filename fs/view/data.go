package view

import (
	"context"

	"iosbackup/artifacts/calls"
	"iosbackup/artifacts/contacts"
	"iosbackup/artifacts/photos"
	"iosbackup/artifacts/sms"
)

// Data is optionally implemented by a Source that can read the backup's databases
// (Messages, address book, call history, Photos library). The artifacts readers need
// the backup's decrypting SQLite opener, which view must not know (it never imports
// backup/): the caller's adapter opens them and view only renders what they return.
// A Source without Data shows no messages/, contacts/, calls/, photos/by-date or
// photos/albums.
//
// Each method is called at most once per tree, on first access of the backup's folder.
type Data interface {
	// Messages opens sms.db; *sms.DB satisfies Messages.
	Messages() (Messages, error)
	Contacts() (*contacts.Result, error)
	Calls() (*calls.Result, error)
	Photos() (*photos.Result, error)
}

// Messages is an opened Messages database as the messages/ view reads it: the chats
// (listed without decoding any message) and one chat's messages, decoded when a
// conversation's folder or files are first used.
type Messages interface {
	Chats(ctx context.Context) ([]sms.Chat, error)
	Messages(ctx context.Context, chatID int64, fn func(*sms.Message) error) error
	Skipped() int64
	Damaged() int64
}

var _ Messages = (*sms.DB)(nil)
