//go:build !linux

package backupfs

// raiseReadahead is Linux's: elsewhere the platform's default stays.
func raiseReadahead(mountpoint string) error { return nil }
