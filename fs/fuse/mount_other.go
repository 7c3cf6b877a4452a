//go:build !linux && !darwin

package fuse

const (
	readOnlyOption   = "ro"
	directMountFlags = 0
)
