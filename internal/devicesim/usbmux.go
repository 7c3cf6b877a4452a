package devicesim

import (
	"encoding/binary"
	"io"
	"net"

	"howett.net/plist"
)

// The usbmuxd protocol: a 16-byte little-endian header {length, version 1, message 8
// (plist), tag} and an XML plist. Connect turns the socket into a pipe to a device port.

const (
	lockdownPort = 62078
	deviceID     = 1
)

type muxHeader struct {
	Length, Version, Message, Tag uint32
}

func (s *Sim) serveMux(c net.Conn) {
	for {
		var h muxHeader
		if err := binary.Read(c, binary.LittleEndian, &h); err != nil {
			return
		}
		if h.Length < 16 || h.Length > 1<<20 {
			return
		}
		payload := make([]byte, h.Length-16)
		if _, err := io.ReadFull(c, payload); err != nil {
			return
		}
		var req map[string]any
		if _, err := plist.Unmarshal(payload, &req); err != nil {
			return
		}
		mt, _ := req["MessageType"].(string)
		s.logf("usbmuxd %s", mt)
		switch mt {
		case "ListDevices":
			list := []any{s.attachedMessage()}
			if s.currentFaults().Detached {
				list = []any{}
			}
			muxReply(c, h.Tag, map[string]any{"DeviceList": list})
		case "Listen":
			muxResult(c, h.Tag, 0)
			muxReply(c, 0, s.attachedMessage())
			// The client now only waits for events; hold the line until it hangs up.
			_, _ = io.Copy(io.Discard, c)
			return
		case "ReadBUID":
			muxReply(c, h.Tag, map[string]any{"BUID": s.id.buid})
		case "ReadPairRecord":
			s.mu.Lock()
			rec := s.pairRecord
			s.mu.Unlock()
			id, _ := req["PairRecordID"].(string)
			if rec == nil || id != s.cfg.UDID {
				muxResult(c, h.Tag, 2)
			} else {
				muxReply(c, h.Tag, map[string]any{"PairRecordData": rec})
			}
		case "SavePairRecord":
			data, _ := req["PairRecordData"].([]byte)
			id, _ := req["PairRecordID"].(string)
			if id != s.cfg.UDID || len(data) == 0 {
				muxResult(c, h.Tag, 1)
				break
			}
			s.mu.Lock()
			s.pairRecord = append([]byte(nil), data...)
			s.mu.Unlock()
			muxResult(c, h.Tag, 0)
		case "DeletePairRecord":
			s.mu.Lock()
			s.pairRecord = nil
			s.mu.Unlock()
			muxResult(c, h.Tag, 0)
		case "Connect":
			id, _ := asInt(req["DeviceID"])
			pn, _ := asInt(req["PortNumber"])
			port := uint16(pn)>>8 | uint16(pn)<<8
			if id != deviceID {
				muxResult(c, h.Tag, 2)
				return
			}
			if port == lockdownPort {
				muxResult(c, h.Tag, 0)
				s.serveLockdown(c)
				return
			}
			svc, ok := s.takePort(port)
			if !ok {
				muxResult(c, h.Tag, 3)
				return
			}
			muxResult(c, h.Tag, 0)
			s.serveService(svc, c)
			return
		default:
			muxResult(c, h.Tag, 1)
		}
	}
}

func (s *Sim) attachedMessage() map[string]any {
	return map[string]any{
		"DeviceID": uint64(deviceID), "MessageType": "Attached",
		"Properties": map[string]any{
			"ConnectionType": "USB", "DeviceID": uint64(deviceID), "LocationID": uint64(0x14100000),
			"ProductID": uint64(0x12a8), "SerialNumber": s.cfg.UDID, "ConnectionSpeed": uint64(480000000),
		},
	}
}

func muxReply(w io.Writer, tag uint32, v any) {
	body, err := plist.Marshal(v, plist.XMLFormat)
	if err != nil {
		return
	}
	h := muxHeader{Length: uint32(16 + len(body)), Version: 1, Message: 8, Tag: tag}
	out := make([]byte, 16, 16+len(body))
	binary.LittleEndian.PutUint32(out[0:], h.Length)
	binary.LittleEndian.PutUint32(out[4:], h.Version)
	binary.LittleEndian.PutUint32(out[8:], h.Message)
	binary.LittleEndian.PutUint32(out[12:], h.Tag)
	_, _ = w.Write(append(out, body...))
}

func muxResult(w io.Writer, tag uint32, n int) {
	muxReply(w, tag, map[string]any{"MessageType": "Result", "Number": uint64(n)})
}

// serveService runs the service a lockdownd StartService opened.
func (s *Sim) serveService(name string, c net.Conn) {
	s.logf("service %s connected", name)
	switch name {
	case "com.apple.mobilebackup2":
		s.serveBackup(c)
	case "com.apple.mobile.notification_proxy":
		serveNotificationProxy(c)
	case "com.apple.afc":
		s.serveAFC(c)
	case "com.apple.mobile.installation_proxy":
		s.serveInstallationProxy(c)
	}
}
