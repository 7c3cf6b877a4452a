package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
)

// TestDeviceNotFoundMessages: the address forms libimobiledevice and go-ios use all
// reach the simulator; a wrong UDID (by -u, --udid or IOSBACKUP_UDID, on every device
// command) lists the connected devices; a missing usbmuxd is named as such, with its
// address; usbmuxd without a device says to plug it in.
func TestDeviceNotFoundMessages(t *testing.T) {
	isolate(t)
	work := t.TempDir()
	src := filepath.Join(work, "src")
	genBackup(t, src, gen.Options{Seed: 5, Entries: 200})
	sock := filepath.Join(work, "mux.sock")
	sim, err := devicesim.Start(sock, devicesim.Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	for _, addr := range []string{"UNIX:" + sock, sock, "unix://" + sock} {
		out, err := cli(t, []string{"USBMUXD_SOCKET_ADDRESS=" + addr}, "devices", "--json")
		var devs []map[string]any
		if err != nil || json.Unmarshal([]byte(out), &devs) != nil || len(devs) != 1 || devs[0]["udid"] != sim.UDID() {
			t.Errorf("USBMUXD_SOCKET_ADDRESS=%s: devices: %v\n%s", addr, err, out)
		}
	}

	env := []string{"USBMUXD_SOCKET_ADDRESS=UNIX:" + sock}
	root := t.TempDir()
	wrong := "00008030-00000000DEADBEEF"
	want := "no connected device has this UDID: " + wrong + "; connected: " + sim.UDID()
	runs := []struct {
		env  []string
		args []string
	}{
		{env, []string{"capture", "-u", wrong, root}},
		{env, []string{"capture", "--udid", wrong, root}},
		{append([]string{"IOSBACKUP_UDID=" + wrong}, env...), []string{"capture", root}},
		{env, []string{"pair", "-u", wrong}},
		{env, []string{"encryption", "-u", wrong, "on"}},
	}
	for _, r := range runs {
		out, err := cli(t, r.env, r.args...)
		if err == nil || !strings.Contains(out, want) || strings.Contains(out, "plug") {
			t.Errorf("%v: %v, want %q:\n%s", r.args, err, want, out)
		}
	}
	// The right UDID from the environment is used.
	out, err := cli(t, append([]string{"IOSBACKUP_UDID=" + sim.UDID()}, env...), "capture", "--progress", "none", root)
	if err != nil {
		t.Fatalf("IOSBACKUP_UDID=%s capture: %v\n%s", sim.UDID(), err, out)
	}

	none := filepath.Join(work, "no-such.sock")
	out, err = cli(t, []string{"USBMUXD_SOCKET_ADDRESS=UNIX:" + none}, "capture", root)
	if err == nil || !strings.Contains(out, "usbmuxd is not running at unix://"+none) || strings.Contains(out, "plug the") {
		t.Errorf("no usbmuxd: %v, want it named with its address:\n%s", err, out)
	}
	out, err = cli(t, []string{"USBMUXD_SOCKET_ADDRESS=UNIX:" + none}, "devices")
	if err == nil || !strings.Contains(out, "usbmuxd is not running") {
		t.Errorf("devices without usbmuxd: %v:\n%s", err, out)
	}

	sim.SetFaults(devicesim.Faults{Detached: true})
	out, err = cli(t, env, "capture", root)
	if err == nil || !strings.Contains(out, "no device connected: plug the iPhone") || strings.Contains(out, "usbmuxd is not running") {
		t.Errorf("usbmuxd without a device: %v:\n%s", err, out)
	}
}
