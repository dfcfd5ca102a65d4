#!/usr/bin/env bats
# rp-spawn-pty.exe under Wine: a pseudo console (ConPTY) and a Job
# Object.  Under Wine 8 a child's own standard handles do not reach a
# pseudo console, so the children here write through CONOUT$ (the
# "conout" mode of tests/win/helpers/child.c); tests/win/wine-gaps.txt
# says what cannot pass here at all.

load helper

teardown() {
	wine_stop_all
}

@test "every line a child wrote before it exited comes out; its status is ours" {
	wine_run "$(rp rp-spawn-pty)" --no-stdin -- "$(helper child)" conout 3000
	[ "$status" -eq 3 ]
	local n
	# The pseudo console puts its own sequences around each line.
	n=$(grep -o 'line [0-9]\{5\}' <<<"$output" | sort -u | wc -l)
	[ "$n" -eq 3000 ]
	[[ $output == *"line 02999"* ]]
}

@test "exit codes: the child's, 127 not found, 126 not a program" {
	wine_run "$(rp rp-spawn-pty)" --no-stdin -- "$(helper child)" exit 42
	[ "$status" -eq 42 ]
	wine_run -127 "$(rp rp-spawn-pty)" --no-stdin -- rp-no-such-program
	[ "$status" -eq 127 ]
	[[ $output == *"cannot run rp-no-such-program"* ]]
	wine_run "$(rp rp-spawn-pty)" --no-stdin -- "$(winpath "$BATS_TEST_TMPDIR")"
	[ "$status" -eq 126 ]
}

@test "a stdout closed at start loses the output and says so: 125" {
	run --separate-stderr timeout -k 10 120 sh -c \
		'"$1" "$2" --no-stdin -- "$3" conout 5 3>&- >&-' _ \
		"$WINE" "$(rp rp-spawn-pty)" "$(helper child)"
	[ "$status" -eq 125 ]
	[ "${stderr//$'\r'/}" = "rp-spawn-pty: write to stdout: Bad file descriptor" ]
}

@test "--master-to: a pseudo console is two pipes, not one handle: 125" {
	local tok p
	tok=$(new_token)
	p=$(pipe_name m)
	printf '%s\n' "$tok" >"$BATS_TEST_TMPDIR/tok"
	wine_bg recv "$(rp rp-handoff-recv)" --token "$tok" --timeout 20000 "$p"
	wine_run "$(helper pipe-wait)" "$p"
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-spawn-pty)" --no-stdin --master-to "$p" \
		--token-file "$(winpath "$BATS_TEST_TMPDIR/tok")" \
		-- "$(helper child)" exit 0
	[ "$status" -eq 125 ]
	[[ $output == *"cannot be handed over as one handle"* ]]
}

@test "--timeout: the Job is terminated, 124" {
	local t0=$SECONDS
	wine_run "$(rp rp-spawn-pty)" --no-stdin --timeout 1 --kill-after 0.5 \
		-- "$(helper child)" sleep 60000
	[ "$status" -eq 124 ]
	[ $((SECONDS - t0)) -lt 30 ]
}

@test "--transcript and --exit-record say what happened" {
	local rec=$BATS_TEST_TMPDIR/rec.json tr=$BATS_TEST_TMPDIR/tr
	wine_run "$(rp rp-spawn-pty)" --no-stdin --size 100x30 \
		--transcript "$(winpath "$tr")" --exit-record "$(winpath "$rec")" \
		-- "$(helper child)" conout 5
	[ "$status" -eq 3 ]
	grep -q 'line 00004' "$tr"
	/usr/bin/python3 - "$rec" "$(stat -c %s "$tr")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_code"] == 3, r
assert r["signal"] is None, r
assert r["timed_out"] is False, r
assert r["size"] == "100x30", r
assert r["bytes_out"] == int(sys.argv[2]), r
assert r["pid"] > 0, r
PY
}

@test "usage errors are 2, as on Linux" {
	wine_run "$(rp rp-spawn-pty)" --size 0x0 -- x
	[ "$status" -eq 2 ]
	wine_run "$(rp rp-spawn-pty)"
	[ "$status" -eq 2 ]
	[[ $output == *"no program to run"* ]]
}

# Wine 8 (wine-gaps.txt): input the program never read keeps the pseudo
# console's output pipe open after it closes, so rp-spawn-pty waits out
# its idle window and says so.
@test "piped stdin: the output is complete and the end comes without a warning" {
	wine_run "$(rp rp-spawn-pty)" -- "$(helper child)" \
		conout 10 3>&- < <(printf 'some input\n')
	[ "$status" -eq 3 ]
	[[ $output == *"line 00009"* ]]
	[[ $output != *"stopped reading it"* ]]
}
