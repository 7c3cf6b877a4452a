//go:build !linux && !darwin

package capture

// exchange: no way to swap two folders in one step here.
func exchange(rootDir, a, b string) error { return errNoExchange }
