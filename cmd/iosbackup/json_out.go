package main

import (
	"time"

	"iosbackup/capture"
)

// The --json outputs of every command share one naming convention, so a script reads
// the same fact under the same key whichever command printed it: snake_case keys,
// device_name, product_type and ios_version as `list` prints them, sizes in *_bytes and
// durations in *_seconds. capture's own types are mapped here rather than encoded as
// they are: the keys are part of the command line's interface, not of the library's.

// deviceJSON is one device of `devices --json`.
type deviceJSON struct {
	UDID            string `json:"udid"`
	DeviceName      string `json:"device_name,omitempty"`
	ProductType     string `json:"product_type,omitempty"`
	ProductVersion  string `json:"ios_version,omitempty"`
	BuildVersion    string `json:"build_version,omitempty"`
	DeviceClass     string `json:"device_class,omitempty"`
	Connection      string `json:"connection,omitempty"`
	Paired          bool   `json:"paired"`
	EncryptionKnown bool   `json:"encryption_known"`
	Encrypted       bool   `json:"encrypted"`
	Problem         string `json:"problem,omitempty"`
}

func devicesJSON(devs []capture.DeviceInfo) []deviceJSON {
	out := make([]deviceJSON, 0, len(devs))
	for _, d := range devs {
		out = append(out, deviceJSON{
			UDID: d.UDID, DeviceName: d.Name, ProductType: d.ProductType, ProductVersion: d.ProductVersion,
			BuildVersion: d.BuildVersion, DeviceClass: d.DeviceClass, Connection: d.Connection,
			Paired: d.Paired, EncryptionKnown: d.EncryptionKnown, Encrypted: d.Encrypted, Problem: d.Problem,
		})
	}
	return out
}

// captureResultJSON is the last line of `capture --json`. path is the backup folder,
// as in `list --json`.
type captureResultJSON struct {
	UDID            string  `json:"udid"`
	Path            string  `json:"path"`
	Incremental     bool    `json:"incremental"`
	Encrypted       bool    `json:"encrypted"`
	Files           int     `json:"files"`
	ReceivedBytes   int64   `json:"received_bytes"`
	Removed         int     `json:"removed"`
	DurationSeconds float64 `json:"duration_seconds"`
	InPlace         bool    `json:"in_place,omitempty"`
	// Snapshot is the folder the replaced backup was kept in; Forgotten the snapshots
	// the --keep-* rules removed.
	Snapshot  string `json:"snapshot_path,omitempty"`
	Forgotten int    `json:"forgotten,omitempty"`
}

func resultJSON(r *capture.Result) captureResultJSON {
	return captureResultJSON{
		UDID: r.UDID, Path: r.Dir, Incremental: r.Incremental, Encrypted: r.Encrypted, Files: r.Files,
		ReceivedBytes: r.Bytes, Removed: r.Removed, DurationSeconds: seconds(r.Duration), InPlace: r.InPlace,
		Snapshot: r.Snapshot, Forgotten: r.Forgotten,
	}
}

// eventJSON is one progress line of `capture --json`.
type eventJSON struct {
	Kind          string    `json:"kind"`
	Time          time.Time `json:"time"`
	Message       string    `json:"message,omitempty"`
	Wait          string    `json:"wait,omitempty"`
	Percent       float64   `json:"percent"`
	ReceivedBytes int64     `json:"received_bytes"`
	ExpectedBytes int64     `json:"expected_bytes"` // in all; 0 when unknown
	Files         int       `json:"files"`
	BytesPerSec   float64   `json:"rate_bytes_per_second"`
	ETASeconds    float64   `json:"eta_seconds"`
	File          string    `json:"file,omitempty"`
}

func eventToJSON(e capture.Event) eventJSON {
	return eventJSON{
		Kind: e.Kind.String(), Time: e.Time, Message: e.Message, Wait: e.Wait.String(),
		Percent: e.Percent, ReceivedBytes: e.Bytes, ExpectedBytes: e.Expected, Files: e.Files, BytesPerSec: e.Rate,
		ETASeconds: seconds(e.ETA), File: e.File,
	}
}

// seconds is a duration as JSON carries it: seconds, to the millisecond.
func seconds(d time.Duration) float64 {
	return float64(d.Milliseconds()) / 1000
}

// restoreEventJSON is one progress line of `restore --json`: capture's, with the bytes
// sent to the device instead of received from it.
type restoreEventJSON struct {
	Kind          string    `json:"kind"`
	Time          time.Time `json:"time"`
	Message       string    `json:"message,omitempty"`
	Wait          string    `json:"wait,omitempty"`
	Percent       float64   `json:"percent"`
	SentBytes     int64     `json:"sent_bytes"`
	ExpectedBytes int64     `json:"expected_bytes"`
	Files         int       `json:"files"`
	BytesPerSec   float64   `json:"rate_bytes_per_second"`
	ETASeconds    float64   `json:"eta_seconds"`
	File          string    `json:"file,omitempty"`
}

func restoreEventToJSON(e capture.Event) restoreEventJSON {
	j := eventToJSON(e)
	return restoreEventJSON{
		Kind: j.Kind, Time: j.Time, Message: j.Message, Wait: j.Wait, Percent: j.Percent, SentBytes: j.ReceivedBytes,
		ExpectedBytes: j.ExpectedBytes, Files: j.Files, BytesPerSec: j.BytesPerSec, ETASeconds: j.ETASeconds, File: j.File,
	}
}
