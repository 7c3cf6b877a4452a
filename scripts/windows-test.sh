#!/usr/bin/env bash
# make windows-test: the unit tests of the packages that must work on Windows, built for
# windows/amd64 and run under Wine, so that drive letters, backslashes, reserved names and
# case-insensitive file names are proven rather than assumed. Everything lives under
# build/wine/ (a private WINEPREFIX, never ~/.wine); WINEDEBUG=-all keeps Wine quiet.
#
# Two gaps of Debian's Wine 8 are bridged here, for the tests only:
#  - Go 1.24+ binaries need bcryptprimitives.dll (ProcessPrng), which Wine 8 lacks: a
#    stub (scripts/wine/bcryptprimitives.c) built with mingw-w64 goes into system32.
#  - Go 1.26's os.RemoveAll deletes with FileDispositionInformationEx, which Wine 8 answers
#    with STATUS_NOT_IMPLEMENTED; Go falls back to the older FileDispositionInfo only for
#    the statuses older Windows versions return. A build overlay adds Wine's status to
#    that list (without it every t.TempDir clean-up fails). The fallback is the stricter
#    one: a file still open elsewhere is not deleted, so a leaked handle still fails.
# A missing wine or mingw-w64 skips, or fails when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
PKGS=(./manifest/ ./decrypt/... ./backup/ ./fs/view/ ./fs/dav/)

missing=()
command -v wine >/dev/null 2>&1 || missing+=(wine)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=(x86_64-w64-mingw32-gcc)
if [ ${#missing[@]} -gt 0 ]; then
  msg="make windows-test: ${missing[*]} missing (apt-get install wine gcc-mingw-w64-x86-64, or make deps)"
  if [ "${CI:-}" = true ]; then
    echo "$msg and CI=true" >&2
    exit 1
  fi
  echo "$msg: skipped" >&2
  exit 0
fi

out=$PWD/build/wine
export WINEPREFIX=$out/prefix WINEDEBUG=-all WINEARCH=win64
# No Mono or Gecko install prompts, and no menu entries or file associations in ~.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
mkdir -p "$out"

# The stub, rebuilt when its source changes.
dll=$out/bcryptprimitives.dll
if [ ! -f "$dll" ] || [ scripts/wine/bcryptprimitives.c -nt "$dll" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -s -Wall -Werror -o "$dll" scripts/wine/bcryptprimitives.c -lbcrypt
fi

# The prefix, made once (about 10 s).
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "make windows-test: creating the Wine prefix $WINEPREFIX"
  timeout 120 wine wineboot --init >/dev/null 2>&1
fi
cp "$dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"

# The overlay: Go's own source with one more status in Deleteat's fallback list.
src=$("$GO" env GOROOT)/src/internal/syscall/windows/at_windows.go
patched=$out/at_windows.go.overlay # not .go: build/ is inside the module
anchor='		STATUS_NOT_SUPPORTED:     // the file system'
if ! grep -qF "$anchor" "$src"; then
  echo "make windows-test: $src changed: update the Deleteat overlay in $0" >&2
  exit 1
fi
awk -v anchor="$anchor" '
  index($0, anchor) == 1 { print "\t\tNTStatus(0xC0000002), // STATUS_NOT_IMPLEMENTED: Wine 8 has no FileDispositionInformationEx" }
  { print }' "$src" >"$patched"
printf '{"Replace":{"%s":"%s"}}\n' "$src" "$patched" >"$out/overlay.json"

echo "GOOS=windows GOARCH=amd64 $GO test -exec wine ${PKGS[*]}"
start=$SECONDS
status=0
GOOS=windows GOARCH=amd64 timeout 15m "$GO" test -count=1 -timeout 12m \
  -overlay "$out/overlay.json" -exec wine "${PKGS[@]}" || status=$?
# Our prefix's wineserver only (WINEPREFIX is set): it would linger a few seconds.
wineserver -k 2>/dev/null || true
echo "make windows-test: $((SECONDS - start)) s under Wine"
exit $status
