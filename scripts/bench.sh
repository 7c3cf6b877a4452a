#!/usr/bin/env bash
# make bench: the speed workloads of iosbackup, each measured side by side with a
# reference in the same run (machines are shared and noisy: only ratios mean much).
#
# It generates its own backups with the project's generator (cached in .bench/fixtures,
# regenerated when a fixture's definition changes), runs every workload several times,
# takes the MEDIAN, and prints one table: workload, ours, reference, ratio, target, met?
# The kernels (W1 CBC, W7 KDF) are Go benchmarks (internal/bench, `go test -bench`);
# everything else runs the real binary on real mounts.
#
# Every command run is written to .bench/last-run.log with its time; each distinct
# command is also shown once on screen. Mounts are undone on exit, Ctrl-C included.
#
# Needs: Linux, root (cold runs drop the kernel's caches; mounts without fusermount),
# /dev/fuse, openssl and sqlite3 (Debian packages openssl, sqlite3); W11 rclone and curl.
#
# Environment:
#   BENCH_RUNS=N        runs per workload (default 3; kernels use max(N, 5))
#   BENCH_ONLY="w1 w4"  run only these workloads (w1 .. w12, w5b)
#   BENCH_LOAD=0        leave out the "under load" rows (W4, W5, W8 run again while one
#                       spinning process keeps a core busy: the machine of a user who is
#                       also doing something else)
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C # decimal points in $EPOCHREALTIME and awk, whatever the user's locale

RUNS=${BENCH_RUNS:-3}
KRUNS=$((RUNS > 5 ? RUNS : 5))
ONLY=${BENCH_ONLY:-w1 w2 w3 w4 w5 w5b w6 w7 w8 w9 w10 w11 w12}
LOAD=${BENCH_LOAD:-1}
BENCH=.bench
FIX=$BENCH/fixtures
MNT=$PWD/$BENCH/mnt
LOG=$BENCH/last-run.log
ROWS=$BENCH/rows.tsv
BIN=./bin/iosbackup
GEN=$BENCH/genbackup
TOOL=$BENCH/benchtool
SIM=$BENCH/devicesim
KTEST=$BENCH/bench.test
# Bump when a fixture's content changes in a way its generator command does not show.
FIXTURE_VERSION=2
# The fixtures are synthetic: their password is not a secret. It travels in the
# environment, never on a command line; saved keys of the user are kept out of the way.
export IOSBACKUP_PASSWORD=bench
export IOSBACKUP_CONFIG_DIR=$PWD/$BENCH/config

mkdir -p "$FIX" "$MNT"
: > "$LOG"
: > "$ROWS"
START=$EPOCHREALTIME

# ---------------------------------------------------------------- helpers

log() { printf '%s\n' "$*" >> "$LOG"; }
say() { printf '%s\n' "$*" >&3; log "# $*"; }

# The screen, kept on descriptor 3 so that showing a command never mixes with the
# output a caller captures with $(...).
exec 3>&1
declare -A SHOWN=()
# quote_cmd CMD...: the command as one could paste it (words with spaces or quotes
# single-quoted; a few shell tokens passed as words are printed as they are).
PLAIN_WORD='^[-A-Za-z0-9_./=:@%+,]+$'
quote_cmd() {
	local out="" a
	for a in "$@"; do
		if [[ $a =~ $PLAIN_WORD ]] || [[ $a == ">/dev/null" || $a == "&&" || $a == "&" || $a == ">" || $a == "<" ]]; then
			out+="$a "
		else
			out+="'${a//\'/\'\\\'\'}' "
		fi
	done
	printf '%s' "${out% }"
}

# show CMD...: the command goes to the log, and on screen the first time it is seen.
show() {
	local c
	c=$(quote_cmd "$@")
	log "\$ $c"
	if [ -z "${SHOWN[$c]:-}" ]; then
		SHOWN[$c]=1
		printf '    $ %s\n' "$c" >&3
	fi
}

# run CMD...: shows and runs a command.
run() {
	show "$@"
	"$@"
}

# capture VAR CMD...: shows and runs a command, storing its standard output in VAR.
capture() {
	local __var=$1 __out
	shift
	show "$@"
	__out=$("$@")
	printf -v "$__var" '%s' "$__out"
}

# children_cpu VAR: sets VAR to the user + system seconds of this shell's finished
# children so far (times runs in this shell, not in a $(...) subshell that has none).
children_cpu() {
	times > "$BENCH/times.out"
	printf -v "$1" '%s' "$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$BENCH/times.out")"
}

# timed CMD...: runs CMD with its output discarded and sets T to the wall time in
# seconds, TCPU to the user + system time of CMD and its children (what a busy machine
# distorts least).
T=0
TCPU=0
timed() {
	show "$@" ">/dev/null"
	local c0 c1 t0=$EPOCHREALTIME
	children_cpu c0
	"$@" > /dev/null
	local t1=$EPOCHREALTIME
	children_cpu c1
	T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	TCPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')
	log "  -> $T s (cpu $TCPU s)"
}

# proc_cpu PID: user + system seconds a running process has used (/proc/PID/stat).
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat"
}

# proc_kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM).
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# The "under load" runs: one process spinning on the last core, started and stopped
# here, and never alive longer than SPIN_MAX seconds whatever happens to this script.
SPIN_MAX=1800
SPINFILE=$BENCH/spin.pid
spin_start() {
	spin_stop
	show taskset -c "$(($(nproc) - 1))" timeout "$SPIN_MAX" sh -c "while :; do :; done" "&"
	taskset -c "$(($(nproc) - 1))" timeout "$SPIN_MAX" sh -c 'while :; do :; done' &
	echo $! > "$SPINFILE"
	log "  spinning process $(cat "$SPINFILE")"
}
spin_stop() {
	if [ -f "$SPINFILE" ]; then
		kill "$(cat "$SPINFILE")" 2> /dev/null || true
		rm -f "$SPINFILE"
	fi
}

# median X...: the median of numbers (the mean of the middle two for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# calc EXPR: floating-point arithmetic, printf-formatted by the caller's format.
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# meets VALUE OP LIMIT: "yes" or "NO".
meets() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	ok = (op == ">=") ? (v >= l) : (v <= l); print ok ? "yes" : "NO" }'; }

# row NAME OURS REFERENCE RATIO TARGET MET: one line of the final table.
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$ROWS"; }

# ratio_row NAME OURS_TEXT REF_TEXT RATIO OP LIMIT: a row whose target is a ratio.
ratio_row() {
	local met="-" tgt="-"
	if [ "$5" != "-" ]; then
		tgt="$5 $6"
		met=$(meets "$4" "$5" "$6")
	fi
	row "$1" "$2" "$3" "$4" "$tgt" "$met"
}

