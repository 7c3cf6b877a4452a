package capture

import (
	"testing"
	"time"
)

// TestProgressBlend checks the blending rule of progress.go on a reporter fed by hand.
func TestProgressBlend(t *testing.T) {
	var last Event
	collect := func(e Event) { last = e }
	emit := func(r *reporter) Event {
		r.progress(true)
		return last
	}

	// Full backup, no announcement: the previous backup's size is the expected total.
	r := newReporter(collect)
	r.expect(true, 1000, 1_000_000)
	r.start()
	defer r.stop()
	r.setPercent(0)
	r.addBytes(250)
	if e := emit(r); e.Percent != 25 || e.Expected != 1000 {
		t.Fatalf("250 of 1000 bytes: %.1f%% of %d, want 25%% of 1000", e.Percent, e.Expected)
	}
	// The device's coarse percent lower than the bytes' share changes nothing...
	r.setPercent(10)
	if e := emit(r); e.Percent != 25 {
		t.Fatalf("device 10%%, bytes 25%%: %.1f%%", e.Percent)
	}
	// ...a higher one wins.
	r.setPercent(40)
	if e := emit(r); e.Percent != 40 {
		t.Fatalf("device 40%%, bytes 25%%: %.1f%%", e.Percent)
	}
	// The device announces its total: it replaces the estimate.
	r.announce(500)
	if e := emit(r); e.Percent != 50 || e.Expected != 500 {
		t.Fatalf("250 of 500 announced: %.1f%% of %d", e.Percent, e.Expected)
	}
	// More bytes than expected: capped at 99 until the device's own 100.
	r.addBytes(1000)
	if e := emit(r); e.Percent != 99 || e.Expected != 1250 {
		t.Fatalf("1250 of 500: %.1f%% of %d, want 99%% of 1250", e.Percent, e.Expected)
	}
	r.setPercent(95)
	if e := emit(r); e.Percent != 99 {
		t.Fatalf("percent went back to %.1f", e.Percent)
	}
	r.done()
	if last.Percent != 100 || last.ETA != 0 || last.File != "" {
		t.Fatalf("done: %+v", last)
	}

	// A count below the bytes already received is a batch's: added to them.
	r = newReporter(collect)
	r.announce(400) // the first batch, or the whole: 400 bytes expected
	r.addBytes(400)
	r.announce(100) // less than received: the next batch's 100 bytes
	r.addBytes(50)
	if e := emit(r); e.Expected != 500 || e.Percent != 90 {
		t.Fatalf("450 bytes, batches of 400 and 100: %.1f%% of %d, want 90%% of 500", e.Percent, e.Expected)
	}

	// Full backup without a previous one: the device's used space.
	r = newReporter(collect)
	r.expect(true, 0, 4000)
	r.addBytes(1000)
	if e := emit(r); e.Percent != 25 || e.Expected != 4000 {
		t.Fatalf("1000 of 4000 used: %.1f%% of %d", e.Percent, e.Expected)
	}

	// Incremental, nothing announced: the device's percent alone.
	r = newReporter(collect)
	r.expect(false, 1000, 4000)
	r.addBytes(900)
	if e := emit(r); e.Percent != -1 || e.Expected != 0 {
		t.Fatalf("incremental without total: %.1f%% of %d", e.Percent, e.Expected)
	}
	r.setPercent(30)
	if e := emit(r); e.Percent != 30 {
		t.Fatalf("incremental, device 30%%: %.1f%%", e.Percent)
	}
}

// TestProgressETAFromBytes: the ETA is the bytes left at the average rate so far.
func TestProgressETAFromBytes(t *testing.T) {
	var last Event
	r := newReporter(func(e Event) { last = e })
	r.expect(true, 10_000, 0)
	r.start()
	defer r.stop()
	r.addBytes(2_000)
	r.mu.Lock()
	r.started = time.Now().Add(-20 * time.Second) // 2000 bytes in 20 s: 100 B/s
	r.mu.Unlock()
	r.progress(true)
	if last.ETA != 80*time.Second {
		t.Fatalf("8000 bytes left at 100 B/s: ETA %v, want 80s", last.ETA)
	}
}
