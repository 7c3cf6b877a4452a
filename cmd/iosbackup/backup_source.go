package main

import (
	"context"
	"os"

	"iosbackup/artifacts/calls"
	"iosbackup/artifacts/contacts"
	"iosbackup/artifacts/photos"
	"iosbackup/artifacts/sms"
	"iosbackup/backup"
	"iosbackup/fs/view"
	"iosbackup/manifest"
)

// fromBackup adapts an opened backup to Source.
func fromBackup(b *backup.Backup) view.Source { return backupSource{b} }

type backupSource struct{ b *backup.Backup }

var (
	_ view.Source         = backupSource{}
	_ view.Identifier     = backupSource{}
	_ view.BlobIdentifier = backupSource{}
)

// BlobIdentity is the device and inode number of the entry's blob: a snapshot's blob
// hard-linked with another's is one stored file. A missing blob, or one that is not a
// regular file, has none.
func (s backupSource) BlobIdentity(e *manifest.Entry) (string, bool) {
	fi, err := os.Lstat(s.b.BlobPath(e))
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	return fileIdentity(fi)
}

func (s backupSource) Index() *manifest.Index { return s.b.Index }

func (s backupSource) OpenFile(e *manifest.Entry) (view.Reader, error) {
	f, err := s.b.OpenFile(e)
	if err != nil {
		return nil, err
	}
	return f, nil // a nil backup.File must not become a non-nil view.Reader
}

func (s backupSource) FileSize(e *manifest.Entry) (int64, error) { return s.b.FileSize(e) }
func (s backupSource) AppName(bundleID string) string            { return s.b.AppName(bundleID) }
func (s backupSource) Name() string                              { return s.b.Name() }

// Identity names one snapshot of one device, wherever its folder is: the device's UDID
// and the snapshot's UUID when the property lists have them, plus the name (device name
// and backup date).
func (s backupSource) Identity() string {
	id := s.b.Name()
	if s.b.Info != nil {
		id += "\x00" + s.b.Info.UniqueIdentifier
	}
	if s.b.Status != nil {
		id += "\x00" + s.b.Status.UUID
	}
	return id
}

// The databases the data views (messages/, contacts/, calls/, photos/by-date) read,
// opened through the backup's decrypting reader: view itself never sees a backup.
var _ view.Data = backupSource{}

func (s backupSource) Messages() (view.Messages, error) {
	db, err := sms.Open(context.Background(), s.b)
	if err != nil {
		return nil, err // a nil *sms.DB must not become a non-nil view.Messages
	}
	return db, nil
}

func (s backupSource) Contacts() (*contacts.Result, error) {
	return contacts.Read(context.Background(), s.b)
}

func (s backupSource) Calls() (*calls.Result, error) { return calls.Read(context.Background(), s.b) }

func (s backupSource) Photos() (*photos.Result, error) {
	return photos.Read(context.Background(), s.b)
}
