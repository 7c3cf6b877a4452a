// Package devicesim simulates an iPhone behind usbmuxd, well enough for iosbackup's
// capture code and for libimobiledevice's idevicebackup2 to take backups from it.
//
// A Sim listens on a unix socket and speaks usbmuxd's plist protocol there. Behind it:
// lockdownd (with TLS sessions, pairing, device values, service start),
// notification_proxy, a minimal AFC (enough for the sync lock idevicebackup2 takes),
// installation_proxy, and mobilebackup2, which serves the contents of a backup folder
// (any: encrypted or not, Manifest.db or Manifest.mbdb) the way a device does: it
// uploads files into UDID/Snapshot/, moves them into place and writes a finished
// Status.plist. Incremental backups download the host's Manifest.db and send only
// what changed; removed files are removed on the host. A Restore pulls a backup from
// the host as BackupAgent2 does and replaces the device's contents (Contents) and the
// backup it serves with it. The device speaks the TLS of the iOS version it runs.
//
// Faults can be scripted (locked device, wrong password, passcode pause, disconnect at
// byte N, hostile paths, unpaired host, Trust dialog, Find My on; a second restore
// without reboot and a backup newer than the device fail by themselves) to test the
// host's behaviour.
package devicesim

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// Config describes the simulated device.
type Config struct {
	// UDID of the device; default "00008030-000A1B2C3D4E5F60".
	UDID string
	// Source is the backup folder the device "holds".
	Source string
	// Password is the backup password, checked by ChangePassword (and reported by
	// WillEncrypt when set). Empty: taken from nothing, encryption starts off unless
	// the source's Manifest.plist says IsEncrypted.
	Password string
	// UsedBytes is the data on the device reported by the disk usage domain; 0 means
	// the size of Source.
	UsedBytes int64
	// ProductVersion is the iOS version the device runs; empty: the "Product Version"
	// of Source's Info.plist (17.5.1 when it has none). It decides the TLS versions the
	// device accepts and which backups it can restore.
	ProductVersion string
	// ServiceSSL makes mobilebackup2 run over TLS, as recent devices do.
	ServiceSSL bool
	// BatchFiles is how many files one DLMessageUploadFiles carries (default 200).
	BatchFiles int
	// Log, when set, receives a line per protocol request (for debugging).
	Log io.Writer
	// OnSend, when set, is called after every block of file data the device sends,
	// with the number of file bytes sent so far in that session (tests use it to
	// interrupt a capture at a chosen point).
	OnSend func(sent int64)
	// OnSendFile, when set, is called after every block of file data with the host
	// path of the file being sent and how much of it was sent; the data is on the
	// wire by then, so a test can hold the device in the middle of a file.
	OnSendFile func(hostPath string, sent, size int64)
	Faults
}

// Faults script misbehaviour. The zero value is a healthy, paired, unlocked device.
type Faults struct {
	// Detached makes usbmuxd list no device, as when usbmuxd runs but nothing is
	// plugged in.
	Detached bool
	// Locked makes mobilebackup2 answer Hello with error 208.
	Locked bool
	// Unpaired starts the device without a pair record on the host.
	Unpaired bool
	// TrustPrompts is how many Pair requests are answered "dialog pending" first.
	TrustPrompts int
	// PasscodeWait pauses the device after a Backup, Restore or ChangePassword
	// request, as iOS 16.1+ does while the user types the passcode.
	PasscodeWait time.Duration
	// DisconnectAfter, when > 0, drops the connection once that many file bytes
	// were sent (backup) or received (restore) in one session (a cable pulled
	// mid-transfer).
	DisconnectAfter int64
	// HostilePaths are host paths the device tries to upload to (e.g. "../../x").
	HostilePaths []string
	// FinalError, when non-zero, ends every backup with this ErrorCode.
	FinalError int
	// FindMy makes Restore fail as with Find My iPhone on (MBErrorDomain 211).
	FindMy bool
	// RejectPassword makes Restore of an encrypted backup fail with 207 (invalid
	// password) whatever password the host sends; a wrong password fails anyway.
	RejectPassword bool
	// Symlinks are planted on the host's disk once the Snapshot folder exists and
	// before any file is sent, as a local attacker racing the capture would: host
	// path of the link -> its target. (Same machine only: it writes the host's disk.)
	Symlinks map[string]string
}

// Stats count what the device sent in the last backup session (or since ResetStats).
type Stats struct {
	Sessions   int // Backup and Restore requests
	FilesSent  int
	BytesSent  int64
	Removed    int
	Sent       []string // host paths of the files sent, in order
	Full       bool     // the last backup was full
	Downloaded []string // host paths the device downloaded
	Reboots    int      // reboots after restores (and Reboot calls)
}

