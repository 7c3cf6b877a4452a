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
rm -rf "$DEMO/extract"
run "$BIN" extract "${K[@]}" "$SAMPLE" "$DEMO/extract" --domain HomeDomain 'Library/SMS'
if command -v sqlite3 >/dev/null; then
  run sqlite3 "$DEMO/extract/HomeDomain/Library/SMS/sms.db" \
    "SELECT handle.id, message.text FROM message JOIN handle ON handle.ROWID = message.handle_id LIMIT 5;"
fi
echo; echo "demo done."
