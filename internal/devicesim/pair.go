package devicesim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"

	"howett.net/plist"

	"iosbackup/manifest"
)

// identity holds the device's TLS identity and a matching host identity.
type identity struct {
	deviceCert tls.Certificate
	rootCert   *x509.Certificate
	rootKey    *ecdsa.PrivateKey
	rootPEM    []byte
	rootKeyPEM []byte
	deviceDER  []byte
	buid       string

	rsaOnce sync.Once
	rsaPub  []byte // DevicePublicKey, PEM, made on first use (RSA is slow to make)
}

func newIdentity() (*identity, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-time.Hour)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "devicesim root"},
		NotBefore: now, NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("devicesim: root certificate: %w", err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	devKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	devDER, err := x509.CreateCertificate(rand.Reader, leafTemplate(2, "devicesim device"), root, &devKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("devicesim: device certificate: %w", err)
	}
	rootKeyDER, _ := x509.MarshalECPrivateKey(rootKey)
	return &identity{
		deviceCert: tls.Certificate{Certificate: [][]byte{devDER}, PrivateKey: devKey},
		rootCert:   root, rootKey: rootKey,
		rootPEM:    pemBlock("CERTIFICATE", rootDER),
		rootKeyPEM: pemBlock("EC PRIVATE KEY", rootKeyDER),
		deviceDER:  devDER,
		buid:       newUUID(),
	}, nil
}

func leafTemplate(serial int64, cn string) *x509.Certificate {
	now := time.Now().Add(-time.Hour)
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: now, NotAfter: now.AddDate(10, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// hostPairRecord makes the record a host keeps after pairing: HostID, SystemBUID,
// host certificate and key, device and root certificates, and an escrow bag.
func (id *identity) hostPairRecord() ([]byte, string, error) {
	hostKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	hostDER, err := x509.CreateCertificate(rand.Reader, leafTemplate(3, "devicesim host"), id.rootCert, &hostKey.PublicKey, id.rootKey)
	if err != nil {
		return nil, "", fmt.Errorf("devicesim: host certificate: %w", err)
	}
	hostKeyDER, _ := x509.MarshalECPrivateKey(hostKey)
	escrow := make([]byte, 64)
	_, _ = rand.Read(escrow)
	hostID := newUUID()
	rec := map[string]any{
		"HostID":            hostID,
		"SystemBUID":        id.buid,
		"HostCertificate":   pemBlock("CERTIFICATE", hostDER),
		"HostPrivateKey":    pemBlock("EC PRIVATE KEY", hostKeyDER),
		"DeviceCertificate": pemBlock("CERTIFICATE", id.deviceDER),
		"RootCertificate":   id.rootPEM,
		"RootPrivateKey":    id.rootKeyPEM,
		"EscrowBag":         escrow,
		"WiFiMACAddress":    "02:00:00:5e:10:01",
	}
	data, err := plist.Marshal(rec, plist.XMLFormat)
	return data, hostID, err
}

// devicePublicKey is the RSA public key lockdownd hands out for pairing.
func (id *identity) devicePublicKey() []byte {
	id.rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return
		}
		id.rsaPub = pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.PublicKey))
	})
	return id.rsaPub
}

// pair answers a Pair request, showing the Trust dialog the scripted number of times.
func (s *Sim) pair(req, resp map[string]any) {
	rec, _ := req["PairRecord"].(map[string]any)
	hostID, _ := rec["HostID"].(string)
	if hostID == "" {
		resp["Error"] = "InvalidPairRecord"
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trustLeft > 0 {
		s.trustLeft--
		resp["Error"] = "PairingDialogResponsePending"
		return
	}
	s.trusted[hostID] = true
	escrow := make([]byte, 64)
	_, _ = rand.Read(escrow)
	resp["EscrowBag"] = escrow
}

// serverTLS is the TLS the device accepts for lockdown sessions and service
// connections, which depends on its iOS version: libimobiledevice (src/idevice.c)
// offers only TLS 1.0 to a device older than iOS 10, which such a device accepts, with
// the CBC-SHA suites of that era. Go servers refuse TLS 1.0 unless MinVersion says
// otherwise (GODEBUG tls10server; setting MinVersion is enough, no GODEBUG needed), and
// newer devices keep Go's defaults (TLS 1.2 and 1.3).
func (s *Sim) serverTLS() *tls.Config {
	conf := &tls.Config{Certificates: []tls.Certificate{s.id.deviceCert}}
	if manifest.IOSMajor(s.productVersion()) < 10 {
		conf.MinVersion, conf.MaxVersion = tls.VersionTLS10, tls.VersionTLS12
		conf.CipherSuites = legacySuites
	}
	return conf
}

// legacySuites are the suites an iOS 9 device's SecureTransport negotiates: the
// ECDHE CBC-SHA ones TLS 1.0 clients offer (the device key is ECDSA), and the
// GCM ones a TLS 1.2 client such as go-ios prefers.
var legacySuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
}
