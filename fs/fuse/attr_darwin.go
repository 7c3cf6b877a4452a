package fuse

import gofuse "github.com/hanwen/go-fuse/v2/fuse"

// setBirth fills the creation time macFUSE shows as st_birthtime.
func setBirth(out *gofuse.Attr, birth int64) {
	out.Crtime_ = uint64(birth)
	out.Crtimensec_ = 0
}
