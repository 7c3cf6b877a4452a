#!/usr/bin/env bash
# make demo: generate an encrypted sample backup (cached in .demo/) and show the main jobs
# on it, printing each command before running it, quoted so that it can be pasted back
# (from the top of the checkout). Where FUSE is missing, or the mount fails (a non-root
# user without access to /dev/fuse, a container), it shows extract instead of mount.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=./bin/iosbackup
DEMO=.demo
SAMPLE=$DEMO/backup

# quote prints one word as the shell reads it back: as it is when it holds only safe
# characters, else in single quotes (each ' as '\''), which paste back whole.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# shown is a command line as it can be pasted back.
shown() {
  local w line=""
  for w in "$@"; do line+="$(quote "$w") "; done
  printf '%s' "${line% }"
}

show() { printf '\n\033[1m$ %s\033[0m\n' "$(shown "$@")"; }
run() {
  show "$@"
  "$@"
}

# The sample is synthetic: its password is not a secret. It travels in the environment,
# as a user's would, never on the command line.
show export IOSBACKUP_PASSWORD=demo
export IOSBACKUP_PASSWORD=demo

if [ ! -f "$SAMPLE/Manifest.db" ]; then
  rm -rf "$SAMPLE"
  mkdir -p "$DEMO"
  run ./bin/genbackup -out "$SAMPLE" -encrypted -entries 2000 -kdf real
fi

run "$BIN" list "$DEMO"
run "$BIN" info "$SAMPLE"
# Pay the slow password step once; the key file is private (0600) and used below.
printf '\n\033[1m$ %s > %s\033[0m\n' "$(shown "$BIN" key "$SAMPLE")" "$(quote "$DEMO/key.hex")"
(umask 077 && "$BIN" key "$SAMPLE" > "$DEMO/key.hex")
echo "(derived key saved in $DEMO/key.hex: the next commands skip the slow password step)"
show unset IOSBACKUP_PASSWORD
unset IOSBACKUP_PASSWORD
K=(--key-file "$DEMO/key.hex")
run "$BIN" ls "${K[@]}" "$SAMPLE"
run "$BIN" ls -l "${K[@]}" "$SAMPLE" HomeDomain/Library/SMS
run "$BIN" ls -l "${K[@]}" "$SAMPLE" CameraRollDomain/Media/DCIM/100APPLE

SMSQUERY="SELECT handle.id, message.text FROM message JOIN handle ON handle.ROWID = message.handle_id LIMIT 5;"

MP=$DEMO/mnt

# try_mount mounts the sample on $MP, or says why not and returns 1.
try_mount() {
  if [ ! -e /dev/fuse ]; then
    echo
    echo "(no /dev/fuse here: showing extract instead of mount)"
    return 1
  fi
  mkdir -p "$MP"
  "$BIN" unmount "$MP" 2>/dev/null || true
  if ! run "$BIN" mount --background "${K[@]}" "$SAMPLE" "$MP"; then
    echo
    echo "(the mount failed, see above: FUSE is not usable by $(id -un) here; showing extract instead)"
    return 1
  fi
  trap '"$BIN" unmount "$MP" 2>/dev/null || true' EXIT
}

# demo_mount looks around the mounted sample, then unmounts it.
demo_mount() {
  run ls "$MP"
  run ls "$MP/domains"
  run ls "$MP/apps" "$MP/apps/Notes Pro"
  run ls -l "$MP/device/var/mobile/Library/SMS"
  run ls -l "$MP/photos/100APPLE"
  local photo=""
  for photo in "$MP"/photos/100APPLE/*.[jJ][pP][gG]; do break; done
  rm -rf "$DEMO/copied"
  mkdir -p "$DEMO/copied"
  run cp -a "$photo" "$DEMO/copied/"
  if command -v file >/dev/null; then
    run file "$DEMO/copied/${photo##*/}"
  else
    run ls -l "$DEMO/copied/${photo##*/}"
  fi
  if command -v sqlite3 >/dev/null; then
    run sqlite3 "$MP/device/var/mobile/Library/SMS/sms.db" "$SMSQUERY"
  fi
  # The same data, readable: conversations, contacts and calls as files, photos by date.
  run ls "$MP/messages" "$MP/contacts" "$MP/calls"
  run head -n 5 "$MP/messages/Alice Martin/messages.txt"
  run grep -m 3 -E '^(FN|TEL|EMAIL)' "$MP/contacts/Alice Martin.vcf"
  run ls -l "$MP/photos/by-date/2022"
  run touch "$MP/domains/HomeDomain/new-file" || true # read-only: refused
  run "$BIN" unmount "$MP"
  trap - EXIT
}

