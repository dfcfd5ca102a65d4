#!/usr/bin/env bats
# The README's first command runs examples/demo: it must work, end
# cleanly, and leave nothing behind — as root and as an ordinary user.

load helper

setup() {
	rp_setup_dirs
}

check_demo_output() {
	assert_line --regexp '/r/running-process/broker/rpb-v1-[0-9a-f]{16}-be-[0-9a-f]{32}\.sock$'
	assert_line "hello through the broker"
	assert_line 'route=reconnect: hi'
	assert_line 'route=handoff: hi'
	assert_line 'running_process_broker_v1_handoff_total{service="echo",version="1.0.0",outcome="accepted"} 1'
	assert_line "exe_path: $RP_BUILD/bin/rp-handoff-recv"
	assert_line "exit status: 18"
	assert_line "this line travelled as an open fd"
	assert_line "rp-handoff-send: rejected: handoff token mismatch"
	assert_line --regexp '^tty=/dev/pts/[0-9]+ size=40 120'
	assert_line "exit=3"
	assert_line "rp-broker exited 0"
	assert_line "socket files left: 0"
	assert_line --regexp '^ +1 +DIED_SHUTDOWN$'
	assert_line "demo finished"
}

# The processes whose environment holds RP_DEMO_MARK=$1: what a demo run
# so marked started (every descendant inherits it), and nothing of the
# other tests that may run beside this one.
marked() {
	grep -lzx "RP_DEMO_MARK=$1" /proc/[0-9]*/environ 2>/dev/null
}

@test "the demo runs and cleans up after itself" {
	local mark=$BATS_TEST_TMPDIR/demo work
	run timeout 120 env RP_DEMO_MARK="$mark" B="$RP_BUILD" \
		"$RP_ROOT/examples/demo"
	assert_success
	check_demo_output
	# Not a terminal: no escape sequence anywhere (make demo | cat).
	[[ "$output" != *$'\e'* ]]
	assert_line "1. a service definition: the broker will start examples/echo-backend for 'echo'"
	# Its temporary directory is gone, and no process of it is left.
	work=$(sed -n 's/^rp demo in \(\/tmp\/rpd\.[A-Za-z0-9]*\) .*/\1/p' <<<"$output")
	[ -n "$work" ]
	[ ! -e "$work" ]
	run marked "$mark"
	[ -z "$output" ]
}

@test "the demo: bold step titles on a terminal, none with NO_COLOR" {
	# script(1) gives the demo a terminal; its output is the typescript.
	run timeout 120 script -qec "env B='$RP_BUILD' '$RP_ROOT/examples/demo'" /dev/null
	assert_success
	[[ "$output" == *$'\e[1m1. a service definition'* ]]
	run timeout 120 script -qec "env NO_COLOR=1 B='$RP_BUILD' '$RP_ROOT/examples/demo'" /dev/null
	assert_success
	[[ "$output" == *"1. a service definition"* ]]
	[[ "$output" != *$'\e['* ]]
	# NO_COLOR set but empty means nothing, as no-color.org says.
	run timeout 120 script -qec "env NO_COLOR= B='$RP_BUILD' '$RP_ROOT/examples/demo'" /dev/null
	assert_success
	[[ "$output" == *$'\e[1m1. a service definition'* ]]
}

@test "the demo runs as an ordinary user" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to uid 65534"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		test -x "$RP_ROOT/examples/demo" -a -r "$RP_BUILD/bin/rp-broker" ||
		skip "the tree is not readable by uid 65534"
	run timeout 120 setpriv --reuid=65534 --regid=65534 --clear-groups \
		env HOME=/nonexistent B="$RP_BUILD" "$RP_ROOT/examples/demo"
	assert_success
	assert_line --regexp '^rp demo in /tmp/rpd\.[A-Za-z0-9]+ \(user [a-z]+, uid 65534\)$'
	check_demo_output
}
