package devicesim

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

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
		if err := d.send("DLMessageUploadFiles", map[string]any{}, uploadPercent(sent, total), uint64(total)); err != nil {
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
		if _, err := d.request("DLMessageMoveItems", m, map[string]any{}, pctMoved); err != nil {
			return err
		}
	}
	if len(removes) > 0 {
		list := make([]any, len(removes))
		for i, r := range removes {
			list[i] = udid + "/" + r
		}
		if _, err := d.request("DLMessageRemoveFiles", list, map[string]any{}, pctRemoved); err != nil {
			return err
		}
		s.mu.Lock()
		s.stats.Removed += len(removes)
		s.mu.Unlock()
	}
	if _, err := d.request("DLMessageMoveItems", map[string]any{snap + "/Status.plist": udid + "/Status.plist"}, map[string]any{}, pctStatus); err != nil {
		return err
	}
	if _, err := d.request("DLMessageRemoveItems", []any{snap}, map[string]any{}, pctDone); err != nil {
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
