//go:build !windows

package fuse

import (
	"slices"
	"strings"
	"syscall"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"
)

// errNoAttr is ENODATA on Linux, ENOATTR on macOS and BSD.
var errNoAttr = syscall.Errno(gofuse.ENOATTR)

// errNoNamespace answers names the mount never has (see getxattr).
const errNoNamespace = syscall.ENOTSUP

// getxattr answers from the manifest's attributes without allocating. The kernel's
// contract: an empty dest asks for the size; a too small one gets ERANGE and the size.
//
// A name outside xattrPrefix (security.selinux, system.posix_acl_*, trusted.*) gets
// ENOTSUP: the mount has no such namespace, and tools that see ENOTSUP stop asking
// for the whole filesystem (GNU ls remembers the device), where ENODATA makes them ask
// again for every file. The kernel turns off only on ENOSYS (fc->no_getxattr, which
// would hide user.* too), so user.* keeps working. Measured with ls -lR of a
// generated backup's domains/HomeDomain (16,500 files, the kernel's caches warm,
// --debug counts): 16,683 GETXATTR before, all security.selinux answered ENODATA;
// 60 after. All of domains/ (~100,000 files): 222 warm; 107,370 cold, from 207,553.
func getxattr(xattrs map[string][]byte, attr string, dest []byte) (uint32, syscall.Errno) {
	name, ok := strings.CutPrefix(attr, xattrPrefix)
	if !ok {
		return 0, errNoNamespace
	}
	if len(xattrs) == 0 {
		return 0, errNoAttr
	}
	v, ok := xattrs[name]
	if !ok {
		return 0, errNoAttr
	}
	if len(dest) == 0 {
		return uint32(len(v)), 0
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

// listxattr writes the NUL-terminated names, sorted so that listings are reproducible.
func listxattr(xattrs map[string][]byte, dest []byte) (uint32, syscall.Errno) {
	if len(xattrs) == 0 {
		return 0, 0
	}
	size := 0
	var stack [8]string
	names := stack[:0]
	for name := range xattrs {
		size += len(xattrPrefix) + len(name) + 1
		names = append(names, name)
	}
	if len(dest) == 0 {
		return uint32(size), 0
	}
	if len(dest) < size {
		return uint32(size), syscall.ERANGE
	}
	slices.Sort(names)
	n := 0
	for _, name := range names {
		n += copy(dest[n:], xattrPrefix)
		n += copy(dest[n:], name)
		dest[n] = 0
		n++
	}
	return uint32(n), 0
}
