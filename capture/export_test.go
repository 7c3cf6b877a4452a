package capture

import "time"

// Hooks for the external tests.

// SetQuietAfter changes how long the device may stay silent before a wait event.
func SetQuietAfter(d time.Duration) (restore func()) {
	old := quietAfter
	quietAfter = d
	return func() { quietAfter = old }
}

// SetForceInPlace makes captures work in place, as without hard links.
func SetForceInPlace(on bool) (restore func()) {
	old := forceInPlace
	forceInPlace = on
	return func() { forceInPlace = old }
}

// SetPairPollInterval speeds up pairing retries.
func SetPairPollInterval(d time.Duration) (restore func()) {
	old := pairPollInterval
	pairPollInterval = d
	return func() { pairPollInterval = old }
}

// SetHeartbeat changes how often the progress is re-emitted during a transfer.
func SetHeartbeat(d time.Duration) (restore func()) {
	old := heartbeat
	heartbeat = d
	return func() { heartbeat = old }
}

// SetNoExchange makes publishing use two renames, as where folders cannot be swapped.
func SetNoExchange(on bool) (restore func()) {
	old := noExchange
	noExchange = on
	return func() { noExchange = old }
}

// SetAfterPublishStep calls fn after each step of publishing ("journal", "aside",
// "swap", "sealed", "kept", "done").
func SetAfterPublishStep(fn func(name string)) (restore func()) {
	old := afterPublishStep
	afterPublishStep = fn
	return func() { afterPublishStep = old }
}
