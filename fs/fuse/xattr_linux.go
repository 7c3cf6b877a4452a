package fuse

// xattrPrefix puts the backup's attribute names (com.apple.*, as macOS and iOS name them)
// into Linux's user namespace: the kernel and tools like getfattr -d and cp -a only
// handle user.* for ordinary files, and a hostile backup must not be able to present
// security.* or system.* attributes that the host would interpret.
const xattrPrefix = "user."
