#!/usr/bin/env bats
# echo-backend.exe under Wine: the C example backend a Windows service
# definition names directly.  Its probe checked by rp-probe.exe and by
# the plain Win32 client with Python's protobuf; its echo.

load helper

setup_file() {
	rp_pb_setup
}

teardown() {
	wine_stop_all
}

start_backend() {
	RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE=$1 wine_bg be "$(rp echo-backend)"
	wine_run "$(helper pipe-wait)" "$1"
	[ "$status" -eq 0 ]
}

@test "echo-backend.exe: its identity checks out, by rp-probe and by a Win32 client" {
	local p
	p=$(pipe_name eb)
	start_backend "$p"
	wine_run "$(rp rp-probe)" identity --json "$p"
	[ "$status" -eq 0 ]
	[[ $output == *'"exe_hash":"'"$(b3sum --no-names "$(rp echo-backend)")"'"'* ]]
	winwire probe-request "$BATS_TEST_TMPDIR/nonce" >"$BATS_TEST_TMPDIR/req"
	timeout -k 5 60 "$WINE" "$(helper pipe-relay)" "$p" \
		<"$BATS_TEST_TMPDIR/req" >"$BATS_TEST_TMPDIR/reply" \
		2>"$BATS_TEST_TMPDIR/relay.err" 3>&-
	[[ $(cat "$BATS_TEST_TMPDIR/relay.err") =~ server-pid\ ([0-9]+) ]]
	run winwire probe-reply "$BATS_TEST_TMPDIR/nonce" <"$BATS_TEST_TMPDIR/reply"
	[ "$status" -eq 0 ]
	grep -qx "pid: ${BASH_REMATCH[1]}" <<<"$output"
}

@test "echo-backend.exe echoes a client" {
	local p
	p=$(pipe_name ee)
	start_backend "$p"
	wine_run "$(helper pipe-relay)" "$p" 10000 15 \
		< <(printf 'hello, backend\n') 3>&-
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "hello, backend" ]
}
