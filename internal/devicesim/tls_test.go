package devicesim

import (
	"crypto/tls"
	"testing"

	"github.com/danielpaulus/go-ios/ios"
	"howett.net/plist"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// sessionHandshake opens a lockdown session on the simulator and runs a TLS
// handshake with conf (plus the host's certificate from the pair record).
func sessionHandshake(t *testing.T, s *Sim, conf *tls.Config) (*tls.ConnectionState, error) {
	t.Helper()
	var rec struct {
		HostID                          string
		HostCertificate, HostPrivateKey []byte
	}
	if _, err := plist.Unmarshal(s.PairRecord(), &rec); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(rec.HostCertificate, rec.HostPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	if r := muxCall(t, c, map[string]any{"MessageType": "Connect", "DeviceID": uint64(1), "PortNumber": uint64(32498)}); r["Number"] != uint64(0) {
		t.Fatalf("connect to lockdownd: %v", r)
	}
	if r := lockdownCall(t, c, map[string]any{"Request": "StartSession", "HostID": rec.HostID}); r["EnableSessionSSL"] != true {
		t.Fatalf("StartSession: %v", r)
	}
	conf = conf.Clone()
	conf.InsecureSkipVerify, conf.Certificates = true, []tls.Certificate{cert}
	tc := tls.Client(c, conf)
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	st := tc.ConnectionState()
	return &st, nil
}

// TestTLSByIOSVersion: a device older than iOS 10 accepts the TLS 1.0 that
// libimobiledevice offers it (OpenSSL's TLS 1.0 suites: ECDHE with AES-CBC-SHA); a
// newer one refuses TLS 1.0, as Go's default server does.
func TestTLSByIOSVersion(t *testing.T) {
	src := t.TempDir()
	if _, err := gen.Generate(src, gen.Options{Seed: 40}); err != nil {
		t.Fatal(err)
	}
	tls10 := &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}

	old := startTestSim(t, src, Config{ProductVersion: "9.3.5"})
	st, err := sessionHandshake(t, old, tls10)
	if err != nil {
		t.Fatalf("iOS 9.3.5 device refused TLS 1.0: %v", err)
	}
	if st.Version != tls.VersionTLS10 {
		t.Errorf("negotiated %s, want TLS 1.0", tls.VersionName(st.Version))
	}
	// go-ios' client: Go's defaults (TLS 1.2 at least).
	st, err = sessionHandshake(t, old, &tls.Config{})
	if err != nil || st.Version != tls.VersionTLS12 {
		t.Fatalf("iOS 9.3.5 device with Go's default client: %v %v", st, err)
	}

	recent := startTestSim(t, src, Config{ProductVersion: "17.5.1"})
	if _, err := sessionHandshake(t, recent, tls10); err == nil {
		t.Error("an iOS 17 device accepted TLS 1.0")
	}
	if _, err := sessionHandshake(t, recent, &tls.Config{}); err != nil {
		t.Errorf("iOS 17 device with Go's default client: %v", err)
	}
}

// TestGoIOSReachesIOS9 runs go-ios, the library our capture uses, against an iOS 9
// device: a lockdown session with TLS, then a value read inside it.
func TestGoIOSReachesIOS9(t *testing.T) {
	src := t.TempDir()
	tr, err := gen.Generate(src, gen.Options{Seed: 41, Format: gen.FormatMBDB})
	if err != nil {
		t.Fatal(err)
	}
	if manifest.IOSMajor(tr.ProductVersion) >= 10 {
		t.Fatalf("the mbdb backup claims iOS %s", tr.ProductVersion)
	}
	s := startTestSim(t, src, Config{})
	t.Setenv("USBMUXD_SOCKET_ADDRESS", "unix://"+s.Socket())
	dev, err := ios.GetDevice(s.UDID())
	if err != nil {
		t.Fatal(err)
	}
	lc, err := ios.ConnectLockdownWithSession(dev)
	if err != nil {
		t.Fatalf("go-ios lockdown session with an iOS %s device: %v", tr.ProductVersion, err)
	}
	defer lc.Close()
	v, err := lc.GetValueForDomain("WillEncrypt", "com.apple.mobile.backup")
	if err != nil || v != false {
		t.Fatalf("WillEncrypt in the session: %v %v", v, err)
	}
	pv, err := lc.GetValue("ProductVersion")
	if err != nil || pv != tr.ProductVersion {
		t.Fatalf("ProductVersion %v %v, want %s", pv, err, tr.ProductVersion)
	}
}
