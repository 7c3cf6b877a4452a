package view

import "io"

// Kind is what a node is.
type Kind uint8

const (
	KindDir Kind = iota + 1
	KindFile
	KindSymlink
)

// Attr is everything a listing shows of a node.
type Attr struct {
	Ino   uint64 // stable across mounts and servers of the same backup
	Kind  Kind
	Perm  uint32 // permission bits (0o7777), as recorded on the device
	Nlink uint32 // directories: 2 + subdirectories; files: the views showing them
	Size  int64  // files: what reads return; symlinks: the target's length
	UID   uint32
	GID   uint32
	MTime int64 // Unix seconds
	CTime int64
	Birth int64
}

// Node is one name of the tree: a Dir, a File or a Link.
type Node interface {
	// Ino is the node's inode number (Attr().Ino) without looking anything up.
	Ino() uint64
	Kind() Kind
	// Attr may look the size of a file up (a read of its blob's last block when
	// encrypted); it is cached after the first time.
	Attr() Attr
	// XAttrs are the extended attributes recorded on the device, by their own names
	// (com.apple.*); nil when there are none.
	XAttrs() map[string][]byte
}

// Dir is a folder. Lookups and listings are answered from memory.
type Dir interface {
	Node
	// Lookup returns the child called name, or nil.
	Lookup(name string) Node
	// List walks the children in name order.
	List() Cursor
	// Prefetch says the folder is about to be listed with attributes: the sizes of its
	// files are looked up in parallel now (and those of its subfolders' files in the
	// background), instead of one at a time as each child's Attr asks.
	Prefetch()
}

// Cursor walks a folder's children in name order.
type Cursor interface {
	Next() (name string, child Node) // child nil at the end
}

// File is a regular file.
type File interface {
	Node
	// Open returns a reader of the contents. Its error names the file; a file whose
	// blob is missing or damaged fails here (and is logged once).
	Open() (Reader, error)
}

// SizeKnower is implemented by files whose size may cost a look-up: SizeKnown says
// whether Attr would answer from memory. Files without it know their size.
type SizeKnower interface {
	SizeKnown() bool
}

// Reader reads an open file at any offset, from many goroutines at once.
type Reader interface {
	io.ReaderAt
	io.Closer
	Size() int64 // what reads return
}

// Link is a symbolic link.
type Link interface {
	Node
	// Target is what readlink returns (see Options.RawSymlinks).
	Target() string
}
