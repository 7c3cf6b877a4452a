// Package fuse shows iOS backups as a read-only FUSE filesystem
// (github.com/hanwen/go-fuse/v2).
//
// # Layout
//
// For one backup, the mount root holds four views of the same files:
//
//	domains/<Domain>/<relativePath>   every domain, exactly as in the manifest
//	device/var/mobile/...             real device paths; domains sharing a folder merged
//	apps/<App name>/data/             AppDomain-<bundle ID>
//	apps/<App name>/groups/<id>/      AppDomainGroup-<id> of the app
//	apps/<App name>/plugins/<id>/     AppDomainPlugin-<id> of the app
//	photos/100APPLE/IMG_0001.HEIC     CameraRollDomain Media/DCIM
//
// With several backups, each gets a folder named by Source.Name() holding these views;
// one that could not be opened holds only README.txt saying why.
//
// Decisions a user can observe:
//   - device/: app and group containers are named by bundle/group ID (the manifest does
//     not record the device's UUIDs). On a name clash a directory wins over a file;
//     between files the domain placed deepest wins, then the domain name that sorts
//     first. Domains of unknown placement are only under domains/.
//   - apps/: a group or plugin belongs to the app whose bundle ID is the longest
//     dot-separated prefix of its ID ("group." stripped); one that no app claims gets a
//     folder named by its own ID. Apps with the same display name are told apart by
//     "Name (bundle ID)"; "/" in a display name becomes "_".
//   - Inode numbers are the first 64 bits of SHA-256(backup identity, domain, path) for
//     files, so a file is one inode in all views (du counts it once; st_nlink is the
//     number of views showing it) and keeps its number across remounts. Directories
//     and relativized symlinks hash their view path instead.
//   - Symlinks read as relative paths into the backup's device/ view, from wherever the
//     link is shown; ".." never climbs out of it. Options.RawSymlinks keeps the device's
//     absolute targets.
//   - A file whose blob is missing or unreadable is listed with size 0; opening or
//     reading it fails with EIO and logs one line naming it (once per file).
//   - Extended attributes come from the manifest; on Linux their names get the "user."
//     prefix (com.apple.FinderInfo reads as user.com.apple.FinderInfo).
//   - Names longer than 255 bytes cannot be looked up on Linux and are not listed.
//   - Virtual folders (and folders the manifest implies but does not list) take the
//     newest modification time found in the backup, so they are stable across mounts.
//   - Everything is owned by the mounting user unless Options.DeviceOwners.
//
// # Using it
//
//	root := fuse.NewRoot(fuse.Options{}, fuse.Backup{Source: src})
//	server, err := fuse.Mount(dir, root, fuse.MountOptions{})
//	// ready: tell the user
//	server.Wait() // until unmounted; on Ctrl-C call server.Unmount(), and if the
//	              // mount is busy fuse.Unmount(dir) to list holders and detach it
//
// Nothing is built per entry at mount time: lookups and listings are answered from
// manifest.Index (binary searches over its sorted children), and go-fuse inodes exist
// only for names the kernel has looked up.
package fuse
