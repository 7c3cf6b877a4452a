//go:build unix

package backup

import "syscall"

// openNoBlock keeps open(2) from blocking on a named pipe swapped in after the lstat;
// it changes nothing for the regular files that are then read.
const openNoBlock = syscall.O_NONBLOCK
