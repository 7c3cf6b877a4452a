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
	"path"
	"sort"
	"strings"
	"time"

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
	sim   *Sim
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
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.id.deviceCert}})
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

// changePassword turns encryption on or off or changes its password.
func (s *Sim) changePassword(d *dl, req map[string]any) error {
	if w := s.currentFaults().PasscodeWait; w > 0 {
		time.Sleep(w)
	}
	oldPw, hasOld := req["OldPassword"].(string)
	newPw, hasNew := req["NewPassword"].(string)
	s.mu.Lock()
	code, desc := 0, ""
	switch {
	case hasNew && !hasOld:
		if s.willEncrypt {
			code, desc = 1, "Backup encryption is already on"
		} else {
			s.willEncrypt, s.password = true, newPw
		}
	case hasOld && (!s.willEncrypt || oldPw != s.password):
		code, desc = 207, "Invalid password (MBErrorDomain/207)"
		if !s.willEncrypt {
			code, desc = 1, "Backup encryption is off"
		}
	case hasOld && !hasNew:
		s.willEncrypt, s.password = false, ""
	case hasOld && hasNew:
		s.password = newPw
	default:
		code, desc = 1, "No password given"
	}
	s.mu.Unlock()
	return d.finish(code, desc)
}

// upload is a file the device will send: from the source folder, or literal data.
type upload struct {
	rel    string // relative to the device folder ("ab/<id>", "Manifest.db")
	abs    string
	data   []byte
	host   string // overrides the host path (hostile faults)
	size   int64
	device string // the file's path on the device, when the source's manifest says
}

// devicePath is what the device sends as the file's own name in the upload stream.
func (u upload) devicePath() string {
	if u.device != "" {
		return u.device
	}
	return "/var/mobile/" + u.rel
}

