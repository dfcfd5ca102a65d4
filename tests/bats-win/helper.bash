# helper.bash — what the Windows end-to-end tests share.  They run from
# tests/run-windows, which provides the Wine prefix and a warm wineserver
# (whose services must not be started from inside a test: they would
# inherit bats' descriptors and hold it open after the last test).
#
#   RP_BUILD_WIN  the Windows build directory (build-win/)
#   wine_run [-N] EXE [ARG...]
#                 bats' `run` for an .exe under Wine: bounded in time, fd 3
#                 closed (bats waits for every holder of it), CRs dropped
#                 from $output and $lines (the CRT writes CRLF).  -N as
#                 for run: the status expected (-127 must be said).

# run -N (an expected status) is bats 1.5's.
bats_require_minimum_version 1.5.0

WINE=${WINE:-/usr/lib/wine/wine64}
RP_BUILD_WIN=${RP_BUILD_WIN:-$BATS_TEST_DIRNAME/../../build-win}

wine_run() {
	local expect=() f
	case ${1-} in -[0-9]*) expect=("$1"); shift ;; esac
	# Through a file, not bats' pipe: a Wine process the run starts and
	# that outlives it (explorer.exe /desktop, started by the first
	# pseudo console or window) inherits the output, and would keep a
	# pipe open, and bats waiting, for as long as it lives.
	f=$(mktemp "$BATS_TEST_TMPDIR/wine_run.XXXXXX")
	run "${expect[@]}" wine_to_file "$f" "$@"
	output=$(cat "$f")
	rm -f "$f"
	output=${output//$'\r'/}
	lines=()
	if [ -n "$output" ]; then
		# shellcheck disable=SC2034  # bats' own $lines
		mapfile -t lines <<<"$output"
	fi
}

wine_to_file() {
	local f=$1
	shift
	timeout -k 10 120 "$WINE" "$@" >"$f" 2>&1 3>&-
}

# Every .exe of the build.
win_exes() {
	ls "$RP_BUILD_WIN"/bin/*.exe "$RP_BUILD_WIN"/tests/unit/*.exe \
		2>/dev/null
}

RP_ROOT=${RP_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
WIN_BG=()

# A program of the build: rp-probe -> .../bin/rp-probe.exe.
rp() {
	echo "$RP_BUILD_WIN/bin/$1.exe"
}
# A test program (tests/win/helpers): child, pipe-relay, pipe-wait.
helper() {
	echo "$RP_BUILD_WIN/tests/win/$1.exe"
}

# The Windows name of a Linux path (Wine's Z: drive), without starting
# Wine (winepath would).
winpath() {
	local p
	p=$(realpath -m "$1")
	echo "Z:${p//\//\\}"
}

# A pipe name of this test alone.
pipe_name() {
	echo "rp-bw-$$-${BATS_TEST_NUMBER}-$1"
}

# Start an .exe in the background, its stdout and stderr into
# $BATS_TEST_TMPDIR/NAME.out and .err; stopped by teardown (wine_stop_all).
wine_bg() {
	local name=$1
	shift
	timeout -k 5 120 "$WINE" "$@" 3>&- </dev/null \
		>"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" &
	WIN_BG+=("$!")
}

# Wait (bounded) for a background .exe to end; its exit status.
wine_wait() {
	local pid=${WIN_BG[$1]}
	wait "$pid"
}

wine_stop_all() {
	local pid
	for pid in "${WIN_BG[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	WIN_BG=()
}

# The independent Python peer (tests/bats-win/py/winwire.py), with
# classes protoc generates from proto/rp_v1.proto once per file.
rp_pb_setup() {
	export RP_PB_DIR="$BATS_FILE_TMPDIR/pb"
	mkdir -p "$RP_PB_DIR"
	protoc -I"$RP_ROOT/proto" -I/usr/include --python_out="$RP_PB_DIR" \
		"$RP_ROOT/proto/rp_v1.proto" /usr/include/protobuf-c/protobuf-c.proto
}

winwire() {
	PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 \
		"$RP_ROOT/tests/bats-win/py/winwire.py" "$@"
}

new_token() {
	od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# ------------------------------------------------------------ the broker

# Start rp-broker.exe with ARGS; wait (bounded) for its pipe PIPE.
# Its index among the background programs in $BROKER_BG.
broker_start() {
	local p=$1
	shift
	BROKER_BG=${#WIN_BG[@]}
	wine_bg broker "$(rp rp-broker)" "$@"
	wine_run "$(helper pipe-wait)" "$p"
	[ "$status" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/broker.err"; return 1; }
}

# Ask the broker on PIPE to stop, and wait for it: its exit status in
# $status.
broker_shutdown() {
	local rc=0
	wine_run "$(rp rp-probe)" admin shutdown -s "$1"
	[ "$status" -eq 0 ]
	wine_wait "$BROKER_BG" || rc=$?
	status=$rc
}

# Bytes in FILE to PIPE by pipe-relay.exe; the HelloReply that came
# back as JSON in $output (decoded by Python).
relay_reply() {
	timeout -k 5 60 "$WINE" "$(helper pipe-relay)" "$1" <"$2" \
		>"$BATS_TEST_TMPDIR/reply" 2>/dev/null 3>&-
	run winwire hello-reply <"$BATS_TEST_TMPDIR/reply"
}

# hello_reply PIPE SERVICE VERSION [FIELD=VALUE...]: a Hello built by
# Python through the pipe, the HelloReply as JSON in $output.
hello_reply() {
	local p=$1
	shift
	winwire hello "$@" >"$BATS_TEST_TMPDIR/hello"
	relay_reply "$p" "$BATS_TEST_TMPDIR/hello"
}

# A private directory (Wine makes its DACL of the Unix mode), in
# Windows terms: the service definitions of a test.
defs_dir() {
	mkdir -m 0700 "$BATS_TEST_TMPDIR/defs"
	winpath "$BATS_TEST_TMPDIR/defs"
}

# A Python check of a JSON document: d is the document.
pyjson() {
	/usr/bin/python3 -c "import json, sys
d = json.loads(sys.argv[1])
$1" "${@:2}"
}

# The pipe name (bare) of this user's default broker: hash16 of the
# user's SID (as child.exe's token says) computed here, by b3sum.
default_pipe() {
	local sid h
	sid=$(timeout -k 5 60 "$WINE" "$(helper child)" sid </dev/null 3>&-)
	sid=${sid%$'\r'}
	[[ $sid == S-1-* ]] || return 1
	h=$(winwire sid-hash-input "$sid" | b3sum --no-names -l 8)
	echo "rpb-v1-$h-shared"
}

# A definition of echo for echo-backend.exe in a private directory;
# that directory's Windows name in $DEFS.
echo_def() {
	DEFS=$(defs_dir)
	wine_run "$(rp rp-servicedef)" write --dir "$DEFS" --service echo \
		--binary "$(winpath "$(rp echo-backend)")" "$@"
	[ "$status" -eq 0 ]
}

# The pid of the broker's one backend of SERVICE on PIPE (admin status).
backend_pid() {
	local out
	out=$(timeout -k 5 60 "$WINE" "$(rp rp-probe)" admin status --json \
		-s "$1" </dev/null 2>/dev/null 3>&-) || return 1
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
b = [x for x in d["backends"] if x["service_name"] == sys.argv[2]]
assert len(b) == 1, d["backends"]
print(b[0]["pid"])' "$out" "$2"
}

# 0 when Windows process PID runs (child.exe alive), else 1.
win_alive() {
	timeout -k 5 60 "$WINE" "$(helper child)" alive "$1" </dev/null \
		>/dev/null 2>&1 3>&-
}