# drop_all: empty the page, dentry and inode caches of the whole machine (root only).
drop_all() {
	show sync "&&" "echo 3 > /proc/sys/vm/drop_caches"
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

drop_file() { run "$TOOL" dropcache "$@"; }

is_mounted() { mountpoint -q "$1" 2> /dev/null; }

mnt_down() {
	if is_mounted "$1"; then
		run "$BIN" unmount "$1"
	fi
}

# mnt_up NAME FIXTURE [MOUNT FLAGS...]: a fresh mount of a fixture at $MNT/NAME (a new
# mount: the kernel's FUSE caches start empty); sets MP.
MP=
mnt_up() {
	local name=$1 fx=$2
	shift 2
	MP=$MNT/$name
	mnt_down "$MP"
	mkdir -p "$MP"
	local key=()
	if [ -f "$FIX/$fx.key" ]; then key=(--key-file "$FIX/$fx.key"); fi
	run "$BIN" mount --background "${key[@]}" "$@" "$FIX/$fx" "$MP"
}

cleanup() {
	local m
	spin_stop
	for m in "$MNT"/*; do
		if is_mounted "$m"; then
			"$BIN" unmount "$m" > /dev/null 2>&1 || umount -l "$m" 2> /dev/null || true
		fi
	done
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# have_perf: whether perf can record here (installed, and allowed by perf_event_paranoid).
have_perf() { command -v perf > /dev/null && perf record -q -o /dev/null -- true > /dev/null 2>&1; }

# perf_top DATA N: the N hottest functions (self time) of a perf recording, indented.
perf_top() {
	perf report -i "$1" --no-children -g none --stdio --sort sym 2> /dev/null |
		awk -v n="$2" '/^ +[0-9.]+%/ && shown < n { sub(/^ +/, ""); print "      " $0; shown++ }' # reads to the end: no SIGPIPE
}

# blob FIXTURE DOMAIN PATH: where a Manifest.db backup keeps the file's contents.
blob() {
	local id
	id=$(printf '%s-%s' "$2" "$3" | sha1sum | cut -c1-40)
	printf '%s/%s/%s' "$FIX/$1" "${id:0:2}" "$id"
}

# fixture NAME GENBACKUP-FLAGS...: generates the backup once per definition, and for an
# encrypted one saves its derived key in NAME.key (0600) for --key-file.
fixture() {
	local name=$1
	shift
	local dir=$FIX/$name stamp=$FIX/$name.ok
	local def="v$FIXTURE_VERSION genbackup $*"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$def" ] && [ -d "$dir" ]; then
		log "# fixture $name: cached ($def)"
		return 0
	fi
	say "  generating fixture $name"
	rm -rf "$dir" "$stamp" "$FIX/$name.key"
	run "$GEN" -out "$dir" "$@" >> "$LOG"
	if [[ " $* " == *" -encrypted "* ]]; then
		show "$BIN" key --no-saved-key "$dir" ">" "$FIX/$name.key"
		(umask 077 && "$BIN" key --no-saved-key "$dir" > "$FIX/$name.key")
	fi
	printf '%s\n' "$def" > "$stamp"
}

# workload NAME: runs function NAME in a subshell (so that set -e works inside it), and
# records a failed workload in the table instead of stopping the others.
workload() {
	local w=$1
	[[ " $ONLY " == *" $w "* ]] || return 0
	local t0=$EPOCHREALTIME
	set +e
	(
		set -e
		"$w"
	)
	local rc=$?
	set -e
	cleanup
	if [ $rc -ne 0 ]; then
		say "  $w FAILED (exit $rc): see $LOG"
		row "$w" "FAILED" "-" "-" "-" "NO"
	fi
	say "  ($w took $(calc '%.0f' "$EPOCHREALTIME - $t0") s)"
}

# ---------------------------------------------------------------- preflight

if [ "$(uname -s)" != Linux ]; then
	echo "make bench: the whole-process workloads need Linux (FUSE, drop_caches)" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "make bench: run as root: cold runs drop the kernel's caches (/proc/sys/vm/drop_caches)" >&2
	exit 1
fi
for tool in openssl sqlite3 taskset mountpoint pgrep; do
	if ! command -v "$tool" > /dev/null; then
		echo "make bench: $tool is missing (apt-get install openssl sqlite3 util-linux procps)" >&2
		exit 1
	fi
done
if [ ! -e /dev/fuse ]; then
	echo "make bench: /dev/fuse is missing" >&2
	exit 1
fi

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
say "make bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $CPU, $(nproc) cores, Linux $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "median of $RUNS runs per workload ($KRUNS for the kernels and the one-file reads of W2, W3); commands and times in $LOG"

say "building the helpers"
run go build -o "$GEN" ./internal/gen/cmd/genbackup
run go build -o "$TOOL" ./internal/bench/cmd/benchtool
run go build -o "$SIM" ./internal/devicesim/cmd/devicesim
run go test -c -o "$KTEST" ./internal/bench

# ---------------------------------------------------------------- W1: AES-256-CBC

w1() {
	say "W1 AES-256-CBC decryption, one core (taskset -c 1), 64 KiB buffers"
	local ours=() std=() ssl=() out
	for _ in $(seq "$KRUNS"); do
		capture out taskset -c 1 openssl speed -elapsed -seconds 1 -bytes 65536 -evp aes-256-cbc -decrypt 2> /dev/null
		log "$out"
		ssl+=("$(awk '/^AES-256-CBC/ { v = $2; sub(/k$/, "", v); print v / 1000 }' <<< "$out")")
		capture out taskset -c 1 "$KTEST" -test.run '^$' -test.bench 'CBC/(ours|stdlib)-64KiB$' -test.benchtime 1s -test.count 1
		log "$out"
		ours+=("$(awk '/ours-64KiB/ { for (i = 1; i < NF; i++) if ($(i + 1) == "MB/s") print $i }' <<< "$out")")
		std+=("$(awk '/stdlib-64KiB/ { for (i = 1; i < NF; i++) if ($(i + 1) == "MB/s") print $i }' <<< "$out")")
	done
	log "openssl: ${ssl[*]}; ours: ${ours[*]}; stdlib: ${std[*]}"
	local o s g
	o=$(median "${ours[@]}")
	s=$(median "${ssl[@]}")
	g=$(median "${std[@]}")
	ratio_row "W1 CBC decrypt vs openssl speed -evp" "$(calc '%.0f MB/s' "$o")" "$(calc '%.0f MB/s' "$s")" \
		"$(calc '%.2f' "$o / $s")" ">=" 0.50
	ratio_row "W1 CBC decrypt vs Go crypto/cipher" "$(calc '%.0f MB/s' "$o")" "$(calc '%.0f MB/s' "$g")" \
		"$(calc '%.2f' "$o / $g")" "-" "-"
}

# ---------------------------------------------------------------- W2, W3: one big file

big_fixtures() {
	fixture big-enc -encrypted -kdf fast -big 1G -seed 1
	fixture big-plain -big 1G -seed 1
}

BIGREL=domains/MediaDomain/Media/Recordings/big.mov

w2() {
	say "W2 sequential read of a 1 GiB file (cat): cold = blob evicted + fresh mount; warm = read again"
	big_fixtures
	local benc bplain size
	benc=$(blob big-enc MediaDomain Media/Recordings/big.mov)
	bplain=$(blob big-plain MediaDomain Media/Recordings/big.mov)
	size=$(stat -c %s "$bplain")
	local ec=() ew=() pc=() pw=() rc=() rw=()
	# Cold reads of one big file vary most here (the first is often twice as slow as the
	# rest, for every reader alike): at least 5 runs, as for the kernels.
	for _ in $(seq "$KRUNS"); do
		drop_file "$benc"
		mnt_up w2 big-enc
		timed cat "$MP/$BIGREL"; ec+=("$T")
		timed cat "$MP/$BIGREL"; ew+=("$T")
		mnt_down "$MP"
		drop_file "$bplain"
		mnt_up w2 big-plain
		timed cat "$MP/$BIGREL"; pc+=("$T")
		timed cat "$MP/$BIGREL"; pw+=("$T")
		mnt_down "$MP"
		drop_file "$benc"
		timed cat "$benc"; rc+=("$T")
		timed cat "$benc"; rw+=("$T")
	done
	local mb=$((size / 1000000))
	local EC EW PC PW RC RW
	EC=$(calc '%.0f' "$mb / $(median "${ec[@]}")")
	EW=$(calc '%.0f' "$mb / $(median "${ew[@]}")")
	PC=$(calc '%.0f' "$mb / $(median "${pc[@]}")")
	PW=$(calc '%.0f' "$mb / $(median "${pw[@]}")")
	RC=$(calc '%.0f' "$mb / $(median "${rc[@]}")")
	RW=$(calc '%.0f' "$mb / $(median "${rw[@]}")")
	ratio_row "W2 seq cold: encrypted vs plain, both mounted" "$EC MB/s" "$PC MB/s" "$(calc '%.2f' "$EC / $PC")" ">=" 0.80
	ratio_row "W2 seq warm: encrypted vs plain, both mounted" "$EW MB/s" "$PW MB/s" "$(calc '%.2f' "$EW / $PW")" ">=" 0.80
	ratio_row "W2 seq warm: mounted re-read vs cat of cached blob" "$EW MB/s" "$RW MB/s" "$(calc '%.2f' "$EW / $RW")" ">=" 0.90
	ratio_row "W2 seq cold: encrypted mounted vs cat of raw blob" "$EC MB/s" "$RC MB/s" "$(calc '%.2f' "$EC / $RC")" "-" "-"
	# Where a warm re-read goes (it makes no request to the mount: the kernel's page
	# cache serves it), against cat of the cached blob.
	if have_perf; then
		local data
		mnt_up w2 big-enc
		cat "$MP/$BIGREL" > /dev/null
		for data in "$MP/$BIGREL" "$benc"; do
			run perf record -q -o "$BENCH/w2-warm.perf" -- cat "$data" > /dev/null 2>&1
			say "   profile of a warm cat of $( [ "$data" = "$benc" ] && echo "the raw blob" || echo "the mounted file") (perf, self time):"
			perf_top "$BENCH/w2-warm.perf" 4 | tee -a "$LOG" >&3
		done
		mnt_down "$MP"
	fi
}

w3() {
	say "W3 random 4 KiB preads (20,000 at queue depth 1, the same offsets everywhere) of the 1 GiB file"
	say "   cold = blob evicted + fresh mount; warm = the same offsets again, 5 times"
	big_fixtures
	local benc size
	benc=$(blob big-enc MediaDomain Media/Recordings/big.mov)
	size=$(stat -c %s "$(blob big-plain MediaDomain Media/Recordings/big.mov)")
	# Warm runs read the same offsets 5 times over: long enough to time.
	local rr=(randread -n 20000 -bs 4096 -seed 7 -size "$size") passes=(-passes 5)
	local mc=() mw=() rc=() rw=() out
	for _ in $(seq "$KRUNS"); do # as W2: cold single-file reads are noisy
		drop_file "$benc"
		mnt_up w3 big-enc
		capture out "$TOOL" "${rr[@]}" "$MP/$BIGREL" 2>> "$LOG"; mc+=("$out")
		capture out "$TOOL" "${rr[@]}" "${passes[@]}" "$MP/$BIGREL" 2>> "$LOG"; mw+=("$out")
		mnt_down "$MP"
		drop_file "$benc"
		capture out "$TOOL" "${rr[@]}" "$benc" 2>> "$LOG"; rc+=("$out")
		capture out "$TOOL" "${rr[@]}" "${passes[@]}" "$benc" 2>> "$LOG"; rw+=("$out")
	done
	local MC MW RC RW
	MC=$(median "${mc[@]}")
	MW=$(median "${mw[@]}")
	RC=$(median "${rc[@]}")
	RW=$(median "${rw[@]}")
	ratio_row "W3 rand 4K cold: encrypted mounted vs raw blob" "$(calc '%.0f IOPS' "$MC")" "$(calc '%.0f IOPS' "$RC")" "$(calc '%.2f' "$MC / $RC")" "-" "-"
	ratio_row "W3 rand 4K warm: encrypted mounted vs raw blob" "$(calc '%.0f IOPS' "$MW")" "$(calc '%.0f IOPS' "$RW")" "$(calc '%.2f' "$MW / $RW")" "-" "-"
}

# ---------------------------------------------------------------- W4: tree walks

tree_fixtures() {
	fixture tree100k-enc -encrypted -kdf fast -entries 100000 -seed 2
	fixture tree100k-plain -entries 100000 -seed 2
	local ext=$FIX/tree100k-extract stamp=$FIX/tree100k-extract.ok
	if [ ! -f "$stamp" ] || [ "$stamp" -ot "$FIX/tree100k-enc.ok" ]; then
		say "  extracting tree100k-enc to local disk"
		rm -rf "$ext"
		run "$BIN" extract -q --key-file "$FIX/tree100k-enc.key" "$FIX/tree100k-enc" "$ext"
		touch "$stamp"
	fi
}

w4() {
	say "W4 ls -lR, find, du -s over 100,000 entries: mounted (encrypted; ls -lR also unencrypted) vs extracted on local disk"
	say "   cold = drop_caches (3) + fresh mount; warm = the same command again"
	tree_fixtures
	local ext=$FIX/tree100k-extract
	local nm nl
	mnt_up w4 tree100k-enc
	nm=$(find "$MP/domains" | wc -l)
	nl=$(find "$ext" | wc -l)
	mnt_down "$MP"
	say "   entries: $nm under the mount's domains/, $nl extracted"
	declare -A cold=() warm=()
	local c key fx flags=()
	local -A cmd=([ls]="ls -lR" [find]="find" [du]="du -s")
	for _ in $(seq "$RUNS"); do
		for c in ls find du; do
			# shellcheck disable=SC2206
			local argv=(${cmd[$c]})
			drop_all
			timed "${argv[@]}" "$ext"; cold[local-$c]+=" $T"
			timed "${argv[@]}" "$ext"; warm[local-$c]+=" $T"
			for key in xon xoff plain; do
				fx=tree100k-enc flags=()
				case $key in
				xoff) flags=(--no-xattrs) ;;
				plain) fx=tree100k-plain ;;
				esac
				# find and du ask for no xattrs; the plain backup is for comparison.
				[ "$key" = xon ] || [ "$c" = ls ] || continue
				drop_all
				mnt_up w4 "$fx" "${flags[@]}"
				timed "${argv[@]}" "$MP/domains"; cold[$key-$c]+=" $T"
				timed "${argv[@]}" "$MP/domains"; warm[$key-$c]+=" $T"
				mnt_down "$MP"
			done
		done
	done
	local label mode lc lw mc mw
	# The lists of times are space-separated words on purpose: median takes them as arguments.
	# shellcheck disable=SC2086
	for c in ls find du; do
		for key in xon xoff plain; do
			if [ "$key" != xon ] && [ "$c" != ls ]; then continue; fi
			lc=$(median ${cold[local-$c]}); lw=$(median ${warm[local-$c]})
			mc=$(median ${cold[$key-$c]}); mw=$(median ${warm[$key-$c]})
			mode="xattrs on"
			if [ "$key" = xoff ]; then mode="--no-xattrs"; fi
			if [ "$key" = plain ]; then mode="unencrypted backup, xattrs on"; fi
			label="${cmd[$c]}"
			ratio_row "W4 $label cold ($mode)" "$(calc '%.3f s' "$mc")" "$(calc '%.3f s' "$lc")" "$(calc '%.2f' "$mc / $lc")" "<=" 1.5
			ratio_row "W4 $label warm ($mode)" "$(calc '%.3f s' "$mw")" "$(calc '%.3f s' "$lw")" "$(calc '%.2f' "$mw / $lw")" "<=" 1.2
		done
	done
	if [ "$LOAD" = 1 ]; then
		w4_under_load
	fi
	# Why ls -l costs more with xattrs on: the system calls it makes per file.
	if command -v strace > /dev/null; then
		local tag
		for key in xon xoff; do
			flags=()
			if [ "$key" = xoff ]; then flags=(--no-xattrs); fi
			mnt_up w4 tree100k-enc "${flags[@]}"
			timed ls -lR "$MP/domains" # warm the kernel's caches: count, do not time
			show strace -c -e trace=lgetxattr,getxattr,listxattr,llistxattr,statx,lstat,newfstatat ls -lR "$MP/domains"
			tag=$(strace -c -e trace=lgetxattr,getxattr,listxattr,llistxattr,statx,lstat,newfstatat \
				ls -lR "$MP/domains" 2>&1 > /dev/null | awk '$NF ~ /xattr/ { printf "%s %s calls (%s errors) %s s; ", $NF, $4, ($5 ~ /^[0-9]+$/ ? $5 : 0), $2 }')
			say "   strace -c of warm ls -lR, $key: ${tag:-no xattr calls}"
			mnt_down "$MP"
		done
	fi
	# Where the mount process spends a fresh-mount ls -lR (files' sizes, inodes, xattrs).
	if have_perf; then
		local pid perfpid data=$BENCH/w4-server.perf
		mnt_up w4 tree100k-enc
		pid=$(pgrep -n -f -- " $MP\$")
		show perf record -F 999 -g -p "$pid" -o "$data" "&" ls -lR "$MP/domains"
		perf record -F 999 -g -p "$pid" -o "$data" > /dev/null 2>&1 &
		perfpid=$!
		sleep 1 # let perf attach
		ls -lR "$MP/domains" > /dev/null
		kill -INT "$perfpid"
		wait "$perfpid" || true
		mnt_down "$MP"
		say "   profile of the mount process during a fresh-mount ls -lR (perf, self time; $data):"
		perf_top "$data" 8 | tee -a "$LOG" >&3
	fi
}

# w4_under_load: the walks again (encrypted, xattrs on, against local disk) while one
# process spins on a core. Times in seconds of wall and (in the log) of CPU.
w4_under_load() {
	say "   W4 under load: the same walks while one spinning process keeps a core busy"
	local c lc lw mc mw
	declare -A cold=() warm=()
	local -A cmd=([ls]="ls -lR" [find]="find" [du]="du -s")
	spin_start
	for _ in $(seq "$RUNS"); do
		for c in ls find du; do
			# shellcheck disable=SC2206
			local argv=(${cmd[$c]})
			drop_all
			timed "${argv[@]}" "$FIX/tree100k-extract"; cold[local-$c]+=" $T"
			timed "${argv[@]}" "$FIX/tree100k-extract"; warm[local-$c]+=" $T"
			drop_all
			mnt_up w4 tree100k-enc
			timed "${argv[@]}" "$MP/domains"; cold[mnt-$c]+=" $T"
			timed "${argv[@]}" "$MP/domains"; warm[mnt-$c]+=" $T"
			mnt_down "$MP"
		done
	done
	spin_stop
	# shellcheck disable=SC2086 # lists of times: median's arguments
	for c in ls find du; do
		lc=$(median ${cold[local-$c]}); lw=$(median ${warm[local-$c]})
		mc=$(median ${cold[mnt-$c]}); mw=$(median ${warm[mnt-$c]})
		ratio_row "W4 ${cmd[$c]} cold (xattrs on), under load" "$(calc '%.3f s' "$mc")" "$(calc '%.3f s' "$lc")" "$(calc '%.2f' "$mc / $lc")" "<=" 1.5
		ratio_row "W4 ${cmd[$c]} warm (xattrs on), under load" "$(calc '%.3f s' "$mw")" "$(calc '%.3f s' "$lw")" "$(calc '%.2f' "$mw / $lw")" "<=" 1.2
	done
}

# ---------------------------------------------------------------- W5: mount-ready time, RSS

# w5_measure FIXTURE: RUNS fresh mounts of the fixture, Manifest.db in the page cache;
# sets W5T (median seconds to ready), W5C (median CPU seconds the mount process had
# used when ready) and W5H (median VmHWM after ready, MB).
W5T=0 W5C=0 W5H=0
w5_measure() {
	local fx=$1 pid h c
	local ts=() cs=() hw=()
	for _ in $(seq "$RUNS"); do
		cat "$FIX/$fx/Manifest.db" > /dev/null
		MP=$MNT/w5
		mnt_down "$MP"
		mkdir -p "$MP"
		local key=()
		if [ -f "$FIX/$fx.key" ]; then key=(--key-file "$FIX/$fx.key"); fi
		timed "$BIN" mount --background "${key[@]}" "$FIX/$fx" "$MP"
		ts+=("$T")
		pid=$(pgrep -n -f -- " $MP\$")
		c=$(proc_cpu "$pid")
		h=$(proc_kib "$pid" VmHWM)
		log "  mount process $pid: VmHWM $h kB, $c s of CPU at ready"
		cs+=("$c")
		hw+=("$h")
		mnt_down "$MP"
	done
	W5T=$(median "${ts[@]}")
	W5C=$(median "${cs[@]}")
	W5H=$(calc '%.0f' "$(median "${hw[@]}") * 1024 / 1e6") # VmHWM is in KiB; MB are 10^6 bytes, as in the target
}

# manifest_decrypt FIXTURE: seconds to decrypt its Manifest.db in memory (0 if plain).
manifest_decrypt() {
	local dec=0
	if [ -f "$FIX/$1.key" ]; then
		capture dec "$TOOL" manifest-decrypt -key-file "$FIX/$1.key" "$FIX/$1" 2>> "$LOG"
	fi
	printf '%s' "$dec"
}

w5() {
	say "W5 mount-ready time (start of mount --background to its return, Manifest.db in the page cache) and peak RSS (VmHWM after ready)"
	say "   (cpu = user + system time of the mount process when ready)"
	fixture tree100k-plain -entries 100000 -seed 2
	fixture tree100k-enc -encrypted -kdf fast -entries 100000 -seed 2
	fixture tree1m-plain -entries 1000000 -omit-filler-blobs -seed 3
	fixture tree1m-enc -encrypted -kdf fast -entries 1000000 -omit-filler-blobs -seed 3
	local fx dec budget
	for fx in tree100k-plain tree100k-enc tree1m-plain tree1m-enc; do
		dec=$(manifest_decrypt "$fx")
		w5_measure "$fx"
		local n=${fx#tree}
		n=${n%%-*}
		local kind=${fx##*-}
		if [ "$n" = 1m ]; then
			# What the peak RSS holds: the index's live heap, Entry structs apart.
			local hk=() hp
			if [ -f "$FIX/$fx.key" ]; then hk=(-key-file "$FIX/$fx.key"); fi
			capture hp "$TOOL" heap "${hk[@]}" "$FIX/$fx" 2>> "$LOG"
			read -r hl he hs hr <<< "$hp"
			say "   $fx: live heap after load $hl MiB = $he MiB of manifest.Entry ($hs B each) + $hr MiB of paths, keys and index arrays"
			budget=$(calc '%.2f' "3 + $dec")
			row "W5 ready, ${n} entries, $kind" "$(calc '%.2f s' "$W5T") (cpu $(calc '%.2f' "$W5C") s)" "-" "-" "<= $budget s (3 s + $(calc '%.2f' "$dec") s decrypt)" "$(meets "$W5T" "<=" "$budget")"
			row "W5 peak RSS, ${n} entries, $kind" "$W5H MB" "-" "-" "<= 300 MB" "$(meets "$W5H" "<=" 300)"
		else
			row "W5 ready, ${n} entries, $kind" "$(calc '%.2f s' "$W5T") (cpu $(calc '%.2f' "$W5C") s)" "-" "-" "-" "-"
			row "W5 peak RSS, ${n} entries, $kind" "$W5H MB" "-" "-" "-" "-"
		fi
	done
	if [ "$LOAD" = 1 ]; then
		say "   W5 under load: the million-entry mounts again while one spinning process keeps a core busy"
		for fx in tree1m-plain tree1m-enc; do
			spin_start
			dec=$(manifest_decrypt "$fx")
			w5_measure "$fx"
			spin_stop
			budget=$(calc '%.2f' "3 + $dec")
			row "W5 ready, 1m entries, ${fx##*-}, under load" "$(calc '%.2f s' "$W5T") (cpu $(calc '%.2f' "$W5C") s)" "-" "-" \
				"<= $budget s (3 s + $(calc '%.2f' "$dec") s decrypt)" "$(meets "$W5T" "<=" "$budget")"
		done
	fi
	# Where the time to ready goes for a million encrypted entries.
	if have_perf; then
		local data=$BENCH/w5-mount.perf
		MP=$MNT/w5
		cat "$FIX/tree1m-enc/Manifest.db" > /dev/null
		run perf record -F 499 -g -o "$data" -- "$BIN" mount --background --key-file "$FIX/tree1m-enc.key" "$FIX/tree1m-enc" "$MP" > /dev/null 2>&1
		mnt_down "$MP"
		say "   profile of mount --background until ready, 1m entries, enc (perf, self time; $data):"
		perf_top "$data" 10 | tee -a "$LOG" >&3
	fi
}

# ---------------------------------------------------------------- W5b: RSS through a whole walk

# heap_dump PID FILE: asks a mount started with IOSBACKUP_HEAP_PROFILE=$BENCH/w5b-heap.pb.gz
# for a heap profile (SIGUSR1) and keeps it as FILE.
heap_dump() {
	local want=$BENCH/w5b-heap.pb.gz
	rm -f "$want"
	show kill -USR1 "$1"
	kill -USR1 "$1"
	for _ in $(seq 100); do
		[ -f "$want" ] && break
		sleep 0.1
	done
	mv "$want" "$2" 2> /dev/null || log "  no heap profile from $1"
}

# pprof_top PROFILE N: the N structures (allocation sites) holding most of the live heap.
pprof_top() {
	[ -f "$1" ] || return 0
	go tool pprof -sample_index=inuse_space -top -nodecount "$2" "$BIN" "$1" 2> /dev/null |
		awk '/^ +[0-9.]+[kMG]?B / { print "      " $0 }'
}

w5b() {
	say "W5b RSS of the mount process (VmRSS): at ready, after find of the whole 1m-entry mount, after"
	say "   echo 2 > /proc/sys/vm/drop_caches (the kernel forgets the inodes: FORGET) and 5 s"
	fixture tree1m-plain -entries 1000000 -omit-filler-blobs -seed 3
	local fx=tree1m-plain pid r0 r1 r2 hwm n ready=() found=() forgot=() peak=()
	MP=$MNT/w5b
	for _ in $(seq "$RUNS"); do
		mnt_down "$MP"
		mkdir -p "$MP"
		cat "$FIX/$fx/Manifest.db" > /dev/null
		run env "IOSBACKUP_HEAP_PROFILE=$PWD/$BENCH/w5b-heap.pb.gz" "$BIN" mount --background "$FIX/$fx" "$MP"
		pid=$(pgrep -n -f -- " $MP\$")
		r0=$(proc_kib "$pid" VmRSS)
		heap_dump "$pid" "$BENCH/w5b-heap-ready.pb.gz"
		timed find "$MP"
		r1=$(proc_kib "$pid" VmRSS)
		hwm=$(proc_kib "$pid" VmHWM)
		n=$(find "$MP" | wc -l)
		heap_dump "$pid" "$BENCH/w5b-heap-find.pb.gz"
		show sync "&&" "echo 2 > /proc/sys/vm/drop_caches"
		sync
		echo 2 > /proc/sys/vm/drop_caches
		sleep 5
		r2=$(proc_kib "$pid" VmRSS)
		heap_dump "$pid" "$BENCH/w5b-heap-forget.pb.gz"
		log "  mount process $pid: VmRSS $r0 kB at ready, $r1 kB after find of $n names ($T s; VmHWM $hwm kB), $r2 kB after drop_caches"
		ready+=("$r0") found+=("$r1") forgot+=("$r2") peak+=("$hwm")
		mnt_down "$MP"
	done
	local R0 R1 R2 H
	R0=$(calc '%.0f' "$(median "${ready[@]}") * 1024 / 1e6")
	R1=$(calc '%.0f' "$(median "${found[@]}") * 1024 / 1e6")
	R2=$(calc '%.0f' "$(median "${forgot[@]}") * 1024 / 1e6")
	H=$(calc '%.0f' "$(median "${peak[@]}") * 1024 / 1e6")
	say "   find walked $n names; VmHWM after it $H MB"
	ratio_row "W5b RSS after find vs at ready, 1m entries" "$R1 MB" "$R0 MB" "$(calc '%.2f' "$R1 / $R0")" "<=" 2.0
	# "Falls back": after the kernel forgets, no more than half of what find added is left.
	ratio_row "W5b RSS after FORGET vs at ready, 1m entries" "$R2 MB" "$R0 MB" "$(calc '%.2f' "$R2 / $R0")" "<=" \
		"$(calc '%.2f' "(1 + $R1 / $R0) / 2")"
	say "   live heap after find (go tool pprof -sample_index=inuse_space $BIN $BENCH/w5b-heap-find.pb.gz):"
	pprof_top "$BENCH/w5b-heap-find.pb.gz" 8 | tee -a "$LOG" >&3
	say "   live heap after drop_caches ($BENCH/w5b-heap-forget.pb.gz):"
	pprof_top "$BENCH/w5b-heap-forget.pb.gz" 5 | tee -a "$LOG" >&3
}

# ---------------------------------------------------------------- W6: SQLite

SMSREL=domains/HomeDomain/Library/SMS/sms.db

sqlite_fixture() {
	fixture sqlite-enc -encrypted -kdf fast -seed 5
	local db=$FIX/sqlite-local.db stamp=$FIX/sqlite-enc.db.ok
	if [ -f "$stamp" ] && [ ! "$stamp" -ot "$FIX/sqlite-enc.ok" ] && [ -f "$db" ]; then
		return 0
	fi
	say "  building a 200 MB SQLite database and putting it into sqlite-enc as HomeDomain/Library/SMS/sms.db"
	rm -f "$db" "$stamp"
	show sqlite3 "$db" "< (850,000 messages, index on handle_id, date; see scripts/bench.sh)"
	sqlite3 "$db" <<- 'EOF'
		PRAGMA page_size = 4096;
		PRAGMA journal_mode = OFF;
		PRAGMA synchronous = OFF;
		CREATE TABLE message(ROWID INTEGER PRIMARY KEY, handle_id INTEGER NOT NULL, date INTEGER NOT NULL,
		  service TEXT, text TEXT);
		WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 850000)
		INSERT INTO message SELECT x, (x * 7919) % 5000, 700000000000000000 + x * 1000000000,
		  CASE x % 3 WHEN 0 THEN 'iMessage' WHEN 1 THEN 'SMS' ELSE 'RCS' END,
		  printf('message %d to handle %d: %s', x, (x * 7919) % 5000, substr('Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit', 1 + x % 97, 120 + x % 61))
		FROM c;
		CREATE INDEX message_handle_date ON message(handle_id, date);
		PRAGMA journal_mode = DELETE;
	EOF
	run "$TOOL" replace -key-file "$FIX/sqlite-enc.key" -domain HomeDomain -path Library/SMS/sms.db -src "$db" "$FIX/sqlite-enc" > /dev/null
	touch "$stamp"
}

w6() {
	say "W6 sqlite3 -readonly queries on a 200 MB database: in the encrypted backup through the mount vs a local plaintext copy"
	sqlite_fixture
	local db=$FIX/sqlite-local.db b
	b=$(blob sqlite-enc HomeDomain Library/SMS/sms.db)
	say "   database: $(($(stat -c %s "$db") / 1000000)) MB"
	local -A q=(
		[scan]="SELECT count(*), sum(length(text)), max(date) FROM message;"
		[lookup]="SELECT count(*), sum(length(text)) FROM message WHERE handle_id BETWEEN 1000 AND 1049;"
	)
	local -A qname=([scan]="full scan" [lookup]="index lookups (10k rows)")
	declare -A cold=() warm=()
	local k
	for _ in $(seq "$RUNS"); do
		for k in scan lookup; do
			drop_file "$db"
			timed sqlite3 -readonly "$db" "${q[$k]}"; cold[local-$k]+=" $T"
			timed sqlite3 -readonly "$db" "${q[$k]}"; warm[local-$k]+=" $T"
			drop_file "$b"
			mnt_up w6 sqlite-enc
			timed sqlite3 -readonly "$MP/$SMSREL" "${q[$k]}"; cold[mnt-$k]+=" $T"
			timed sqlite3 -readonly "$MP/$SMSREL" "${q[$k]}"; warm[mnt-$k]+=" $T"
			mnt_down "$MP"
		done
	done
	# The answers must agree, or the times mean nothing.
	mnt_up w6 sqlite-enc
	for k in scan lookup; do
		if [ "$(sqlite3 -readonly "$db" "${q[$k]}")" != "$(sqlite3 -readonly "$MP/$SMSREL" "${q[$k]}")" ]; then
			say "   W6 $k: the mounted database answers differently from the local copy"
			return 1
		fi
	done
	mnt_down "$MP"
	local lc lw mc mw
	# shellcheck disable=SC2086 # the lists of times are words on purpose: median's arguments
	for k in scan lookup; do
		lc=$(median ${cold[local-$k]}); lw=$(median ${warm[local-$k]})
		mc=$(median ${cold[mnt-$k]}); mw=$(median ${warm[mnt-$k]})
		ratio_row "W6 sqlite ${qname[$k]} cold" "$(calc '%.3f s' "$mc")" "$(calc '%.3f s' "$lc")" "$(calc '%.2f' "$mc / $lc")" "<=" 1.5
		ratio_row "W6 sqlite ${qname[$k]} warm" "$(calc '%.3f s' "$mw")" "$(calc '%.3f s' "$lw")" "$(calc '%.2f' "$mw / $lw")" "<=" 1.5
	done
}

# ---------------------------------------------------------------- W7: unlock

w7() {
	say "W7 unlock: PBKDF2-HMAC-SHA256 with 10,000,000 rounds on one core; opening with a saved key"
	local out ours=() std=()
	for _ in $(seq "$KRUNS"); do
		capture out taskset -c 1 "$KTEST" -test.run '^$' -test.bench 'KDF' -test.benchtime 1x -test.count 1
		log "$out"
		ours+=("$(awk '/KDF\/ours/ { for (i = 1; i < NF; i++) if ($(i + 1) == "ns/op") print $i / 1e9 }' <<< "$out")")
		std+=("$(awk '/KDF\/stdlib/ { for (i = 1; i < NF; i++) if ($(i + 1) == "ns/op") print $i / 1e9 }' <<< "$out")")
	done
	local o s
	o=$(median "${ours[@]}")
	s=$(median "${std[@]}")
	ratio_row "W7 KDF 10M rounds vs Go crypto/pbkdf2" "$(calc '%.2f s' "$o")" "$(calc '%.2f s' "$s")" "$(calc '%.2f' "$o / $s")" "<=" 1.0

	# A small encrypted backup with the real KDF (10,000,000 rounds): the key must skip it.
	fixture small-enc -encrypted -kdf real -seed 4
	fixture small-plain -seed 4
	local pe=() pp=()
	for _ in $(seq 7); do
		timed "$BIN" ls --key-file "$FIX/small-enc.key" "$FIX/small-enc"; pe+=("$T")
		timed "$BIN" ls "$FIX/small-plain"; pp+=("$T")
	done
	local e p g
	e=$(median "${pe[@]}")
	p=$(median "${pp[@]}")
	row "W7 unlock with key file (iosbackup ls, process)" "$(calc '%.1f ms' "$e * 1000")" "$(calc '%.1f ms' "$p * 1000") (plain)" \
		"$(calc '%.2f' "$e / $p")" "<= 50 ms" "$(meets "$(calc '%.4f' "$e * 1000")" "<=" 50)"
	capture g "$TOOL" unlock -n 7 -key-file "$FIX/small-enc.key" "$FIX/small-enc" 2>> "$LOG"
	row "W7 unlock with key (backup.Open, in Go)" "$g ms" "-" "-" "<= 50 ms" "$(meets "$g" "<=" 50)"
}

# ---------------------------------------------------------------- W8: capture

w8() {
	say "W8 full capture from the simulated device over a unix socket (TLS): iosbackup capture vs idevicebackup2"
	if ! command -v idevicebackup2 > /dev/null; then
		say "   idevicebackup2 is missing (apt-get install libimobiledevice-utils)"
		return 1
	fi
	fixture capture-src -entries 5000 -big 256M -seed 6
	local sock=$BENCH/w8-mux.sock simlog=$BENCH/w8-devicesim.log out=$BENCH/w8-out
	rm -f "$sock"
	show "$SIM" --socket "$sock" --from "$FIX/capture-src" "&"
	"$SIM" --socket "$sock" --from "$FIX/capture-src" > "$simlog" 2>&1 &
	SIMPID=$!
	trap 'kill "$SIMPID" 2> /dev/null || true' EXIT # this workload's subshell
	for _ in $(seq 100); do
		grep -q '^devicesim ready' "$simlog" && break
		sleep 0.1
	done
	grep -q '^devicesim ready' "$simlog" || { say "   devicesim did not start: $(cat "$simlog")"; return 1; }
	local udid
	udid=$(sed -n 's/.* udid=\([^ ]*\) .*/\1/p' "$simlog")
	local ours=() theirs=() ocpu=() tcpu=() lours=() ltheirs=() bytes files
	# w8_pair: one capture by each, into fresh folders (the simulator's CPU is not counted).
	w8_pair() {
		rm -rf "$out" && mkdir -p "$out/ours" "$out/theirs"
		timed env "USBMUXD_SOCKET_ADDRESS=unix://$sock" "$BIN" capture --full --progress none "$out/ours"
		W8O=$T W8OC=$TCPU
		# libusbmuxd spells a unix socket UNIX:PATH, go-ios unix://PATH.
		timed env "USBMUXD_SOCKET_ADDRESS=UNIX:$sock" idevicebackup2 backup --full "$out/theirs"
		W8T=$T W8TC=$TCPU
	}
	for _ in $(seq "$RUNS"); do
		w8_pair
		ours+=("$W8O") theirs+=("$W8T") ocpu+=("$W8OC") tcpu+=("$W8TC")
	done
	if [ "$LOAD" = 1 ]; then
		spin_start
		for _ in $(seq "$RUNS"); do
			w8_pair
			lours+=("$W8O") ltheirs+=("$W8T")
		done
		spin_stop
	fi
	# Both must hold the same files, or the times mean nothing (Info.plist is each host's own,
	# Status.plist and Manifest.plist carry dates).
	show diff -r -x Info.plist -x Status.plist -x Manifest.plist "$out/ours/$udid" "$out/theirs/$udid"
	if ! diff -r -q -x Info.plist -x Status.plist -x Manifest.plist "$out/ours/$udid" "$out/theirs/$udid" >> "$LOG"; then
		say "   W8: the two captures differ (see $LOG)"
		return 1
	fi
	bytes=$(find "$out/ours/$udid" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
	files=$(find "$out/ours/$udid" -type f | wc -l)
	say "   each capture: $files files, $((bytes / 1000000)) MB"
	local o t
	o=$(median "${ours[@]}")
	t=$(median "${theirs[@]}")
	ratio_row "W8 capture MB/s vs idevicebackup2" "$(calc '%.0f MB/s' "$bytes / 1e6 / $o")" "$(calc '%.0f MB/s' "$bytes / 1e6 / $t")" \
		"$(calc '%.2f' "$t / $o")" ">=" 1.0
	ratio_row "W8 capture files/s vs idevicebackup2" "$(calc '%.0f files/s' "$files / $o")" "$(calc '%.0f files/s' "$files / $t")" \
		"$(calc '%.2f' "$t / $o")" "-" "-"
	local oc tc
	oc=$(median "${ocpu[@]}")
	tc=$(median "${tcpu[@]}")
	ratio_row "W8 capture CPU time (user+sys) vs idevicebackup2" "$(calc '%.2f s' "$oc")" "$(calc '%.2f s' "$tc")" \
		"$(calc '%.2f' "$oc / $tc")" "-" "-"
	if [ "$LOAD" = 1 ]; then
		o=$(median "${lours[@]}")
		t=$(median "${ltheirs[@]}")
		ratio_row "W8 capture MB/s vs idevicebackup2, under load" "$(calc '%.0f MB/s' "$bytes / 1e6 / $o")" "$(calc '%.0f MB/s' "$bytes / 1e6 / $t")" \
			"$(calc '%.2f' "$t / $o")" ">=" 1.0
	fi
	rm -rf "$out"
}

# ---------------------------------------------------------------- W9: verify

# blob_bytes DIR: the bytes of a backup's blobs (the files named by a 40-hex file ID).
blob_bytes() { find "$1" -type f -regextype egrep -regex '.*/[0-9a-f]{40}' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

# cat_blobs DIR: cat of every blob of a backup to /dev/null, in the order find lists them.
cat_blobs() { find "$1" -type f -regextype egrep -regex '.*/[0-9a-f]{40}' -exec cat {} + > /dev/null; }

w9() {
	say "W9 full verify of an encrypted backup (decrypt, digests, quick_check of every database) vs cat of all its blobs, cold"
	fixture verify-enc -encrypted -kdf fast -entries 100000 -big 512M -seed 8
	local dir=$FIX/verify-enc bytes vs=() cs=()
	bytes=$(blob_bytes "$dir")
	say "   blobs: $((bytes / 1000000)) MB"
	for _ in $(seq "$RUNS"); do
		drop_all
		timed "$BIN" verify --key-file "$FIX/verify-enc.key" "$dir"; vs+=("$T")
		drop_all
		show cat_blobs "$dir"
		timed cat_blobs "$dir"; cs+=("$T")
	done
	local v c
	v=$(calc '%.0f' "$bytes / 1e6 / $(median "${vs[@]}")")
	c=$(calc '%.0f' "$bytes / 1e6 / $(median "${cs[@]}")")
	ratio_row "W9 verify cold vs cat of the blobs" "$v MB/s" "$c MB/s" "$(calc '%.2f' "$v / $c")" ">=" 0.80
}

# ---------------------------------------------------------------- W10: diff

# diff_backups A B: iosbackup diff, whose exit status 1 means "they differ".
diff_backups() { "$BIN" diff "$@" || [ $? -eq 1 ]; }

w10() {
	say "W10 diff of two 1,000,000-entry manifests (revisions 0 and 1 of a device) vs loading both (iosbackup ls of each), manifests in the page cache"
	fixture tree1m-plain -entries 1000000 -omit-filler-blobs -seed 3
	fixture tree1m-plain-r1 -entries 1000000 -omit-filler-blobs -seed 3 -revision 1
	local a=$FIX/tree1m-plain b=$FIX/tree1m-plain-r1 ds=() ls=() n
	cat "$a/Manifest.db" "$b/Manifest.db" > /dev/null
	capture n diff_backups "$a" "$b"
	say "   $(printf '%s\n' "$n" | wc -l) differences"
	for _ in $(seq "$RUNS"); do
		timed diff_backups "$a" "$b"; ds+=("$T")
		timed "$BIN" ls "$a"
		local la=$T
		timed "$BIN" ls "$b"
		ls+=("$(calc '%.4f' "$la + $T")")
	done
	local d l
	d=$(median "${ds[@]}")
	l=$(median "${ls[@]}")
	ratio_row "W10 diff 1M vs 1M entries vs loading both" "$(calc '%.2f s' "$d")" "$(calc '%.2f s' "$l")" "$(calc '%.2f' "$d / $l")" "<=" 2.0
}

# ---------------------------------------------------------------- W11: serve (WebDAV)

# srv_up FIXTURE: `iosbackup serve` of a fixture on a free loopback port, in the
# background; sets SURL (its URL, from the line it prints) and SPID.
SURL=''
SPID=''
srv_up() {
	local out=$BENCH/serve.out key=()
	if [ -f "$FIX/$1.key" ]; then key=(--key-file "$FIX/$1.key"); fi
	show "$BIN" serve --addr 127.0.0.1:0 "${key[@]}" "$FIX/$1" "&"
	: > "$out"
	"$BIN" serve --addr 127.0.0.1:0 "${key[@]}" "$FIX/$1" > "$out" 2>> "$LOG" &
	SPID=$!
	SURL=
	local i
	for i in $(seq 600); do
		SURL=$(awk '/^Serving / { print $NF; exit }' "$out")
		[ -n "$SURL" ] && return 0
		kill -0 "$SPID" 2> /dev/null || break
		sleep 0.1
	done
	echo "serve of $1 did not start (after $i tries)" >&2
	return 1
}

srv_down() {
	kill -INT "$SPID" 2> /dev/null || true
	wait "$SPID" 2> /dev/null || true
}

w11() {
	say "W11 serve over WebDAV: rclone lsl (PROPFIND depth 1, folder by folder) of 100,000 entries vs ls -lR through the mount;"
	say "    GET of the 1 GiB encrypted file (curl) vs cat through the mount; both cold (drop_caches / evicted blob, fresh server and mount)"
	tree_fixtures
	big_fixtures
	local benc conf=$BENCH/rclone.conf
	benc=$(blob big-enc MediaDomain Media/Recordings/big.mov)
	: > "$conf"
	local ml=() sl=() mg=() sg=()
	for _ in $(seq "$RUNS"); do
		drop_all
		mnt_up w11 tree100k-enc
		timed ls -lR "$MP/domains"; ml+=("$T")
		mnt_down "$MP"
		drop_all
		srv_up tree100k-enc
		timed rclone --config "$conf" --webdav-url "$SURL" lsl :webdav:domains; sl+=("$T")
		srv_down
		drop_file "$benc"
		mnt_up w11 big-enc
		timed cat "$MP/$BIGREL"; mg+=("$T")
		mnt_down "$MP"
		drop_file "$benc"
		srv_up big-enc
		timed curl -sS -o /dev/null "$SURL$BIGREL"; sg+=("$T")
		srv_down
	done
	local size mb L M S G
	size=$(stat -c %s "$(blob big-plain MediaDomain Media/Recordings/big.mov)")
	mb=$((size / 1000000))
	M=$(median "${ml[@]}"); L=$(median "${sl[@]}")
	ratio_row "W11 rclone lsl over WebDAV vs ls -lR mounted, cold" "$(calc '%.2f s' "$L")" "$(calc '%.2f s' "$M")" "$(calc '%.2f' "$L / $M")" "<=" 1.5
	S=$(calc '%.0f' "$mb / $(median "${sg[@]}")"); G=$(calc '%.0f' "$mb / $(median "${mg[@]}")")
	ratio_row "W11 GET 1 GiB encrypted vs cat mounted, cold" "$S MB/s" "$G MB/s" "$(calc '%.2f' "$S / $G")" ">=" 0.80
}

# ---------------------------------------------------------------- W12: restore

w12() {
	say "W12 restore of a ~200 MB backup into the simulated device over a unix socket (TLS): iosbackup restore vs idevicebackup2 restore"
	if ! command -v idevicebackup2 > /dev/null; then
		say "   idevicebackup2 is missing (apt-get install libimobiledevice-utils)"
		return 1
	fi
	fixture restore-src -entries 5000 -big 190M -seed 9
	local sock=$BENCH/w12-mux.sock simlog=$BENCH/w12-devicesim.log out=$BENCH/w12-out udid
	udid=$("$BIN" info "$FIX/restore-src" | sed -n 's/^UDID: *//p')
	# Both tools read ROOT/<UDID>; hard links make that folder without copying the blobs.
	rm -rf "$out" && mkdir -p "$out/root"
	run cp -al "$FIX/restore-src" "$out/root/$udid"
	rm -f "$sock"
	show "$SIM" --socket "$sock" --udid "$udid" --from "$FIX/restore-src" "&"
	"$SIM" --socket "$sock" --udid "$udid" --from "$FIX/restore-src" > "$simlog" 2>&1 &
	SIMPID=$!
	trap 'kill "$SIMPID" 2> /dev/null || true' EXIT # this workload's subshell
	for _ in $(seq 100); do
		grep -q '^devicesim ready' "$simlog" && break
		sleep 0.1
	done
	grep -q '^devicesim ready' "$simlog" || { say "   devicesim did not start: $(cat "$simlog")"; return 1; }
	local ours=() theirs=() bytes files
	for _ in $(seq "$RUNS"); do
		timed env "USBMUXD_SOCKET_ADDRESS=unix://$sock" "$BIN" restore --yes --system --settings --remove --progress none "$out/root/$udid"
		ours+=("$T")
		# libusbmuxd spells a unix socket UNIX:PATH, go-ios unix://PATH.
		timed env "USBMUXD_SOCKET_ADDRESS=UNIX:$sock" idevicebackup2 restore --system --settings --remove "$out/root"
		theirs+=("$T")
	done
	bytes=$(find "$out/root/$udid" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
	files=$(find "$out/root/$udid" -type f | wc -l)
	say "   each restore: $files files, $((bytes / 1000000)) MB (whole runs: connection, checks, transfer, the device reading what it got)"
	local o t
	o=$(median "${ours[@]}")
	t=$(median "${theirs[@]}")
	ratio_row "W12 restore MB/s vs idevicebackup2" "$(calc '%.0f MB/s' "$bytes / 1e6 / $o")" "$(calc '%.0f MB/s' "$bytes / 1e6 / $t")" \
		"$(calc '%.2f' "$t / $o")" ">=" 1.0
	ratio_row "W12 restore files/s vs idevicebackup2" "$(calc '%.0f files/s' "$files / $o")" "$(calc '%.0f files/s' "$files / $t")" \
		"$(calc '%.2f' "$t / $o")" "-" "-"
	rm -rf "$out"
}

# ---------------------------------------------------------------- run and report

for w in w1 w7 w2 w3 w4 w5 w5b w6 w8 w9 w10 w11 w12; do
	workload "$w"
done

echo
say "RESULTS (median of $RUNS runs; $KRUNS for W1, W2, W3, W7). ratio = ours/reference:"
say "  higher is better for MB/s and IOPS, lower for times. Commands: $LOG"
{
	printf 'workload\tours\treference\tratio\ttarget\tmet?\n'
	cat "$ROWS"
} | awk -F'\t' '
	{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = (NF > nf ? NF : nf) }
	END {
		for (r = 1; r <= n; r++) {
			line = ""
			for (i = 1; i <= nf; i++) line = line sprintf(i < nf ? "%-" w[i] "s  " : "%s", cell[r, i])
			print line
			if (r == 1) { sep = ""; for (i = 1; i <= nf; i++) sep = sep sprintf("%s", substr("------------------------------------------------------------------------", 1, w[i])) (i < nf ? "  " : ""); print sep }
		}
	}' | tee -a "$LOG"
missed=$(awk -F'\t' '$6 == "NO"' "$ROWS" | wc -l)
echo
say "$missed target(s) missed; total time $(calc '%.0f' "$EPOCHREALTIME - $START") s"
