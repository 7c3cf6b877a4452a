package capture

// Pairing this computer with a device: the host identity (certificates the device
// signs), the Pair request and the wait for the Trust dialog.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"howett.net/plist"
)

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

// isPaired reports whether a pair record exists and the device accepts it.
func isPaired(ctx context.Context, t Target, dev muxDevice) bool {
	pair, found, err := readPairRecord(ctx, t.Socket, dev.udid)
	if err != nil || !found {
		return false
	}
	l, err := openLockdown(ctx, t.Socket, dev, &pair)
	if err != nil {
		return false
	}
	l.close()
	return true
}

// pairDevice pairs this host with the device: it asks the device to trust a fresh host
// identity and saves the resulting record in usbmuxd. While the Trust dialog (or the
// lock screen) is up it reports the wait and retries until ctx ends.
func pairDevice(ctx context.Context, socket string, dev muxDevice, emit func(Event)) error {
	m, err := dialMux(ctx, socket)
	if err != nil {
		return err
	}
	resp, err := m.call(map[string]any{"MessageType": "ReadBUID"})
	m.close()
	if err != nil {
		return ctxErr(ctx, err)
	}
	buid, _ := resp["BUID"].(string)

	l, err := openLockdown(ctx, socket, dev, nil)
	if err != nil {
		return err
	}
	defer l.close()
	pubAny, err := l.getValue(ctx, "", "DevicePublicKey")
	if err != nil {
		return err
	}
	pub, ok := pubAny.([]byte)
	if !ok {
		return fmt.Errorf("%w: DevicePublicKey is a %T", ErrProtocol, pubAny)
	}
	wifi, _ := l.getValue(ctx, "", "WiFiAddress")
	wifiMAC, _ := wifi.(string)

	id, err := newHostIdentity(pub)
	if err != nil {
		return err
	}
	hostID := newHostID()
	record := map[string]any{
		"DeviceCertificate": id.deviceCert, "HostCertificate": id.hostCert,
		"RootCertificate": id.rootCert, "HostID": hostID, "SystemBUID": buid,
	}
	waiting := WaitNone
	var escrow []byte
	for {
		resp, err := l.request(ctx, map[string]any{
			"Request": "Pair", "ProtocolVersion": "2", "PairRecord": record,
			"PairingOptions": map[string]any{"ExtendedPairingErrors": true},
		})
		if err != nil {
			return err
		}
		e, _ := resp["Error"].(string)
		reason := WaitNone
		switch e {
		case "":
			escrow, _ = resp["EscrowBag"].([]byte)
		case "PairingDialogResponsePending":
			reason = WaitTrust
		case "PasswordProtected":
			reason = WaitUnlock
		case "UserDeniedPairing":
			return ErrPairingDenied
		default:
			return fmt.Errorf("pair: device says %s", e)
		}
		if reason == WaitNone {
			break
		}
		if reason != waiting {
			waiting = reason
			msg := "Tap Trust on the device and enter its passcode"
			if reason == WaitUnlock {
				msg = "Unlock the device to pair it"
			}
			emit(Event{Kind: EventWait, Wait: reason, Message: msg})
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pairPollInterval):
		}
	}
	data, err := plist.Marshal(map[string]any{
		"DeviceCertificate": id.deviceCert, "HostCertificate": id.hostCert, "HostPrivateKey": id.hostKey,
		"RootCertificate": id.rootCert, "RootPrivateKey": id.rootKey, "EscrowBag": escrow,
		"HostID": hostID, "SystemBUID": buid, "WiFiMACAddress": wifiMAC,
	}, plist.XMLFormat)
	if err != nil {
		return fmt.Errorf("encode pair record: %w", err)
	}
	m, err = dialMux(ctx, socket)
	if err != nil {
		return err
	}
	defer m.close()
	resp, err = m.call(map[string]any{
		"MessageType": "SavePairRecord", "PairRecordID": dev.udid,
		"PairRecordData": data, "DeviceID": uint64(dev.id),
	})
	if err != nil {
		return ctxErr(ctx, err)
	}
	if n, _ := toInt64(resp["Number"]); n != 0 {
		return fmt.Errorf("usbmuxd refused to save the pair record (code %d)", n)
	}
	return nil
}

// pairPollInterval is how often pairing is retried while the device shows a dialog.
var pairPollInterval = time.Second

// hostIdentity is the certificate set of a pair record, PEM-encoded.
type hostIdentity struct {
	rootCert, rootKey, hostCert, hostKey, deviceCert []byte
}

// newHostIdentity creates a root CA, a host certificate and a certificate for the
// device's public key, as lockdownd expects in a Pair request.
func newHostIdentity(devicePublicKeyPEM []byte) (*hostIdentity, error) {
	block, _ := pem.Decode(devicePublicKeyPEM)
	if block == nil {
		return nil, fmt.Errorf("%w: DevicePublicKey is not PEM", ErrProtocol)
	}
	var devPub any
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		devPub = k
	} else if k, err2 := x509.ParsePKIXPublicKey(block.Bytes); err2 == nil {
		devPub = k
	} else {
		return nil, fmt.Errorf("%w: DevicePublicKey: %v", ErrProtocol, err)
	}
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	hostKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	notBefore := time.Now().Add(-time.Hour)
	tmpl := func(serial int64, ca bool, pub any) *x509.Certificate {
		t := &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               pkix.Name{},
			NotBefore:             notBefore,
			NotAfter:              notBefore.AddDate(10, 0, 0),
			BasicConstraintsValid: true,
			IsCA:                  ca,
			SubjectKeyId:          keyID(pub),
		}
		if ca {
			t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		} else {
			t.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		}
		return t
	}
	rootTmpl := tmpl(1, true, &rootKey.PublicKey)
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("create root certificate: %w", err)
	}
	rootCert, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	hostDER, err := x509.CreateCertificate(rand.Reader, tmpl(2, false, &hostKey.PublicKey), rootCert, &hostKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("create host certificate: %w", err)
	}
	devDER, err := x509.CreateCertificate(rand.Reader, tmpl(3, false, devPub), rootCert, devPub, rootKey)
	if err != nil {
		return nil, fmt.Errorf("create device certificate: %w", err)
	}
	certPEM := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }
	keyPEM := func(k *rsa.PrivateKey) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}
	return &hostIdentity{
		rootCert: certPEM(rootDER), rootKey: keyPEM(rootKey),
		hostCert: certPEM(hostDER), hostKey: keyPEM(hostKey),
		deviceCert: certPEM(devDER),
	}, nil
}

func keyID(pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha1.Sum(der)
	return sum[:]
}

func newHostID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
