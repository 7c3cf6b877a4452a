//go:build !linux && !darwin && !windows

package fuse

const (
	readOnlyOption   = "ro"
	directMountFlags = 0
)