// backup performs one Backup request.
func (s *Sim) backup(d *dl, req map[string]any) error {
	udid, _ := req["TargetIdentifier"].(string)
	if udid == "" {
		udid = s.cfg.UDID
	}
	opts, _ := req["Options"].(map[string]any)
	force, _ := opts["ForceFullBackup"].(bool)
	faults := s.currentFaults()
	s.mu.Lock()
	srcDir := s.source
	s.stats.Sessions++
	s.mu.Unlock()
	d.limit = faults.DisconnectAfter

	src, err := loadSource(srcDir)
	if err != nil {
		return d.finish(1, err.Error())
	}
	if faults.PasscodeWait > 0 {
		time.Sleep(faults.PasscodeWait)
	}
	freeVal, err := d.request("DLMessageGetFreeDiskSpace")
	if err != nil {
		return err
	}
	free, _ := asInt(freeVal)

	snap := udid + "/Snapshot"
	if _, err := d.request("DLMessageRemoveItems", []any{snap}, map[string]any{}, 0.0); err != nil {
		return err
	}
	if _, err := d.request("DLMessageCreateDirectory", snap); err != nil {
		return err
	}

	uploads, removes, full := fullPlan(src), []string(nil), true
	if !force {
		prev, err := d.download([]string{udid + "/Status.plist", udid + "/Manifest.plist", udid + "/Manifest.db"})
		if err != nil {
			return err
		}
		s.recordDownloads(prev)
		if snapshotFinished(prev[udid+"/Status.plist"]) {
			full = false
			hostRows := rowsOf(prev[udid+"/Manifest.db"])
			if src.rows != nil && hostRows != nil {
				uploads, removes = rowPlan(src, hostRows)
			} else {
				host, err := d.listHost(udid)
				if err != nil {
					return err
				}
				uploads, removes = listingPlan(src, host)
			}
		}
	}
	s.mu.Lock()
	s.stats.Full = full
	s.mu.Unlock()

	var total int64
	for _, u := range uploads {
		total += u.size
	}
	if free >= 0 && total > free {
		return d.finish(105, "Insufficient free disk space on drive to back up")
	}
	for link, to := range faults.Symlinks {
		if err := os.Symlink(to, link); err != nil {
			s.logf("plant symlink %s: %v", link, err)
		}
	}
	for i, h := range faults.HostilePaths {
		hostile := upload{host: h, data: []byte("hostile"), size: 7, rel: fmt.Sprintf("hostile-%d", i)}
		uploads = append([]upload{hostile}, uploads...)
	}

	// Folders inside the snapshot, then the files in batches.
	dirs := parentDirs(uploads)
	for _, dir := range dirs {
		if _, err := d.request("DLMessageCreateDirectory", snap+"/"+dir); err != nil {
			return err
		}
	}
	var sent int64
	for start := 0; start < len(uploads); start += s.cfg.BatchFiles {
		batch := uploads[start:min(start+s.cfg.BatchFiles, len(uploads))]
		pct := 0.0
		if total > 0 {
			pct = 90 * float64(sent) / float64(total)
		}
		if err := d.send("DLMessageUploadFiles", map[string]any{}, pct, uint64(total)); err != nil {
			return err
		}
		for _, u := range batch {
			host := snap + "/" + u.rel
			if u.host != "" {
				host = u.host
			}
			if err := s.sendUpload(d, u, host); err != nil {
				return err
			}
			sent += u.size
		}
		if err := d.writeU32(0); err != nil {
			return err
		}
		if err := d.bw.Flush(); err != nil {
			return err
		}
		if code, _, err := d.status(); err != nil {
			return err
		} else if code != 0 {
			return d.finish(1, fmt.Sprintf("host failed to receive files (%d)", code))
		}
	}

	// Into place: folders first, then the files, Status.plist last.
	for _, dir := range dirs {
		if _, err := d.request("DLMessageCreateDirectory", udid+"/"+dir); err != nil {
			return err
		}
	}
	var moves []string
	for _, u := range uploads {
		if u.host == "" && u.rel != "Status.plist" {
			moves = append(moves, u.rel)
		}
	}
	for start := 0; start < len(moves); start += moveBatch {
		m := map[string]any{}
		for _, rel := range moves[start:min(start+moveBatch, len(moves))] {
			m[snap+"/"+rel] = udid + "/" + rel
		}
		if _, err := d.request("DLMessageMoveItems", m, map[string]any{}, 95.0); err != nil {
			return err
		}
	}
	if len(removes) > 0 {
		list := make([]any, len(removes))
		for i, r := range removes {
			list[i] = udid + "/" + r
		}
		if _, err := d.request("DLMessageRemoveFiles", list, map[string]any{}, 97.0); err != nil {
			return err
		}
		s.mu.Lock()
		s.stats.Removed += len(removes)
		s.mu.Unlock()
	}
	if _, err := d.request("DLMessageMoveItems", map[string]any{snap + "/Status.plist": udid + "/Status.plist"}, map[string]any{}, 99.0); err != nil {
		return err
	}
	if _, err := d.request("DLMessageRemoveItems", []any{snap}, map[string]any{}, 100.0); err != nil {
		return err
	}
	if faults.FinalError != 0 {
		return d.finish(faults.FinalError, "Scripted failure")
	}
	return d.finish(0, "")
}

func (s *Sim) sendUpload(d *dl, u upload, host string) error {
	var r io.Reader
	if u.abs != "" {
		f, err := os.Open(u.abs)
		if err != nil {
			return fmt.Errorf("devicesim: %w", err)
		}
		defer f.Close()
		r = f
	} else {
		r = bytes.NewReader(u.data)
	}
	if err := d.uploadFile(u.devicePath(), host, r, u.size); err != nil {
		return err
	}
	if u.host == "" {
		s.mu.Lock()
		s.stats.FilesSent++
		s.stats.BytesSent += u.size
		s.stats.Sent = append(s.stats.Sent, host)
		s.mu.Unlock()
	}
	return nil
}

func (s *Sim) recordDownloads(got map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range got {
		s.stats.Downloaded = append(s.stats.Downloaded, p)
	}
	sort.Strings(s.stats.Downloaded)
}

// fullPlan uploads every file, manifests last, then Status.plist.
func fullPlan(src *source) []upload {
	out := make([]upload, 0, len(src.files)+1)
	for _, f := range src.files {
		out = append(out, upload{rel: f.rel, abs: f.abs, size: f.size, device: src.devicePaths[path.Base(f.rel)]})
	}
	return append(out, upload{rel: "Status.plist", data: src.status, size: int64(len(src.status))})
}

