//go:build !unix

package main

import "os"

// fileIdentity: a Windows FileInfo from Lstat carries no file index (that needs the
// file opened), so blobs have no identity there and snapshots' hard-linked blobs are
// compared as separate files: slower, never wrong.
func fileIdentity(os.FileInfo) (string, bool) { return "", false }
