package capture

// The orchestration: connect, check, let the device drive the backup through DeviceLink
// requests, verify, publish. Also the password changes, which use the same channel.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"howett.net/plist"

	"iosbackup/manifest"
)

// quietAfter is how long the device may stay silent before the user is told it
// probably waits for them (iOS 16.1+ asks for the passcode when a backup starts).
var quietAfter = 3 * time.Second

// ListDevices lists the connected devices. socket is the usbmuxd address ("" for the
// default, see Target.Socket). A device that cannot be asked everything is still
// listed, with Problem saying why.
func ListDevices(ctx context.Context, socket string) (devs []DeviceInfo, err error) {
	defer recoverPanic(&err)
	list, err := listMuxDevices(ctx, socket)
	if err != nil {
		return nil, err
	}
	for _, d := range uniqueDevices(list) {
		devs = append(devs, describeDevice(ctx, socket, d))
		if err := ctx.Err(); err != nil {
			return devs, err
		}
	}
	return devs, nil
}

// Pair pairs this computer with the device, waiting (until ctx ends) while the device
// shows its Trust dialog. A device already paired is left as it is.
func Pair(ctx context.Context, t Target, progress func(Event)) (err error) {
	defer recoverPanic(&err)
	rep := newReporter(progress)
	dev, err := findDevice(ctx, t)
	if err != nil {
		return err
	}
	if isPaired(ctx, t, dev) {
		rep.info("Device %s is already paired with this computer", dev.udid)
		return nil
	}
	if err := pairDevice(ctx, t.Socket, dev, rep.emitRaw); err != nil {
		return err
	}
	if !isPaired(ctx, t, dev) {
		return fmt.Errorf("%w: the device accepted pairing but refuses the new record", ErrNotPaired)
	}
	rep.info("Paired with device %s", dev.udid)
	return nil
}

// SetEncryption turns backup encryption on (asking for a new password) or off (asking
// for the current one). The device may ask for its passcode to confirm.
func SetEncryption(ctx context.Context, t Target, on bool, password PasswordFunc, progress func(Event)) (err error) {
	defer recoverPanic(&err)
	return changePassword(ctx, t, password, progress, func(enc bool) ([]PasswordKind, error) {
		switch {
		case on && enc:
			return nil, ErrAlreadyEncrypted
		case !on && !enc:
			return nil, ErrNotEncrypted
		case on:
			return []PasswordKind{PasswordNew}, nil
		}
		return []PasswordKind{PasswordCurrent}, nil
	})
}

// ChangePassword changes the backup password (asking for the current and a new one).
func ChangePassword(ctx context.Context, t Target, password PasswordFunc, progress func(Event)) (err error) {
	defer recoverPanic(&err)
	return changePassword(ctx, t, password, progress, func(enc bool) ([]PasswordKind, error) {
		if !enc {
			return nil, ErrNotEncrypted
		}
		return []PasswordKind{PasswordCurrent, PasswordNew}, nil
	})
}

// changePassword sends a ChangePassword request with the passwords plan asks for.
func changePassword(ctx context.Context, t Target, password PasswordFunc, progress func(Event),
	plan func(encrypted bool) ([]PasswordKind, error)) error {
	rep := newReporter(progress)
	l, err := openSession(ctx, t)
	if err != nil {
		return err
	}
	udid := l.dev.udid
	enc, err := l.getValue(ctx, "com.apple.mobile.backup", "WillEncrypt")
	if err != nil {
		l.close()
		return err
	}
	willEncrypt, _ := enc.(bool)
	kinds, err := plan(willEncrypt)
	if err != nil {
		l.close()
		return err
	}
	if password == nil {
		l.close()
		return errors.New("a password is needed but no way to ask for it was given")
	}
	req := map[string]any{"MessageName": "ChangePassword", "TargetIdentifier": udid}
	for _, k := range kinds {
		pw, err := password(k)
		if err != nil {
			l.close()
			return fmt.Errorf("read %s: %w", k, err)
		}
		key := "OldPassword"
		if k == PasswordNew {
			key = "NewPassword"
		}
		req[key] = string(pw)
		clear(pw)
	}
	conn, err := startBackupService(ctx, l)
	if err != nil {
		return err
	}
	s := newSession(conn, nil, rep, udid)
	defer s.close()
	stop := s.watch(ctx)
	defer stop()
	if err := s.handshake(ctx); err != nil {
		return err
	}
	if err := s.send(processMessage(req)...); err != nil {
		return s.ioErr(ctx, err)
	}
	s.quietWait = WaitPasscode
	s.quietMsg = "Confirm on the device: enter its passcode if it asks"
	final, err := s.loop(ctx)
	if err != nil {
		return err
	}
	if err := finalError(final); err != nil {
		return err
	}
	s.goodbye()
	rep.info("Backup password changed on device %s", udid)
	return nil
}

