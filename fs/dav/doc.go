// Package dav serves the tree of fs/view read-only over WebDAV
// (golang.org/x/net/webdav), for the desktops where a FUSE mount is missing or costly:
// macOS Finder (Go > Connect to Server), Windows Explorer (Map network drive),
// Nautilus (dav://), davfs2, rclone, curl.
//
// What a client sees is the mount's tree, with these differences: symlinks are left
// out (WebDAV has none), and PROPFIND answers depth 0 and 1 only (a client walks
// folder by folder, as rclone, davfs2 and Finder do).
//
// A PROPFIND of a folder streams its answer: x/net/webdav encodes one <response> per
// child straight to the connection (multistatusWriter), so the XML of a 100,000-entry
// folder is never held whole; what it holds is the list of the children's
// os.FileInfo (about a hundred bytes each) that walkFS reads with Readdir(0).
// Listing a file opens nothing: contents are opened on the first Read or Seek.
package dav
