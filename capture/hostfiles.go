package capture

// The host side of the device's file requests: downloads, uploads, listings, moves,
// removals and copies, all confined to the store (store.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"syscall"
)

// handle answers one device request. Errors end the session: they are either a
// broken connection or a refusal (unsafe path, full disk) the device must not get
// past.
func (s *session) handle(ctx context.Context, m dlMessage) error {
	name := m.name()
	if s.st == nil && name != "DLMessageProcessMessage" && name != "DLMessageDisconnect" {
		return s.send(statusResponse(dlErrGeneric, "Operation not supported", nil)...)
	}
	if s.readOnly {
		switch name {
		case "DLMessageUploadFiles":
			// Its data follows the message: nothing can be answered without reading it.
			return fmt.Errorf("%w: the device sent files during a restore", ErrProtocol)
		case "DLMessageCreateDirectory", "DLMessageMoveItems", "DLMessageMoveFiles",
			"DLMessageRemoveItems", "DLMessageRemoveFiles", "DLMessageCopyItem":
			s.rep.warn("The device asked to change the backup folder (%s) during a restore: refused", name)
			return s.send(statusResponse(dlErrGeneric, "Operation not permitted: the backup is read-only", map[string]any{})...)
		}
	}
	switch name {
	case "DLMessageDownloadFiles":
		s.setPercent(m, 3)
		paths, err := m.stringsAt(1)
		if err != nil {
			return err
		}
		var refused error
		open := func(p string) (io.ReadCloser, error) {
			f, err := s.st.open(p)
			if errors.Is(err, ErrUnsafePath) && refused == nil {
				refused = err
			}
			if err != nil {
				s.sendFailed = append(s.sendFailed, p)
				return nil, err
			}
			if !s.readOnly {
				return f, nil // a backup's progress counts what the device sends, not this
			}
			s.rep.setFile(strings.TrimPrefix(p, s.udid+"/"))
			return &sentFile{ReadCloser: f, s: s}, nil
		}
		var onData func(int)
		if s.readOnly {
			onData = s.sent
		}
		s.wmu.Lock()
		errs, err := writeDownloadStream(s.conn, paths, open, onData)
		s.wmu.Unlock()
		if err != nil {
			return err
		}
		if refused != nil {
			return refused
		}
		if errs != nil {
			return s.send(statusResponse(dlMultiStatus, "Multi status", errs)...)
		}
		return s.send(statusResponse(0, "", map[string]any{})...)

	case "DLMessageUploadFiles":
		if total, ok := toInt64(m.at(3)); ok {
			s.rep.announce(total)
		}
		s.setPercent(m, 2)
		stats, err := readUploadStream(s.br, s)
		s.files += stats.Files
		if err != nil {
			return err
		}
		s.rep.progress(true)
		return s.send(statusResponse(0, "", map[string]any{})...)

	case "DLMessageGetFreeDiskSpace":
		free, err := freeBytes(s.st.rootDir)
		if err != nil {
			return s.send(statusResponse(dlErrGeneric, err.Error(), nil)...)
		}
		return s.send(statusResponse(0, "", free)...)

	case "DLContentsOfDirectory":
		p, _ := m.stringAt(1)
		entries, err := s.st.list(p)
		if err != nil {
			return s.reply(err)
		}
		out := map[string]any{}
		for n, e := range entries {
			out[n] = map[string]any{"DLFileType": e.Type, "DLFileSize": uint64(max(e.Size, 0)), "DLFileModificationDate": e.ModTime}
		}
		return s.send(statusResponse(0, "", out)...)

	case "DLMessageCreateDirectory":
		p, _ := m.stringAt(1)
		return s.reply(s.st.mkdirAll(p))

	case "DLMessageMoveItems", "DLMessageMoveFiles":
		s.setPercent(m, 3)
		moves, ok := m.dictAt(1)
		if !ok {
			return fmt.Errorf("%w: %s without a dictionary", ErrProtocol, name)
		}
		if err := s.st.beforeReplace(); err != nil {
			return err
		}
		var err error
		for _, src := range moveOrder(moves) {
			dst, ok := moves[src].(string)
			if !ok {
				return fmt.Errorf("%w: %s: destination of %q is not a path", ErrProtocol, name, src)
			}
			if err = s.st.move(src, dst); err != nil {
				break
			}
		}
		return s.reply(err)

	case "DLMessageRemoveItems", "DLMessageRemoveFiles":
		s.setPercent(m, 3)
		paths, err := m.stringsAt(1)
		if err != nil {
			return err
		}
		if err := s.st.beforeReplace(); err != nil {
			return err
		}
		var last error
		for _, p := range paths {
			if err := s.st.remove(p); err != nil {
				if errors.Is(err, ErrUnsafePath) {
					return err
				}
				last = err
				continue
			}
			if !strings.HasPrefix(p, s.udid+"/Snapshot/") && p != s.udid+"/Snapshot" {
				s.removed++
			}
		}
		return s.reply(last)

	case "DLMessageCopyItem":
		src, _ := m.stringAt(1)
		dst, _ := m.stringAt(2)
		return s.reply(s.st.copyItem(src, dst))

	case "DLMessagePurgeDiskSpace":
		return s.send(statusResponse(dlErrGeneric, "Operation not supported", nil)...)

	case "DLMessageProcessMessage":
		if _, ok := m.dictAt(1); !ok {
			return fmt.Errorf("%w: DLMessageProcessMessage without a dictionary", ErrProtocol)
		}
		return errFinal

	case "DLMessageDisconnect":
		reason, _ := m.stringAt(1)
		return fmt.Errorf("%w: the device ended the session %s", ErrDisconnected, reason)
	}
	s.rep.warn("The device sent an unknown request %q; answered 'not supported'", name)
	return s.send(statusResponse(dlErrGeneric, "Operation not supported", nil)...)
}

