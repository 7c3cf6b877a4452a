//go:build !unix

package history

// os.Root refuses to follow a final symlink on its own here; FIFOs do not exist.
const (
	oNoFollow = 0
	oNonBlock = 0
)
