package capture

// The one file that talks to usbmuxd and lockdownd, through go-ios. go-ios's helpers
// that open their own usbmuxd connection read USBMUXD_SOCKET_ADDRESS; everything here
// uses an explicit address instead, so a caller (or a test running a simulated device)
// chooses the socket without touching the process environment.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/danielpaulus/go-ios/ios"
	"howett.net/plist"
)

// go-ios logs through slog.Default; a library must not print on its caller's terminal.
var quietGoIOS sync.Once

func silenceGoIOS() {
	quietGoIOS.Do(func() { ios.SetLogger(slog.New(slog.DiscardHandler)) })
}

const lockdownLabel = "iosbackup"

// muxAddress turns the accepted spellings of a usbmuxd address into go-ios's
// "scheme://address" form (go-ios panics on an address without a scheme).
// An empty socket means USBMUXD_SOCKET_ADDRESS, read here rather than by go-ios, which
// takes libimobiledevice's "UNIX:/path" for a TCP host called UNIX.
func muxAddress(socket string) string {
	if socket == "" {
		socket = os.Getenv("USBMUXD_SOCKET_ADDRESS")
	}
	switch {
	case socket == "":
		return ios.GetUsbmuxdSocket()
	case strings.HasPrefix(socket, "UNIX:") && !strings.HasPrefix(socket, "UNIX://"):
		return "unix://" + strings.TrimPrefix(socket, "UNIX:") // libusbmuxd's spelling
	case strings.Contains(socket, "://"):
		i := strings.Index(socket, "://")
		return strings.ToLower(socket[:i]) + socket[i:]
	case strings.HasPrefix(socket, "/"):
		return "unix://" + socket
	default:
		return "tcp://" + socket
	}
}

// muxDevice is a device as usbmuxd lists it.
type muxDevice struct {
	id         int
	udid       string
	connection string
}

// muxConn is one connection to usbmuxd, closed when ctx ends.
type muxConn struct {
	mux  *ios.UsbMuxConnection
	dc   *ios.DeviceConnection
	stop func()
}

func dialMux(ctx context.Context, socket string) (*muxConn, error) {
	silenceGoIOS()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	addr := muxAddress(socket)
	dc, err := ios.NewDeviceConnection(addr)
	if err != nil {
		return nil, muxDialError(addr, err)
	}
	return &muxConn{mux: ios.NewUsbMuxConnection(dc), dc: dc, stop: closeOnCancel(ctx, dc)}, nil
}

// release hands the connection over (after Connect it is a pipe to a device port).
func (m *muxConn) release() ios.DeviceConnectionInterface {
	m.stop()
	return m.mux.ReleaseDeviceConnection()
}

func (m *muxConn) close() {
	m.stop()
	_ = m.dc.Close()
}

// call sends one usbmuxd request and decodes the reply.
func (m *muxConn) call(msg map[string]any) (map[string]any, error) {
	msg["ClientVersionString"] = "iosbackup"
	msg["ProgName"] = "iosbackup"
	msg["kLibUSBMuxVersion"] = uint64(3)
	if err := m.mux.Send(msg); err != nil {
		return nil, fmt.Errorf("usbmuxd %s: %w", msg["MessageType"], err)
	}
	resp, err := m.mux.ReadMessage()
	if err != nil {
		return nil, fmt.Errorf("usbmuxd %s: %w", msg["MessageType"], err)
	}
	var out map[string]any
	if _, err := plist.Unmarshal(resp.Payload, &out); err != nil {
		return nil, fmt.Errorf("%w: usbmuxd %s reply: %v", ErrProtocol, msg["MessageType"], err)
	}
	return out, nil
}

// closeOnCancel closes c when ctx ends; the returned function stops watching.
func closeOnCancel(ctx context.Context, c io.Closer) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = c.Close()
		case <-done:
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// listMuxDevices asks usbmuxd for the attached devices.
func listMuxDevices(ctx context.Context, socket string) ([]muxDevice, error) {
	m, err := dialMux(ctx, socket)
	if err != nil {
		return nil, err
	}
	defer m.close()
	resp, err := m.call(map[string]any{"MessageType": "ListDevices"})
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	list, _ := resp["DeviceList"].([]any)
	var out []muxDevice
	for _, e := range list {
		d, _ := e.(map[string]any)
		props, _ := d["Properties"].(map[string]any)
		udid, _ := props["SerialNumber"].(string)
		id, ok := toInt64(props["DeviceID"])
		if !ok {
			id, ok = toInt64(d["DeviceID"])
		}
		if udid == "" || !ok {
			continue
		}
		conn, _ := props["ConnectionType"].(string)
		out = append(out, muxDevice{id: int(id), udid: udid, connection: conn})
	}
	return out, nil
}

