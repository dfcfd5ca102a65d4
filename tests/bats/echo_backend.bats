#!/usr/bin/env bats
# examples/echo-backend.c (build/bin/echo-backend): a backend on librp's
# public interface alone.  Checked by the independent Python peer: its
# identity probe (pid the kernel's, hash b3sum's) and its echo.

load helper
load endpoint

setup() {
	rp_setup_dirs
	EP=$T/be.sock
}

teardown() {
	rp_teardown
}

@test "echo-backend answers an identity probe with its own, checkable identity" {
	RP_READY_FD=3 rp_start be echo-backend "$EP"
	run rpwire probe "$EP"
	[ "$status" -eq 0 ]
	assert_line "pid: $RP_LAST_PID"
	assert_line "peer_pid: $RP_LAST_PID"
	assert_line "exe_path: $RP_BUILD/bin/echo-backend"
	assert_line "exe_hash: $(b3sum --no-names "$RP_BUILD/bin/echo-backend")"
	assert_line "endpoint: $EP"
	run rp-probe identity "$EP"
	[ "$status" -eq 0 ]
}

@test "echo-backend echoes a client, the endpoint named by the broker's variable" {
	RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE=$EP RP_READY_FD=3 \
		rp_start be echo-backend
	run rpwire echo "$EP" "hello, backend"
	[ "$status" -eq 0 ]
	[ "$output" = "hello, backend" ]
}

@test "echo-backend: no endpoint is a usage error; a taken one is 3" {
	run env -u RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE echo-backend
	[ "$status" -eq 2 ]
	[[ $output == *"usage: echo-backend"* ]]
	RP_READY_FD=3 rp_start be echo-backend "$EP"
	run echo-backend "$EP"
	[ "$status" -eq 3 ]
	[[ $output == *"another process is listening"* ]]
}
