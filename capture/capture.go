// Package capture takes backups from iPhones and iPads over USB, in the folder format
// iTunes and Finder write (ROOT/<UDID>/), with the device's own backup service
// (mobilebackup2, reached through usbmuxd and lockdownd).
//
// The layers, one file each, as in internal/devicesim: usbmux.go finds devices and
// reads pair records; lockdown.go opens lockdownd sessions and the services they
// start; pair.go pairs; devices.go reads device facts; afc.go writes a file on the
// device; framing.go frames DeviceLink messages and file streams over any
// io.ReadWriter; devicelink.go is the DeviceLink session and message loop every
// request runs through; hostfiles.go serves the device's file requests from store.go,
// which confines them to the backup root (read-only for a restore); staging.go
// publishes a finished capture. backup.go drives a backup, restore.go and
// restore_selective.go a restore, password.go the password changes; progress.go turns
// the traffic into progress events. Only usbmux.go and lockdown.go talk to go-ios.
//
// Every function takes a context: cancelling it (Ctrl-C) closes the device session,
// leaves the previous complete backup as it was, and lets the next capture run.
package capture

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"iosbackup/history"
)

// Errors callers can test with errors.Is. Messages say what the user should do.
var (
	ErrNoDevice       = errors.New("no device connected: plug the iPhone or iPad in with a USB cable and unlock it")
	ErrNoUsbmuxd      = errors.New("usbmuxd is not running")
	ErrUnknownUDID    = errors.New("no connected device has this UDID")
	ErrSeveralDevices = errors.New("several devices connected: choose one with its UDID")
	ErrNotPaired      = errors.New("device not paired with this computer: run 'iosbackup pair', then tap Trust on the device")
	ErrPairingDenied  = errors.New("pairing refused on the device (Don't Trust was tapped)")
	ErrDeviceLocked   = errors.New("device is locked: unlock it and try again")
	ErrWrongPassword  = errors.New("wrong backup password")
	ErrDiskFull       = errors.New("not enough free disk space for the backup")
	ErrDisconnected   = errors.New("device disconnected")
	ErrUnsafePath     = errors.New("refused a path outside the backup folder")
	ErrProtocol       = errors.New("unexpected data from the device")
	ErrBackupFailed   = errors.New("device reported that the backup failed")
	// ErrAlreadyEncrypted and ErrNotEncrypted answer an encryption change that would
	// change nothing.
	ErrAlreadyEncrypted = errors.New("backup encryption is already on")
	ErrNotEncrypted     = errors.New("backup encryption is off")
)

// InterruptedError is what Run returns when its context ends (Ctrl-C): it says
// whether a complete previous backup was there and is left as it was. errors.Is
// still finds context.Canceled in it.
type InterruptedError struct {
	Dir    string // ROOT/<UDID>
	Intact bool   // a complete previous backup is there, unchanged
	Err    error
}