// uniqueDevices lists each device once, in usbmuxd's order; a device seen over both
// USB and Wi-Fi keeps its USB entry.
func uniqueDevices(devs []muxDevice) []muxDevice {
	idx := map[string]int{}
	var out []muxDevice
	for _, d := range devs {
		i, seen := idx[d.udid]
		if !seen {
			idx[d.udid] = len(out)
			out = append(out, d)
		} else if out[i].connection != "USB" && d.connection == "USB" {
			out[i] = d
		}
	}
	return out
}

// findDevice picks the target device: by UDID, or the only one attached.
func findDevice(ctx context.Context, t Target) (muxDevice, error) {
	all, err := listMuxDevices(ctx, t.Socket)
	if err != nil {
		return muxDevice{}, err
	}
	devs := uniqueDevices(all)
	if t.UDID != "" {
		for _, d := range devs {
			if strings.EqualFold(d.udid, t.UDID) {
				return d, nil
			}
		}
		return muxDevice{}, unknownUDID(t.UDID, devs)
	}
	switch len(devs) {
	case 0:
		return muxDevice{}, ErrNoDevice
	case 1:
		return devs[0], nil
	}
	ids := make([]string, len(devs))
	for i, d := range devs {
		ids[i] = d.udid
	}
	return muxDevice{}, fmt.Errorf("%w: %s", ErrSeveralDevices, strings.Join(ids, ", "))
}

// readPairRecord asks usbmuxd for the host's pairing record with udid; found is
// false when there is none.
func readPairRecord(ctx context.Context, socket, udid string) (rec ios.PairRecord, found bool, err error) {
	m, err := dialMux(ctx, socket)
	if err != nil {
		return rec, false, err
	}
	defer m.close()
	resp, err := m.call(map[string]any{"MessageType": "ReadPairRecord", "PairRecordID": udid})
	if err != nil {
		return rec, false, ctxErr(ctx, err)
	}
	data, ok := resp["PairRecordData"].([]byte)
	if !ok {
		return rec, false, nil
	}
	if _, err := plist.Unmarshal(data, &rec); err != nil {
		return rec, false, fmt.Errorf("pair record of %s: %w", udid, err)
	}
	if rec.HostID == "" || len(rec.HostCertificate) == 0 || len(rec.HostPrivateKey) == 0 {
		return rec, false, nil
	}
	return rec, true, nil
}

// lockdown is a connection to the device's lockdownd, with a session when paired.
type lockdown struct {
	lc        *ios.LockDownConnection
	closed    bool
	sessionID string
	stop      func()
	dev       muxDevice
	socket    string
	pair      ios.PairRecord
}

// openLockdown connects to lockdownd; with a pair record it starts a TLS session.
func openLockdown(ctx context.Context, socket string, dev muxDevice, pair *ios.PairRecord) (*lockdown, error) {
	m, err := dialMux(ctx, socket)
	if err != nil {
		return nil, err
	}
	lc, err := m.mux.ConnectLockdown(dev.id)
	if err != nil {
		m.close()
		return nil, ctxErr(ctx, fmt.Errorf("%w: connect to lockdownd: %v", ErrDisconnected, err))
	}
	l := &lockdown{lc: lc, dev: dev, socket: socket, stop: m.stop}
	if pair == nil {
		return l, nil
	}
	l.pair = *pair
	resp, err := l.request(ctx, map[string]any{
		"Request": "StartSession", "ProtocolVersion": "2",
		"HostID": pair.HostID, "SystemBUID": pair.SystemBUID,
	})
	if err != nil {
		l.close()
		return nil, err
	}
	if e, _ := resp["Error"].(string); e != "" {
		l.close()
		switch e {
		case "InvalidHostID", "InvalidPairRecord", "PairingDialogResponsePending":
			return nil, fmt.Errorf("%w (lockdownd: %s)", ErrNotPaired, e)
		case "PasswordProtected":
			return nil, fmt.Errorf("%w (lockdownd: %s)", ErrDeviceLocked, e)
		}
		return nil, fmt.Errorf("start lockdown session: %s", e)
	}
	l.sessionID, _ = resp["SessionID"].(string)
	if ssl, _ := resp["EnableSessionSSL"].(bool); ssl {
		if err := lc.EnableSessionSsl(*pair); err != nil {
			l.close()
			return nil, ctxErr(ctx, fmt.Errorf("%w: TLS with lockdownd failed (%v); pair again", ErrNotPaired, err))
		}
	}
	return l, nil
}

