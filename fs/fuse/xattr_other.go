//go:build !linux && !windows

package fuse

// xattrPrefix: macOS and the BSDs take the device's attribute names as they are.
const xattrPrefix = ""