demo_extract() {
  rm -rf "$DEMO/extract"
  run "$BIN" extract "${K[@]}" "$SAMPLE" "$DEMO/extract" --domain HomeDomain 'Library/SMS'
  if command -v sqlite3 >/dev/null; then
    run sqlite3 "$DEMO/extract/HomeDomain/Library/SMS/sms.db" "$SMSQUERY"
  fi
}

# Not `if demo_mount`: a function run as a condition ignores set -e inside it.
if try_mount; then
  demo_mount
else
  demo_extract
fi

# Serve: the same tree over WebDAV, for desktops without FUSE (Finder, Explorer,
# Nautilus); rclone lists it, then Ctrl-C (SIGINT) stops the server.
if command -v rclone >/dev/null; then
  SRVOUT=$DEMO/serve.out
  show "$BIN" serve --addr 127.0.0.1:0 "${K[@]}" "$SAMPLE" "&"
  "$BIN" serve --addr 127.0.0.1:0 "${K[@]}" "$SAMPLE" >"$SRVOUT" 2>&1 &
  SRVPID=$!
  trap 'kill "$SRVPID" 2>/dev/null || true' EXIT
  URL=
  for _ in $(seq 100); do
    URL=$(awk '/^Serving / { print $NF; exit }' "$SRVOUT")
    [ -n "$URL" ] && break
    sleep 0.1
  done
  cat "$SRVOUT"
  : >"$DEMO/rclone.conf"
  run rclone --config "$DEMO/rclone.conf" --webdav-url "$URL" lsf :webdav:
  run rclone --config "$DEMO/rclone.conf" --webdav-url "$URL" lsl :webdav:photos/100APPLE
  run kill -INT "$SRVPID"
  wait "$SRVPID" || true
  trap - EXIT
fi

# History: two captures from the simulated device (internal/devicesim: the usbmuxd,
# lockdownd and mobilebackup2 of an iPhone, serving a generated backup), the second after
# the "phone" changed. The first capture is kept as a snapshot beside the live backup;
# snapshots, diff and verify read them, and a mount shows latest/ and history/.
HIST=$DEMO/history
SOCK=$HIST/usbmuxd.sock
SIM_PID=
stop_sim() {
  if [ -n "$SIM_PID" ]; then
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=
  fi
}
# start_sim serves a backup folder as the connected device, until stop_sim.
start_sim() {
  rm -f "$SOCK"
  ./bin/devicesim --socket "$SOCK" --from "$1" 2>"$HIST/devicesim.log" &
  SIM_PID=$!
  for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
  echo "demo: the simulated device did not start (see $HIST/devicesim.log)" >&2
  return 1
}

echo
echo "== history: two captures from the simulated device, kept as snapshots =="
rm -rf "$HIST"
mkdir -p "$HIST"
./bin/genbackup -out "$HIST/phone-monday" -entries 300 -seed 7 >/dev/null
./bin/genbackup -out "$HIST/phone-tuesday" -entries 300 -seed 7 -revision 1 >/dev/null
# The demo's pairing record and backups stay in .demo, never in the user's folders.
export IOSBACKUP_CONFIG_DIR=$HIST/config
show export USBMUXD_SOCKET_ADDRESS="UNIX:$SOCK"
export USBMUXD_SOCKET_ADDRESS="UNIX:$SOCK"
trap 'stop_sim; "$BIN" unmount "$MP" 2>/dev/null || true' EXIT
start_sim "$HIST/phone-monday"
run "$BIN" devices
run "$BIN" capture --progress plain "$HIST/root"
stop_sim
start_sim "$HIST/phone-tuesday"
run "$BIN" capture --progress plain "$HIST/root"
stop_sim
run "$BIN" snapshots --root "$HIST/root"
UDID_DIR=$(find "$HIST/root" -mindepth 1 -maxdepth 1 -type d ! -name '*.history' ! -name '.*' | head -n1)
SNAP=$(find "$UDID_DIR.history" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | sort | head -n1)
# diff exits 1 when the two differ, as diff(1) does.
run "$BIN" diff --stat "$SNAP" "$UDID_DIR" || true
run "$BIN" verify "$SNAP"
if [ -e /dev/fuse ] && mkdir -p "$MP" && run "$BIN" mount --background "$UDID_DIR" "$MP"; then
  run ls "$MP" "$MP/history"
  run du -sh "$MP/latest" "$MP/history"
  run "$BIN" unmount "$MP"
fi
trap - EXIT
echo
echo "demo done."
