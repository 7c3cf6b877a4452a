package devicesim

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"howett.net/plist"
)

// readPlistFrame reads a 4-byte big-endian length and a plist dictionary.
func readPlistFrame(r io.Reader) (map[string]any, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > 16<<20 {
		return nil, fmt.Errorf("devicesim: plist frame of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	var m map[string]any
	if _, err := plist.Unmarshal(buf, &m); err != nil {
		return nil, fmt.Errorf("devicesim: bad plist: %w", err)
	}
	return m, nil
}

// writePlistFrame writes a dictionary as an XML plist with its length, as lockdownd does.
func writePlistFrame(w io.Writer, v any) error {
	body, err := plist.Marshal(v, plist.XMLFormat)
	if err != nil {
		return err
	}
	out := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(out, uint32(len(body)))
	_, err = w.Write(append(out, body...))
	return err
}

// values are the device's lockdown values in the default domain.
func (s *Sim) values() map[string]any {
	s.mu.Lock()
	src := s.source
	s.mu.Unlock()
	info := readInfo(src)
	str := func(k, def string) string {
		if v, ok := info[k].(string); ok && v != "" {
			return v
		}
		return def
	}
	v := map[string]any{
		"UniqueDeviceID":  s.cfg.UDID,
		"DeviceName":      str("Device Name", "Simulated iPhone"),
		"ProductType":     str("Product Type", "iPhone14,2"),
		"ProductVersion":  s.productVersion(),
		"BuildVersion":    str("Build Version", "21F90"),
		"SerialNumber":    str("Serial Number", "F2LSIM000001"),
		"DeviceClass":     "iPhone",
		"ProductName":     "iPhone OS",
		"HardwareModel":   "D63AP",
		"CPUArchitecture": "arm64e",
		"ActivationState": "Activated",
		"ProtocolVersion": "2",
		"TimeZone":        "Europe/Paris",
		"WiFiAddress":     "02:00:00:5e:10:01",
	}
	if imei := str("IMEI", ""); imei != "" {
		v["InternationalMobileEquipmentIdentity"] = imei
	}
	if pn := str("Phone Number", ""); pn != "" {
		v["PhoneNumber"] = pn
	}
	return v
}

// productVersion is the device's iOS version: Config.ProductVersion, else the one of
// the backup it started with. A restore does not change it (a backup carries data,
// not the system).
func (s *Sim) productVersion() string { return s.iosVersion }

// readInfo parses the source's Info.plist (empty map when absent).
func readInfo(dir string) map[string]any {
	out := map[string]any{}
	data, err := os.ReadFile(filepath.Join(dir, "Info.plist"))
	if err == nil {
		_, _ = plist.Unmarshal(data, &out)
	}
	return out
}

// domainValues answers GetValue for a domain other than the default one.
func (s *Sim) domainValues(domain string) (map[string]any, bool) {
	switch domain {
	case "com.apple.mobile.backup":
		s.mu.Lock()
		defer s.mu.Unlock()
		return map[string]any{"WillEncrypt": s.willEncrypt, "RequiresEncrypt": false}, true
	case "com.apple.disk_usage":
		used := s.cfg.UsedBytes
		if used <= 0 {
			s.mu.Lock()
			src := s.source
			s.mu.Unlock()
			used = dirSize(src)
		}
		capacity := max(int64(64)<<30, used+8<<30)
		avail := capacity - used
		return map[string]any{
			"TotalDataCapacity": uint64(capacity), "TotalDataAvailable": uint64(avail),
			"AmountDataAvailable": uint64(avail), "TotalDiskCapacity": uint64(capacity + 8<<30),
			"TotalSystemCapacity": uint64(8 << 30), "AmountDataReserved": uint64(0),
		}, true
	case "com.apple.iTunes":
		return map[string]any{}, true
	case "com.apple.mobile.iTunes":
		return map[string]any{"MinITunesVersion": "10.0.1"}, true
	}
	return nil, false
}

// serveLockdown answers lockdownd requests on a connection until it closes.
func (s *Sim) serveLockdown(c net.Conn) {
	var rw io.ReadWriter = c
	var tc *tls.Conn
	session := ""
	for {
		req, err := readPlistFrame(rw)
		if err != nil {
			return
		}
		request, _ := req["Request"].(string)
		s.logf("lockdownd %s %v %v", request, req["Domain"], req["Key"])
		resp := map[string]any{"Request": request}
		switch request {
		case "QueryType":
			resp["Type"] = "com.apple.mobile.lockdown"
		case "GetValue":
			s.getValue(req, resp, session != "")
		case "SetValue":
			resp["Error"] = "ReadOnlyValue"
		case "StartSession":
			hostID, _ := req["HostID"].(string)
			s.mu.Lock()
			ok := s.trusted[hostID]
			s.mu.Unlock()
			if !ok {
				resp["Error"] = "InvalidHostID"
				break
			}
			session = newUUID()
			resp["SessionID"] = session
			resp["EnableSessionSSL"] = true
			if err := writePlistFrame(rw, resp); err != nil {
				return
			}
			tc = tls.Server(c, s.serverTLS())
			if err := tc.Handshake(); err != nil {
				s.logf("lockdownd TLS handshake: %v", err)
				return
			}
			rw = tc
			continue
		case "StopSession":
			session = ""
			if err := writePlistFrame(rw, resp); err != nil {
				return
			}
			if tc != nil {
				// The host either closes or shuts TLS down and goes on in plain text.
				_ = tc.CloseWrite()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.Copy(io.Discard, bufio.NewReader(tc))
				_ = c.SetReadDeadline(time.Time{})
				tc, rw = nil, c
			}
			continue
		case "StartService":
			if session == "" {
				resp["Error"] = "SessionInactive"
				break
			}
			name, _ := req["Service"].(string)
			resp["Service"] = name
			switch name {
			case "com.apple.mobilebackup2", "com.apple.mobile.notification_proxy", "com.apple.afc",
				"com.apple.mobile.installation_proxy":
				resp["Port"] = uint64(s.openPort(name))
				resp["EnableServiceSSL"] = name == "com.apple.mobilebackup2" && s.cfg.ServiceSSL
			default:
				resp["Error"] = "InvalidService"
			}
		case "Pair":
			s.pair(req, resp)
		case "ValidatePair":
		case "Goodbye":
			resp["Result"] = "Success"
			_ = writePlistFrame(rw, resp)
			return
		default:
			resp["Error"] = "InvalidRequest"
		}
		if err := writePlistFrame(rw, resp); err != nil {
			return
		}
	}
}

// getValue fills resp for a GetValue request.
func (s *Sim) getValue(req, resp map[string]any, inSession bool) {
	domain, _ := req["Domain"].(string)
	key, _ := req["Key"].(string)
	if domain != "" {
		resp["Domain"] = domain
	}
	if key != "" {
		resp["Key"] = key
	}
	var vals map[string]any
	if domain == "" {
		vals = s.values()
		if key == "DevicePublicKey" {
			vals["DevicePublicKey"] = s.id.devicePublicKey()
		}
	} else {
		var ok bool
		if vals, ok = s.domainValues(domain); !ok {
			resp["Error"] = "MissingValue"
			return
		}
	}
	if key == "" {
		resp["Value"] = vals
		return
	}
	v, ok := vals[key]
	if !ok {
		resp["Error"] = "MissingValue"
		return
	}
	resp["Value"] = v
}
