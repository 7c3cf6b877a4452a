// Package gentest generates the backups the artifacts tests read: one per iOS
// release whose schemas internal/gen writes, some encrypted.
package gentest

import (
	"path/filepath"
	"testing"

	"iosbackup/backup"
	"iosbackup/internal/gen"
)

// Password of the encrypted ones.
const Password = "artifacts-test"

// Version is one generated iOS release.
type Version struct {
	Name      string
	Format    gen.Format
	Product   string
	Encrypted bool
}

// Versions are the releases the generator has schemas for.
var Versions = []Version{
	{"iOS7", gen.FormatMBDB, "7.1.2", false},
	{"iOS9", gen.FormatMBDB, "9.3.5", false},
	{"iOS12", gen.FormatDB, "12.5.7", true},
	{"iOS14", gen.FormatDB, "14.8", false},
	{"iOS16", gen.FormatDB, "16.7.2", true},
	{"iOS17", gen.FormatDB, "17.5.1", false},
	{"iOS18", gen.FormatDB, "18.1", false},
}

// Generate writes the backup of v (seed 5) and opens it.
func Generate(t testing.TB, v Version) (*gen.Truth, *backup.Backup) {
	t.Helper()
	opt := gen.Options{Seed: 5, Format: v.Format, ProductVersion: v.Product, Encrypted: v.Encrypted}
	if v.Encrypted {
		opt.Password, opt.SHA256Rounds, opt.SHA1Rounds = Password, 1000, 10
	}
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "backup"), opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := backup.Open(truth.Dir, backup.Options{Password: func() ([]byte, error) { return []byte(Password), nil }})
	if err != nil {
		t.Fatal(err)
	}
	return truth, b
}

// Named returns the version called name ("iOS17"); it panics on a name not in
// Versions, a mistake in a test.
func Named(name string) Version {
	for _, v := range Versions {
		if v.Name == name {
			return v
		}
	}
	panic("gentest: no version " + name)
}
