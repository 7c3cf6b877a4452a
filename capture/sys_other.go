//go:build !unix

package capture

import "errors"

// syncFS has no portable equivalent here; renames still happen after the data writes.
func syncFS(dir string) error { return nil }

// freeBytes is unknown on this platform.
func freeBytes(dir string) (uint64, error) {
	return 0, errors.New("free space unknown on this platform")
}