// Run takes a backup of the target device into opts.Root/<UDID>: incremental when a
// complete previous backup is there (unless opts.Full), full otherwise.
func Run(ctx context.Context, opts Options) (res *Result, err error) {
	defer recoverPanic(&err)
	if opts.Root == "" {
		return nil, errors.New("no backup folder given")
	}
	rep := newReporter(opts.Progress)
	started := time.Now()

	l, err := openSession(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	udid := l.dev.udid
	vals, err := readDeviceValues(ctx, l)
	if err != nil {
		l.close()
		return nil, err
	}
	st, err := openStore(opts.Root, udid)
	if err != nil {
		l.close()
		return nil, err
	}
	defer st.close()
	st.setHistory(opts)
	// Leftovers first: a swap an earlier run left half done decides what "previous
	// backup" means.
	if err := st.recoverLeftovers(); err != nil {
		l.close()
		return nil, err
	}
	hadPrevious := previousComplete(st)
	inPlace := false
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = &InterruptedError{Dir: filepath.Join(opts.Root, udid), Intact: hadPrevious && !inPlace, Err: err}
		}
	}()
	incremental := !opts.Full && hadPrevious
	if err := checkSpace(st, vals.usedBytes, incremental, opts.SkipSpaceCheck); err != nil {
		l.close()
		return nil, err
	}
	name, _ := vals.all["DeviceName"].(string)
	version, _ := vals.all["ProductVersion"].(string)
	rep.info("Backing up %q (iOS %s, %s) to %s", name, version, udid, filepath.Join(opts.Root, udid))
	appIDs, apps := installedApps(ctx, l)
	info := infoPlist(udid, vals, appIDs, apps, time.Now())

	conn, err := startBackupService(ctx, l) // closes the lockdown session
	if err != nil {
		return nil, err
	}
	s := newSession(conn, st, rep, udid)
	if hadPrevious {
		s.prev = newPreviousNames(st)
	}
	defer s.close()
	stop := s.watch(ctx)
	defer stop()
	if err := s.handshake(ctx); err != nil {
		return nil, err
	}

	var skipped []string
	inPlace, skipped, err = st.prepare(incremental)
	if err != nil {
		return nil, err
	}
	published := false
	defer func() {
		if !published {
			if derr := st.discard(); derr != nil {
				rep.warn("Could not clean up the unfinished capture: %v", derr)
			}
		}
	}()
	if inPlace {
		rep.warn("This file system has no hard links: the device writes into %s directly; an interrupted capture may leave it partly updated", filepath.Join(opts.Root, udid))
	}
	for _, p := range skipped {
		rep.warn("Left out %s: not a regular file or folder", p)
	}
	if err := st.writeFile(udid+"/Info.plist", info); err != nil {
		return nil, err
	}
	if vals.willEncrypt {
		rep.info("The device encrypts its backups")
	} else {
		rep.info("The device does not encrypt its backups (iosbackup encryption on turns it on)")
	}
	req := map[string]any{"MessageName": "Backup", "TargetIdentifier": udid, "SourceIdentifier": udid}
	if incremental {
		rep.info("Incremental backup: only changes are transferred")
	} else {
		rep.info("Full backup")
		req["Options"] = map[string]any{"ForceFullBackup": true}
	}
	if err := s.send(processMessage(req)...); err != nil {
		return nil, s.ioErr(ctx, err)
	}
	prevSize := int64(0)
	if hadPrevious && !incremental {
		prevSize = st.backupSize() // what a full backup of this device sent last time
	}
	rep.expect(!incremental, prevSize, vals.usedBytes)
	rep.start()
	defer rep.stop()
	s.quietWait = WaitPasscode
	s.quietMsg = "Waiting for the device: unlock it and enter its passcode if it asks"
	final, err := s.loop(ctx)
	if err != nil {
		return nil, err
	}
	if err := finalError(final); err != nil {
		return nil, err
	}
	status, err := st.readTarget("Status.plist")
	if err != nil {
		return nil, fmt.Errorf("%w: no Status.plist after the backup: %v", ErrBackupFailed, err)
	}
	if !manifest.StatusComplete(status) {
		return nil, fmt.Errorf("%w: Status.plist says the snapshot is %q, not finished", ErrBackupFailed, manifest.StatusState(status))
	}
	encrypted := vals.willEncrypt
	if mp, err := st.readTarget("Manifest.plist"); err == nil {
		var m struct{ IsEncrypted bool }
		if _, err := plist.Unmarshal(mp, &m); err == nil {
			encrypted = m.IsEncrypted
		}
	}
	s.goodbye()
	if err := st.publish(); err != nil {
		return nil, err
	}
	published = true
	res = &Result{
		UDID: udid, Dir: filepath.Join(opts.Root, udid), Incremental: incremental, Encrypted: encrypted,
		Files: s.files, Bytes: s.bytes, Removed: s.removed, Duration: time.Since(started), InPlace: inPlace,
	}
	rep.done()
	if err := keepHistory(st, incremental, opts.Keep, res, rep); err != nil {
		return res, err
	}
	rep.info("Backup finished: %d files, %s received in %s", res.Files, humanBytes(res.Bytes), res.Duration.Round(time.Second))
	return res, nil
}

