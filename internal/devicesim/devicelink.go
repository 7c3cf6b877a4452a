package devicesim

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"howett.net/plist"
)

// The device side of mobilebackup2: DeviceLink messages and file streams.

const (
	emptyParam  = "___EmptyParameterString___"
	blockLen    = 64 << 10
	moveBatch   = 1000
	codeSuccess = 0x00
	codeError   = 0x06
	codeData    = 0x0C
)

// dl is one DeviceLink connection, seen from the device.
type dl struct {
	raw   net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	limit int64 // drop the connection after this many file bytes (0: never)
	sent  int64
	// received counts the file bytes downloaded from the host (for limit too), and
	// progress is the percentage the next DLMessageDownloadFiles reports.
	received int64
	progress float64
	sim      *Sim
}

func (d *dl) send(msg ...any) error {
	body, err := plist.Marshal(msg, plist.BinaryFormat)
	if err != nil {
		return err
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	if _, err := d.bw.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := d.bw.Write(body); err != nil {
		return err
	}
	return d.bw.Flush()
}

func (d *dl) recv() ([]any, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(d.br, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > 64<<20 {
		return nil, fmt.Errorf("devicesim: message of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(d.br, buf); err != nil {
		return nil, err
	}
	var v []any
	if _, err := plist.Unmarshal(buf, &v); err != nil || len(v) == 0 {
		return nil, fmt.Errorf("devicesim: bad message: %v", err)
	}
	return v, nil
}

// status reads the host's DLMessageStatusResponse.
func (d *dl) status() (int64, any, error) {
	m, err := d.recv()
	if err != nil {
		return 0, nil, err
	}
	if name, _ := m[0].(string); name != "DLMessageStatusResponse" || len(m) < 4 {
		return 0, nil, fmt.Errorf("devicesim: expected a status response, got %v", m[0])
	}
	code, _ := asInt(m[1])
	return code, m[3], nil
}

// request sends a message and requires a zero status.
func (d *dl) request(msg ...any) (any, error) {
	if err := d.send(msg...); err != nil {
		return nil, err
	}
	code, val, err := d.status()
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return val, &hostError{op: fmt.Sprint(msg[0]), code: code}
	}
	return val, nil
}

// hostError is a non-zero status the host answered.
type hostError struct {
	op   string
	code int64
}

func (e *hostError) Error() string { return fmt.Sprintf("host answered %s with %d", e.op, e.code) }

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case uint64:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), true
	}
	return 0, false
}

func (d *dl) writeU32(n uint32) error {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	_, err := d.bw.Write(b[:])
	return err
}

func (d *dl) writeName(s string) error {
	if err := d.writeU32(uint32(len(s))); err != nil {
		return err
	}
	_, err := d.bw.WriteString(s)
	return err
}

// uploadFile streams one file in the device->host format.
func (d *dl) uploadFile(devPath, hostPath string, r io.Reader, size int64) error {
	if err := d.writeName(devPath); err != nil {
		return err
	}
	if err := d.writeName(hostPath); err != nil {
		return err
	}
	buf := make([]byte, blockLen)
	var fileSent int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if d.limit > 0 && d.sent+int64(n) > d.limit {
				// The cable is pulled in the middle of a block.
				cut := d.limit - d.sent
				_ = d.writeU32(uint32(n + 1))
				_ = d.bw.WriteByte(codeData)
				_, _ = d.bw.Write(buf[:cut])
				_ = d.bw.Flush()
				d.raw.Close()
				return errFault
			}
			if err := d.writeU32(uint32(n + 1)); err != nil {
				return err
			}
			if err := d.bw.WriteByte(codeData); err != nil {
				return err
			}
			if _, err := d.bw.Write(buf[:n]); err != nil {
				return err
			}
			d.sent += int64(n)
			fileSent += int64(n)
			if d.sim.cfg.OnSend != nil {
				_ = d.bw.Flush()
				d.sim.cfg.OnSend(d.sent)
			}
			if d.sim.cfg.OnSendFile != nil {
				_ = d.bw.Flush()
				d.sim.cfg.OnSendFile(hostPath, fileSent, size)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			msg := rerr.Error()
			_ = d.writeU32(uint32(len(msg) + 1))
			_ = d.bw.WriteByte(codeError)
			_, err := d.bw.WriteString(msg)
			return err
		}
	}
	if err := d.writeU32(1); err != nil {
		return err
	}
	return d.bw.WriteByte(codeSuccess)
}

// download asks the host for files and returns the ones it had.
func (d *dl) download(paths []string) (map[string][]byte, error) {
	list := make([]any, len(paths))
	for i, p := range paths {
		list[i] = p
	}
	if err := d.send("DLMessageDownloadFiles", list, map[string]any{}, 0.0); err != nil {
		return nil, err
	}
	got := map[string][]byte{}
	for {
		name, end, err := readName(d.br)
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
		var buf bytes.Buffer
		for {
			var hdr [5]byte
			if _, err := io.ReadFull(d.br, hdr[:]); err != nil {
				return nil, err
			}
			n := binary.BigEndian.Uint32(hdr[:4])
			if n == 0 || n > 1<<30 {
				return nil, fmt.Errorf("devicesim: download block of %d bytes", n)
			}
			if hdr[4] == codeData {
				if _, err := io.CopyN(&buf, d.br, int64(n-1)); err != nil {
					return nil, err
				}
				continue
			}
			if _, err := io.CopyN(io.Discard, d.br, int64(n-1)); err != nil {
				return nil, err
			}
			if hdr[4] == codeSuccess {
				got[name] = buf.Bytes()
			}
			break
		}
	}
	if _, _, err := d.status(); err != nil {
		return nil, err
	}
	return got, nil
}

