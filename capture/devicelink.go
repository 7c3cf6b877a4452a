package capture

// The DeviceLink session mobilebackup2 runs: the version exchange and Hello, then the
// message loop that serves the device's requests until its final message. Backups,
// restores and password changes all run through it (framing.go frames the messages).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// quietAfter is how long the device may stay silent before the user is told it
// probably waits for them (iOS 16.1+ asks for the passcode when a backup starts).
var quietAfter = 3 * time.Second

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
	// readOnly serves a restore: the device may read the backup folder, never
	// change it.
	readOnly bool
	// sendFailed are the files the device asked for that the host could not send.
	sendFailed []string
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
