// Package view is the virtual tree of one or more iOS backups: what the FUSE mount
// (fs/fuse) and the WebDAV server (fs/dav) both show. It answers lookups, listings,
// attributes, symlink targets and opens files as io.ReaderAt, with stable inode
// numbers; it knows nothing of FUSE or HTTP, nor of how a backup is opened (a Source,
// adapted by the caller).
//
// # Layout
//
// For one backup, the root holds four views of the same files:
//
//	domains/<Domain>/<relativePath>   every domain, exactly as in the manifest
//	device/var/mobile/...             real device paths; domains sharing a folder merged
//	apps/<App name>/data/             AppDomain-<bundle ID>
//	apps/<App name>/groups/<id>/      AppDomainGroup-<id> of the app
//	apps/<App name>/plugins/<id>/     AppDomainPlugin-<id> of the app
//	photos/100APPLE/IMG_0001.HEIC     CameraRollDomain Media/DCIM
//	photos/by-date/YYYY/YYYY-MM-DD/   the same files, by Photos.sqlite's creation date
//	photos/albums/<album>/            the same files, by album
//	messages/<conversation>/          messages.txt, messages.html, attachments/
//	contacts/<Full Name>.vcf          and all.vcf (vCard 4.0)
//	calls/calls.csv
//
// The last five come from the backup's databases, read through the Source's optional
// Data (the artifacts readers need the backup's decrypting opener, which view does not
// know): on the first access of the backup's folder, never when the tree is built. A
// database missing or unreadable leaves its view out and is logged once. Generated
// files are rendered by the export's renderers on their first stat or open (the size
// must be exact) and kept; listing messages/ reads only the chats. A camera-roll
// original shows its photo's creation date as mtime in every view (one inode has one
// set of attributes). Attachments and photos placed by date are the backup's own
// files: the same inode as under domains/ (their st_nlink does not count these extra
// places).
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
//     number of views showing it) and keeps its number across mounts and servers. Directories
//     and relativized symlinks hash their view path instead.
//   - Symlinks read as relative paths into the backup's device/ view, from wherever the
//     link is shown; ".." never climbs out of it. Options.RawSymlinks keeps the device's
//     absolute targets.
//   - A file whose blob is missing or unreadable is listed with size 0; opening or
//     reading it fails (EIO through FUSE) and logs one line naming it (once per file).
//   - Extended attributes come from the manifest, under their own names (the FUSE
//     adapter adds Linux's "user." prefix).
//   - Names longer than 255 bytes (MaxNameLen) cannot be looked up on Linux and are not listed.
//   - Virtual folders (and folders the manifest implies but does not list) take the
//     newest modification time found in the backup, so they are stable across mounts.
//   - Everything is owned by the user running iosbackup unless Options.DeviceOwners.
//
// # Using it
//
//	root := view.New(view.Options{}, view.Backup{Source: src})
//	n := root.Resolve("domains/HomeDomain/Library/SMS/sms.db")
//	r, err := n.(view.File).Open()
//
// Nothing is built per entry up front: lookups and listings are answered from
// manifest.Index (binary searches over its sorted children), and a Node is made only
// for a name that is looked up or listed. Each view is built in the file named after
// it (domains.go, device.go, apps.go, photos.go, photos_dates.go, messages.go, contacts.go,
// calls.go; history.go: latest/ and history/).
package view
