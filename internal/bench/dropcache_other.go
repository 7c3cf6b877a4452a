//go:build !linux

package bench

import (
	"errors"
	"fmt"
)

// DropCache is only implemented on Linux (POSIX_FADV_DONTNEED); the whole-process
// benchmarks run there.
func DropCache(path string) error {
	return fmt.Errorf("drop cache %s: %w", path, errors.ErrUnsupported)
}