// previousComplete reports whether the backup folder holds a finished backup.
func previousComplete(st *store) bool {
	data, err := st.readBackup("Status.plist")
	if err != nil || !manifest.StatusComplete(data) {
		return false
	}
	return st.exists(path.Join(st.udid, "Manifest.db")) || st.exists(path.Join(st.udid, "Manifest.mbdb"))
}

// checkSpace stops before the transfer when the backup cannot fit. The device's used
// space bounds a full backup; an incremental one needs at most what is not already
// in the previous backup.
func checkSpace(st *store, used int64, incremental, skip bool) error {
	if skip || used <= 0 {
		return nil
	}
	free, err := freeBytes(st.rootDir)
	if err != nil {
		return nil
	}
	need := used
	if incremental {
		need -= st.backupSize()
	}
	if need > 0 && uint64(need) > free {
		return fmt.Errorf("%w: the device holds %s, %s free in %s (need about %s more); free some space, choose another folder, or skip this check if most of the data lives in iCloud",
			ErrDiskFull, humanBytes(used), humanBytes(int64(free)), st.rootDir, humanBytes(need-int64(free)))
	}
	return nil
}

// finalError interprets the device's closing DLMessageProcessMessage.
func finalError(d map[string]any) error {
	code, ok := toInt64(d["ErrorCode"])
	if !ok {
		return fmt.Errorf("%w: final message without ErrorCode", ErrProtocol)
	}
	if code == 0 {
		return nil
	}
	desc, _ := d["ErrorDescription"].(string)
	return &DeviceError{Code: code, Description: desc}
}

// recoverPanic turns a bug into an error at the API boundary: a capture must fail
// cleanly, never crash the caller.
func recoverPanic(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("capture: internal error: %v", r)
	}
}

