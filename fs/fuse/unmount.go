//go:build !windows

package fuse

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of Unmount that callers tell apart.
var (
	// ErrNotOurs: another filesystem than an iosbackup one is mounted there.
	ErrNotOurs = errors.New("not an iosbackup mount")
	// ErrNotMounted: nothing is mounted there.
	ErrNotMounted = errors.New("not mounted")
)

// Holder is a process that keeps a mount busy.
type Holder struct {
	PID     int
	Command string // the process name
	Path    string // what it holds under the mountpoint: an open file, its working folder...
	How     string // "cwd", "root", "fd 3", "mmap"
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d (%s) %s %s", h.PID, h.Command, h.How, h.Path)
}

// HoldersText formats holders for a message: one per line, indented.
func HoldersText(holders []Holder) string {
	var b strings.Builder
	for _, h := range holders {
		b.WriteString("  " + h.String() + "\n")
	}
	return b.String()
}

// under reports whether p is mountpoint or inside it.
func under(p, mountpoint string) bool {
	return p == mountpoint || strings.HasPrefix(p, strings.TrimSuffix(mountpoint, "/")+"/")
}
