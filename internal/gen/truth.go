package gen

import (
	"bytes"
	"io"
	"maps"
	"sort"
	"sync"
	"time"

	"iosbackup/manifest"
)

// Truth is what Generate wrote: the reference every reader is tested against.
type Truth struct {
	Dir      string
	Format   Format
	Seed     int64
	Revision int

	Encrypted bool
	Password  string
	// SHA256Rounds is 0 for FormatMBDB (its keybag has no DPIC/DPSL).
	SHA256Rounds, SHA1Rounds int
	// DerivedKey is the KEK derived from Password (the "key file" other tools save);
	// nil for an unencrypted backup.
	DerivedKey []byte
	// ClassKeys are the unwrapped protection-class keys of an encrypted backup, by class.
	ClassKeys map[uint32][]byte

	DeviceName, DisplayName, ProductType, ProductVersion, BuildVersion string
	SerialNumber, UDID, IMEI, PhoneNumber                              string
	BackupDate                                                         time.Time
	Apps                                                               []App
	// Messages are the rows of HomeDomain Library/SMS/sms.db, in ROWID order.
	Messages []Message
	// Chats are the rows of sms.db's chat table; IOSMajor the schema it was written
	// with (from ProductVersion).
	Chats []Chat
	// Contacts are the address book's people; Calls the call history; Photos the
	// assets of Photos.sqlite.
	Contacts []Contact
	Calls    []Call
	Photos   []Photo
	IOSMajor int

	// Entries lists every entry in manifest order, plus (marked Synthetic) the parent
	// directories deliberately written without a row. Parents come before children.
	Entries []TruthEntry
	// Rows is the number of manifest rows (Entries minus the synthetic ones).
	Rows int
	// BlobBytes is the total size of the blobs written (after encryption).
	BlobBytes int64
	Elapsed   time.Duration

	indexOnce sync.Once
	index     map[string]int
}

// App is one installed application of the generated device.
type App struct {
	BundleID    string
	DisplayName string // Info.plist iTunesMetadata itemName
	AppName     string // the .app folder name in Manifest.plist Path, without ".app"
	Version     string // CFBundleVersion / bundleShortVersionString
	Vendor      string // artistName
	ContainerID string // the UUID in the bundle path
}

// Message is one row of sms.db's message table, with what a reader must show.
type Message struct {
	RowID  int64
	GUID   string
	ChatID int64
	// Handle is the id of the row's handle (handle_id joined); "" for handle_id 0
	// (messages from me in a group).
	Handle string
	// Text is the text column as stored ("" when TextNull); Shown is what a reader
	// must display: Text, else the text of the attributedBody Body.
	Text     string
	TextNull bool
	Shown    string
	Body     []byte // attributedBody (typedstream), nil when NULL
	FromMe   bool
	Date     int64 // as stored: nanoseconds (iOS 11+) or seconds since 2001-01-01
	// DateEdited and DateRetracted are as stored (iOS 16+), 0 when never.
	DateEdited, DateRetracted int64
	// Summary is message_summary_info (a binary plist) and EditHistory the texts it
	// holds, oldest first, for an edited message.
	Summary     []byte
	EditHistory []string
	// ReactionType is associated_message_type (2000-2007 added, 3000-3007 removed);
	// ReactionTarget the associated_message_guid as stored ("p:0/GUID").
	ReactionType   int64
	ReactionTarget string
	ReactionEmoji  string
	Links          []string
	Mentions       []string
	Attachments    []MessageAttachment
}

// Chat is one row of sms.db's chat table with its members' handle ids.
type Chat struct {
	ID                                     int64
	GUID, Identifier, DisplayName, Service string
	Members                                []string
}

// MessageAttachment is one attachment row; Domain/Path say where the backup holds the
// file, empty with Missing when it does not.
type MessageAttachment struct {
	GUID, Filename, TransferName, MIMEType string
	TotalBytes                             int64
	Domain, Path                           string
	Missing                                bool
}

