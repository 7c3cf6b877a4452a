//go:build unix

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// heapProfileEnv names a file: with it set, SIGUSR1 makes the process write a heap
// profile there (`go tool pprof -sample_index=inuse_space FILE`). It is for finding
// which structures hold a long-running mount's memory (make bench's W5b); nothing is
// served on the network and nothing is written unless asked, each time, by a signal.
const heapProfileEnv = "IOSBACKUP_HEAP_PROFILE"

// dumpHeapOnSignal installs the SIGUSR1 handler when IOSBACKUP_HEAP_PROFILE is set.
// The returned channel receives the result of each dump (for tests); nil when unset.
func dumpHeapOnSignal() <-chan error {
	path := os.Getenv(heapProfileEnv)
	if path == "" {
		return nil
	}
	sig := make(chan os.Signal, 1)
	done := make(chan error, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for range sig {
			err := writeHeapProfile(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "iosbackup: %s: %v\n", heapProfileEnv, err)
			}
			select {
			case done <- err:
			default:
			}
		}
	}()
	return done
}

// writeHeapProfile collects garbage first, so the profile shows what is live, then
// replaces path with the profile (written beside it, then renamed: a reader never sees
// half a file).
func writeHeapProfile(path string) error {
	runtime.GC()
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("heap profile %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("heap profile %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}