// request sends a lockdownd request and decodes the reply.
func (l *lockdown) request(ctx context.Context, req map[string]any) (map[string]any, error) {
	req["Label"] = lockdownLabel
	if err := l.lc.Send(req); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("%w: lockdownd %s: %v", ErrDisconnected, req["Request"], err))
	}
	data, err := l.lc.ReadMessage()
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("%w: lockdownd %s: %v", ErrDisconnected, req["Request"], err))
	}
	var out map[string]any
	if _, err := plist.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%w: lockdownd %s reply: %v", ErrProtocol, req["Request"], err)
	}
	return out, nil
}

// getValue reads a lockdown value; empty key reads the whole domain.
func (l *lockdown) getValue(ctx context.Context, domain, key string) (any, error) {
	req := map[string]any{"Request": "GetValue"}
	if domain != "" {
		req["Domain"] = domain
	}
	if key != "" {
		req["Key"] = key
	}
	resp, err := l.request(ctx, req)
	if err != nil {
		return nil, err
	}
	if e, _ := resp["Error"].(string); e != "" {
		return nil, fmt.Errorf("lockdownd GetValue %s %s: %s", domain, key, e)
	}
	return resp["Value"], nil
}

// startService starts a device service and returns how to reach it. With escrow,
// the pair record's escrow bag goes along, which lets mobilebackup2 run while the
// device locks during a long backup.
func (l *lockdown) startService(ctx context.Context, name string, escrow bool) (port uint16, ssl bool, err error) {
	req := map[string]any{"Request": "StartService", "Service": name}
	if escrow && len(l.pair.EscrowBag) > 0 {
		req["EscrowBag"] = l.pair.EscrowBag
	}
	resp, err := l.request(ctx, req)
	if err != nil {
		return 0, false, err
	}
	if e, _ := resp["Error"].(string); e != "" {
		if e == "PasswordProtected" || e == "EscrowLocked" {
			return 0, false, fmt.Errorf("%w (lockdownd StartService %s: %s)", ErrDeviceLocked, name, e)
		}
		return 0, false, fmt.Errorf("start %s on the device: %s", name, e)
	}
	p, ok := toInt64(resp["Port"])
	if !ok || p <= 0 || p > 65535 {
		return 0, false, fmt.Errorf("%w: start %s: no port in reply", ErrProtocol, name)
	}
	ssl, _ = resp["EnableServiceSSL"].(bool)
	return uint16(p), ssl, nil
}

// close ends the session and the connection (once).
func (l *lockdown) close() {
	if l.closed {
		return
	}
	l.closed = true
	if l.sessionID != "" {
		// Best effort: a device that went away cannot be told goodbye.
		_ = l.lc.Send(map[string]any{"Label": lockdownLabel, "Request": "StopSession", "SessionID": l.sessionID})
		_, _ = l.lc.ReadMessage()
		l.sessionID = ""
	}
	l.stop()
	l.lc.Close()
}

// serviceConn is a connection to a device service.
type serviceConn struct {
	dc   ios.DeviceConnectionInterface
	conn net.Conn
}

func (c *serviceConn) Read(p []byte) (int, error)  { return c.dc.Read(p) }
func (c *serviceConn) Write(p []byte) (int, error) { return c.dc.Write(p) }
func (c *serviceConn) Close() error                { return c.dc.Close() }

// setWriteDeadline bounds a write (used to say goodbye to a device that may not read).
func (c *serviceConn) setWriteDeadline(t time.Time) {
	if c.conn != nil {
		_ = c.conn.SetWriteDeadline(t)
	}
}

// connectService opens a connection to a service port the device opened for us.
func connectService(ctx context.Context, socket string, dev muxDevice, port uint16, ssl bool, pair ios.PairRecord) (*serviceConn, error) {
	m, err := dialMux(ctx, socket)
	if err != nil {
		return nil, err
	}
	stopWatch := closeOnCancel(ctx, m.dc)
	defer stopWatch()
	if err := m.mux.Connect(dev.id, port); err != nil {
		m.close()
		return nil, ctxErr(ctx, fmt.Errorf("%w: connect to service port %d: %v", ErrDisconnected, port, err))
	}
	dc := m.release()
	if ssl {
		if err := dc.EnableSessionSsl(pair); err != nil {
			dc.Close()
			return nil, ctxErr(ctx, fmt.Errorf("%w: TLS with the backup service: %v", ErrDisconnected, err))
		}
	}
	return &serviceConn{dc: dc, conn: dc.Conn()}, nil
}

