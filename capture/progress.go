package capture

// Progress figures: how far the capture is, how long it will take, which file is
// arriving. The device's own percent is coarse (it changes once per batch of files,
// so a 2 GiB video sat at 0.0% then jumped to 89.7%); the bytes received move with
// every block, so the two are blended.
//
// The rule (documented in Event.Percent):
//
//   - expected total: the byte count the device announces with DLMessageUploadFiles
//     (index 3, which libimobiledevice shows its progress against). Whether it
//     covers the whole backup or only that batch is not documented: a count at
//     least the bytes received so far is taken as the whole, a smaller one as the
//     batch's, added to the bytes before it. Before and without one: for a full
//     backup the previous backup's size (a full backup re-sends about that much),
//     or else the device's used space (disk usage domain); for an incremental one
//     none, and the device's percent alone.
//   - percent = max(device's percent, 100 x bytes / expected), the bytes' share capped
//     at 99 (only the device's finishing moves reach 100) and never going back,
//     except when an announcement raises the expected total.
//   - ETA = elapsed x (expected - bytes) / bytes while bytes fall short of the
//     expected total (the average rate: a stall does not make it leap), else
//     elapsed x (100 - percent) / percent.

import (
	"fmt"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
)

// heartbeat re-emits the progress while the transfer runs, so the rate, the ETA and
// the bar stay current when a big file stalls.
var heartbeat = time.Second

// reporter turns the capture's state into Events, throttled and never concurrent.
type reporter struct {
	mu        sync.Mutex
	fn        func(Event)
	started   time.Time
	devPct    float64 // the device's last percent, -1 before any
	percent   float64 // the blended percent shown, -1 before any
	bytes     int64
	files     int
	file      string
	fallback  int64 // expected total before the device announces one (0: unknown)
	announced int64 // the device's announced total (0: none yet)
	lastEmit  time.Time
	rateT     time.Time
	rateB     int64
	rate      float64
	stopBeat  chan struct{}
}

func newReporter(fn func(Event)) *reporter {
	return &reporter{fn: fn, devPct: -1, percent: -1}
}

// expect sets the fallback expected total (see the rule above).
func (r *reporter) expect(full bool, previousSize, usedBytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !full:
		r.fallback = 0
	case previousSize > 0:
		r.fallback = previousSize
	case usedBytes > 0:
		r.fallback = usedBytes
	}
}

// start marks the beginning of the transfer (for the ETA) and starts the heartbeat.
func (r *reporter) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started, r.rateT = time.Now(), time.Now()
	if r.fn == nil || r.stopBeat != nil {
		return
	}
	stop := make(chan struct{})
	r.stopBeat = stop
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.beat()
			case <-stop:
				return
			}
		}
	}()
}

// stop ends the heartbeat; no event follows except those the caller emits itself.
func (r *reporter) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopBeat != nil {
		close(r.stopBeat)
		r.stopBeat = nil
	}
}

// beat emits the progress once data or a percent has come (not while the device is
// still waiting for its passcode).
func (r *reporter) beat() {
	r.mu.Lock()
	active := r.stopBeat != nil && (r.bytes > 0 || r.devPct >= 0)
	r.mu.Unlock()
	if active {
		r.progress(false)
	}
}

// expectedLocked is the expected total of this transfer, 0 when unknown.
func (r *reporter) expectedLocked() int64 {
	exp := r.fallback
	if r.announced > 0 {
		exp = r.announced
	}
	if exp > 0 && r.bytes > exp {
		exp = r.bytes
	}
	return exp
}

// blendLocked recomputes the shown percent from the device's and the bytes'.
func (r *reporter) blendLocked() {
	p := r.devPct
	if exp := r.expectedLocked(); exp > 0 {
		p = max(p, min(99, 100*float64(r.bytes)/float64(exp)))
	}
	r.percent = max(r.percent, p)
}

func (r *reporter) emitLocked(e Event) {
	if r.fn == nil {
		return
	}
	now := time.Now()
	e.Time = now
	e.Percent, e.Bytes, e.Files, e.File, e.Rate = r.percent, r.bytes, r.files, r.file, r.rate
	e.Expected = r.expectedLocked()
	if !r.started.IsZero() && r.percent < 100 {
		el := float64(now.Sub(r.started))
		switch {
		case e.Expected > 0 && r.bytes > 0 && r.bytes < e.Expected:
			// The average rate since the start, not the recent one: a stall of a few
			// seconds must not make the ETA leap to days.
			e.ETA = time.Duration(el * float64(e.Expected-r.bytes) / float64(r.bytes)).Round(time.Second)
		case r.percent > 0:
			e.ETA = time.Duration(el * (100 - r.percent) / r.percent).Round(time.Second)
		}
	}
	r.fn(e)
}

// emitRaw passes an event through (used by the pairing code).
func (r *reporter) emitRaw(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emitLocked(e)
}

func (r *reporter) info(format string, args ...any) {
	r.emitRaw(Event{Kind: EventInfo, Message: fmt.Sprintf(format, args...)})
}

func (r *reporter) warn(format string, args ...any) {
	r.emitRaw(Event{Kind: EventWarning, Message: fmt.Sprintf(format, args...)})
}

func (r *reporter) wait(w WaitReason, msg string) {
	r.emitRaw(Event{Kind: EventWait, Wait: w, Message: msg})
}

func (r *reporter) setPercent(p float64) {
	r.mu.Lock()
	if p >= 0 && p <= 100 {
		r.devPct = max(r.devPct, p)
		r.blendLocked()
	}
	r.mu.Unlock()
	r.progress(false)
}

// announce records the byte count of a DLMessageUploadFiles (see the rule above).
func (r *reporter) announce(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	before := r.expectedLocked()
	switch {
	case n <= 0:
		return
	case n >= r.bytes:
		r.announced = n
	default:
		r.announced = r.bytes + n
	}
	if r.expectedLocked() > before {
		// A revised, larger total: the percent is worked out afresh, even if lower.
		r.percent = r.devPct
	}
	r.blendLocked()
}

func (r *reporter) setFile(f string) {
	r.mu.Lock()
	r.file = f
	r.mu.Unlock()
}

func (r *reporter) addBytes(n int) {
	r.mu.Lock()
	r.bytes += int64(n)
	r.blendLocked()
	r.mu.Unlock()
	r.progress(false)
}

func (r *reporter) fileDone() {
	r.mu.Lock()
	r.files++
	r.mu.Unlock()
	r.progress(false)
}

// done reports the finished capture: 100%, nothing left, no file in flight.
func (r *reporter) done() {
	r.stop()
	r.mu.Lock()
	r.devPct, r.percent, r.file = 100, 100, ""
	r.mu.Unlock()
	r.progress(true)
}

// progress emits a progress event at most every 200 ms unless forced.
func (r *reporter) progress(force bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if dt := now.Sub(r.rateT); dt >= 500*time.Millisecond && !r.rateT.IsZero() {
		inst := float64(r.bytes-r.rateB) / dt.Seconds()
		if r.rate == 0 {
			r.rate = inst
		} else {
			r.rate = 0.7*r.rate + 0.3*inst
		}
		r.rateT, r.rateB = now, r.bytes
	}
	if !force && now.Sub(r.lastEmit) < 200*time.Millisecond {
		return
	}
	r.lastEmit = now
	r.emitLocked(Event{Kind: EventProgress})
}

// humanBytes formats a byte count for messages. Every byte count iosbackup prints
// uses go-humanize's IEC units (KiB, MiB, GiB), so two lines never disagree on units.
func humanBytes(n int64) string {
	return humanize.IBytes(uint64(max(n, 0)))
}
