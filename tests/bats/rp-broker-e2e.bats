#!/usr/bin/env bats
# rp-broker end to end with the toolkit's own binaries: rp-servicedef
# writes the definition, the broker spawns examples/echo-backend
# (rp-handoff-recv --serve), and rp-probe asks for it, talks to it, checks
# who it is, reads the admin verbs, and sees refusals as 10 + code; the
# default socket is found by both sides on their own.

load broker
bats_require_minimum_version 1.5.0

setup() {
	broker_setup
	export RP_BIN="$RP_BUILD/bin"
	SHORT=
}

teardown() {
	broker_teardown
	[ -z "$SHORT" ] || rm -rf "$SHORT"
}

@test "the README's composition: servicedef, broker, probe hello / connect / identity / admin" {
	# a runtime directory as short as /run/user/UID: backend endpoints
	# (rpb-v1-{16}-be-{32}.sock) must fit sun_path next to the socket
	SHORT=$(mktemp -d /tmp/rpe.XXXXXX)
	chmod 0700 "$SHORT"
	export XDG_RUNTIME_DIR=$SHORT
	run -0 rp-servicedef write --service echo --binary "$RP_ROOT/examples/echo-backend" --min-version 1.0.0
	[ "$output" = "$DEFS/echo.servicedef" ]
	# no -s on either side: both derive the default socket
	rp_start broker rp-broker --ready-fd 3
	BPID=$RP_LAST_PID
	run -0 rp-probe hello --service echo --version 1.0.0
	local pipe=$output
	[[ "$pipe" == "$XDG_RUNTIME_DIR/running-process/broker/rpb-v1-"*"-be-"*".sock" ]]
	run -0 bash -c 'echo hi | rp-probe hello --service echo --version 1.0.0 --connect'
	[ "$output" = hi ]
	run -0 rp-probe hello --service echo --version 1.0.0 -- sh -c 'echo via-fds >&7; head -1 <&6'
	[ "$output" = via-fds ]
	# who really listens there: the process the broker started
	local bpid
	bpid=$(rp-probe admin status --json | jf 'd["backends"][0]["pid"]')
	run -0 rp-probe identity --expect-pid "$bpid" "$pipe"
	[[ "$output" == *"pid: $bpid"* ]]
	run -0 rp-probe admin healthz
	[ "$output" = ok ]
	run -0 rp-probe admin readyz
	[ "$output" = ready ]
	run -0 rp-probe admin metrics
	[[ "$output" == *'running_process_broker_v1_hello_total{service="echo",version="1.0.0",outcome="negotiated"} 3'* ]]
	[ "${lines[-1]}" = "# EOF" ]
	for v in dump config list-instances backend-health diagnose; do
		rp-probe admin "$v" | jf 'd["schema_version"]' | grep -qx 1
	done
	run -0 rp-probe admin shutdown
	[ "$output" = "broker shutting down" ]
	local rc=0
	wait "$BPID" || rc=$?
	[ "$rc" -eq 0 ]
	run ! kill -0 "$bpid"
}

@test "refusals reach rp-probe as 10 + ErrorCode" {
	run -0 rp-servicedef write --dir "$DEFS" --service echo --binary "$RP_ROOT/examples/echo-backend" --min-version 2.0.0
	start_broker
	run -12 rp-probe hello -s "$SOCK" --service nope --version 1.0.0
	[[ "$output" == *"SERVICE_UNKNOWN (2): service definition was not found"* ]]
	run -18 rp-probe hello -s "$SOCK" --service echo --version 1.0.0
	[[ "$output" == *"VERSION_BLOCKED (8): wanted_version is below min_version"* ]]
	run -0 rp-probe hello -s "$SOCK" --service echo --version 2.0.0
	kill -TERM "$BPID"
	wait "$BPID"
	run -3 rp-probe hello -s "$SOCK" --service echo --version 2.0.0
}

@test "rp-probe admin over --max-clients is still answered" {
	full_of_waiting
	run -0 rp-probe admin -s "$SOCK" healthz
	[ "$output" = ok ]
	run -1 rp-probe admin -s "$SOCK" readyz
	run -19 rp-probe hello -s "$SOCK" --service echo --version 1.0.0
	[[ "$output" == *"FD_PRESSURE (9): broker is at its connection limit"* ]]
	first_negotiated
}
