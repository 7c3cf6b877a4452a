package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
)

// requireKeys fails unless obj has every key of want and none of unwanted.
func requireKeys(t *testing.T, what string, obj map[string]any, want, unwanted []string) {
	t.Helper()
	for _, k := range want {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: no key %q in %v", what, k, obj)
		}
	}
	for _, k := range unwanted {
		if _, ok := obj[k]; ok {
			t.Errorf("%s: key %q is named another way by the other commands: %v", what, k, obj)
		}
	}
}

// TestJSONKeysAgreeAcrossCommands decodes `list`, `devices` and `capture` --json from a
// real backup and the simulated device: the same facts under list's snake_case names
// (product_type, ios_version, device_name, path), durations in *_seconds.
func TestJSONKeysAgreeAcrossCommands(t *testing.T) {
	isolate(t)
	work := t.TempDir()
	src := filepath.Join(work, "src")
	genBackup(t, src, gen.Options{Seed: 5, Entries: 60, DeviceName: "Sim"})
	sock := filepath.Join(work, "mux.sock")
	sim, err := devicesim.Start(sock, devicesim.Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	env := []string{"USBMUXD_SOCKET_ADDRESS=unix://" + sock}

	out, err := cli(t, env, "devices", "--json")
	if err != nil {
		t.Fatalf("devices: %v\n%s", err, out)
	}
	var devs []map[string]any
	if err := json.Unmarshal([]byte(out), &devs); err != nil || len(devs) != 1 {
		t.Fatalf("devices --json: %v\n%s", err, out)
	}
	requireKeys(t, "devices", devs[0],
		[]string{"udid", "device_name", "product_type", "ios_version", "paired", "encryption_known", "encrypted"},
		[]string{"productType", "productVersion", "name", "encryptionKnown", "buildVersion", "deviceClass"})
	if devs[0]["product_type"] == "" || devs[0]["ios_version"] == "" {
		t.Errorf("devices: %v", devs[0])
	}

	root := filepath.Join(work, "captures")
	cmdOut, err := cliStdout(t, env, "capture", "--json", root)
	if err != nil {
		t.Fatalf("capture --json: %v\n%s", err, cmdOut)
	}
	lines := strings.Split(strings.TrimSpace(cmdOut), "\n")
	progress := 0
	for _, l := range lines[:len(lines)-1] {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("capture event %q: %v", l, err)
		}
		if ev["kind"] == "progress" {
			progress++
			requireKeys(t, "capture progress", ev, []string{"percent", "received_bytes", "files", "eta_seconds"},
				[]string{"eta", "bytes", "rate"})
		}
	}
	if progress == 0 {
		t.Errorf("capture --json printed no progress event:\n%s", cmdOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("capture result: %v", err)
	}
	requireKeys(t, "capture result", res, []string{"udid", "path", "files", "received_bytes", "duration_seconds"},
		[]string{"duration", "dir", "bytes", "inPlace"})
	if d, ok := res["duration_seconds"].(float64); !ok || d <= 0 || d > 3600 {
		t.Errorf("duration_seconds %v: not a number of seconds", res["duration_seconds"])
	}

	// list reads the captured backup back: the device's facts under the same names.
	out, err = cliStdout(t, nil, "list", "--json", root)
	if err != nil {
		t.Fatalf("list: %v\n%s", err, out)
	}
	var backups []map[string]any
	if err := json.Unmarshal([]byte(out), &backups); err != nil || len(backups) != 1 {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	for _, k := range []string{"udid", "path"} {
		if backups[0][k] != res[k] {
			t.Errorf("%s: list says %v, capture said %v", k, backups[0][k], res[k])
		}
	}
	for _, k := range []string{"udid", "product_type", "ios_version"} {
		if backups[0][k] != devs[0][k] {
			t.Errorf("%s: list says %v, devices said %v", k, backups[0][k], devs[0][k])
		}
	}
}

// TestListTableAgreesWithJSON: the table's ENCRYPTED and COMPLETE columns say yes or
// no exactly where the JSON says true or false (a sample without Status.plist showed ?).
func TestListTableAgreesWithJSON(t *testing.T) {
	isolate(t)
	code, out, errOut := runCLI(t, "list", "--json", samples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []summaryJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) == 0 {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	code, table, errOut := runCLI(t, "list", samples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := strings.Split(strings.TrimSpace(table), "\n")
	// tabwriter starts every cell of a column at the header's offset (all ASCII here).
	cell := func(row, name string) string {
		at := strings.Index(rows[0], name)
		if at < 0 || at >= len(row) {
			t.Fatalf("no %s column in %q for %q", name, rows[0], row)
		}
		return strings.Fields(row[at:])[0]
	}
	for _, s := range got {
		found := false
		for _, r := range rows[1:] {
			if cell(r, "FOLDER") != filepath.Base(s.Path) {
				continue
			}
			found = true
			if cell(r, "ENCRYPTED") != yesNoWord(s.Encrypted) || cell(r, "COMPLETE") != yesNoWord(s.Complete) {
				t.Errorf("row %q: JSON says encrypted %v, complete %v", r, s.Encrypted, s.Complete)
			}
		}
		if !found {
			t.Errorf("no row for %s in:\n%s", s.Path, table)
		}
	}
}

// cliStdout runs the binary and returns its standard output alone (stderr only in the
// error).
func cliStdout(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return string(out) + errOut.String(), err
	}
	return string(out), nil
}

func yesNoWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
