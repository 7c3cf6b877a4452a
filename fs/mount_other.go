//go:build !linux && !darwin

package backupfs

const (
	readOnlyOption   = "ro"
	directMountFlags = 0
)