// reply answers a file request with the outcome of err. Unsafe paths and a full disk
// end the session instead.
func (s *session) reply(err error) error {
	if err == nil {
		return s.send(statusResponse(0, "", map[string]any{})...)
	}
	if errors.Is(err, ErrUnsafePath) {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %v", ErrDiskFull, err)
	}
	return s.send(statusResponse(errnoCode(err), err.Error(), map[string]any{})...)
}

// moveOrder sorts a move dictionary. A plist dictionary carries no order, so the order
// is made deterministic, with Status.plist last: if anything interrupts the moves,
// the folder never claims a finished snapshot it does not hold.
func moveOrder(moves map[string]any) []string {
	keys := make([]string, 0, len(moves))
	for k := range moves {
		keys = append(keys, k)
	}
	isStatus := func(k string) bool {
		d, _ := moves[k].(string)
		return path.Base(d) == "Status.plist"
	}
	sort.Slice(keys, func(i, j int) bool {
		si, sj := isStatus(keys[i]), isStatus(keys[j])
		if si != sj {
			return sj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func (s *session) setPercent(m dlMessage, i int) {
	if p, ok := m.numberAt(i); ok {
		s.rep.setPercent(p)
	}
}

// beginFile, writeData and endFile make the session the sink of upload streams.
func (s *session) beginFile(devicePath, hostPath string) error {
	in, err := s.st.create(hostPath)
	if err != nil {
		return diskErr(err)
	}
	s.cur = in
	s.rep.setFile(displayName(devicePath, hostPath, s.udid, s.prev))
	return nil
}

// abortFile drops the file in flight when the stream broke: the device reported
// nothing, so there is nothing to warn about (the capture fails anyway).
func (s *session) abortFile() {
	if s.cur != nil {
		s.st.abort(s.cur)
		s.cur = nil
	}
}

func (s *session) writeData(p []byte) error {
	if _, err := s.cur.f.Write(p); err != nil {
		return diskErr(fmt.Errorf("write %s: %w", s.cur.final, err))
	}
	s.bytes += int64(len(p))
	s.rep.addBytes(len(p))
	return nil
}

func (s *session) endFile(ok bool, note string) error {
	in := s.cur
	s.cur = nil
	if in == nil {
		return nil
	}
	if !ok {
		s.st.abort(in)
		if note == "" {
			note = "no reason given"
		}
		s.rep.warn("The device could not send %s: %s", strings.TrimPrefix(in.final, s.st.target+"/"), note)
		return nil
	}
	if err := s.st.commit(in); err != nil {
		return diskErr(err)
	}
	s.rep.fileDone()
	return nil
}

func diskErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %v", ErrDiskFull, err)
	}
	return err
}

// sent counts file data sent to the device (DLMessageDownloadFiles).
func (s *session) sent(n int) {
	s.bytes += int64(n)
	s.rep.addBytes(n)
}

// sentFile counts a file the device downloaded once it is sent whole.
type sentFile struct {
	io.ReadCloser
	s *session
}

func (f *sentFile) Close() error {
	f.s.files++
	f.s.rep.fileDone()
	return f.ReadCloser.Close()
}
