package fuse

const (
	// readOnlyOption: macFUSE takes the BSD spelling.
	readOnlyOption = "rdonly"
	// directMountFlags: macFUSE always mounts through its own helper.
	directMountFlags = 0
)
