package capture

// lockdownd sessions (TLS, values, StartService) and the service connections they
// open, through go-ios.

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/danielpaulus/go-ios/ios"
	"howett.net/plist"
)

const lockdownLabel = "iosbackup"

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

func (c *serviceConn) Read(p []byte) (int, error) { return c.dc.Read(p) }

func (c *serviceConn) Write(p []byte) (int, error) { return c.dc.Write(p) }

func (c *serviceConn) Close() error { return c.dc.Close() }

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

// ctxErr prefers the context's error: after a cancellation, the closed socket's error
// is only its consequence.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
