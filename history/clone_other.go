//go:build !linux && !darwin

package history

import "errors"

func reflink(src, dst string) error { return errors.ErrUnsupported }