// session is one mobilebackup2 connection.
type session struct {
	conn  *serviceConn
	br    *bufio.Reader
	wmu   sync.Mutex // one writer at a time: the loop, or the cancellation watcher
	st    *store     // nil outside backups
	rep   *reporter
	udid  string
	cur   *incoming
	prev  *previousNames // nil outside backups and without a previous backup
	files int
	bytes int64
	// removed counts paths removed outside the Snapshot folder.
	removed int
	// quietWait, when set, is reported if the device stays silent for quietAfter
	// while the next message is awaited; it is cleared by the first message.
	quietWait WaitReason
	quietMsg  string
}

func newSession(conn *serviceConn, st *store, rep *reporter, udid string) *session {
	return &session{conn: conn, br: bufio.NewReaderSize(conn, 256<<10), st: st, rep: rep, udid: udid}
}

func (s *session) close() {
	if s.cur != nil {
		s.st.abort(s.cur)
		s.cur = nil
	}
	s.prev.close()
	_ = s.conn.Close()
}

// watch closes the session when ctx ends, saying goodbye first when no message is
// being written (a half-written message must not be interleaved with another).
func (s *session) watch(ctx context.Context) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			if s.wmu.TryLock() {
				s.conn.setWriteDeadline(time.Now().Add(2 * time.Second))
				_ = writeMessage(s.conn, "DLMessageDisconnect", emptyParam)
				s.wmu.Unlock()
			}
			_ = s.conn.Close()
		case <-done:
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// goodbye ends the DeviceLink session politely.
func (s *session) goodbye() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.setWriteDeadline(time.Now().Add(5 * time.Second))
	_ = writeMessage(s.conn, "DLMessageDisconnect", emptyParam)
}

func (s *session) send(msg ...any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return writeMessage(s.conn, msg...)
}

// read waits for the next message, telling the user when the device keeps quiet.
func (s *session) read() (dlMessage, error) {
	var t *time.Timer
	if s.quietWait != WaitNone {
		wait, msg := s.quietWait, s.quietMsg
		t = time.AfterFunc(quietAfter, func() { s.rep.wait(wait, msg) })
	}
	m, err := readMessage(s.br)
	if t != nil {
		t.Stop()
	}
	return m, err
}

// ioErr classifies an error of the device connection.
func (s *session) ioErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("capture interrupted: %w", ctx.Err())
	}
	if errors.Is(err, ErrProtocol) || errors.Is(err, ErrUnsafePath) || errors.Is(err, ErrDiskFull) {
		return err
	}
	var ne net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &ne) {
		return fmt.Errorf("%w: %v", ErrDisconnected, err)
	}
	return err
}

// handshake performs the DeviceLink version exchange and the mobilebackup2 Hello.
func (s *session) handshake(ctx context.Context) error {
	m, err := s.read()
	if err != nil {
		return s.ioErr(ctx, err)
	}
	if m.name() != "DLMessageVersionExchange" {
		return fmt.Errorf("%w: expected DLMessageVersionExchange, got %q", ErrProtocol, m.name())
	}
	major, ok := toInt64(m.at(1))
	if !ok || major <= 0 {
		return fmt.Errorf("%w: version exchange without a major version", ErrProtocol)
	}
	if err := s.send("DLMessageVersionExchange", "DLVersionsOk", uint64(major)); err != nil {
		return s.ioErr(ctx, err)
	}
	if m, err = s.read(); err != nil {
		return s.ioErr(ctx, err)
	}
	if m.name() != "DLMessageDeviceReady" {
		return fmt.Errorf("%w: expected DLMessageDeviceReady, got %q", ErrProtocol, m.name())
	}
	hello := map[string]any{"MessageName": "Hello", "SupportedProtocolVersions": []any{2.0, 2.1}}
	if err := s.send(processMessage(hello)...); err != nil {
		return s.ioErr(ctx, err)
	}
	if m, err = s.read(); err != nil {
		return s.ioErr(ctx, err)
	}
	d, ok := m.dictAt(1)
	if m.name() != "DLMessageProcessMessage" || !ok {
		return fmt.Errorf("%w: expected the Hello response, got %q", ErrProtocol, m.name())
	}
	if err := finalError(d); err != nil {
		if errors.Is(err, ErrDeviceLocked) {
			s.rep.wait(WaitUnlock, "Unlock the device, then start again")
		}
		return err
	}
	return nil
}

