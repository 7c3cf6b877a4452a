//go:build !windows

package fuse

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/fs/view"
)

// MountOptions are the knobs of Mount. The zero value is the recommended setting.
type MountOptions struct {
	// AllowOther lets other users (root included) use the mount. It also turns on the
	// kernel's permission checks (default_permissions) against the modes and owners the
	// mount shows, so others get only what the recorded modes allow. Without it the
	// mount is private to the mounting user, who can read every file whatever its
	// recorded mode: an examiner must not be locked out of evidence by a 0600 file
	// owned by the device's uid 501. Needs user_allow_other in /etc/fuse.conf for
	// non-root users.
	AllowOther bool
	// Debug logs every FUSE request and reply.
	Debug bool
	// Logger receives go-fuse's messages. Nil means log.Default().
	Logger *log.Logger
	// NoXAttrs hides extended attributes even when the backup has some. ls -l asks
	// for two or three attributes (SELinux label, ACLs) of every file it lists, one
	// round trip to this process each; without xattrs the kernel stops asking.
	NoXAttrs bool
	// AllowNonEmpty mounts over a folder that holds files, hiding them while mounted.
	// A folder where something is mounted already is refused whatever this says.
	AllowNonEmpty bool
	// CacheTimeout is how long the kernel may trust names and attributes it was
	// given. Zero means one hour.
	CacheTimeout time.Duration
}

// Mount mounts the tree read-only at mountpoint and starts serving it. It returns once the
// kernel has answered the FUSE handshake and the mount is usable: that is the moment to
// tell a user (or a parent process waiting in --background mode) that it is ready.
// Unmount with server.Unmount() (or Unmount(mountpoint) when busy); server.Wait()
// returns when the filesystem is unmounted, from here or from outside.
//
// Do not access the mount from the goroutine that will call server.Wait or from code
// that holds locks the server needs: see go-fuse's fs package documentation on
// deadlocks.
func Mount(mountpoint string, tree *view.Root, opt MountOptions) (*gofuse.Server, error) {
	if err := CheckMountpoint(mountpoint, opt.AllowNonEmpty); err != nil {
		return nil, err
	}
	timeout := opt.CacheTimeout
	if timeout <= 0 {
		// Contents never change while mounted, so the kernel may cache names and
		// attributes for long: every cached lookup is a round trip saved.
		timeout = time.Hour
	}
	logger := opt.Logger
	if logger == nil {
		logger = log.Default()
	}
	options := []string{
		// Read-only twice: the kernel refuses writes before they reach us, and
		// every node refuses them again (EROFS) should the flag be lost.
		readOnlyOption,
		// Device files and setuid bits on a backup must mean nothing on the host,
		// and nothing in an iOS backup is meant to run on it.
		"nosuid", "nodev", "noexec",
	}
	if opt.AllowOther {
		// Others go through the kernel's mode checks; see MountOptions.AllowOther.
		options = append(options, "default_permissions")
	}
	fsOpts := &fs.Options{
		MountOptions: gofuse.MountOptions{
			AllowOther: opt.AllowOther,
			Options:    options,
			// "iosbackup" in the source column of mount and df, "fuse.iosbackup"
			// as the type: how scripts (and our tests) find leftover mounts.
			FsName: "iosbackup",
			Name:   "iosbackup",
			// Ask for reads of up to 1 MiB (max_read; the kernel caps it at what it
			// supports, 128 KiB before Linux 4.20): fewer round trips, and an
			// encrypted file decrypts whole runs of blocks per request.
			MaxWrite:     1 << 20,
			MaxReadAhead: 1 << 20,
			// Readahead requests are asynchronous; let more of them run at once
			// (default 12) so that parallel readers keep both cores busy.
			MaxBackground: 64,
			// Mount with mount(2) when we are root (no fusermount needed, as in CI
			// containers); go-fuse falls back to fusermount otherwise.
			DirectMount:      true,
			DirectMountFlags: directMountFlags,
			// Without extended attributes anywhere, make the kernel stop asking: an
			// xattr query per file per ls -l made listings 14x slower in probes.
			DisableXAttrs: opt.NoXAttrs || !tree.HasXAttrs(),
			// security.capability and ACL queries (sent before every write and
			// on ls -l) are answered by go-fuse directly: the backup's attributes are
			// all in user.* on Linux, so these are never set.
			IgnoreSecurityLabels: true,
			// Replies are built from memory (decrypted data): go-fuse would otherwise
			// try splicing every read reply through a pipe first, costing a pipe
			// resize, a write and a drain per read before falling back.
			DisableSplice: true,
			// Symlink targets never change: let the kernel cache them.
			EnableSymlinkCaching: true,
			// With POSIX ACL support the kernel caches each file's (absent) ACL
			// instead of asking us on every ls -l: half the xattr round trips of a
			// listing. It also turns on the kernel's mode checks, which change
			// nothing where they are on already (AllowOther) or where the user is root
			// (who passes them), and would lock a private mount's own user out of the
			// 0000 folders real backups have: so only there.
			EnableAcl: opt.AllowOther || os.Geteuid() == 0,
			Debug:     opt.Debug,
			Logger:    logger,
		},
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
		// Names that do not exist never will: cache the misses too (shell completion,
		// and tools probing for .git or desktop.ini, ask again and again).
		NegativeTimeout: &timeout,
		// Show the recorded permission bits as they are, 0000 included (go-fuse
		// would otherwise turn 0000 into 0644).
		NullPermissions: true,
		Logger:          logger,
	}
	root, c := newRoot(tree)
	server, err := fs.Mount(mountpoint, root, fsOpts)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	if err := raiseReadahead(mountpoint); err != nil && opt.Debug {
		logger.Printf("iosbackup: %v (sequential reads stay at the kernel's default readahead)", err)
	}
	go func() {
		// Releases still queued in the kernel at unmount never arrive: close what
		// is left so that a process mounting many times does not leak descriptors.
		server.Wait()
		tree.Stop()
		c.closeHandles()
	}()
	return server, nil
}
