#!/usr/bin/env bats
# The README's examples for the endpoint tools, run exactly as written
# (each in a fresh directory, with the built tools first on PATH): an fd
# handed from one process to another, a backend and its identity probe,
# and the broker walk-through with rp-probe hello / admin.

load helper
load endpoint
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	mkdir "$T/work"
	cd "$T/work"
	SNIPPET=
	SHORT=
}

teardown() {
	cd /
	# A snippet runs in its own session: whatever it left behind after a
	# failure (a broker in the background) goes with it.
	[ -z "$SNIPPET" ] || kill -KILL -- "-$SNIPPET" 2>/dev/null || true
	[ -z "$SHORT" ] || rm -rf "$SHORT"
	rp_teardown
	rp_check_sanitizer_logs
}

# Run snippet.sh with sh -e in a session of its own, at most 60 s; its
# output in $output and $lines as `run` would set them.
run_snippet() {
	setsid sh -e snippet.sh >snippet.out 2>&1 &
	SNIPPET=$!
	status=0
	timeout 60 tail --pid="$SNIPPET" -f /dev/null || true
	wait "$SNIPPET" || status=$?
	output=$(cat snippet.out)
	mapfile -t lines <<<"$output"
	if [ "$status" -ne 0 ]; then
		echo "snippet exited $status:"
		echo "$output"
		return 1
	fi
}

@test "README: hand an fd from one process to another" {
	cat >snippet.sh <<'EOF'
rp-handoff-recv --new-token > tok
rp-handoff-recv --token-file tok h.sock -- cat &    # will exec cat on the fd it receives
rp-handoff-send --token-file tok --wait-for-socket h.sock < /etc/hostname
wait                                                 # cat has printed this machine's name
EOF
	run_snippet
	assert_output "$(cat /etc/hostname)"
	[ ! -e h.sock ]
}

@test "README: a backend endpoint, and who really listens there" {
	cat >snippet.sh <<'EOF'
mkfifo ready
rp-handoff-recv --serve "$PWD/be.sock" --echo --ready-fd 3 3>ready &
read -r _ < ready                         # it accepts connections now: no sleep
rp-probe identity "$PWD/be.sock"          # pid, executable, BLAKE3, boot id: checked against the kernel
rp-probe identity --expect-pid $! --json "$PWD/be.sock"
kill $!; wait $!                           # it stops cleanly: exit 0, socket removed
EOF
	run_snippet
	assert_line --regexp '^pid: [0-9]+$'
	assert_line "exe_path: $RP_BUILD/bin/rp-handoff-recv"
	assert_line "exe_hash: $(b3sum --no-names "$RP_BUILD/bin/rp-handoff-recv")"
	assert_line "endpoint: $T/work/be.sock"
	assert_line --regexp '^\{"verified":true,"pid":[0-9]+,'
}

@test "README: a service, the broker, and rp-probe hello / identity / admin" {
	command -v rp-broker >/dev/null || skip "rp-broker is not built in this tree"
	command -v rp-servicedef >/dev/null || skip "rp-servicedef is not built in this tree"
	# A user's XDG_RUNTIME_DIR is short (/run/user/1000); the test's own
	# would make backend socket paths too long for sun_path.
	SHORT=$(mktemp -d /tmp/rp.XXXXXX)
	export XDG_RUNTIME_DIR=$SHORT
	ln -s "$RP_ROOT/examples" examples
	cat >snippet.sh <<'EOF'
rp-servicedef write --service echo --binary "$PWD/examples/echo-backend" --min-version 1.0.0
mkfifo ready.fifo
rp-broker --ready-fd 3 3>ready.fifo &
read -r _ < ready.fifo                                                       # readiness without sleep
rp-probe hello --service echo --version 1.0.0                                # prints the backend socket path
echo hi | rp-probe hello --service echo --version 1.0.0 --connect           # talk to it, like nc -U
rp-probe hello --service echo --version 1.0.0 -- sh -c 'echo hi >&7; head -1 <&6'   # a client program on fds 6/7
rp-probe identity "$(rp-probe hello --service echo --version 1.0.0)"        # who really listens there?
rp-probe admin metrics | grep -c '^running_process_broker_v1_'               # OpenMetrics text
rp-probe admin shutdown
wait
EOF
	run_snippet
	assert_line --regexp "^$XDG_RUNTIME_DIR/running-process/broker/rpb-v1-[0-9a-f]{16}-be-[0-9a-f]{32}\.sock\$"
	[ "$(grep -cx hi <<<"$output")" -eq 2 ]
	assert_line "exe_path: $RP_BUILD/bin/rp-handoff-recv"
	assert_line "namespace: shared"
	assert_line --regexp '^[1-9][0-9]*$'
	assert_line "broker shutting down"
}