// startBackupService starts mobilebackup2 (with the escrow bag) and connects to it.
// The lockdown session is closed on return, as the device expects.
func startBackupService(ctx context.Context, l *lockdown) (*serviceConn, error) {
	port, ssl, err := l.startService(ctx, "com.apple.mobilebackup2", true)
	l.close()
	if err != nil {
		return nil, err
	}
	return connectService(ctx, l.socket, l.dev, port, ssl, l.pair)
}

// openSession finds the target device and starts a paired lockdown session.
func openSession(ctx context.Context, t Target) (*lockdown, error) {
	dev, err := findDevice(ctx, t)
	if err != nil {
		return nil, err
	}
	pair, found, err := readPairRecord(ctx, t.Socket, dev.udid)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w (device %s)", ErrNotPaired, dev.udid)
	}
	return openLockdown(ctx, t.Socket, dev, &pair)
}

// isPaired reports whether a pair record exists and the device accepts it.
func isPaired(ctx context.Context, t Target, dev muxDevice) bool {
	pair, found, err := readPairRecord(ctx, t.Socket, dev.udid)
	if err != nil || !found {
		return false
	}
	l, err := openLockdown(ctx, t.Socket, dev, &pair)
	if err != nil {
		return false
	}
	l.close()
	return true
}

// ctxErr prefers the context's error: after a cancellation, the closed socket's error
// is only its consequence.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// pairDevice pairs this host with the device: it asks the device to trust a fresh host
// identity and saves the resulting record in usbmuxd. While the Trust dialog (or the
// lock screen) is up it reports the wait and retries until ctx ends.
func pairDevice(ctx context.Context, socket string, dev muxDevice, emit func(Event)) error {
	m, err := dialMux(ctx, socket)
	if err != nil {
		return err
	}
	resp, err := m.call(map[string]any{"MessageType": "ReadBUID"})
	m.close()
	if err != nil {
		return ctxErr(ctx, err)
	}
	buid, _ := resp["BUID"].(string)

	l, err := openLockdown(ctx, socket, dev, nil)
	if err != nil {
		return err
	}
	defer l.close()
	pubAny, err := l.getValue(ctx, "", "DevicePublicKey")
	if err != nil {
		return err
	}
	pub, ok := pubAny.([]byte)
	if !ok {
		return fmt.Errorf("%w: DevicePublicKey is a %T", ErrProtocol, pubAny)
	}
	wifi, _ := l.getValue(ctx, "", "WiFiAddress")
	wifiMAC, _ := wifi.(string)

	id, err := newHostIdentity(pub)
	if err != nil {
		return err
	}
	hostID := newHostID()
	record := map[string]any{
		"DeviceCertificate": id.deviceCert, "HostCertificate": id.hostCert,
		"RootCertificate": id.rootCert, "HostID": hostID, "SystemBUID": buid,
	}
	waiting := WaitNone
	var escrow []byte
	for {
		resp, err := l.request(ctx, map[string]any{
			"Request": "Pair", "ProtocolVersion": "2", "PairRecord": record,
			"PairingOptions": map[string]any{"ExtendedPairingErrors": true},
		})
		if err != nil {
			return err
		}
		e, _ := resp["Error"].(string)
		reason := WaitNone
		switch e {
		case "":
			escrow, _ = resp["EscrowBag"].([]byte)
		case "PairingDialogResponsePending":
			reason = WaitTrust
		case "PasswordProtected":
			reason = WaitUnlock
		case "UserDeniedPairing":
			return ErrPairingDenied
		default:
			return fmt.Errorf("pair: device says %s", e)
		}
		if reason == WaitNone {
			break
		}
		if reason != waiting {
			waiting = reason
			msg := "Tap Trust on the device and enter its passcode"
			if reason == WaitUnlock {
				msg = "Unlock the device to pair it"
			}
			emit(Event{Kind: EventWait, Wait: reason, Message: msg})
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pairPollInterval):
		}
	}
	data, err := plist.Marshal(map[string]any{
		"DeviceCertificate": id.deviceCert, "HostCertificate": id.hostCert, "HostPrivateKey": id.hostKey,
		"RootCertificate": id.rootCert, "RootPrivateKey": id.rootKey, "EscrowBag": escrow,
		"HostID": hostID, "SystemBUID": buid, "WiFiMACAddress": wifiMAC,
	}, plist.XMLFormat)
	if err != nil {
		return fmt.Errorf("encode pair record: %w", err)
	}
	m, err = dialMux(ctx, socket)
	if err != nil {
		return err
	}
	defer m.close()
	resp, err = m.call(map[string]any{
		"MessageType": "SavePairRecord", "PairRecordID": dev.udid,
		"PairRecordData": data, "DeviceID": uint64(dev.id),
	})
	if err != nil {
		return ctxErr(ctx, err)
	}
	if n, _ := toInt64(resp["Number"]); n != 0 {
		return fmt.Errorf("usbmuxd refused to save the pair record (code %d)", n)
	}
	return nil
}

