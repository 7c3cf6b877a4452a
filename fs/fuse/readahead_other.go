//go:build !linux && !windows

package fuse

// raiseReadahead is Linux's: elsewhere the platform's default stays.
func raiseReadahead(mountpoint string) error { return nil }
