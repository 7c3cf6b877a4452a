//go:build !unix

package backup

import "io/fs"

// umaskBySetting: no umask outside unix; the recorded modes are only stripped of their
// set-id and sticky bits.
func umaskBySetting() fs.FileMode { return 0 }
