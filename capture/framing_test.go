package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"howett.net/plist"
)

func frame(body []byte) []byte {
	out := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(out, uint32(len(body)))
	return append(out, body...)
}

func TestMessageRoundTrip(t *testing.T) {
	msg := []any{"DLMessageMoveItems", map[string]any{"U/Snapshot/a": "U/a"}, map[string]any{}, 42.5}
	b, err := encodeMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := readMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if m.name() != "DLMessageMoveItems" {
		t.Fatalf("name %q", m.name())
	}
	d, ok := m.dictAt(1)
	if !ok || d["U/Snapshot/a"] != "U/a" {
		t.Fatalf("dict %v", m.at(1))
	}
	if p, ok := m.numberAt(3); !ok || p != 42.5 {
		t.Fatalf("progress %v %v", p, ok)
	}

	// Devices may send XML too; negative codes arrive as unsigned two's complement.
	xml, _ := plist.Marshal([]any{"DLMessageStatusResponse", uint64(0xFFFFFFFFFFFFFFF3), "Multi status", emptyParam}, plist.XMLFormat)
	m, err = readMessage(bytes.NewReader(frame(xml)))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := toInt64(m.at(1)); !ok || c != -13 {
		t.Fatalf("code %v", m.at(1))
	}
	if _, ok := m.stringAt(3); ok {
		t.Fatal("the empty-parameter marker must read as absent")
	}
	st := statusResponse(-13, "Multi status", nil)
	b, _ = encodeMessage(st)
	m, _ = readMessage(bytes.NewReader(b))
	if c, _ := toInt64(m.at(1)); c != -13 || m.at(3) != emptyParam {
		t.Fatalf("status response %v", m)
	}
}

