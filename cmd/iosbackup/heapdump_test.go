//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestHeapProfileOnSIGUSR1 sets IOSBACKUP_HEAP_PROFILE, signals this process and checks
// that a heap profile (a gzipped protocol buffer) appears at the named path, and that
// without the variable no handler is installed.
func TestHeapProfileOnSIGUSR1(t *testing.T) {
	t.Setenv(heapProfileEnv, "")
	if dumpHeapOnSignal() != nil {
		t.Fatal("a handler was installed without " + heapProfileEnv)
	}
	path := filepath.Join(t.TempDir(), "heap.pb.gz")
	t.Setenv(heapProfileEnv, path)
	done := dumpHeapOnSignal()
	if done == nil {
		t.Fatal("no handler installed with " + heapProfileEnv + " set")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) || len(b) < 100 {
		t.Fatalf("%s holds %d bytes starting %x, not a gzipped profile", path, len(b), b[:min(len(b), 4)])
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
}
