package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danielpaulus/go-ios/ios"
)

// afcReply builds one AFC packet as a device sends it.
func afcReply(op uint64, hdr, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString(afcMagic)
	this := uint64(afcHeaderLen + len(hdr))
	for _, v := range []uint64{this + uint64(len(data)), this, 0, op} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.Write(hdr)
	b.Write(data)
	return b.Bytes()
}

// scripted is a device connection: the replies are read from, the requests written to.
type scripted struct {
	io.Reader
	sent bytes.Buffer
}

func (s *scripted) Write(p []byte) (int, error) { return s.sent.Write(p) }

func afcOK() []byte { return afcReply(afcOpStatus, make([]byte, 8), nil) }

// writeFile sends mkdir, open (write mode, the path), the data in chunks, close; a
// device's error status stops it with the operation named.
func TestAFCWriteFile(t *testing.T) {
	handle := binary.LittleEndian.AppendUint64(nil, 7)
	data := bytes.Repeat([]byte("x"), afcWriteChunk+10)
	var replies bytes.Buffer
	for _, r := range [][]byte{afcOK(), afcReply(afcOpOpenRes, handle, nil), afcOK(), afcOK(), afcOK()} {
		replies.Write(r)
	}
	conn := &scripted{Reader: &replies}
	if err := (&afcClient{rw: conn}).writeFile("/iTunesRestore/RestoreApplications.plist", data); err != nil {
		t.Fatal(err)
	}
	sent := conn.sent.Bytes()
	var ops []uint64
	var payload int
	for len(sent) > 0 {
		entire := binary.LittleEndian.Uint64(sent[8:])
		this := binary.LittleEndian.Uint64(sent[16:])
		op := binary.LittleEndian.Uint64(sent[32:])
		ops = append(ops, op)
		if op == afcOpFileOpen && !bytes.Contains(sent[afcHeaderLen:this], []byte("/iTunesRestore/RestoreApplications.plist\x00")) {
			t.Errorf("open without the path: %q", sent[afcHeaderLen:this])
		}
		if op == afcOpFileWrite {
			payload += int(entire - this)
		}
		sent = sent[entire:]
	}
	want := []uint64{afcOpMakeDir, afcOpFileOpen, afcOpFileWrite, afcOpFileWrite, afcOpFileClose}
	if len(ops) != len(want) || payload != len(data) {
		t.Fatalf("operations %v (want %v), %d data bytes (want %d)", ops, want, payload, len(data))
	}

	failing := afcReply(afcOpStatus, binary.LittleEndian.AppendUint64(nil, 10), nil)
	err := (&afcClient{rw: &scripted{Reader: bytes.NewReader(failing)}}).writeFile("/a/b", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "mkdir /a: error 10") {
		t.Errorf("a refused mkdir: %v", err)
	}
}

// FuzzAFCReply: any bytes from the device give an error or a reply, never a panic or
// an allocation beyond the bound.
func FuzzAFCReply(f *testing.F) {
	f.Add(afcOK())
	f.Add(afcReply(afcOpOpenRes, binary.LittleEndian.AppendUint64(nil, 1), nil))
	f.Add(afcReply(afcOpStatus, nil, bytes.Repeat([]byte{1}, 100)))
	f.Add([]byte(afcMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := &afcClient{rw: &scripted{Reader: bytes.NewReader(data)}}
		_, body, err := a.call(afcOpMakeDir, []byte("/x\x00"), nil)
		if err == nil && len(body) > afcMaxReply {
			t.Fatalf("reply body of %d bytes", len(body))
		}
		_ = a.status("x", afcOpFileClose, nil, nil)
	})
}

// The device's restore errors read as what to do, and match the errors a caller
// tests; 205 names the files the host could not send.
func TestRestoreDeviceErrors(t *testing.T) {
	for _, c := range []struct {
		code  int64
		files []string
		is    []error
		text  string
	}{
		{211, nil, []error{ErrFindMy, ErrRestoreFailed}, "turn it off"},
		{102, nil, []error{ErrRebootFirst, ErrRestoreFailed}, "restarted first"},
		{207, nil, []error{ErrWrongPassword}, "wrong backup password"},
		{205, []string{"U/ab/abcd", "U/cd/cdef"}, []error{ErrDownloadFiles, ErrRestoreFailed}, "U/ab/abcd, U/cd/cdef"},
		{205, nil, []error{ErrDownloadFiles}, "iosbackup verify"},
		{1, nil, []error{ErrRestoreFailed}, "device error 1 (Something)"},
	} {
		err := restoreFinalError(map[string]any{"ErrorCode": uint64(c.code), "ErrorDescription": "Something"}, c.files)
		for _, target := range c.is {
			if !errors.Is(err, target) {
				t.Errorf("code %d: %v is not %v", c.code, err, target)
			}
		}
		if errors.Is(err, ErrBackupFailed) {
			t.Errorf("code %d: a restore error reads as a failed backup", c.code)
		}
		if err == nil || !strings.Contains(err.Error(), c.text) {
			t.Errorf("code %d: %v lacks %q", c.code, err, c.text)
		}
	}
	if err := restoreFinalError(map[string]any{"ErrorCode": uint64(0)}, nil); err != nil {
		t.Errorf("code 0: %v", err)
	}
}

// A restore's session serves the backup read-only: the device may list and download,
// and every request that would change the folder is refused without touching it.
func TestReadOnlySessionRefusesChanges(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "U", "ab"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "U", "ab", "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(root, "U")
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	host, device := net.Pipe()
	defer device.Close()
	s := newSession(&serviceConn{dc: ios.NewDeviceConnectionWithConn(host), conn: host}, st, newReporter(nil), "U")
	s.readOnly = true
	defer s.close()
	done := make(chan error, 1)
	go func() { _, err := s.loop(context.Background()); done <- err }()
	br := bufio.NewReader(device)
	ask := func(msg ...any) dlMessage {
		t.Helper()
		if err := writeMessage(device, msg...); err != nil {
			t.Fatal(err)
		}
		m, err := readMessage(br)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, req := range [][]any{
		{"DLMessageCreateDirectory", "U/new"},
		{"DLMessageRemoveItems", []any{"U/ab"}, map[string]any{}, 0.0},
		{"DLMessageMoveItems", map[string]any{"U/ab/f": "U/g"}, map[string]any{}, 0.0},
		{"DLMessageCopyItem", "U/ab/f", "U/h"},
	} {
		m := ask(req...)
		if code, _ := toInt64(m.at(1)); m.name() != "DLMessageStatusResponse" || code == 0 {
			t.Errorf("%s answered %v", req[0], m)
		}
	}
	if m := ask("DLContentsOfDirectory", "U"); func() bool { d, ok := m.dictAt(3); _, has := d["ab"]; return !ok || !has }() {
		t.Errorf("listing refused: %v", m)
	}
	after := []string{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		after = append(after, rel)
		return nil
	})
	if strings.Join(after, " ") != ". U U/ab U/ab/f" {
		t.Errorf("the folder changed: %v", after)
	}
	data, _ := os.ReadFile(filepath.Join(root, "U", "ab", "f"))
	if string(data) != "data" {
		t.Errorf("the file changed: %q", data)
	}
	if err := writeMessage(device, "DLMessageProcessMessage", map[string]any{"ErrorCode": uint64(0)}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("loop: %v", err)
	}
}
