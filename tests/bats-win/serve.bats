#!/usr/bin/env bats
# rp-handoff-recv.exe --serve under Wine: a backend endpoint on a named
# pipe.  Its identity probe checked by rp-probe.exe, and (deliverable 5 of
# the port) by peers that are not ours: a plain Win32 client that only
# relays bytes, with the frames built and checked here by Python protobuf,
# and b3sum for the executable's hash.

load helper

setup_file() {
	rp_pb_setup
}

teardown() {
	wine_stop_all
}

serve() {
	local p=$1
	shift
	wine_bg srv "$(rp rp-handoff-recv)" --serve "$p" "$@"
	wine_run "$(helper pipe-wait)" "$p"
	[ "$status" -eq 0 ]
}

@test "interop: the probe reply of a Win32 client decodes; pid, hash and endpoint check out" {
	local p claim
	p=$(pipe_name id)
	serve "$p" --echo
	winwire probe-request "$BATS_TEST_TMPDIR/nonce" >"$BATS_TEST_TMPDIR/req"
	timeout -k 5 60 "$WINE" "$(helper pipe-relay)" "$p" \
		<"$BATS_TEST_TMPDIR/req" >"$BATS_TEST_TMPDIR/reply" \
		2>"$BATS_TEST_TMPDIR/relay.err" 3>&-
	[[ $(cat "$BATS_TEST_TMPDIR/relay.err") =~ server-pid\ ([0-9]+) ]]
	local server=${BASH_REMATCH[1]}
	run winwire probe-reply "$BATS_TEST_TMPDIR/nonce" <"$BATS_TEST_TMPDIR/reply"
	[ "$status" -eq 0 ]
	claim=$output
	# The pid is the pipe server's (GetNamedPipeServerProcessId).
	grep -qx "pid: $server" <<<"$claim"
	# The hash is b3sum's of the very .exe, and the path is that file.
	grep -qx "exe_hash: $(b3sum --no-names "$(rp rp-handoff-recv)")" <<<"$claim"
	grep -qx "exe_hash_algorithm: blake3" <<<"$claim"
	grep -qxF "exe_path: $(winpath "$(rp rp-handoff-recv)")" <<<"$claim"
	# The endpoint it claims is the pipe's full name.
	grep -qxF "endpoint: \\\\.\\pipe\\$p" <<<"$claim"
}

@test "rp-probe identity verifies it, by any spelling of the pipe's name" {
	local p
	p=$(pipe_name rp)
	serve "$p" --echo
	wine_run "$(rp rp-probe)" identity --json "$p"
	[ "$status" -eq 0 ]
	[[ $output == *'"verified":true'* ]]
	[[ $output == *'"exe_hash":"'"$(b3sum --no-names "$(rp rp-handoff-recv)")"'"'* ]]
	wine_run "$(rp rp-probe)" identity "\\\\.\\PIPE\\${p^^}"
	[ "$status" -eq 0 ]
	# Plain: paths as Windows writes them, no backslash doubled.
	grep -qxF "exe_path: $(winpath "$(rp rp-handoff-recv)")" <<<"$output"
	grep -qxF "endpoint: \\\\.\\pipe\\$p" <<<"$output"
	# What a test pins: the pid it expects, and a wrong one.
	wine_run "$(rp rp-probe)" identity --expect-pid 1 "$p"
	[ "$status" -eq 1 ]
	[[ $output == *"identity mismatch: pid"* ]]
}

@test "an unknown endpoint is unreachable (3)" {
	wine_run "$(rp rp-probe)" identity "$(pipe_name nobody)"
	[ "$status" -eq 3 ]
}

@test "--echo echoes a client, which is not a probe" {
	local p
	p=$(pipe_name echo)
	serve "$p" --echo --probe-window 20
	wine_run "$(helper pipe-relay)" "$p" 10000 12 \
		< <(printf 'hello, pipe\n') 3>&-
	[ "$status" -eq 0 ]
	[[ ${lines[-1]} == "hello, pipe" ]]
}

@test "a client runs PROG on the connection, RP_ROUTE=reconnect in its environment" {
	local p
	p=$(pipe_name prog)
	serve "$p" --probe-window 20 -- "$(helper child)" hello
	wine_run "$(helper pipe-relay)" "$p" \
		< <(printf 'echo me\n') 3>&-
	[ "$status" -eq 0 ]
	[[ $output =~ hello\ from\ [0-9]+,\ route\ reconnect ]]
	[[ ${lines[-1]} == "echo me" ]]
}

@test "a transfer on --handoff is adopted once; the same token again is refused" {
	local p h tok
	p=$(pipe_name ep)
	h=$(pipe_name ho)
	tok=$(new_token)
	serve "$p" --handoff "$h" --echo
	wine_run "$(helper pipe-wait)" "$h"
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-handoff-send)" --token "$tok" "$h" \
		<"$BATS_TEST_DIRNAME/helper.bash"
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-handoff-send)" --token "$tok" "$h" \
		<"$BATS_TEST_DIRNAME/helper.bash"
	[ "$status" -eq 1 ]
	[[ $output == *"handoff token is not pending"* ]]
}
