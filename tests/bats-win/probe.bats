#!/usr/bin/env bats
# rp-probe.exe under Wine, where no broker runs yet (part 2): the bounded
# wait for a pipe that is not there, and the doctor on a Windows machine.

load helper

teardown() {
	wine_stop_all
}

@test "hello --wait-for-socket: a pipe that never comes is exit 4 at the deadline; without it exit 3 at once" {
	local p
	p=$(pipe_name none)
	wine_run "$(rp rp-probe)" hello --wait-for-socket --timeout 700ms \
		-s "$p" echo
	[ "$status" -eq 4 ]
	[[ $output == *"before the deadline"* || $output == *"timed out"* ]]
	wine_run "$(rp rp-probe)" hello --timeout 700ms -s "$p" echo
	[ "$status" -eq 3 ]
}

@test "hello --wait-for-socket: a pipe that comes later is dialled (the identity server of rp-handoff-recv --serve)" {
	local p
	p=$(pipe_name late)
	wine_bg probe "$(rp rp-probe)" admin healthz --wait-for-socket \
		--timeout 60s -s "$p"
	wine_bg serve "$(rp rp-handoff-recv)" --serve "$p" --echo
	# The probe reaches the pipe and gets no admin reply from an echo
	# server, never "no such pipe": it waited, then talked.
	run wine_wait 0
	[ "$status" -ne 3 ]
	! grep -q "No such file" "$BATS_TEST_TMPDIR/probe.err"
}

@test "doctor runs on Windows: one line per check, exit 0 or 1, nothing about inodes to fear" {
	wine_run "$(rp rp-probe)" doctor
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	[[ $output == *"filesystem:inodes"* ]]
	[[ $output == *"no fixed inode table"* ]]
	wine_run "$(rp rp-probe)" doctor --json
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	/usr/bin/python3 -c 'import json, sys; json.loads(sys.argv[1])' "$output"
}