// pairPollInterval is how often pairing is retried while the device shows a dialog.
var pairPollInterval = time.Second

// hostIdentity is the certificate set of a pair record, PEM-encoded.
type hostIdentity struct {
	rootCert, rootKey, hostCert, hostKey, deviceCert []byte
}

// newHostIdentity creates a root CA, a host certificate and a certificate for the
// device's public key, as lockdownd expects in a Pair request.
func newHostIdentity(devicePublicKeyPEM []byte) (*hostIdentity, error) {
	block, _ := pem.Decode(devicePublicKeyPEM)
	if block == nil {
		return nil, fmt.Errorf("%w: DevicePublicKey is not PEM", ErrProtocol)
	}
	var devPub any
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		devPub = k
	} else if k, err2 := x509.ParsePKIXPublicKey(block.Bytes); err2 == nil {
		devPub = k
	} else {
		return nil, fmt.Errorf("%w: DevicePublicKey: %v", ErrProtocol, err)
	}
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	hostKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	notBefore := time.Now().Add(-time.Hour)
	tmpl := func(serial int64, ca bool, pub any) *x509.Certificate {
		t := &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               pkix.Name{},
			NotBefore:             notBefore,
			NotAfter:              notBefore.AddDate(10, 0, 0),
			BasicConstraintsValid: true,
			IsCA:                  ca,
			SubjectKeyId:          keyID(pub),
		}
		if ca {
			t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		} else {
			t.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		}
		return t
	}
	rootTmpl := tmpl(1, true, &rootKey.PublicKey)
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("create root certificate: %w", err)
	}
	rootCert, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	hostDER, err := x509.CreateCertificate(rand.Reader, tmpl(2, false, &hostKey.PublicKey), rootCert, &hostKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("create host certificate: %w", err)
	}
	devDER, err := x509.CreateCertificate(rand.Reader, tmpl(3, false, devPub), rootCert, devPub, rootKey)
	if err != nil {
		return nil, fmt.Errorf("create device certificate: %w", err)
	}
	certPEM := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }
	keyPEM := func(k *rsa.PrivateKey) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}
	return &hostIdentity{
		rootCert: certPEM(rootDER), rootKey: keyPEM(rootKey),
		hostCert: certPEM(hostDER), hostKey: keyPEM(hostKey),
		deviceCert: certPEM(devDER),
	}, nil
}

func keyID(pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha1.Sum(der)
	return sum[:]
}

func newHostID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// deviceValues is what a lockdown session tells about a device before a backup.
type deviceValues struct {
	all         map[string]any // the default domain
	iTunes      map[string]any // com.apple.iTunes
	willEncrypt bool
	usedBytes   int64 // data on the device; -1 unknown
}

// readDeviceValues reads what Info.plist, the space check and DeviceInfo need.
func readDeviceValues(ctx context.Context, l *lockdown) (*deviceValues, error) {
	v := &deviceValues{usedBytes: -1}
	all, err := l.getValue(ctx, "", "")
	if err != nil {
		return nil, err
	}
	v.all, _ = all.(map[string]any)
	if enc, err := l.getValue(ctx, "com.apple.mobile.backup", "WillEncrypt"); err == nil {
		v.willEncrypt, _ = enc.(bool)
	} else if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if it, err := l.getValue(ctx, "com.apple.iTunes", ""); err == nil {
		v.iTunes, _ = it.(map[string]any)
	}
	if du, err := l.getValue(ctx, "com.apple.disk_usage", ""); err == nil {
		v.usedBytes = usedBytes(du)
	}
	return v, ctx.Err()
}