// rowPlan compares Manifest.db rows: changed and new files are sent, files whose rows
// are gone are removed. Files that are not blobs (the manifests) are always sent.
func rowPlan(src *source, hostRows map[string][20]byte) ([]upload, []string) {
	var out []upload
	for _, f := range src.files {
		if isBlob(f.rel) {
			id := path.Base(f.rel)
			if h, ok := src.rows[id]; !ok || hostRows[id] == h {
				continue
			}
		}
		out = append(out, upload{rel: f.rel, abs: f.abs, size: f.size, device: src.devicePaths[path.Base(f.rel)]})
	}
	var removes []string
	for id := range hostRows {
		if _, ok := src.rows[id]; !ok {
			removes = append(removes, id[:2]+"/"+id)
		}
	}
	sort.Strings(removes)
	return append(out, upload{rel: "Status.plist", data: src.status, size: int64(len(src.status))}), removes
}

// hostFile is a file of the host's previous backup, as DLContentsOfDirectory shows it.
type hostFile struct {
	size int64
	mod  time.Time
}

// listHost lists the host's previous backup (without its Snapshot folder).
func (d *dl) listHost(udid string) (map[string]hostFile, error) {
	out := map[string]hostFile{}
	var walk func(rel string, depth int) error
	walk = func(rel string, depth int) error {
		p := udid
		if rel != "" {
			p += "/" + rel
		}
		val, err := d.request("DLContentsOfDirectory", p)
		if err != nil {
			return err
		}
		entries, _ := val.(map[string]any)
		for name, e := range entries {
			em, _ := e.(map[string]any)
			child := path.Join(rel, name)
			switch em["DLFileType"] {
			case "DLFileTypeDirectory":
				if rel == "" && name == "Snapshot" || depth > 8 {
					continue
				}
				if err := walk(child, depth+1); err != nil {
					return err
				}
			case "DLFileTypeRegular":
				size, _ := asInt(em["DLFileSize"])
				mod, _ := em["DLFileModificationDate"].(time.Time)
				out[child] = hostFile{size: size, mod: mod}
			}
		}
		return nil
	}
	return out, walk("", 0)
}

// listingPlan compares by listing when the host's manifest cannot be read (encrypted
// or Manifest.mbdb): new files, files of another size and files modified after the
// host's copy was written are sent; host files the source no longer has are removed.
func listingPlan(src *source, host map[string]hostFile) ([]upload, []string) {
	var out []upload
	for _, f := range src.files {
		h, ok := host[f.rel]
		if ok && isBlob(f.rel) && h.size == f.size && !f.mod.After(h.mod) {
			continue
		}
		out = append(out, upload{rel: f.rel, abs: f.abs, size: f.size, device: src.devicePaths[path.Base(f.rel)]})
	}
	var removes []string
	for rel := range host {
		if _, ok := src.byRel[rel]; !ok && rel != "Info.plist" && rel != "Status.plist" {
			removes = append(removes, rel)
		}
	}
	sort.Strings(removes)
	return append(out, upload{rel: "Status.plist", data: src.status, size: int64(len(src.status))}), removes
}

// rowsOf reads the rows of a downloaded Manifest.db (nil when not a readable database).
func rowsOf(data []byte) map[string][20]byte {
	if len(data) == 0 {
		return nil
	}
	f, err := os.CreateTemp("", "devicesim-manifest-*.db")
	if err != nil {
		return nil
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(data)
	if cerr := f.Close(); werr != nil || cerr != nil {
		return nil
	}
	rows, err := manifestRows(f.Name())
	if err != nil {
		return nil
	}
	return rows
}

// parentDirs lists the folders the uploads need, parents first.
func parentDirs(uploads []upload) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range uploads {
		if u.host != "" {
			continue
		}
		dir := path.Dir(u.rel)
		var chain []string
		for dir != "." && dir != "/" && !seen[dir] {
			seen[dir] = true
			chain = append(chain, dir)
			dir = path.Dir(dir)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			out = append(out, chain[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.Count(out[i], "/") < strings.Count(out[j], "/") })
	return out
}