// Sim is a running simulated device.
type Sim struct {
	cfg    Config
	socket string
	ln     net.Listener
	id     *identity

	mu          sync.Mutex
	faults      Faults
	source      string
	iosVersion  string
	password    string
	willEncrypt bool
	pairRecord  []byte          // the host's record, as usbmuxd stores it
	trusted     map[string]bool // HostIDs the device accepts
	trustLeft   int
	ports       map[uint16]string
	nextPort    uint16
	stats       Stats
	// After a restore: the files on the device, the folder holding the restored
	// backup (also the new source), and whether /var/.backup.i is left (no reboot).
	contents    map[string]DeviceFile
	restoredDir string
	backupI     bool
	stateDir    string
	lastRestore *RestoreRecord
	afcFiles    map[string][]byte
	conns       map[net.Conn]bool
	closed      bool
	wg          sync.WaitGroup
}

// DefaultUDID is the UDID used when Config.UDID is empty.
const DefaultUDID = "00008030-000A1B2C3D4E5F60"

// Start listens on the unix socket path and serves the device until Close.
func Start(socketPath string, cfg Config) (*Sim, error) {
	if cfg.UDID == "" {
		cfg.UDID = DefaultUDID
	}
	if cfg.BatchFiles <= 0 {
		cfg.BatchFiles = 200
	}
	if fi, err := os.Stat(cfg.Source); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("devicesim: source %q is not a folder", cfg.Source)
	}
	id, err := newIdentity()
	if err != nil {
		return nil, err
	}
	_ = os.Remove(socketPath)
	ln, err := net.Listen("unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("devicesim: listen on %s: %w", socketPath, err)
	}
	s := &Sim{
		cfg: cfg, socket: socketPath, ln: ln, id: id,
		faults: cfg.Faults, source: cfg.Source, password: cfg.Password,
		trusted: map[string]bool{}, trustLeft: cfg.TrustPrompts,
		ports: map[uint16]string{}, nextPort: 49152, conns: map[net.Conn]bool{}, afcFiles: map[string][]byte{},
	}
	s.iosVersion = cfg.ProductVersion
	if s.iosVersion == "" {
		s.iosVersion, _ = readInfo(cfg.Source)["Product Version"].(string)
	}
	if s.iosVersion == "" {
		s.iosVersion = "17.5.1"
	}
	s.willEncrypt = cfg.Password != "" || sourceEncrypted(cfg.Source)
	if !cfg.Unpaired {
		rec, hostID, err := id.hostPairRecord()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.pairRecord, s.trusted[hostID] = rec, true
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Socket is the path of the fake usbmuxd socket.
func (s *Sim) Socket() string { return s.socket }

// UDID is the simulated device's UDID.
func (s *Sim) UDID() string { return s.cfg.UDID }

// Close stops the device and waits for its connections to end.
func (s *Sim) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	_ = os.Remove(s.socket)
	if s.stateDir != "" {
		_ = os.RemoveAll(s.stateDir)
	}
	return err
}

// SetFaults replaces the scripted faults (for the next requests).
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.trustLeft = f.TrustPrompts
}

// SetSource makes the device hold another backup folder from now on.
func (s *Sim) SetSource(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.source = dir
}

// Stats returns what the device sent since the last ResetStats.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Sent = append([]string(nil), s.stats.Sent...)
	st.Downloaded = append([]string(nil), s.stats.Downloaded...)
	return st
}

// ResetStats zeroes the counters.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
}

// Encryption reports the device's backup encryption state and password.
func (s *Sim) Encryption() (on bool, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.willEncrypt, s.password
}

// PairRecord returns the host's pair record as usbmuxd stores it (nil when unpaired).
func (s *Sim) PairRecord() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.pairRecord...)
}

func (s *Sim) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

func (s *Sim) logf(format string, args ...any) {
	if s.cfg.Log != nil {
		fmt.Fprintf(s.cfg.Log, "devicesim: "+format+"\n", args...)
	}
}

func (s *Sim) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			defer func() {
				// A simulator bug must show in the test, not kill the test binary
				// from a goroutine.
				if r := recover(); r != nil {
					s.logf("PANIC in connection handler: %v", r)
				}
			}()
			s.serveMux(c)
		}()
	}
}

// openPort registers a service behind a fresh port number.
func (s *Sim) openPort(service string) uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.nextPort
	s.nextPort++
	if s.nextPort < 49152 {
		s.nextPort = 49152
	}
	s.ports[p] = service
	return p
}

// takePort returns the service registered at port, once.
func (s *Sim) takePort(p uint16) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.ports[p]
	delete(s.ports, p)
	return svc, ok
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newUUID() string {
	h := strings.ToUpper(randomHex(16))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var errFault = errors.New("devicesim: scripted disconnect")
