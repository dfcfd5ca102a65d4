#!/usr/bin/env bats
# rp-broker.exe's backends under Wine: echo-backend.exe started from its
# service definition for a Hello (created suspended, in a kill-on-close
# Job Object, resumed; its pipe named as running-process names it, in
# its environment; its identity probed), a client talking to it there;
# a backend that dies is seen and replaced; SHUTDOWN, Ctrl-C and a
# killed broker leave no backend behind; a definition's path as Windows
# writes it.

load helper

setup_file() {
	rp_pb_setup
}

teardown() {
	wine_stop_all
}

# The backend_pipe of the Negotiated reply in $output, checked against
# upstream's naming for this user: \\.\pipe\rpb-v1-{hash16}-be-{32 hex}.
negotiated_pipe() {
	local def=$1
	/usr/bin/python3 -c 'import json, re, sys
d = json.loads(sys.argv[1])
assert d["result"] == "negotiated", d
assert d["negotiated_protocol"] == 1, d
h = sys.argv[2][len("rpb-v1-"):-len("-shared")]
p = d["backend_pipe"]
assert re.fullmatch(r"\\\\\.\\pipe\\rpb-v1-%s-be-[0-9a-f]{32}" % h, p), p
print(p)' "$output" "$def"
}

@test "a Hello starts echo-backend.exe from its definition; the client talks to it on the negotiated pipe" {
	local def p bp pid
	def=$(default_pipe)
	p=$(pipe_name be)
	echo_def
	broker_start "$p" -s "$p" -d "$DEFS" --events "$(winpath "$BATS_TEST_TMPDIR/ev")"
	hello_reply "$p" echo 1.0.0
	[ "$status" -eq 0 ]
	bp=$(negotiated_pipe "$def")
	# The backend was verified (the identity probe) before the reply.
	grep -q '"kind":"SPAWN",.*"outcome":"success"' "$BATS_TEST_TMPDIR/ev"
	pid=$(backend_pid "$p" echo)
	# The backend serves the pipe the broker named in its environment.
	wine_run "$(helper pipe-relay)" "$bp" 10000 15 \
		< <(printf 'hello, backend\n') 3>&-
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "hello, backend" ]
	[[ $output == *"server-pid $pid"* ]]
	# A second Hello gets the same backend.
	hello_reply "$p" echo 1.0.0
	[ "$(negotiated_pipe "$def")" = "$bp" ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

@test "a definition that does not load is named as Windows names the file: DIR\\NAME.servicedef in its event" {
	local p
	p=$(pipe_name baddef)
	DEFS=$(defs_dir)
	printf 'not a definition\377' >"$BATS_TEST_TMPDIR/defs/bad.servicedef"
	chmod 0600 "$BATS_TEST_TMPDIR/defs/bad.servicedef"
	broker_start "$p" -s "$p" -d "$DEFS" --events "$(winpath "$BATS_TEST_TMPDIR/ev")"
	hello_reply "$p" bad 1.0.0
	[ "$status" -eq 0 ]
	pyjson 'assert d["code"] == 2, d
assert d["reason"].startswith("service definition could not be loaded"), d' "$output"
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
	/usr/bin/python3 -c 'import json, sys
e = [json.loads(l) for l in open(sys.argv[1])]
e = [x for x in e if x["kind"] == "SERVICE_DEF_LOADED"]
assert len(e) == 1, e
assert e[0]["reason"] == sys.argv[2] + "\\bad.servicedef could not be loaded: not a ServiceDefinition", e' \
		"$BATS_TEST_TMPDIR/ev" "$DEFS"
}

@test "SHUTDOWN stops the backend: no process left, DIED_SHUTDOWN in the event log" {
	local p pid
	p=$(pipe_name down)
	echo_def
	broker_start "$p" -s "$p" -d "$DEFS" --events "$(winpath "$BATS_TEST_TMPDIR/ev")"
	hello_reply "$p" echo 1.0.0
	pid=$(backend_pid "$p" echo)
	win_alive "$pid"
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
	! win_alive "$pid"
	grep -q '"kind":"DIED_SHUTDOWN"' "$BATS_TEST_TMPDIR/ev"
}

@test "a broker killed with taskkill /F leaves no backend (its Job Object closes with it)" {
	local p pid bpid
	p=$(pipe_name killed)
	echo_def
	broker_start "$p" -s "$p" -d "$DEFS"
	hello_reply "$p" echo 1.0.0
	pid=$(backend_pid "$p" echo)
	win_alive "$pid"
	wine_run "$(rp rp-probe)" admin status --json -s "$p"
	bpid=$(/usr/bin/python3 -c 'import json, sys
print(json.loads(sys.argv[1])["broker_pid"])' "$output")
	wine_run taskkill /F /PID "$bpid"
	[ "$status" -eq 0 ]
	# Whatever exit code taskkill chose (Windows 1, Wine 0): the broker
	# is gone, and so is its pipe.
	wine_wait "$BROKER_BG" || true
	! win_alive "$bpid"
	wine_run -4 "$(helper pipe-wait)" "$p" 500
	! win_alive "$pid"
}

@test "a backend that dies is seen (DIED_CRASH) and the next Hello starts another" {
	local def p pid pid2
	def=$(default_pipe)
	p=$(pipe_name crash)
	echo_def
	broker_start "$p" -s "$p" -d "$DEFS" --events "$(winpath "$BATS_TEST_TMPDIR/ev")"
	hello_reply "$p" echo 1.0.0
	pid=$(backend_pid "$p" echo)
	wine_run taskkill /F /PID "$pid"
	[ "$status" -eq 0 ]
	# The broker hears of the end (no polling here: the next Hello
	# finds the key empty, or the key dying and waits for it).
	hello_reply "$p" echo 1.0.0
	[ "$status" -eq 0 ]
	negotiated_pipe "$def"
	pid2=$(backend_pid "$p" echo)
	[ "$pid2" != "$pid" ]
	win_alive "$pid2"
	grep -q '"kind":"DIED_CRASH"' "$BATS_TEST_TMPDIR/ev"
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

# Console control events: GenerateConsoleCtrlEvent to the broker's own
# process group (child.exe ctrl), as a console's Ctrl-Break and Ctrl-C
# are, run by start /wait so that Wine gives it a console for them to
# travel through (the broker's stdout and stderr in broker.log, the
# exit status passed back).  The event is sent once the pipe "go"
# exists, which the test makes (echo-backend.exe serving it) when the
# broker has a backend to stop.  Wine 8 carries Ctrl-C, not Ctrl-Break
# (tests/win/wine-gaps.txt).
ctrl_drain() {
	local p go pid rc=0
	p=$(pipe_name "ctrl$1")
	go=$(pipe_name "ctrl$1-go")
	echo_def
	wine_bg ctrl start /wait "$(winpath "$(helper child)")" ctrl "$1" "$go" \
		"$(winpath "$BATS_TEST_TMPDIR/broker.log")" \
		"$(winpath "$(rp rp-broker)")" -s "$p" -d "$DEFS" \
		--events "$(winpath "$BATS_TEST_TMPDIR/ev")"
	wine_run "$(helper pipe-wait)" "$p"
	[ "$status" -eq 0 ]
	hello_reply "$p" echo 1.0.0
	pid=$(backend_pid "$p" echo)
	win_alive "$pid"
	wine_bg go "$(rp echo-backend)" "$go"
	wine_wait 0 || rc=$?
	cat "$BATS_TEST_TMPDIR/broker.log"
	# The broker's own exit status, through child.exe and start.
	[ "$rc" -eq 0 ]
	grep -qx "rp-broker: $2; draining"$'\r\\?' "$BATS_TEST_TMPDIR/broker.log"
	# Its backend stopped with it, and the event log says so.
	! win_alive "$pid"
	grep -q '"kind":"DIED_SHUTDOWN"' "$BATS_TEST_TMPDIR/ev"
}

@test "Ctrl-Break drains the broker: its backend stopped, exit 0, 'SIGTERM; draining'" {
	ctrl_drain break SIGTERM
}

@test "Ctrl-C drains the broker: its backend stopped, exit 0, 'SIGINT; draining'" {
	ctrl_drain c SIGINT
}
