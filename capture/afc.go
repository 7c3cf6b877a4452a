package capture

// A minimal AFC (Apple File Conduit) client: enough to write one file on the device
// (/iTunesRestore/RestoreApplications.plist before a restore). Packets are a 40-byte
// little-endian header {magic "CFA6LPAA", entire length, this length, packet number,
// operation}, the operation's header payload, then data.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"path"

	"howett.net/plist"

	"iosbackup/backup"
)

const (
	afcMagic       = "CFA6LPAA"
	afcHeaderLen   = 40
	afcOpStatus    = 0x01
	afcOpMakeDir   = 0x09
	afcOpFileOpen  = 0x0D
	afcOpOpenRes   = 0x0E
	afcOpFileWrite = 0x10
	afcOpFileClose = 0x14
	// afcModeWriteOnly is AFC_FOPEN_WRONLY ("w": create or truncate).
	afcModeWriteOnly = 3
	// afcMaxReply bounds a reply this client reads (status and handles are 8 bytes).
	afcMaxReply = 64 << 10
	// afcWriteChunk is how much one FileWrite carries.
	afcWriteChunk = 64 << 10
)

type afcClient struct {
	rw     io.ReadWriter
	packet uint64
}

func (a *afcClient) call(op uint64, hdr, data []byte) (uint64, []byte, error) {
	var b bytes.Buffer
	b.WriteString(afcMagic)
	this := uint64(afcHeaderLen + len(hdr))
	for _, v := range []uint64{this + uint64(len(data)), this, a.packet, op} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.Write(hdr)
	b.Write(data)
	a.packet++
	if _, err := a.rw.Write(b.Bytes()); err != nil {
		return 0, nil, err
	}
	var h [afcHeaderLen]byte
	if _, err := io.ReadFull(a.rw, h[:]); err != nil {
		return 0, nil, unexpected(err)
	}
	if string(h[:8]) != afcMagic {
		return 0, nil, fmt.Errorf("%w: AFC reply without its magic", ErrProtocol)
	}
	entire := binary.LittleEndian.Uint64(h[8:])
	if entire < afcHeaderLen || entire > afcMaxReply {
		return 0, nil, fmt.Errorf("%w: AFC reply of %d bytes", ErrProtocol, entire)
	}
	body := make([]byte, entire-afcHeaderLen)
	if _, err := io.ReadFull(a.rw, body); err != nil {
		return 0, nil, unexpected(err)
	}
	return binary.LittleEndian.Uint64(h[32:]), body, nil
}

// status runs an operation whose answer is a status code.
func (a *afcClient) status(what string, op uint64, hdr, data []byte) error {
	rop, body, err := a.call(op, hdr, data)
	if err != nil {
		return fmt.Errorf("AFC %s: %w", what, err)
	}
	if rop != afcOpStatus || len(body) < 8 {
		return fmt.Errorf("%w: AFC %s: answer %d", ErrProtocol, what, rop)
	}
	if code := binary.LittleEndian.Uint64(body); code != 0 {
		return fmt.Errorf("AFC %s: error %d", what, code)
	}
	return nil
}

// writeFile creates (or truncates) p on the device with data, making its folder.
func (a *afcClient) writeFile(p string, data []byte) error {
	if err := a.status("mkdir "+path.Dir(p), afcOpMakeDir, append([]byte(path.Dir(p)), 0), nil); err != nil {
		return err
	}
	hdr := binary.LittleEndian.AppendUint64(nil, afcModeWriteOnly)
	hdr = append(append(hdr, p...), 0)
	op, body, err := a.call(afcOpFileOpen, hdr, nil)
	if err != nil {
		return fmt.Errorf("AFC open %s: %w", p, err)
	}
	if op != afcOpOpenRes || len(body) < 8 {
		return fmt.Errorf("AFC open %s: refused (answer %d)", p, op)
	}
	handle := body[:8]
	for len(data) > 0 {
		n := min(len(data), afcWriteChunk)
		if err := a.status("write "+p, afcOpFileWrite, handle, data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return a.status("close "+p, afcOpFileClose, handle, nil)
}

// restoreApplicationsPath is where a host leaves the apps a restore reinstalls.
const restoreApplicationsPath = "/iTunesRestore/RestoreApplications.plist"

// writeRestoreApplications writes the Applications dictionary of the backup's
// Info.plist to the device, so that it reinstalls those apps once the restore is
// done (their data is in the backup; their binaries never are).
func writeRestoreApplications(ctx context.Context, l *lockdown, b *backup.Backup) error {
	raw, err := b.ReadInfoPlist()
	if err != nil {
		return err
	}
	var info struct {
		Applications map[string]any `plist:"Applications"`
	}
	if _, err := plist.Unmarshal(raw, &info); err != nil {
		return fmt.Errorf("parse the backup's Info.plist: %w", err)
	}
	if info.Applications == nil {
		info.Applications = map[string]any{}
	}
	data, err := plist.Marshal(info.Applications, plist.XMLFormat)
	if err != nil {
		return fmt.Errorf("encode the app list: %w", err)
	}
	port, ssl, err := l.startService(ctx, "com.apple.afc", false)
	if err != nil {
		return err
	}
	conn, err := connectService(ctx, l.socket, l.dev, port, ssl, l.pair)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := closeOnCancel(ctx, conn)
	defer stop()
	return (&afcClient{rw: conn}).writeFile(restoreApplicationsPath, data)
}
