package capture

// Talking to usbmuxd (through go-ios): listing devices, choosing one, reading its
// pair record. go-ios's helpers that open their own usbmuxd connection read
// USBMUXD_SOCKET_ADDRESS; everything here uses an explicit address instead, so a
// caller (or a test running a simulated device) chooses the socket without touching
// the process environment.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/danielpaulus/go-ios/ios"
	"howett.net/plist"
)

// go-ios logs through slog.Default; a library must not print on its caller's terminal.
var quietGoIOS sync.Once

func silenceGoIOS() {
	quietGoIOS.Do(func() { ios.SetLogger(slog.New(slog.DiscardHandler)) })
}

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
