#!/usr/bin/env bats
# The processes rp-broker starts, through the real binaries: backends die
# with a broker killed by SIGKILL and the next broker removes their
# endpoints; a clean stop leaves no descendant (one that ignores SIGTERM
# in the backend's group, one that left it with setsid); --max-backends
# bounds the backends of one service; a stopped backend (SIGSTOP) is not
# handed out and shows as stopped; a failed spawn's process is no crash.

load broker
bats_require_minimum_version 1.5.0

setup() {
	broker_setup
	export RP_TEST_ENV_DIR="$T/env"
	mkdir -p "$RP_TEST_ENV_DIR"
}

teardown() {
	local f
	# Nothing a test started may survive it, even when it failed.
	for f in "$RP_TEST_ENV_DIR"/*.pid; do
		[ -e "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null || true
	done
	broker_teardown
}

backend_pid() {
	admin backend-health --service "$1" --body | jf "[b['pid'] for b in d['backends'] if b['service_version'] == '${2:-1.0.0}'][0]"
}

backend_state() {
	admin backend-health --service "$1" --body | jf "[b['state'] for b in d['backends'] if b['service_version'] == '${2:-1.0.0}'][0]"
}

state_is() {
	[ "$(backend_state "$1")" = "$2" ]
}

# gone PID: no such process, or one that has ended (a zombie of a parent
# that does not reap, as init in a container may not).
gone() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

@test "backends die with a broker killed by SIGKILL; the next broker removes their endpoints" {
	def echo serve
	def quiet silent
	start_broker --events "$T/ev" --spawn-timeout 60000
	run -0 hello
	[ "$(field result)" = negotiated ]
	local live starting
	live=$(backend_pid echo)
	# one still starting: it never answers its identity probe
	bw_bg "$T/waiting" hello --socket "$SOCK" --service quiet
	wait_for grep -q '"starting .*quiet@' "$T/ev"
	wait_for state_is quiet spawning
	starting=$(backend_pid quiet)
	[ -n "$(ls "$T"/run/rpb-v1-*-be-*.sock)" ]
	kill -KILL "$BPID"
	wait "$BPID" || true
	wait_for gone "$live"
	wait_for gone "$starting"
	# their endpoints are left behind...
	[ -n "$(ls "$T"/run/rpb-v1-*-be-*.sock)" ]
	# ...until the next broker on that directory removes them
	rp_start broker2 rp-broker -s "$SOCK" --ready-fd 3
	BPID=$RP_LAST_PID
	run ! ls "$T"/run/rpb-v1-*-be-*.sock
	grep -q 'stale backend endpoint' "$T/broker2.err"
	run -0 hello
	[ "$(field result)" = negotiated ]
	stop_broker
}

@test "a broker leaves the live endpoints of another broker in its directory alone" {
	def echo serve
	start_broker --instance one
	run -0 hello
	local pipe
	pipe=$(field backend_pipe)
	local first=$BPID
	SOCK="$T/run/b2.sock"
	rp_start broker2 rp-broker -s "$SOCK" --ready-fd 3 --instance two
	BPID=$RP_LAST_PID
	[ -S "$pipe" ]
	stop_broker
	BPID=$first
	SOCK="$T/run/b.sock"
	run -0 hello
	[ "$(field backend_pipe)" = "$pipe" ]
	stop_broker
}

@test "the start-up sweep removes only stale endpoints: not one bound and not yet listening, not another owner's" {
	local h pre
	h=$(printf '%s' "$(id -u):$(cat /etc/machine-id)" | b3sum --no-names -l 8)
	pre="$T/run/rpb-v1-$h"
	mkdir -p "$T/run"
	chmod 0700 "$T/run"
	# a backend of another broker of ours between its bind and its
	# listen: held bound (not listening) by a helper until its stdin ends
	mkfifo "$T/hold"
	/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
print("bound", flush=True)
sys.stdin.read()
' "$pre-be-00000000000000000000000000000001.sock" <"$T/hold" >"$T/held" &
	RP_BG_PIDS+=("$!")
	exec {hold}>"$T/hold"
	wait_for grep -q bound "$T/held"
	# stale ones: bound, then closed; one of them given to another owner
	/usr/bin/python3 -c '
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX); s.bind(p); s.close()
' "$pre-be-00000000000000000000000000000002.sock" "$pre-ho-00000000000000000000000000000003.sock" \
		"$pre-be-00000000000000000000000000000004.sock"
	chown 65534 "$pre-be-00000000000000000000000000000004.sock"
	start_broker
	[ ! -e "$pre-be-00000000000000000000000000000002.sock" ]
	[ ! -e "$pre-ho-00000000000000000000000000000003.sock" ]
	[ -S "$pre-be-00000000000000000000000000000001.sock" ]
	[ -S "$pre-be-00000000000000000000000000000004.sock" ]
	[ "$(grep -c 'stale backend endpoint' "$T/broker.err")" -eq 2 ]
	exec {hold}>&-
	stop_broker
}

@test "a clean stop leaves no descendant: not one that ignores SIGTERM, not one that called setsid" {
	def gk grandkids
	start_broker --events "$T/ev"
	run -0 hello --service gk
	[ "$(field result)" = negotiated ]
	local be term sid
	be=$(backend_pid gk)
	term=$(cat "$RP_TEST_ENV_DIR/gc-term.pid")
	sid=$(cat "$RP_TEST_ENV_DIR/gc-setsid.pid")
	kill -0 "$term"
	kill -0 "$sid"
	# one in the backend's group, one in a session of its own
	[ "$(ps -o pgid= -p "$term" | tr -d ' ')" = "$be" ]
	[ "$(ps -o sid= -p "$sid" | tr -d ' ')" = "$sid" ]
	stop_broker
	# gone before the broker's exit, reaped by it: not even zombies
	run ! kill -0 "$be"
	run ! kill -0 "$term"
	run ! kill -0 "$sid"
	grep -q '"kind":"DIED_SHUTDOWN"' "$T/ev"
}

@test "descendants orphaned while the broker runs are reaped, not left zombies" {
	def gk grandkids
	start_broker --events "$T/ev"
	run -0 hello --service gk
	local be sid
	be=$(backend_pid gk)
	sid=$(cat "$RP_TEST_ENV_DIR/gc-setsid.pid")
	kill -KILL "$be"
	wait_for grep -q DIED_CRASH "$T/ev"
	# the setsid one came back to the broker, a child subreaper
	wait_for bash -c '[ "$(ps -o ppid= -p "$1" | tr -d " ")" = "$2" ]' _ "$sid" "$BPID"
	kill -KILL "$sid"
	wait_for bash -c '! kill -0 "$1" 2>/dev/null' _ "$sid"
	stop_broker
}

@test "a stopped backend is not handed out: code 3, state stopped; continued, it serves again" {
	def echo serve
	start_broker
	run -0 hello
	local pid
	pid=$(backend_pid echo)
	kill -STOP "$pid"
	echo "$pid" >"$RP_TEST_ENV_DIR/stopped.pid"
	wait_for state_is echo stopped
	[ "$(admin backend-health --body | jf 'd["backends"][0]["healthy"]')" = false ]
	[ "$(admin status --json --body | jf 'd["backends"][0]["state"]')" = stopped ]
	[ "$(admin dump --body | jf 'd["backends"][0]["state"]')" = stopped ]
	run -0 hello
	[ "$(field result)" = refused ]
	[ "$(field code)" = 3 ]
	[ "$(field reason)" = "backend is stopped" ]
	[ "$(field retry_after_ms)" = 1000 ]
	grep -q "was stopped by SIGSTOP" "$T/broker.err"
	kill -CONT "$pid"
	wait_for state_is echo live
	run -0 hello
	[ "$(field result)" = negotiated ]
	[ "$(backend_pid echo)" = "$pid" ]
	# stopped again, a clean stop still ends it at once (SIGCONT follows
	# the SIGTERM)
	kill -STOP "$pid"
	wait_for state_is echo stopped
	stop_broker
	run ! kill -0 "$pid"
}

@test "a stopped backend: diagnose fails its check (exit 1), rp-probe diagnose says so" {
	def echo serve
	start_broker
	run -0 hello
	local pid
	pid=$(backend_pid echo)
	run -0 rp-probe admin -s "$SOCK" diagnose
	kill -STOP "$pid"
	echo "$pid" >"$RP_TEST_ENV_DIR/stopped.pid"
	wait_for state_is echo stopped
	run -0 admin diagnose
	[ "$(field exit_code)" = 1 ]
	[ "$(field body | jf '[c["status"] for c in d["checks"] if c["name"] == "backend:echo@1.0.0"][0]')" = fail ]
	[[ "$(field body | jf '[c["detail"] for c in d["checks"] if c["name"] == "backend:echo@1.0.0"][0]')" == stopped* ]]
	run -1 rp-probe admin -s "$SOCK" diagnose
	kill -CONT "$pid"
	wait_for state_is echo live
	run -0 rp-probe admin -s "$SOCK" diagnose
}

@test "a stopped backend is not counted in active_backends" {
	def echo serve
	start_broker
	run -0 hello
	local pid
	pid=$(backend_pid echo)
	[ "$(metric running_process_broker_v1_active_backends service=echo)" = 1 ]
	kill -STOP "$pid"
	echo "$pid" >"$RP_TEST_ENV_DIR/stopped.pid"
	wait_for state_is echo stopped
	[ "$(metric running_process_broker_v1_active_backends service=echo)" = 0 ]
	kill -CONT "$pid"
	wait_for state_is echo live
	[ "$(metric running_process_broker_v1_active_backends service=echo)" = 1 ]
}

@test "--max-backends bounds one service's backends: code 4, retry 1000, serving throughout" {
	def echo serve
	def other serve
	start_broker --max-backends 2
	run -0 hello --version 1.0.0
	[ "$(field result)" = negotiated ]
	run -0 hello --version 1.0.1
	[ "$(field result)" = negotiated ]
	run -0 hello --version 1.0.2
	[ "$(field result)" = refused ]
	[ "$(field code)" = 4 ]
	[ "$(field reason)" = "backend spawn budget exhausted" ]
	[ "$(field retry_after_ms)" = 1000 ]
	# the running ones and other services are served as before
	run -0 hello --version 1.0.1
	[ "$(field result)" = negotiated ]
	run -0 hello --service other
	[ "$(field result)" = negotiated ]
	[ "$(admin config --body | jf 'd["config"]["max_backends"]["value"]')" = 2 ]
	# a backend that ends makes room
	kill -KILL "$(backend_pid echo 1.0.0)"
	wait_for state_is echo idle
	run -0 hello --version 1.0.2
	[ "$(field result)" = negotiated ]
	stop_broker
}

@test "by default 8 backends of one service, however many versions are asked for" {
	def echo serve
	start_broker
	local v n=0 refused=0
	for v in $(seq 1 12); do
		run -0 hello --version "1.0.$v"
		case $(field result) in
		negotiated) n=$((n + 1)) ;;
		refused) [ "$(field code)" = 4 ]; refused=$((refused + 1)) ;;
		esac
	done
	[ "$n" = 8 ]
	[ "$refused" = 4 ]
	[ "$(children_of "$BPID" | wc -l)" = 8 ]
	stop_broker
}

@test "the process of a failed spawn, stopped by the broker, is no crash" {
	def quiet silent
	start_broker --spawn-timeout 300 --events "$T/ev"
	run -0 hello --service quiet
	[ "$(field code)" = 3 ]
	wait_for bash -c '[ -z "$(cat /proc/$1/task/*/children)" ]' _ "$BPID"
	grep -q '"outcome":"failure"' "$T/ev"
	run ! grep -q DIED_CRASH "$T/ev"
	run ! grep -q 'killed by SIGTERM' "$T/ev"
	[ "$(metric running_process_broker_v1_backend_deaths_total reason=crash)" = 0 ]
	stop_broker
}