func TestReadMessageRejects(t *testing.T) {
	huge := make([]byte, 4)
	binary.BigEndian.PutUint32(huge, maxMessageSize+1)
	notArray, _ := plist.Marshal(map[string]any{"a": 1}, plist.BinaryFormat)
	numberFirst, _ := plist.Marshal([]any{1, 2}, plist.BinaryFormat)
	empty, _ := plist.Marshal([]any{}, plist.BinaryFormat)
	cases := map[string][]byte{
		"zero length":     {0, 0, 0, 0},
		"huge length":     huge,
		"truncated body":  append([]byte{0, 0, 0, 10}, 'b', 'p'),
		"not a plist":     frame([]byte("hello world")),
		"not a list":      frame(notArray),
		"nameless":        frame(numberFirst),
		"empty list":      frame(empty),
		"truncated count": {0, 0},
	}
	for name, in := range cases {
		if _, err := readMessage(bytes.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A lying length must not allocate it up front: 100 MB announced, 3 bytes sent.
	lie := []byte{0x06, 0, 0, 0, 'x', 'y', 'z'}
	if _, err := readMessage(bytes.NewReader(lie)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("lying length: %v", err)
	}
}

// recordingSink records what an upload stream delivers.
type recordingSink struct {
	files   map[string]string
	failed  []string
	notes   []string
	cur     string
	buf     bytes.Buffer
	begins  int
	ends    int
	refuse  string
	written int64
}

func (s *recordingSink) beginFile(dev, host string) error {
	if s.refuse != "" && strings.Contains(host, s.refuse) {
		return ErrUnsafePath
	}
	s.begins++
	s.cur = host
	s.buf.Reset()
	return nil
}

func (s *recordingSink) writeData(p []byte) error {
	s.written += int64(len(p))
	s.buf.Write(p)
	return nil
}

func (s *recordingSink) abortFile() { _ = s.endFile(false, "") }

func (s *recordingSink) endFile(ok bool, note string) error {
	s.ends++
	if s.files == nil {
		s.files = map[string]string{}
	}
	if ok {
		s.files[s.cur] = s.buf.String()
	} else {
		s.failed = append(s.failed, s.cur)
	}
	if note != "" {
		s.notes = append(s.notes, note)
	}
	return nil
}

// streamBuilder writes the device->host upload format.
type streamBuilder struct{ bytes.Buffer }

func (b *streamBuilder) name(s string) *streamBuilder {
	binary.Write(&b.Buffer, binary.BigEndian, uint32(len(s)))
	b.WriteString(s)
	return b
}

func (b *streamBuilder) block(code byte, payload string) *streamBuilder {
	binary.Write(&b.Buffer, binary.BigEndian, uint32(len(payload)+1))
	b.WriteByte(code)
	b.WriteString(payload)
	return b
}

func (b *streamBuilder) end() *streamBuilder {
	b.Write([]byte{0, 0, 0, 0})
	return b
}

func validUpload() []byte {
	var b streamBuilder
	b.name("/var/mobile/a").name("U/Snapshot/ab/a").block(blockData, "hello ").block(blockData, "world").block(blockSuccess, "")
	b.name("/var/mobile/empty").name("U/Snapshot/empty").block(blockSuccess, "")
	b.name("/var/mobile/gone").name("U/Snapshot/gone").block(blockLocalError, "No such file")
	b.name("/var/mobile/r").name("U/Snapshot/r").block(blockData, "data").block(blockRemoteError, "done")
	b.name("/var/mobile/x").name("U/Snapshot/x").block(blockRemoteError, "cannot read")
	b.end()
	return b.Bytes()
}

func TestUploadStream(t *testing.T) {
	var sink recordingSink
	st, err := readUploadStream(bytes.NewReader(validUpload()), &sink)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"U/Snapshot/ab/a": "hello world", "U/Snapshot/empty": "", "U/Snapshot/r": "data"}
	if len(sink.files) != len(want) {
		t.Fatalf("files %v", sink.files)
	}
	for k, v := range want {
		if got, ok := sink.files[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if strings.Join(sink.failed, ",") != "U/Snapshot/gone,U/Snapshot/x" {
		t.Errorf("failed %v", sink.failed)
	}
	if st.Files != 3 || st.Failed != 2 || st.DataBytes != int64(len("hello world")+len("data")) {
		t.Errorf("stats %+v", st)
	}
}

func TestUploadStreamRejects(t *testing.T) {
	long := strings.Repeat("a", maxNameLen+1)
	cases := map[string][]byte{}
	var b streamBuilder
	cases["long device name"] = b.name(long).Bytes()
	b = streamBuilder{}
	cases["long host name"] = b.name("d").name(long).Bytes()
	b = streamBuilder{}
	cases["unknown code"] = b.name("d").name("U/x").block(0x42, "").end().Bytes()
	b = streamBuilder{}
	cases["truncated data"] = b.name("d").name("U/x").block(blockData, "abcdef").Bytes()[:20]
	b = streamBuilder{}
	b.name("d").name("U/x")
	binary.Write(&b.Buffer, binary.BigEndian, uint32(maxBlockLen+1))
	b.WriteByte(blockData)
	cases["huge block"] = b.Bytes()
	b = streamBuilder{}
	b.name("d").name("U/x")
	binary.Write(&b.Buffer, binary.BigEndian, uint32(maxNoteLen+2))
	b.WriteByte(blockLocalError)
	cases["huge note"] = b.Bytes()
	b = streamBuilder{}
	cases["empty block"] = b.name("d").name("U/x").Bytes()
	cases["empty block"] = append(cases["empty block"], 0, 0, 0, 0)
	b = streamBuilder{}
	cases["no terminator"] = b.name("d").name("U/x").block(blockSuccess, "").Bytes()
	for name, in := range cases {
		var sink recordingSink
		if _, err := readUploadStream(bytes.NewReader(in), &sink); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if sink.begins != sink.ends {
			t.Errorf("%s: %d files begun, %d ended", name, sink.begins, sink.ends)
		}
	}
	// A refused path stops the stream.
	sink := recordingSink{refuse: "gone"}
	if _, err := readUploadStream(bytes.NewReader(validUpload()), &sink); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("refused path: %v", err)
	}
}

// parseDownload is an independent reader of the host->device stream.
func parseDownload(t *testing.T, data []byte) (files map[string]string, errs map[string]string) {
	t.Helper()
	files, errs = map[string]string{}, map[string]string{}
	r := bytes.NewReader(data)
	for {
		var n uint32
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			t.Fatalf("stream ended without terminator: %v", err)
		}
		if n == 0 {
			break
		}
		name := make([]byte, n)
		io.ReadFull(r, name)
		var content bytes.Buffer
		for {
			var l uint32
			binary.Read(r, binary.BigEndian, &l)
			code, _ := r.ReadByte()
			payload := make([]byte, l-1)
			io.ReadFull(r, payload)
			if code == blockData {
				if len(payload) > downloadBlockLen {
					t.Fatalf("block of %d bytes", len(payload))
				}
				content.Write(payload)
				continue
			}
			if code == blockSuccess {
				files[string(name)] = content.String()
			} else {
				errs[string(name)] = string(payload)
			}
			break
		}
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes after the terminator", r.Len())
	}
	return files, errs
}

func TestDownloadStream(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 5000) // 80,000 bytes: three blocks
	content := map[string]string{"U/Status.plist": "status", "U/Manifest.db": big, "U/empty": ""}
	open := func(p string) (io.ReadCloser, error) {
		c, ok := content[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return io.NopCloser(strings.NewReader(c)), nil
	}
	var out bytes.Buffer
	var sent int
	errs, err := writeDownloadStream(&out, []string{"U/Status.plist", "U/Manifest.db", "U/missing", "U/empty"}, open, func(n int) { sent += n })
	if err != nil {
		t.Fatal(err)
	}
	files, ferrs := parseDownload(t, out.Bytes())
	for k, v := range content {
		if files[k] != v {
			t.Errorf("%s: got %d bytes, want %d", k, len(files[k]), len(v))
		}
	}
	if _, ok := ferrs["U/missing"]; !ok || len(ferrs) != 1 {
		t.Errorf("stream errors %v", ferrs)
	}
	e, _ := errs["U/missing"].(map[string]any)
	if code, _ := toInt64(e["DLFileErrorCode"]); code != dlErrNotFound {
		t.Errorf("status errors %v", errs)
	}
	if sent != len(big)+len("status") {
		t.Errorf("reported %d bytes sent", sent)
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range [][]any{
		{"DLMessageVersionExchange", uint64(300), uint64(0)},
		{"DLMessageDeviceReady"},
		{"DLMessageProcessMessage", map[string]any{"MessageName": "Response", "ErrorCode": uint64(0), "ProtocolVersion": 2.1}},
		{"DLMessageUploadFiles", map[string]any{}, 12.5, uint64(1000)},
		{"DLMessageDownloadFiles", []any{"U/Status.plist", "U/Manifest.db"}, map[string]any{}, 0.0},
		{"DLMessageMoveItems", map[string]any{"U/Snapshot/a": "U/a"}, map[string]any{}, 95.0},
		{"DLContentsOfDirectory", "U"},
		{"DLMessageDisconnect", emptyParam},
	} {
		b, _ := plist.Marshal(m, plist.BinaryFormat)
		f.Add(b)
		x, _ := plist.Marshal(m, plist.XMLFormat)
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		if err != nil {
			return
		}
		if m.name() == "" {
			t.Fatal("accepted a message without a name")
		}
		for i := -1; i < len(m)+1; i++ {
			m.stringAt(i)
			m.stringsAt(i)
			m.dictAt(i)
			m.numberAt(i)
			toInt64(m.at(i))
		}
		if d, ok := m.dictAt(1); ok {
			moveOrder(d)
			finalError(d)
		}
	})
}

func FuzzUploadStream(f *testing.F) {
	f.Add(validUpload())
	var b streamBuilder
	f.Add(b.name("d").name("U/x").block(blockData, strings.Repeat("z", 100)).block(blockRemoteError, "").end().Bytes())
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var sink recordingSink
		st, err := readUploadStream(bytes.NewReader(data), &sink)
		if st.DataBytes != sink.written {
			t.Fatalf("counted %d data bytes, delivered %d", st.DataBytes, sink.written)
		}
		if err == nil && st.Files+st.Failed != sink.begins {
			t.Fatalf("%d files begun, %d ended", sink.begins, st.Files+st.Failed)
		}
		if sink.begins != sink.ends {
			t.Fatalf("%d files begun, %d ended", sink.begins, sink.ends)
		}
	})
}
