# Shared by the endpoint suites (rp-probe, rp-handoff-send, rp-handoff-recv):
# an independent Python peer (tests/bats/py/rpwire.py) whose protobuf
# classes protoc generates from proto/rp_v1.proto once per file.

# Once per file: setup_file below, or a suite's own setup_file.
rp_pb_setup() {
	export RP_PB_DIR="$BATS_FILE_TMPDIR/pb"
	mkdir -p "$RP_PB_DIR"
	protoc -I"$RP_ROOT/proto" -I/usr/include --python_out="$RP_PB_DIR" \
		"$RP_ROOT/proto/rp_v1.proto" /usr/include/protobuf-c/protobuf-c.proto
}

# The setup_file of every suite that loads this file.
setup_file() {
	rp_pb_setup
}

rpwire() {
	PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 "$RP_ROOT/tests/bats/py/rpwire.py" "$@"
}

# The SYNOPSIS block of doc/TOOL.1.scd.
rp_synopsis() {
	sed -n '/^# SYNOPSIS/,/^# DESCRIPTION/p' "$RP_ROOT/doc/$1.1.scd" |
		sed -n '/^```$/,/^```$/p' | sed '1d;$d'
}

# --help must start with the SYNOPSIS, verbatim.
rp_check_synopsis() {
	local tool=$1 syn help
	syn=$(rp_synopsis "$tool")
	[ -n "$syn" ]
	help=$("$tool" --help)
	[ "$(printf '%s\n' "$help" | head -n "$(printf '%s\n' "$syn" | wc -l)")" = "$syn" ]
}

# The generated page has no mandoc complaint beyond the paragraph macros
# scdoc always emits (and style notes).
rp_check_manpage() {
	local page="$RP_BUILD/doc/$1.1" out
	[ -f "$page" ]
	out=$(mandoc -Tlint -Wwarning "$page" 2>&1 | grep -v 'skipping paragraph macro' || true)
	[ -z "$out" ] || { echo "$out"; return 1; }
}

# Usage errors: status 2 and exactly one line on stderr, naming the tool.
rp_check_usage_error() {
	local tool=$1 err
	shift
	err="$BATS_TEST_TMPDIR/usage.err"
	set +e
	"$tool" "$@" >/dev/null 2>"$err"
	local rc=$?
	set -e
	if [ "$rc" -ne 2 ] || [ "$(wc -l <"$err")" -ne 1 ] ||
		! grep -q "^$tool: " "$err"; then
		echo "$tool $*: exit $rc, stderr:"
		cat "$err"
		return 1
	fi
}

# Run a command as uid/gid 65534 with no groups.
rp_as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}

# SHARED (see rp_shared_dir) with a copy of the protobuf classes in
# $SHARED/pb, where uid 65534 can read them.
rp_share_pb() {
	SHARED=$(rp_shared_dir)
	cp -r "$RP_PB_DIR" "$SHARED/pb"
}

# rpwire as uid 65534, after rp_share_pb.
rpwire_as_nobody() {
	rp_as_nobody env PYTHONPATH="$SHARED/pb" /usr/bin/python3 \
		"$RP_ROOT/tests/bats/py/rpwire.py" "$@"
}

# After rp_teardown: no daemon of this test reported a sanitizer error
# (under SAN builds their stderr is where ASan/UBSan write).
rp_check_sanitizer_logs() {
	local f
	for f in "$BATS_TEST_TMPDIR"/*.err; do
		[ -e "$f" ] || continue
		if grep -q -e 'Sanitizer' -e 'runtime error' "$f"; then
			echo "sanitizer report in $f:"
			cat "$f"
			return 1
		fi
	done
}

# Wait (at most 10 s) for a line on a fifo that a helper writes once it is
# ready.  Opened read-write so that the open itself never blocks: a
# helper that died before opening it fails the wait instead of hanging.
rp_wait_fifo() {
	local fd rc=0
	exec {fd}<>"$1"
	read -r -t 10 -u "$fd" _ || rc=$?
	exec {fd}<&-
	return "$rc"
}

# promtool (Prometheus's checker), from PATH or scripts/promtool's copy.
promtool() {
	local p
	p=$("$RP_ROOT/scripts/promtool") || {
		echo "no promtool: scripts/promtool could not provide one"
		return 1
	}
	"$p" "$@"
}
