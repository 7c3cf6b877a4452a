package view

import (
	"log"

	"iosbackup/manifest"
)

// Source is one opened backup as the tree consumes it. *backup.Backup is adapted to
// it by the caller (see the package comment); tests use an in-memory fake.
//
// Every method may be called from many goroutines at once.
type Source interface {
	// Index is the backup's tree of entries. It must not change while mounted.
	Index() *manifest.Index
	// OpenFile opens a file entry for random-access reading; ReadAt must be safe for
	// concurrent use (one reader serves every reader of an open file). Its error should name the
	// entry and the blob (it is logged as is).
	OpenFile(e *manifest.Entry) (Reader, error)
	// FileSize is the number of bytes a read of the file returns, without reading it.
	FileSize(e *manifest.Entry) (int64, error)
	// AppName is the display name of an installed app (the bundle ID when unknown).
	AppName(bundleID string) string
	// Name labels the backup among others: "<Device Name> <YYYY-MM-DD HH.MM>".
	Name() string
}

// Identifier is optionally implemented by a Source whose Name is not a stable, unique
// identity (the inode numbers of its files are derived from Identity instead of Name).
type Identifier interface {
	Identity() string
}

// Backup is one backup to show: an opened Source, or why it could not be opened.
type Backup struct {
	// Name is the folder name in a multi-backup mount. Empty means Source.Name().
	Name string
	// Source is nil when the backup could not be opened.
	Source Source
	// Err says why it could not be opened (wrong password, damaged manifest...). It is
	// shown in a note file inside the backup's otherwise empty folder.
	Err error
	// History are the backup's snapshots, oldest first, each shown as history/<Name>/
	// beside latest/ (the backup itself). Empty: the backup's views are shown directly.
	History []Backup
}

// Options shape what the tree shows. The zero value is the documented default.
type Options struct {
	// DeviceOwners shows the uid/gid recorded on the device (usually 501, "mobile")
	// instead of the user running iosbackup. Without AllowOther the mounting user can read every
	// file either way.
	DeviceOwners bool
	// RawSymlinks returns the device's absolute symlink targets unchanged instead of a
	// relative path that resolves inside the mount's device/ view. Raw targets point at
	// the examiner's own /var when followed.
	RawSymlinks bool
	// Logger receives one line per file whose contents cannot be read (missing or
	// damaged blob). Nil means log.Default().
	Logger *log.Logger
}
