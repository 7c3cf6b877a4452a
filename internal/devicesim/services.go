package devicesim

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
)

// serveNotificationProxy accepts observe and post requests and answers Shutdown with
// ProxyDeath; no notification is ever sent (nothing on the simulated device changes).
func serveNotificationProxy(c net.Conn) {
	for {
		req, err := readPlistFrame(c)
		if err != nil {
			return
		}
		if cmd, _ := req["Command"].(string); cmd == "Shutdown" {
			_ = writePlistFrame(c, map[string]any{"Command": "ProxyDeath"})
			return
		}
	}
}

// AFC: just enough for idevicebackup2, which opens and locks /com.apple.itunes.lock_sync,
// looks for a few iTunes files (reported missing) and, before a restore, writes
// /iTunesRestore/RestoreApplications.plist (kept in memory: see AFCFile).
const (
	afcMagic       = "CFA6LPAA"
	afcHeaderLen   = 40
	afcOpStatus    = 0x01
	afcOpData      = 0x02
	afcOpRemove    = 0x08
	afcOpMakeDir   = 0x09
	afcOpFileInfo  = 0x0A
	afcOpDevInfo   = 0x0B
	afcOpFileOpen  = 0x0D
	afcOpOpenRes   = 0x0E
	afcOpFileRead  = 0x0F
	afcOpFileWrite = 0x10
	afcOpFileClose = 0x14
	afcOpFileLock  = 0x1B

	afcModeWriteOnly = 3 // AFC_FOPEN_WRONLY: "w"
	afcModeWrite     = 4 // AFC_FOPEN_WR: "w+"

	afcErrSuccess      = 0
	afcErrNotFound     = 8
	afcErrNotSupported = 15
)

func (s *Sim) serveAFC(c net.Conn) {
	nextHandle := uint64(1)
	open := map[uint64]string{} // handle -> path
	for {
		var h [afcHeaderLen]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return
		}
		if string(h[:8]) != afcMagic {
			return
		}
		entire := binary.LittleEndian.Uint64(h[8:])
		packet := binary.LittleEndian.Uint64(h[24:])
		op := binary.LittleEndian.Uint64(h[32:])
		if entire < afcHeaderLen || entire > 1<<20 {
			return
		}
		body := make([]byte, entire-afcHeaderLen)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		cpath := func(b []byte) string { return string(bytes.TrimRight(b, "\x00")) }
		switch op {
		case afcOpFileInfo:
			afcStatus(c, packet, afcErrNotFound)
		case afcOpDevInfo:
			info := "Model\x00iPhone14,2\x00FSTotalBytes\x0068719476736\x00FSFreeBytes\x0034359738368\x00FSBlockSize\x004096\x00"
			afcSend(c, packet, afcOpData, nil, []byte(info))
		case afcOpFileOpen:
			var hb [8]byte
			binary.LittleEndian.PutUint64(hb[:], nextHandle)
			if len(body) > 8 {
				p := cpath(body[8:])
				open[nextHandle] = p
				if mode := binary.LittleEndian.Uint64(body); mode == afcModeWriteOnly || mode == afcModeWrite {
					s.mu.Lock()
					s.afcFiles[p] = []byte{} // these modes create or truncate
					s.mu.Unlock()
				}
			}
			nextHandle++
			afcSend(c, packet, afcOpOpenRes, hb[:], nil)
		case afcOpFileLock, afcOpFileClose:
			afcStatus(c, packet, afcErrSuccess)
		case afcOpFileRead:
			afcSend(c, packet, afcOpData, nil, nil)
		case afcOpFileWrite:
			if len(body) >= 8 {
				if p, ok := open[binary.LittleEndian.Uint64(body)]; ok {
					s.mu.Lock()
					s.afcFiles[p] = append(s.afcFiles[p], body[8:]...)
					s.mu.Unlock()
				}
			}
			afcStatus(c, packet, afcErrSuccess)
		case afcOpMakeDir:
			afcStatus(c, packet, afcErrSuccess)
		case afcOpRemove:
			p := cpath(body)
			s.mu.Lock()
			for f := range s.afcFiles {
				if strings.HasPrefix(f, p+"/") {
					delete(s.afcFiles, f)
				}
			}
			delete(s.afcFiles, p)
			s.mu.Unlock()
			afcStatus(c, packet, afcErrSuccess)
		default:
			afcStatus(c, packet, afcErrNotSupported)
		}
	}
}

func afcStatus(w io.Writer, packet, code uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], code)
	afcSend(w, packet, afcOpStatus, b[:], nil)
}

// afcSend writes a packet: header, header payload, then data.
func afcSend(w io.Writer, packet, op uint64, hdrPayload, data []byte) {
	var b bytes.Buffer
	b.WriteString(afcMagic)
	this := uint64(afcHeaderLen + len(hdrPayload))
	entire := this + uint64(len(data))
	for _, v := range []uint64{entire, this, packet, op} {
		var x [8]byte
		binary.LittleEndian.PutUint64(x[:], v)
		b.Write(x[:])
	}
	b.Write(hdrPayload)
	b.Write(data)
	_, _ = w.Write(b.Bytes())
}

// serveInstallationProxy answers Browse with the apps of the source's Info.plist.
func (s *Sim) serveInstallationProxy(c net.Conn) {
	for {
		req, err := readPlistFrame(c)
		if err != nil {
			return
		}
		if cmd, _ := req["Command"].(string); cmd != "Browse" {
			_ = writePlistFrame(c, map[string]any{"Error": "UnknownCommand"})
			continue
		}
		s.mu.Lock()
		src := s.source
		s.mu.Unlock()
		info := readInfo(src)
		ids, _ := info["Installed Applications"].([]any)
		apps, _ := info["Applications"].(map[string]any)
		list := []any{}
		for _, idv := range ids {
			id, ok := idv.(string)
			if !ok {
				continue
			}
			entry := map[string]any{"CFBundleIdentifier": id}
			if a, ok := apps[id].(map[string]any); ok {
				for _, k := range []string{"iTunesMetadata", "ApplicationSINF"} {
					if v, ok := a[k].([]byte); ok {
						entry[k] = v
					}
				}
			}
			list = append(list, entry)
		}
		_ = writePlistFrame(c, map[string]any{
			"Status": "BrowsingApplications", "CurrentList": list,
			"CurrentIndex": uint64(0), "CurrentAmount": uint64(len(list)), "Total": uint64(len(list)),
		})
		_ = writePlistFrame(c, map[string]any{"Status": "Complete"})
	}
}

// AFCFile returns a file the host wrote over AFC (nil when none), such as
// /iTunesRestore/RestoreApplications.plist.
func (s *Sim) AFCFile(path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.afcFiles[path]; ok {
		return append([]byte{}, b...)
	}
	return nil
}