// loop serves the device's requests until its final message, which it returns.
func (s *session) loop(ctx context.Context) (map[string]any, error) {
	for {
		m, err := s.read()
		if err != nil {
			return nil, s.ioErr(ctx, err)
		}
		s.quietWait = WaitNone
		if err := s.handle(ctx, m); err != nil {
			if errors.Is(err, errFinal) {
				d, _ := m.dictAt(1)
				return d, nil
			}
			return nil, s.ioErr(ctx, err)
		}
	}
}

// errFinal marks the device's closing message.
var errFinal = errors.New("final message")

// handle answers one device request. Errors end the session: they are either a
// broken connection or a refusal (unsafe path, full disk) the device must not get
// past.
func (s *session) handle(ctx context.Context, m dlMessage) error {
	name := m.name()
	if s.st == nil && name != "DLMessageProcessMessage" && name != "DLMessageDisconnect" {
		return s.send(statusResponse(dlErrGeneric, "Operation not supported", nil)...)
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
			return f, err
		}
		s.wmu.Lock()
		errs, err := writeDownloadStream(s.conn, paths, open, nil)
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

// infoPlist is the Info.plist a host writes before the backup, from lockdown's values.
func infoPlist(udid string, v *deviceValues, appIDs []any, apps map[string]any, now time.Time) []byte {
	all := v.all
	d := map[string]any{
		"Target Identifier":      udid,
		"Target Type":            "Device",
		"Unique Identifier":      strings.ToUpper(udid),
		"Last Backup Date":       now.UTC(),
		"GUID":                   strings.ReplaceAll(newHostID(), "-", ""),
		"iTunes Version":         "12.13.2.3",
		"iTunes Files":           map[string]any{},
		"Installed Applications": appIDs,
		"Applications":           apps,
	}
	if appIDs == nil {
		d["Installed Applications"] = []any{}
	}
	if v.iTunes != nil {
		d["iTunes Settings"] = v.iTunes
	} else {
		d["iTunes Settings"] = map[string]any{}
	}
	copyKey := func(from, to string) {
		if s, ok := all[from].(string); ok && s != "" {
			d[to] = s
		}
	}
	copyKey("BuildVersion", "Build Version")
	copyKey("DeviceName", "Device Name")
	copyKey("DeviceName", "Display Name")
	copyKey("IntegratedCircuitCardIdentity", "ICCID")
	copyKey("InternationalMobileEquipmentIdentity", "IMEI")
	copyKey("InternationalMobileEquipmentIdentity2", "IMEI 2")
	copyKey("MobileEquipmentIdentifier", "MEID")
	copyKey("PhoneNumber", "Phone Number")
	copyKey("ProductType", "Product Type")
	copyKey("ProductVersion", "Product Version")
	copyKey("SerialNumber", "Serial Number")
	copyKey("ProductName", "Product Name")
	out, err := plist.MarshalIndent(d, plist.XMLFormat, "\t")
	if err != nil {
		// Only lockdown's own values go in; a failure is a bug, reported as a minimal file.
		out, _ = plist.Marshal(map[string]any{"Target Identifier": udid}, plist.XMLFormat)
	}
	return out
}

// humanBytes formats a byte count for messages. Every byte count iosbackup prints
// uses go-humanize's IEC units (KiB, MiB, GiB), so two lines never disagree on units.
func humanBytes(n int64) string {
	return humanize.IBytes(uint64(max(n, 0)))
}
