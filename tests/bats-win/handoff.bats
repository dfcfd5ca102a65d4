#!/usr/bin/env bats
# rp-handoff-send.exe and rp-handoff-recv.exe under Wine: the transfer of
# 40-handoff.md on Windows (DuplicateHandle, the offer's handle_value)
# over named pipes, with the exit codes of Linux.

load helper

teardown() {
	wine_stop_all
}

@test "a file handed over is copied by the one-shot receiver" {
	local tok p
	tok=$(new_token)
	p=$(pipe_name ho)
	printf 'a file\nof two lines\n' >"$BATS_TEST_TMPDIR/in"
	wine_bg recv "$(rp rp-handoff-recv)" --token "$tok" "$p"
	wine_run "$(rp rp-handoff-send)" --token "$tok" --wait-for-socket \
		--service svc "$p" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	wine_wait 0
	[ "$(cat "$BATS_TEST_TMPDIR/recv.out")" = "$(printf 'a file\nof two lines')" ]
}

@test "a pipe handed over reaches PROG on fd 0" {
	local tok p
	tok=$(new_token)
	p=$(pipe_name pipe)
	wine_bg recv "$(rp rp-handoff-recv)" --token "$tok" "$p" -- \
		"$(helper child)" cat
	wine_run "$(rp rp-handoff-send)" --token "$tok" --wait-for-socket "$p" \
		< <(printf 'through a pipe\n')
	[ "$status" -eq 0 ]
	wine_wait 0
	[ "$(tr -d '\r' <"$BATS_TEST_TMPDIR/recv.out")" = "through a pipe" ]
}

@test "another token: both sides say no (exit 1), nothing is copied" {
	local p
	p=$(pipe_name bad)
	wine_bg recv "$(rp rp-handoff-recv)" --token "$(new_token)" "$p"
	wine_run "$(rp rp-handoff-send)" --token "$(new_token)" \
		--wait-for-socket "$p" <"$BATS_TEST_DIRNAME/helper.bash"
	[ "$status" -eq 1 ]
	[[ $output == *"rejected: handoff token mismatch"* ]]
	# In this shell: a `run` subshell cannot wait for the test's child
	# (bash answers at once for one still running).
	local rc=0
	wine_wait 0 || rc=$?
	[ "$rc" -eq 1 ]
	grep -q 'rejected a transfer: handoff token mismatch' \
		"$BATS_TEST_TMPDIR/recv.err"
	[ ! -s "$BATS_TEST_TMPDIR/recv.out" ]
}

@test "nobody listening: exit 3; no transfer before the deadline: exit 4" {
	wine_run "$(rp rp-handoff-send)" --token "$(new_token)" \
		"$(pipe_name none)" </dev/null
	[ "$status" -eq 3 ]
	[[ $output == *"cannot connect to"* ]]
	wine_run "$(rp rp-handoff-recv)" --token "$(new_token)" --timeout 300 \
		"$(pipe_name alone)"
	[ "$status" -eq 4 ]
	[[ $output == *"no transfer arrived before the deadline"* ]]
}

@test "--raw has no sideband to use on Windows: exit 2 on both sides" {
	wine_run "$(rp rp-handoff-send)" --raw --token "$(new_token)" x </dev/null
	[ "$status" -eq 2 ]
	[[ $output == *"--raw: there is no sideband on this system"* ]]
	wine_run "$(rp rp-handoff-recv)" --raw --token "$(new_token)" x
	[ "$status" -eq 2 ]
}

@test "the endpoint is held by another process: exit 3, never shared" {
	local p
	p=$(pipe_name held)
	wine_bg first "$(rp rp-handoff-recv)" --serve "$p" --echo
	wine_run "$(helper pipe-wait)" "$p"
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-handoff-recv)" --token "$(new_token)" --timeout 300 "$p"
	[ "$status" -eq 3 ]
	[[ $output == *"another process is listening"* ]]
}
