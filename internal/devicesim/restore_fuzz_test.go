package devicesim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"howett.net/plist"

	"iosbackup/manifest"
)

// FuzzVersionLess: dotted versions from hosts' plists never panic, and the order is
// strict (never both a < b and b < a).
func FuzzVersionLess(f *testing.F) {
	for _, s := range [][2]string{{"9.3.5", "10.0"}, {"17.5.1", "17.5"}, {"", "1"}, {"1..2", "x"}, {"99999999999.1", "1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if manifest.IOSVersionLess(a, b) && manifest.IOSVersionLess(b, a) {
			t.Fatalf("%q < %q and %q < %q", a, b, b, a)
		}
		_ = manifest.IOSMajor(a)
	})
}

// frame builds a host->device file stream: name, data blocks, end code.
func frame(name string, data []byte, code byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(name)))
	b.WriteString(name)
	if len(data) > 0 {
		binary.Write(&b, binary.BigEndian, uint32(len(data)+1))
		b.WriteByte(codeData)
		b.Write(data)
	}
	binary.Write(&b, binary.BigEndian, uint32(1))
	b.WriteByte(code)
	return b.Bytes()
}

// FuzzDownloadTo feeds arbitrary host streams to the device's download: it never
// panics and writes nothing but the files it asked for, inside its folder.
func FuzzDownloadTo(f *testing.F) {
	status := func() []byte {
		body, _ := plist.Marshal([]any{"DLMessageStatusResponse", uint64(0), emptyParam, emptyParam}, plist.BinaryFormat)
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, uint32(len(body)))
		b.Write(body)
		return b.Bytes()
	}()
	good := append(frame("U/Manifest.plist", []byte("abc"), codeSuccess), frame("U/../../escape", []byte("x"), codeSuccess)...)
	f.Add(append(append(frame("U/Manifest.plist", []byte("abc"), codeSuccess), 0, 0, 0, 0), status...))
	f.Add(append(good, 0, 0, 0, 0))
	f.Add(append(frame("U/Status.plist", nil, codeError), 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, stream []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "staging")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		d := &dl{br: bufio.NewReader(bytes.NewReader(stream)), bw: bufio.NewWriter(io.Discard)}
		got, _ := d.downloadTo([]string{"U/Manifest.plist", "U/Status.plist"}, dir, "U")
		for name := range got {
			if name != "U/Manifest.plist" && name != "U/Status.plist" {
				t.Fatalf("accepted %q", name)
			}
		}
		entries, _ := os.ReadDir(parent)
		if len(entries) != 1 {
			t.Fatalf("wrote beside the staging folder: %v", entries)
		}
		filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() && p != filepath.Join(dir, "Manifest.plist") && p != filepath.Join(dir, "Status.plist") {
				t.Fatalf("wrote %s", p)
			}
			return nil
		})
	})
}

// FuzzRestoreOptions: whatever plist a host sends as a Restore request, reading its
// options never panics and an absent RestoreShouldReboot means reboot.
func FuzzRestoreOptions(f *testing.F) {
	for _, v := range []any{
		map[string]any{"Options": map[string]any{"RestoreSystemFiles": true, "Password": "x"}},
		map[string]any{"Options": []any{"no"}, "Password": uint64(3)},
		map[string]any{},
	} {
		b, _ := plist.Marshal(v, plist.BinaryFormat)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req map[string]any
		if _, err := plist.Unmarshal(data, &req); err != nil {
			return
		}
		o := parseRestoreOptions(req)
		opts, _ := req["Options"].(map[string]any)
		if _, set := opts["RestoreShouldReboot"].(bool); !set && !o.reboot {
			t.Fatal("no RestoreShouldReboot, and no reboot")
		}
	})
}

// FuzzAFC feeds arbitrary packets to the AFC service: it never panics and keeps
// nothing but what was written to opened files.
func FuzzAFC(f *testing.F) {
	packet := func(op uint64, hdr, data []byte) []byte {
		var b bytes.Buffer
		afcSend(&b, 1, op, hdr, data)
		return b.Bytes()
	}
	mode := make([]byte, 8)
	binary.LittleEndian.PutUint64(mode, afcModeWrite)
	handle := make([]byte, 8)
	binary.LittleEndian.PutUint64(handle, 1)
	f.Add(append(packet(afcOpFileOpen, append(mode, "/iTunesRestore/x.plist\x00"...), nil), packet(afcOpFileWrite, handle, []byte("data"))...))
	f.Add(packet(afcOpRemove, []byte("/iTunesRestore\x00"), nil))
	f.Add([]byte("CFA6LPAA\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		s := &Sim{afcFiles: map[string][]byte{}}
		server, client := net.Pipe()
		done := make(chan struct{})
		go func() { defer close(done); s.serveAFC(server); server.Close() }()
		go io.Copy(io.Discard, client)
		client.Write(stream)
		client.Close()
		<-done
		var written int
		for _, v := range s.afcFiles {
			written += len(v)
		}
		if written > len(stream) {
			t.Fatalf("kept %d bytes from a %d-byte stream", written, len(stream))
		}
	})
}