// TruthEntry is one file, directory or symlink as written.
type TruthEntry struct {
	Domain, Path string
	Kind         manifest.Kind
	Mode         uint32 // full st_mode, type bits included
	UID, GID     uint32
	Inode        uint64
	Birth        int64 // Unix seconds
	MTime        int64
	CTime        int64
	// ProtectionClass is 1-4 for files, 0 for directories and symlinks.
	ProtectionClass uint32
	Target          string            // symlink target: an absolute device path
	XAttrs          map[string][]byte // nil when none
	// RecordedSize is the Size written in the manifest; TrueSize the length of the
	// contents. They differ on purpose for a few files (see SizeMismatch).
	RecordedSize, TrueSize int64
	// Digest is the SHA-1 of the contents when the manifest records one.
	Digest []byte
	// Synthetic marks a parent directory deliberately written without a manifest row:
	// readers must synthesize it.
	Synthetic bool
	// BlobMissing marks a file whose blob was not written (Options.OmitFillerBlobs).
	BlobMissing bool

	content contentSpec
	version int // content generation: 0, or the revision that last changed the file
}

// ID is the fileID of the entry: SHA-1(domain + "-" + path).
func (e *TruthEntry) ID() manifest.FileID { return manifest.ComputeFileID(e.Domain, e.Path) }

// Key is "Domain/path", or "Domain" for a domain root: the key Diff uses.
func (e *TruthEntry) Key() string { return entryKey(e.Domain, e.Path) }

// SizeMismatch reports whether the manifest's Size deliberately differs from the
// contents' length.
func (e *TruthEntry) SizeMismatch() bool { return e.RecordedSize != e.TrueSize }

// Content regenerates the exact plaintext bytes of a file without having stored them;
// directories and symlinks have no content.
func (e *TruthEntry) Content() io.Reader { return e.content.reader() }

func entryKey(domain, path string) string {
	if path == "" {
		return domain
	}
	return domain + "/" + path
}

// Lookup returns the entry at (domain, path), or nil.
func (t *Truth) Lookup(domain, path string) *TruthEntry {
	t.indexOnce.Do(func() {
		t.index = make(map[string]int, len(t.Entries))
		for i := range t.Entries {
			t.index[t.Entries[i].Key()] = i
		}
	})
	i, ok := t.index[entryKey(domain, path)]
	if !ok {
		return nil
	}
	return &t.Entries[i]
}

// Diff compares two backups' truths entry by entry, keyed by "Domain/path" (see
// TruthEntry.Key), synthetic directories included since readers show them. An entry is
// changed when its kind, mode, times, target, size, extended attributes or contents
// differ. Each list is sorted.
func Diff(a, b *Truth) (changed, added, removed []string) {
	inA := make(map[string]*TruthEntry, len(a.Entries))
	for i := range a.Entries {
		inA[a.Entries[i].Key()] = &a.Entries[i]
	}
	seen := make(map[string]bool, len(b.Entries))
	for i := range b.Entries {
		eb := &b.Entries[i]
		k := eb.Key()
		seen[k] = true
		ea, ok := inA[k]
		if !ok {
			added = append(added, k)
			continue
		}
		if !sameEntry(ea, eb) {
			changed = append(changed, k)
		}
	}
	for k := range inA {
		if !seen[k] {
			removed = append(removed, k)
		}
	}
	sort.Strings(changed)
	sort.Strings(added)
	sort.Strings(removed)
	return changed, added, removed
}

func sameEntry(a, b *TruthEntry) bool {
	return a.Kind == b.Kind && a.Mode == b.Mode && a.MTime == b.MTime &&
		a.Target == b.Target && a.TrueSize == b.TrueSize && a.RecordedSize == b.RecordedSize &&
		maps.EqualFunc(a.XAttrs, b.XAttrs, bytes.Equal) && a.content.equal(b.content)
}
