//go:build !unix

package main

// dumpHeapOnSignal does nothing where there is no SIGUSR1.
func dumpHeapOnSignal() <-chan error { return nil }
