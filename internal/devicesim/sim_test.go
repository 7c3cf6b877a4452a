package devicesim

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"iosbackup/internal/gen"
)

func startTestSim(t testing.TB, src string, cfg Config) *Sim {
	t.Helper()
	dir, err := os.MkdirTemp("", "sim-")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Source = src
	s, err := Start(filepath.Join(dir, "mux.sock"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); os.RemoveAll(dir) })
	return s
}

// muxCall sends one usbmuxd request on c and returns the reply.
func muxCall(t *testing.T, c net.Conn, req map[string]any) map[string]any {
	t.Helper()
	body, _ := plist.Marshal(req, plist.XMLFormat)
	hdr := make([]byte, 16)
	binary.LittleEndian.PutUint32(hdr[0:], uint32(16+len(body)))
	binary.LittleEndian.PutUint32(hdr[4:], 1)
	binary.LittleEndian.PutUint32(hdr[8:], 8)
	binary.LittleEndian.PutUint32(hdr[12:], 7)
	if _, err := c.Write(append(hdr, body...)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatal(err)
	}
	if tag := binary.LittleEndian.Uint32(hdr[12:]); tag != 7 {
		t.Errorf("reply tag %d, want the request's 7", tag)
	}
	resp := make([]byte, binary.LittleEndian.Uint32(hdr)-16)
	if _, err := io.ReadFull(c, resp); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(resp, []byte("<?xml")) {
		t.Error("usbmuxd replies must be XML (libusbmuxd parses nothing else)")
	}
	var out map[string]any
	if _, err := plist.Unmarshal(resp, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func dial(t *testing.T, s *Sim) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", s.Socket())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func lockdownCall(t *testing.T, rw io.ReadWriter, req map[string]any) map[string]any {
	t.Helper()
	if err := writePlistFrame(rw, req); err != nil {
		t.Fatal(err)
	}
	resp, err := readPlistFrame(rw)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestUsbmuxAndLockdown(t *testing.T) {
	src := filepath.Join("..", "..", "..", "shared", "samples", "encrypted-synthetic-pw0000")
	s := startTestSim(t, src, Config{UsedBytes: 5 << 30})
	c := dial(t, s)
	list, _ := muxCall(t, c, map[string]any{"MessageType": "ListDevices"})["DeviceList"].([]any)
	if len(list) != 1 {
		t.Fatalf("device list %v", list)
	}
	props, _ := list[0].(map[string]any)["Properties"].(map[string]any)
	if props["SerialNumber"] != s.UDID() || props["ConnectionType"] != "USB" {
		t.Fatalf("device properties %v", props)
	}
	recData, _ := muxCall(t, c, map[string]any{"MessageType": "ReadPairRecord", "PairRecordID": s.UDID()})["PairRecordData"].([]byte)
	var rec struct {
		HostID, SystemBUID                               string
		HostCertificate, HostPrivateKey, RootCertificate []byte
		DeviceCertificate, EscrowBag                     []byte
	}
	if _, err := plist.Unmarshal(recData, &rec); err != nil || rec.HostID == "" || len(rec.EscrowBag) == 0 {
		t.Fatalf("pair record %+v %v", rec, err)
	}
	hostCert, err := tls.X509KeyPair(rec.HostCertificate, rec.HostPrivateKey)
	if err != nil {
		t.Fatalf("host certificate and key do not match: %v", err)
	}
	if r := muxCall(t, c, map[string]any{"MessageType": "ReadPairRecord", "PairRecordID": "other"}); r["Number"] == nil {
		t.Errorf("pair record of an unknown device: %v", r)
	}

	// Connect to lockdownd: the port travels byte-swapped.
	r := muxCall(t, c, map[string]any{"MessageType": "Connect", "DeviceID": uint64(1), "PortNumber": uint64(32498)})
	if n, _ := r["Number"].(uint64); n != 0 {
		t.Fatalf("connect to lockdownd: %v", r)
	}
	if r := lockdownCall(t, c, map[string]any{"Request": "QueryType"}); r["Type"] != "com.apple.mobile.lockdown" {
		t.Fatalf("QueryType: %v", r)
	}
	if r := lockdownCall(t, c, map[string]any{"Request": "StartSession", "HostID": "not-paired"}); r["Error"] != "InvalidHostID" {
		t.Fatalf("session for a stranger: %v", r)
	}
	r = lockdownCall(t, c, map[string]any{"Request": "StartSession", "HostID": rec.HostID, "SystemBUID": rec.SystemBUID})
	if r["EnableSessionSSL"] != true {
		t.Fatalf("StartSession: %v", r)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{hostCert}})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	r = lockdownCall(t, tc, map[string]any{"Request": "GetValue", "Domain": "com.apple.mobile.backup", "Key": "WillEncrypt"})
	if r["Value"] != true {
		t.Errorf("WillEncrypt of an encrypted source: %v", r)
	}
	du, _ := lockdownCall(t, tc, map[string]any{"Request": "GetValue", "Domain": "com.apple.disk_usage"})["Value"].(map[string]any)
	total, _ := du["TotalDataCapacity"].(uint64)
	avail, _ := du["TotalDataAvailable"].(uint64)
	if total-avail != 5<<30 {
		t.Errorf("disk usage %v: used %d, want %d", du, total-avail, 5<<30)
	}
	if r := lockdownCall(t, tc, map[string]any{"Request": "GetValue", "Key": "NoSuchKey"}); r["Error"] != "MissingValue" {
		t.Errorf("missing key: %v", r)
	}
	r = lockdownCall(t, tc, map[string]any{"Request": "StartService", "Service": "com.apple.mobilebackup2", "EscrowBag": rec.EscrowBag})
	port, _ := r["Port"].(uint64)
	if port == 0 {
		t.Fatalf("StartService: %v", r)
	}
	if r := lockdownCall(t, tc, map[string]any{"Request": "StartService", "Service": "com.apple.nothing"}); r["Error"] == nil {
		t.Errorf("unknown service started: %v", r)
	}

	// The service port answers with the DeviceLink version exchange.
	c2 := dial(t, s)
	swapped := uint64(uint16(port)>>8 | uint16(port)<<8)
	if r := muxCall(t, c2, map[string]any{"MessageType": "Connect", "DeviceID": uint64(1), "PortNumber": swapped}); r["Number"] != uint64(0) {
		t.Fatalf("connect to the backup service: %v", r)
	}
	d := &dl{raw: c2, br: bufio.NewReader(c2), bw: bufio.NewWriter(c2), sim: s}
	m, err := d.recv()
	if err != nil || m[0] != "DLMessageVersionExchange" {
		t.Fatalf("first message %v %v", m, err)
	}
	// A port is good for one connection only.
	c3 := dial(t, s)
	if r := muxCall(t, c3, map[string]any{"MessageType": "Connect", "DeviceID": uint64(1), "PortNumber": swapped}); r["Number"] == uint64(0) {
		t.Error("a service port accepted a second connection")
	}
}

func TestIncrementalPlans(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if _, err := gen.Generate(a, gen.Options{Seed: 3, Entries: 300}); err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Generate(b, gen.Options{Seed: 3, Entries: 300, Revision: 1}); err != nil {
		t.Fatal(err)
	}
	srcA, err := loadSource(a)
	if err != nil {
		t.Fatal(err)
	}
	srcB, err := loadSource(b)
	if err != nil {
		t.Fatal(err)
	}
	if srcA.rows == nil || srcB.rows == nil {
		t.Fatal("Manifest.db rows unreadable")
	}
	// Row plan: exactly the blobs whose bytes differ, plus the non-blob files.
	ups, removes := rowPlan(srcB, srcA.rows)
	var got []string
	for _, u := range ups {
		got = append(got, u.rel)
	}
	var want []string
	for _, f := range srcB.files {
		old, ok := srcA.byRel[f.rel]
		if !isBlob(f.rel) || !ok || !sameFile(t, old.abs, f.abs) {
			want = append(want, f.rel)
		}
	}
	want = append(want, "Status.plist")
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("row plan sends %v\nwant %v", got, want)
	}
	for _, r := range removes {
		if _, ok := srcB.byRel[r]; ok {
			t.Errorf("removes %s, which revision 1 still has", r)
		}
	}
	if len(removes) == 0 {
		t.Error("nothing removed")
	}

	// Listing plan against a host that holds revision 0 written after the source.
	host := map[string]hostFile{}
	later := time.Now().Add(time.Hour)
	for _, f := range srcA.files {
		host[f.rel] = hostFile{size: f.size, mod: later}
	}
	host["Info.plist"] = hostFile{size: 1, mod: later}
	ups, removes = listingPlan(srcA, host)
	for _, u := range ups {
		if isBlob(u.rel) {
			t.Errorf("unchanged blob %s sent", u.rel)
		}
	}
	if len(removes) != 0 {
		t.Errorf("listing plan removes %v from an identical host", removes)
	}
	stale := srcA.files[0]
	host[stale.rel] = hostFile{size: stale.size + 1, mod: later}
	host["zz/zzzz"] = hostFile{size: 1, mod: later}
	ups, removes = listingPlan(srcA, host)
	if ups[0].rel != stale.rel || len(removes) != 1 || removes[0] != "zz/zzzz" {
		t.Errorf("listing plan: first upload %s, removes %v", ups[0].rel, removes)
	}
}

func sameFile(t *testing.T, a, b string) bool {
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

func TestIsBlob(t *testing.T) {
	id := "0a35591ce98dce39986a4f68840ab502b21c61c0"
	for rel, want := range map[string]bool{
		"0a/" + id: true, id: true, "0b/" + id: false, "Manifest.db": false,
		"0a/" + strings.ToUpper(id): false, "x/0a/" + id: false,
	} {
		if isBlob(rel) != want {
			t.Errorf("isBlob(%q) = %v", rel, !want)
		}
	}
}

// TestCommand runs the devicesim program and waits for its ready line.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	dir, err := os.MkdirTemp("", "simcmd-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "devicesim")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/devicesim").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "mux.sock")
	src := filepath.Join("..", "..", "..", "shared", "samples", "encrypted-synthetic-pw0000")
	cmd := exec.Command(bin, "--socket", sock, "--udid", "abc-123", "--from", src)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "devicesim ready: socket="+sock+" udid=abc-123") {
		t.Fatalf("ready line %q %v", line, err)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	list, _ := muxCall(t, c, map[string]any{"MessageType": "ListDevices"})["DeviceList"].([]any)
	if len(list) != 1 {
		t.Fatalf("device list %v", list)
	}
}
