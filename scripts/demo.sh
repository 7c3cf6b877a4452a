#!/usr/bin/env bash
# make demo: generate an encrypted sample backup (cached in .demo/) and show the main jobs
# on it, printing each command before running it.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=./bin/iosbackup
DEMO=.demo
SAMPLE=$DEMO/backup
# The sample is synthetic: its password is not a secret. It travels in the environment,
# as a user's would, never on the command line.
export IOSBACKUP_PASSWORD=demo

run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

if [ ! -f "$SAMPLE/Manifest.db" ]; then
  rm -rf "$SAMPLE"
  mkdir -p "$DEMO"
  run go run ./internal/gen/cmd/genbackup -out "$SAMPLE" -encrypted -entries 2000 -kdf real
fi

run "$BIN" list "$DEMO"
run "$BIN" info "$SAMPLE"
# Pay the slow password step once; the key file is private (0600) and used below.
"$BIN" key "$SAMPLE" > "$DEMO/key.hex"
chmod 600 "$DEMO/key.hex"
echo; echo "(derived key saved in $DEMO/key.hex: the next commands skip the slow password step)"
unset IOSBACKUP_PASSWORD
K=(--key-file "$DEMO/key.hex")
run "$BIN" ls "${K[@]}" "$SAMPLE"
run "$BIN" ls -l "${K[@]}" "$SAMPLE" HomeDomain/Library/SMS
run "$BIN" ls -l "${K[@]}" "$SAMPLE" CameraRollDomain/Media/DCIM/100APPLE

if [ -e /dev/fuse ] && { [ "$(id -u)" = 0 ] || command -v fusermount3 >/dev/null || command -v fusermount >/dev/null; }; then
  MP=$DEMO/mnt
  mkdir -p "$MP"
  "$BIN" unmount "$MP" 2>/dev/null || true
  trap '"$BIN" unmount "$MP" 2>/dev/null || true' EXIT
  run "$BIN" mount --background "${K[@]}" "$SAMPLE" "$MP"
  run ls "$MP"
  run ls "$MP/domains"
  run ls "$MP/apps" "$MP/apps/Notes Pro"
  run ls -l "$MP/device/var/mobile/Library/SMS"
  run ls -l "$MP/photos/100APPLE"
  photo=$(ls "$MP/photos/100APPLE" | grep -m1 -i '\.jpg$')
  rm -rf "$DEMO/copied"; mkdir -p "$DEMO/copied"
  run cp -a "$MP/photos/100APPLE/$photo" "$DEMO/copied/"
  run file "$DEMO/copied/$photo" 2>/dev/null || run ls -l "$DEMO/copied/$photo"
  if command -v sqlite3 >/dev/null; then
    run sqlite3 "$MP/device/var/mobile/Library/SMS/sms.db" \
      "SELECT handle.id, message.text FROM message JOIN handle ON handle.ROWID = message.handle_id LIMIT 5;"
  fi
  run touch "$MP/domains/HomeDomain/new-file" || true
  run "$BIN" unmount "$MP"
  trap - EXIT
else
  echo; echo "(no FUSE here: /dev/fuse or fusermount missing; showing extract instead of mount)"
  rm -rf "$DEMO/extract"
  run "$BIN" extract "${K[@]}" "$SAMPLE" "$DEMO/extract" --domain HomeDomain 'Library/SMS'
  if command -v sqlite3 >/dev/null; then
    run sqlite3 "$DEMO/extract/HomeDomain/Library/SMS/sms.db" \
      "SELECT handle.id, message.text FROM message JOIN handle ON handle.ROWID = message.handle_id LIMIT 5;"
  fi
fi
echo; echo "demo done."
