package backup

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestCollectGarbageOftenWhileLoading(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	restoreA := collectGarbageOftenWhileLoading()
	if got := gcPercent(); got != loadGCPercent {
		t.Fatalf("while loading: GC percent %d, want %d", got, loadGCPercent)
	}
	restoreB := collectGarbageOftenWhileLoading() // a second load at the same time
	restoreA()
	if got := gcPercent(); got != loadGCPercent {
		t.Fatalf("one load still running: GC percent %d, want %d", got, loadGCPercent)
	}
	restoreB()
	if got := gcPercent(); got != 100 {
		t.Fatalf("after loading: GC percent %d, want 100 back", got)
	}

	// A lower setting, or the collector turned off, is left alone.
	for _, p := range []int{5, -1} {
		debug.SetGCPercent(p)
		restore := collectGarbageOftenWhileLoading()
		if got := gcPercent(); got != p {
			t.Fatalf("GOGC %d: changed to %d while loading", p, got)
		}
		restore()
		if got := gcPercent(); got != p {
			t.Fatalf("GOGC %d: %d after loading", p, got)
		}
	}
}
