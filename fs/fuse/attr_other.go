//go:build !darwin && !windows

package fuse

import gofuse "github.com/hanwen/go-fuse/v2/fuse"

// setBirth: FUSE's attr has no birth time outside macOS. Linux gets it through statx
// (statx_linux.go).
func setBirth(out *gofuse.Attr, birth int64) {}
