package backupfs

import "github.com/hanwen/go-fuse/v2/fuse"

// setBirth fills the creation time macFUSE shows as st_birthtime.
func setBirth(out *fuse.Attr, birth int64) {
	out.Crtime_ = uint64(birth)
	out.Crtimensec_ = 0
}
