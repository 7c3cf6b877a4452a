//go:build !unix

package backup

// openNoBlock: no named pipes to block on outside unix.
const openNoBlock = 0
