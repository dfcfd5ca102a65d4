# Shared setup for the bats suites: the built binaries first on PATH,
# bats-support/bats-assert, per-test temporary directories, and helpers to
# start daemons on a readiness fd (never sleep) and clean them up.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

: "${RP_BUILD:=$(cd "$BATS_TEST_DIRNAME/../../build" && pwd)}"
export PATH="$RP_BUILD/bin:$PATH"
export RP_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

# Every test gets its own private directories; nothing outside them.
rp_setup_dirs() {
	T=$BATS_TEST_TMPDIR
	# Files made by plain redirection must not be group-writable under a
	# umask of 002: a broker refuses such a definition file.
	umask 022
	export XDG_RUNTIME_DIR="$T/run"
	export XDG_CONFIG_HOME="$T/config"
	export RUNNING_PROCESS_SERVICE_DEF_DIR="$T/config/running-process/services"
	unset RUNNING_PROCESS_BROKER_V1_SOCKET RP_HANDOFF_TOKEN TRACEPARENT TRACESTATE
	mkdir -p "$XDG_RUNTIME_DIR" && chmod 0700 "$XDG_RUNTIME_DIR"
	RP_BG_PIDS=()
	SHARED=
}

# rp_start NAME CMD... — start CMD in the background with --ready-fd 3
# appended by the caller as needed; waits (up to 10 s) for the readiness
# line on fd 3, then for fd 3 to be closed (CMD must be a program, not a
# shell function: a subshell running a function would hold fd 3 too).  The pid is in $RP_LAST_PID, stdout/stderr in $T/NAME.out
# and $T/NAME.err.
rp_start() {
	local name=$1 fifo line rfd rc
	shift
	fifo="$T/$name.ready"
	mkfifo "$fifo"
	"$@" 3>"$fifo" >"$T/$name.out" 2>"$T/$name.err" &
	RP_LAST_PID=$!
	RP_BG_PIDS+=("$RP_LAST_PID")
	exec {rfd}<"$fifo"
	if ! read -r -t 10 -u "$rfd" line; then
		exec {rfd}<&-
		echo "# $name did not become ready; stderr:" >&3
		sed 's/^/# /' "$T/$name.err" >&3
		return 1
	fi
	# It closes its readiness fd right after the line: wait for that
	# end of file too, so that a count of its fds made next is exact.
	rc=0
	read -r -t 10 -u "$rfd" line || rc=$?
	exec {rfd}<&-
	if [ "$rc" -ne 1 ]; then
		echo "# $name did not close its readiness fd"
		return 1
	fi
}

# Number of open fds of a process.
rp_fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# A directory that uid 65534 may enter, for tests with another user: the
# caller keeps it in SHARED, and rp_teardown removes it.
rp_shared_dir() {
	local d
	d=$(mktemp -d /tmp/rp-xuid.XXXXXX)
	chmod 0755 "$d"
	echo "$d"
}

# Kill and reap everything rp_start started, then remove $SHARED (the
# directory of rp_shared_dir) when the test made one.  (tail --pid looks
# once a second unless told otherwise: -s keeps teardown from costing a
# second a process.)
rp_teardown() {
	local p
	for p in "${RP_BG_PIDS[@]:-}"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${RP_BG_PIDS[@]:-}"; do
		[ -n "$p" ] || continue
		timeout 10 tail -s 0.02 --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -z "${SHARED:-}" ] || rm -rf "$SHARED"
}

# rp_traced PID — PID runs under a tracer (strace, a debugger); "self"
# for this test.
rp_traced() {
	[ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$1/status")" != 0 ]
}

# rp_skip_if_traced — a test that counts system calls with strace cannot
# run where it is traced already (ptrace does not nest: CI's dependency
# trace of the README's commands); CI's sanitizer run, untraced, runs it.
rp_skip_if_traced() {
	! rp_traced self ||
		skip "traced already: strace cannot trace it again (the untraced runs count)"
}

# True under a sanitizer build (tests/run passes make's SAN on): for the
# few checks that measure what ASan itself changes (memory, fds).
rp_sanitized() {
	[ -n "${SAN:-}" ]
}
