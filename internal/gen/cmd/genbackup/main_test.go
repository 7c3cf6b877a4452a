package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "123": 123, "4K": 4096, "4k": 4096, "3M": 3 << 20, "2G": 2 << 30, "2GB": 2 << 30, "10mb": 10 << 20,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1T", "G", "1.5G", "99999999999G", "12 K"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "4K", "2GB", "-3", "1e9", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err == nil && (n < 0 || n > 1<<50) {
			t.Fatalf("parseSize(%q) = %d: out of the accepted range", s, n)
		}
	})
}

// TestRun: the command writes an encrypted backup with the password from the
// environment, and refuses what it must.
func TestRun(t *testing.T) {
	t.Setenv("IOSBACKUP_PASSWORD", "from-env")
	out := filepath.Join(t.TempDir(), "b")
	if err := run([]string{"-out", out, "-encrypted", "-kdf", "fast", "-format", "mbdb", "-entries", "300", "-big", "20K"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Manifest.mbdb", "Manifest.plist", "Info.plist", "Status.plist"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
	for _, args := range [][]string{
		{"-out", out},                         // not empty any more
		{},                                    // no -out
		{"-out", t.TempDir(), "-format", "x"}, // unknown format
		{"-out", t.TempDir(), "-kdf", "slow"}, // unknown KDF
		{"-out", t.TempDir(), "-big", "lots"}, // bad size
		{"-out", t.TempDir(), "extra"},        // stray argument
	} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