// usedBytes computes the data on the device from the disk usage domain.
func usedBytes(du any) int64 {
	d, _ := du.(map[string]any)
	get := func(k string) (int64, bool) { return toInt64(d[k]) }
	if total, ok := get("TotalDataCapacity"); ok {
		if avail, ok := get("TotalDataAvailable"); ok && total >= avail {
			return total - avail
		}
		if avail, ok := get("AmountDataAvailable"); ok && total >= avail {
			return total - avail
		}
	}
	if total, ok := get("TotalDiskCapacity"); ok {
		if avail, ok := get("AmountDataAvailable"); ok && total >= avail {
			return total - avail
		}
	}
	return -1
}

// describeDevice fills a DeviceInfo, with a session when the host is paired.
func describeDevice(ctx context.Context, socket string, dev muxDevice) DeviceInfo {
	info := DeviceInfo{UDID: dev.udid, Connection: dev.connection}
	fill := func(all map[string]any) {
		str := func(k string) string { s, _ := all[k].(string); return s }
		info.Name, info.ProductType = str("DeviceName"), str("ProductType")
		info.ProductVersion, info.BuildVersion = str("ProductVersion"), str("BuildVersion")
		info.DeviceClass = str("DeviceClass")
	}
	pair, found, err := readPairRecord(ctx, socket, dev.udid)
	if err == nil && found {
		l, err := openLockdown(ctx, socket, dev, &pair)
		if err == nil {
			defer l.close()
			info.Paired = true
			v, err := readDeviceValues(ctx, l)
			if err == nil {
				fill(v.all)
				info.EncryptionKnown, info.Encrypted = true, v.willEncrypt
				return info
			}
			info.Problem = err.Error()
			return info
		}
		if errors.Is(err, ErrDeviceLocked) {
			info.Paired = true
		}
		info.Problem = err.Error()
	} else if err != nil {
		info.Problem = err.Error()
	} else {
		info.Problem = "not paired"
	}
	// Without a session lockdownd still tells the basics.
	l, err := openLockdown(ctx, socket, dev, nil)
	if err != nil {
		return info
	}
	defer l.close()
	all := map[string]any{}
	for _, k := range []string{"DeviceName", "ProductType", "ProductVersion", "BuildVersion", "DeviceClass"} {
		if v, err := l.getValue(ctx, "", k); err == nil {
			all[k] = v
		}
	}
	fill(all)
	return info
}

// installedApps asks installation_proxy for the user's apps, as iTunes records them in
// Info.plist. Best effort: a failure leaves the lists empty.
func installedApps(ctx context.Context, l *lockdown) (ids []any, apps map[string]any) {
	apps = map[string]any{}
	port, ssl, err := l.startService(ctx, "com.apple.mobile.installation_proxy", false)
	if err != nil {
		return nil, apps
	}
	c, err := connectService(ctx, l.socket, l.dev, port, ssl, l.pair)
	if err != nil {
		return nil, apps
	}
	defer c.Close()
	stop := closeOnCancel(ctx, c)
	defer stop()
	req := map[string]any{"Command": "Browse", "ClientOptions": map[string]any{
		"ApplicationType":  "User",
		"ReturnAttributes": []any{"CFBundleIdentifier", "ApplicationSINF", "iTunesMetadata"},
	}}
	body, err := plist.Marshal(req, plist.XMLFormat)
	if err != nil {
		return nil, apps
	}
	frame := make([]byte, 4, 4+len(body))
	frame[0], frame[1], frame[2], frame[3] = byte(len(body)>>24), byte(len(body)>>16), byte(len(body)>>8), byte(len(body))
	if _, err := c.Write(append(frame, body...)); err != nil {
		return nil, apps
	}
	for {
		data, err := readFrame(c)
		if err != nil {
			return ids, apps
		}
		var resp map[string]any
		if _, err := plist.Unmarshal(data, &resp); err != nil {
			return ids, apps
		}
		list, _ := resp["CurrentList"].([]any)
		for _, e := range list {
			app, _ := e.(map[string]any)
			id, _ := app["CFBundleIdentifier"].(string)
			if id == "" {
				continue
			}
			ids = append(ids, id)
			entry := map[string]any{}
			if sinf, ok := app["ApplicationSINF"].([]byte); ok {
				entry["ApplicationSINF"] = sinf
			}
			if meta, ok := app["iTunesMetadata"].([]byte); ok {
				entry["iTunesMetadata"] = meta
			}
			if len(entry) > 0 {
				apps[id] = entry
			}
		}
		if st, _ := resp["Status"].(string); st == "Complete" || resp["Error"] != nil {
			return ids, apps
		}
		if len(ids) > 100000 {
			return ids, apps
		}
	}
}