func readName(r io.Reader) (string, bool, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", false, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return "", true, nil
	}
	if n > 4096 {
		return "", false, fmt.Errorf("devicesim: name of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", false, err
	}
	return string(b), false, nil
}

// serveBackup runs mobilebackup2 on a connection.
func (s *Sim) serveBackup(c net.Conn) {
	var rw io.ReadWriter = c
	if s.cfg.ServiceSSL {
		tc := tls.Server(c, s.serverTLS())
		if err := tc.Handshake(); err != nil {
			s.logf("mobilebackup2 TLS handshake: %v", err)
			return
		}
		rw = tc
	}
	d := &dl{raw: c, br: bufio.NewReaderSize(rw, 64<<10), bw: bufio.NewWriterSize(rw, 256<<10), sim: s}
	if err := d.send("DLMessageVersionExchange", uint64(300), uint64(0)); err != nil {
		return
	}
	m, err := d.recv()
	if err != nil || len(m) < 2 || m[1] != "DLVersionsOk" {
		s.logf("mobilebackup2: bad version exchange %v %v", m, err)
		return
	}
	if err := d.send("DLMessageDeviceReady"); err != nil {
		return
	}
	for {
		m, err := d.recv()
		if err != nil {
			return
		}
		name, _ := m[0].(string)
		s.logf("mobilebackup2 <- %s", name)
		if name == "DLMessageDisconnect" {
			return
		}
		if name != "DLMessageProcessMessage" || len(m) < 2 {
			continue
		}
		req, _ := m[1].(map[string]any)
		msgName, _ := req["MessageName"].(string)
		s.logf("mobilebackup2 request %s", msgName)
		switch msgName {
		case "Hello":
			if s.currentFaults().Locked {
				err = d.send("DLMessageProcessMessage", map[string]any{"MessageName": "Response", "ErrorCode": uint64(208), "ErrorDescription": "Device locked (MBErrorDomain/208)"})
			} else {
				err = d.send("DLMessageProcessMessage", map[string]any{"MessageName": "Response", "ErrorCode": uint64(0), "ProtocolVersion": 2.1})
			}
		case "Backup":
			err = s.backup(d, req)
		case "Restore":
			err = s.restore(d, req)
		case "ChangePassword":
			err = s.changePassword(d, req)
		default:
			err = d.send("DLMessageProcessMessage", map[string]any{"ErrorCode": uint64(1), "ErrorDescription": "Unsupported request " + msgName})
		}
		if err != nil {
			s.logf("mobilebackup2: %v", err)
			return
		}
	}
}

// finish sends the closing message of a request.
func (d *dl) finish(code int, desc string) error {
	m := map[string]any{"ErrorCode": uint64(code)}
	if desc != "" {
		m["ErrorDescription"] = desc
	}
	return d.send("DLMessageProcessMessage", m)
}

// downloadTo asks the host for files (paths relative to its backup root, each under
// the folder udid) and writes each one it sends to dir/<path without udid/>, as it
// arrives: a restore's blobs do not fit in memory. It returns the sizes of the files
// the host had. Only asked-for names are written, so a hostile host cannot steer a
// write elsewhere.
func (d *dl) downloadTo(paths []string, dir, udid string) (map[string]int64, error) {
	list := make([]any, len(paths))
	asked := make(map[string]bool, len(paths))
	for i, p := range paths {
		list[i] = p
		asked[p] = true
	}
	if err := d.send("DLMessageDownloadFiles", list, map[string]any{}, d.progress); err != nil {
		return nil, err
	}
	got := map[string]int64{}
	buf := make([]byte, blockLen)
	for {
		name, end, err := readName(d.br)
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
		if !asked[name] {
			return nil, fmt.Errorf("devicesim: the host sent %q, which the device did not ask for", name)
		}
		n, ok, err := d.receiveFile(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(name, udid+"/"))), buf)
		if err != nil {
			return nil, err
		}
		if ok {
			got[name] = n
		}
	}
	if _, _, err := d.status(); err != nil {
		return nil, err
	}
	return got, nil
}

// receiveFile reads one file's blocks into dst. ok is false when the host ended the
// file with an error code (it could not read it): nothing is left at dst then.
func (d *dl) receiveFile(dst string, buf []byte) (n int64, ok bool, err error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, false, err
	}
	f, err := os.Create(dst)
	if err != nil {
		return 0, false, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if !ok {
			os.Remove(dst)
		}
	}()
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(d.br, hdr[:]); err != nil {
			return n, false, err
		}
		size := binary.BigEndian.Uint32(hdr[:4])
		if size == 0 || size > 1<<30 {
			return n, false, fmt.Errorf("devicesim: download block of %d bytes", size)
		}
		left := int64(size - 1)
		if hdr[4] != codeData {
			if _, err := io.CopyN(io.Discard, d.br, left); err != nil {
				return n, false, err
			}
			return n, hdr[4] == codeSuccess, nil
		}
		for left > 0 {
			chunk := buf[:min(int64(len(buf)), left)]
			if _, err := io.ReadFull(d.br, chunk); err != nil {
				return n, false, err
			}
			if d.limit > 0 && d.received+int64(len(chunk)) > d.limit {
				// The cable is pulled in the middle of a file.
				d.raw.Close()
				return n, false, errFault
			}
			if _, err := f.Write(chunk); err != nil {
				return n, false, err
			}
			left -= int64(len(chunk))
			n += int64(len(chunk))
			d.received += int64(len(chunk))
		}
	}
}