func (e *InterruptedError) Error() string {
	if e.Intact {
		return fmt.Sprintf("capture interrupted: the previous backup in %s is intact", e.Dir)
	}
	return fmt.Sprintf("capture interrupted: nothing was kept in %s (there was no complete previous backup, or it was written in place)", e.Dir)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// DeviceError is an error code the device's backup service returned.
type DeviceError struct {
	Code        int64
	Description string
	// Restore is set when the code ended a restore, not a backup.
	Restore bool
	// Files are the files the host could not send, for error 205 of a restore.
	Files []string
}

// Device error codes (MBErrorDomain) with a meaning users act on.
const (
	codeBackupI   = 102 // a restore without reboot left /var/.backup.i
	codeDiskFull  = 105
	codeDownloads = 205 // multiple errors downloading files (restore)
	codePassword  = 207
	codeLocked    = 208
	codeFindMy    = 211
)

func (e *DeviceError) Error() string {
	hint := ""
	switch e.Code {
	case codePassword:
		hint = ": wrong backup password"
	case codeLocked:
		hint = ": device is locked, unlock it and try again"
	case codeDiskFull:
		hint = ": not enough free disk space"
	case codeFindMy:
		hint = ": " + ErrFindMy.Error()
	case codeBackupI:
		if e.Restore {
			hint = ": " + ErrRebootFirst.Error()
		}
	case codeDownloads:
		if e.Restore {
			hint = ": " + ErrDownloadFiles.Error()
			if len(e.Files) > 0 {
				hint += " (the backup lacks or could not read: " + strings.Join(e.Files, ", ") + ")"
			} else {
				hint += " (a blob may be missing or modified: 'iosbackup verify' the backup)"
			}
		}
	}
	if e.Description != "" {
		return fmt.Sprintf("device error %d (%s)%s", e.Code, e.Description, hint)
	}
	return fmt.Sprintf("device error %d%s", e.Code, hint)
}

// Is maps the device's well-known codes to the package's errors.
func (e *DeviceError) Is(target error) bool {
	switch e.Code {
	case codePassword:
		return target == ErrWrongPassword
	case codeLocked:
		return target == ErrDeviceLocked
	case codeDiskFull:
		return target == ErrDiskFull
	case codeFindMy:
		return target == ErrFindMy || e.Restore && target == ErrRestoreFailed
	}
	if e.Restore {
		switch {
		case e.Code == codeBackupI && target == ErrRebootFirst, e.Code == codeDownloads && target == ErrDownloadFiles:
			return true
		}
		return target == ErrRestoreFailed
	}
	return target == ErrBackupFailed
}

// Target chooses the device and the usbmuxd that reaches it.
type Target struct {
	// UDID of the device; empty means the only one connected.
	UDID string
	// Socket is the usbmuxd address: "unix:///path", "/path", "UNIX:/path" or
	// "host:port". Empty means USBMUXD_SOCKET_ADDRESS, or the platform default.
	Socket string
}

// DeviceInfo describes a connected device.
type DeviceInfo struct {
	UDID           string `json:"udid"`
	Name           string `json:"name,omitempty"`
	ProductType    string `json:"productType,omitempty"`    // model identifier, e.g. "iPhone14,2"
	ProductVersion string `json:"productVersion,omitempty"` // iOS version
	BuildVersion   string `json:"buildVersion,omitempty"`
	DeviceClass    string `json:"deviceClass,omitempty"` // iPhone, iPad, iPod
	Connection     string `json:"connection,omitempty"`  // USB or Network
	Paired         bool   `json:"paired"`
	// EncryptionKnown is false when the device could not be asked (not paired, locked).
	EncryptionKnown bool `json:"encryptionKnown"`
	Encrypted       bool `json:"encrypted"`
	// Problem says why some fields are missing ("" when none are).
	Problem string `json:"problem,omitempty"`
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventInfo is a step of the capture, worth one line of output.
	EventInfo EventKind = iota
	// EventWait says the device waits for the user (see Wait).
	EventWait
	// EventProgress updates the progress figures (at most a few times a second).
	EventProgress
	// EventWarning is something the user should know that did not stop the capture.
	EventWarning
)

func (k EventKind) String() string {
	switch k {
	case EventInfo:
		return "info"
	case EventWait:
		return "wait"
	case EventProgress:
		return "progress"
	case EventWarning:
		return "warning"
	}
	return fmt.Sprintf("event(%d)", int(k))
}

// MarshalText makes JSON output carry the kind's name.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// WaitReason is what the device waits for.
type WaitReason int

const (
	WaitNone     WaitReason = iota
	WaitUnlock              // unlock the device
	WaitTrust               // tap Trust on the device
	WaitPasscode            // enter the passcode on the device
)

func (w WaitReason) String() string {
	switch w {
	case WaitUnlock:
		return "unlock"
	case WaitTrust:
		return "trust"
	case WaitPasscode:
		return "passcode"
	}
	return ""
}

// MarshalText makes JSON output carry the reason's name.
func (w WaitReason) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// Event is one report to the caller. The progress figures are filled in on every
// event, so a renderer can draw its bar from any of them.
type Event struct {
	Kind    EventKind  `json:"kind"`
	Time    time.Time  `json:"time"`
	Message string     `json:"message,omitempty"`
	Wait    WaitReason `json:"wait,omitempty"`

	// Percent is the overall progress (0-100), or -1 before there is any: the
	// device's own percent blended with the bytes received against Expected, so it
	// moves during a big file (the rule is in progress.go).
	Percent float64 `json:"percent"`
	Bytes   int64   `json:"bytes"` // file data received so far
	// Expected is the file data this capture is expected to receive in all: what
	// the device announced, else an estimate; 0 when unknown.
	Expected int64 `json:"expected"`
	Files    int   `json:"files"` // files received so far
	// Rate is the recent transfer rate in bytes per second.
	Rate float64 `json:"rate"`
	// ETA is the estimated time left; 0 when unknown.
	ETA time.Duration `json:"eta"`
	// File is the file being received, as DOMAIN/PATH (the form ls and cat take) when
	// its device path and fileID agree on one, else its path on the device, else its
	// place in the backup folder (Manifest.db).
	File string `json:"file,omitempty"`
}

// Options configure Run.
type Options struct {
	Target
	// Root is the folder that holds one folder per device (a MobileSync/Backup root).
	// The backup is written to Root/<UDID>.
	Root string
	// Full asks for a full backup even when a complete previous one is there.
	Full bool
	// SkipSpaceCheck starts even when free space looks smaller than the data on the
	// device (its used space overestimates the backup when photos live in iCloud).
	SkipSpaceCheck bool
	// NoHistory deletes the backup a capture replaces instead of keeping it as a
	// snapshot in Root/<UDID>.history (see package history).
	NoHistory bool
	// Keep prunes the history after the capture, when it names any rule.
	Keep history.Policy
	// Progress receives events; it is called from the capturing goroutine and from a
	// timer goroutine, never concurrently. Nil discards them.
	Progress func(Event)
}

// Result describes a finished capture.
type Result struct {
	UDID        string        `json:"udid"`
	Dir         string        `json:"dir"`         // Root/<UDID>
	Incremental bool          `json:"incremental"` // only changes were transferred
	Encrypted   bool          `json:"encrypted"`   // the device encrypts its backups
	Files       int           `json:"files"`       // files received
	Bytes       int64         `json:"bytes"`       // file data bytes received
	Removed     int           `json:"removed"`     // paths the device removed
	Duration    time.Duration `json:"duration"`
	// InPlace is true when the file system could not make hard links, so the device
	// wrote into the backup folder directly instead of a staging copy.
	InPlace bool `json:"inPlace,omitempty"`
	// Snapshot is the folder the replaced backup was kept in ("" when none was).
	Snapshot string `json:"snapshot,omitempty"`
	// Forgotten is the number of snapshots the Keep policy removed.
	Forgotten int `json:"forgotten,omitempty"`
}

// PasswordKind says which backup password is asked for.
type PasswordKind int

const (
	// PasswordCurrent is the password backups are encrypted with now.
	PasswordCurrent PasswordKind = iota
	// PasswordNew is a password to set; a caller should ask for it twice.
	PasswordNew
)

func (k PasswordKind) String() string {
	if k == PasswordNew {
		return "new backup password"
	}
	return "current backup password"
}

// PasswordFunc supplies a password. The returned slice is zeroed after use.
type PasswordFunc func(kind PasswordKind) ([]byte, error)

// recoverPanic turns a bug into an error at the API boundary: a capture must fail
// cleanly, never crash the caller.
func recoverPanic(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("capture: internal error: %v", r)
	}
}
