#!/usr/bin/env bats
# rp-broker's backends through the real binaries: spawned backends (their
# environment, readiness by the identity probe, single flight and waiters,
# budget reset, per-version binaries, crash and respawn, no zombies,
# cleanup after failures), static backends (-b), and the real
# examples/echo-backend (rp-handoff-recv --serve).

load broker
bats_require_minimum_version 1.5.0

setup() {
	broker_setup
	export RP_TEST_ENV_DIR="$T/env"
	mkdir -p "$RP_TEST_ENV_DIR"
}

backend_pid() {
	admin backend-health --service "$1" --body | jf "[b['pid'] for b in d['backends'] if b['service_version'] == '${2:-1.0.0}'][0]"
}

# Conditions for wait_for, evaluated afresh on every poll.
crashes_are() {
	[ "$(grep -c DIED_CRASH "$T/ev")" = "$1" ]
}

no_children() {
	[ -z "$(children_of "$BPID")" ]
}

no_zombies() {
	local p st
	for p in $(children_of "$BPID"); do
		st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)
		[ "$st" != Z ] || { echo "zombie $p"; return 1; }
	done
}

# ------------------------------------------------------------- spawned

@test "a spawned backend gets the environment of 20-broker.md" {
	def echo serve
	export NOTIFY_SOCKET="$T/nobody-listens"
	export RUNNING_PROCESS_BROKER_V1_SERVICE_NAME=stale
	start_broker
	run -0 hello --version 1.2.3 --traceparent 00-aa-bb-01 --tracestate st=1
	[ "$(field result)" = negotiated ]
	local pipe pid hash
	pipe=$(field backend_pipe)
	pid=$(backend_pid echo 1.2.3)
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_SERVICE_NAME)" = echo ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_SERVICE_VERSION)" = 1.2.3 ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE)" = "$pipe" ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE)" = shared ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_INSTANCE)" = shared ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_TRACEPARENT)" = 00-aa-bb-01 ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_TRACESTATE)" = st=1 ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_BROKER_PID)" = "$BPID" ]
	# ours replace inherited ones, exactly once; supervisor-only ones go
	[ "$(grep -c '^RUNNING_PROCESS_BROKER_V1_SERVICE_NAME=' "$RP_TEST_ENV_DIR/$pid.env")" = 1 ]
	run ! grep -q '^NOTIFY_SOCKET=' "$RP_TEST_ENV_DIR/$pid.env"
	# the rest of ours is inherited
	[ "$(env_of "$pid" RP_TEST_ENV_DIR)" = "$RP_TEST_ENV_DIR" ]
	# the endpoint: rpb-v1-{hash16}-be-{32 hex}.sock next to our socket
	hash=$(printf '%s:%s' "$(id -u)" "$(cat /etc/machine-id)" | b3sum --no-names -l 8)
	[[ "$pipe" =~ ^$T/run/rpb-v1-$hash-be-[0-9a-f]{32}\.sock$ ]]
	# stdin is /dev/null; the backend is the leader of its own group
	[ "$(readlink "/proc/$pid/fd/0")" = /dev/null ]
	[ "$(awk '{print $5}' "/proc/$pid/stat")" = "$pid" ]
}

@test "without trace context in the Hello there are no trace variables" {
	def echo serve
	start_broker
	run -0 hello
	local pid
	pid=$(backend_pid echo)
	run ! grep -q '^RUNNING_PROCESS_BROKER_V1_TRACE' "$RP_TEST_ENV_DIR/$pid.env"
}

@test "trace context that does not look like it (a newline, an escape, over 512 bytes) stays out of the environment" {
	def echo serve
	start_broker
	# a newline would show another variable to whoever reads the
	# environment as lines
	run -0 hello --version 1.0.0 --traceparent "$(printf '00-x\nLD_PRELOAD=/tmp/evil.so\n-01')" --tracestate "$(printf 'a=1, b=2')"
	[ "$(field result)" = negotiated ]
	local pid
	pid=$(backend_pid echo 1.0.0)
	run ! grep -q '^RUNNING_PROCESS_BROKER_V1_TRACEPARENT' "$RP_TEST_ENV_DIR/$pid.env"
	run ! grep -q '^LD_PRELOAD' "$RP_TEST_ENV_DIR/$pid.env"
	# tracestate may have spaces
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_TRACESTATE)" = "a=1, b=2" ]
	run -0 hello --version 2.0.0 --traceparent 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 --tracestate "$(printf 'x\033[2J')"
	pid=$(backend_pid echo 2.0.0)
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_TRACEPARENT)" = 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 ]
	run ! grep -q '^RUNNING_PROCESS_BROKER_V1_TRACESTATE' "$RP_TEST_ENV_DIR/$pid.env"
	run -0 hello --version 3.0.0 --traceparent "00-$(printf 'a%.0s' $(seq 1 600))-01"
	pid=$(backend_pid echo 3.0.0)
	run ! grep -q '^RUNNING_PROCESS_BROKER_V1_TRACE' "$RP_TEST_ENV_DIR/$pid.env"
}

@test "private and explicit instances name the backend's namespace and instance" {
	def echo serve --isolation 0
	start_broker --private echo
	run -0 hello
	local pid
	pid=$(backend_pid echo)
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE)" = private:echo ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_INSTANCE)" = echo ]
	stop_broker
	SOCK="$T/run/b2.sock"
	rp_start broker2 rp-broker -s "$SOCK" --ready-fd 3 --instance team-a
	BPID=$RP_LAST_PID
	run -0 hello
	pid=$(backend_pid echo)
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE)" = explicit:team-a ]
	[ "$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_INSTANCE)" = team-a ]
}

@test "a live backend is reused: one spawn, one process, the same pipe" {
	def echo serve
	start_broker
	run -0 hello
	local pipe
	pipe=$(field backend_pipe)
	for i in 1 2 3; do
		run -0 hello
		[ "$(field backend_pipe)" = "$pipe" ]
	done
	[ "$(metric running_process_broker_v1_spawn_attempts_total service=echo outcome=success)" = 1 ]
	[ "$(metric running_process_broker_v1_active_backends service=echo)" = 1 ]
	[ "$(ls "$RP_TEST_ENV_DIR" | wc -l)" = 1 ]
	# another version is another backend
	run -0 hello --version 2.0.0
	[ "$(field backend_pipe)" != "$pipe" ]
	[ "$(metric running_process_broker_v1_active_backends service=echo)" = 2 ]
}

@test "Hellos during a spawn wait for it: single flight, everyone negotiated" {
	def echo serve
	export RP_TEST_BACKEND_DELAY_MS=300
	start_broker
	run -0 hello --parallel 6
	[ "$(echo "$output" | jf 'sorted(set(r["result"] for r in d))')" = '["negotiated"]' ]
	[ "$(echo "$output" | jf 'len(set(r["backend_pipe"] for r in d))')" = 1 ]
	[ "$(metric running_process_broker_v1_spawn_attempts_total service=echo)" = 1 ]
}

refused_at_least() {
	[ "$(grep -c HELLO_REFUSED "$T/ev")" -ge "$1" ]
}

@test "--spawn-waiters caps how many wait; the rest hear code 4" {
	spawn_in_flight 2
	bw_bg "$T/five" hello --socket "$SOCK" --parallel 5
	local five=$BG_PID
	# three are refused while the spawn is held; two wait for it
	wait_for refused_at_least 3
	first_negotiated
	wait "$five"
	output=$(cat "$T/five")
	[ "$(echo "$output" | jf 'sum(1 for r in d if r["result"] == "negotiated")')" = 2 ]
	[ "$(echo "$output" | jf 'sum(1 for r in d if r.get("code") == 4 and r["reason"] == "backend spawn already in progress")')" = 3 ]
	[ "$(grep -c HELLO_REFUSED "$T/ev")" = 3 ]
}

@test "per_version_binary_dir: <dir>/<version>/<basename> when it exists" {
	mkdir -p "$T/versions/1.0.0"
	cp "$BK/serve.sh" "$T/versions/1.0.0/backend"
	def echo /nonexistent/bin/backend --per-version-dir "$T/versions"
	start_broker
	run -0 hello --version 1.0.0
	[ "$(field result)" = negotiated ]
	run -0 hello --version 2.0.0
	[ "$(field reason)" = "backend spawn failed: cannot execute /nonexistent/bin/backend: No such file or directory" ]
	# a symlink leading out of the directory is refused
	mkdir -p "$T/versions/3.0.0"
	ln -s "$BK/serve.sh" "$T/versions/3.0.0/backend"
	run -0 hello --version 3.0.0
	[ "$(field code)" = 3 ]
	[[ "$(field reason)" == *"outside"* ]]
}

@test "a backend that dies is reaped at once, its endpoint removed, and respawned" {
	def echo serve
	start_broker --events "$T/ev"
	run -0 hello
	local pipe pid
	pipe=$(field backend_pipe)
	pid=$(backend_pid echo)
	kill -KILL "$pid"
	wait_for grep -q DIED_CRASH "$T/ev"
	[ ! -e "/proc/$pid" ]
	[ ! -e "$pipe" ]
	no_zombies
	[ "$(admin backend-health --body | jf 'd["backends"][0]["state"]')" = idle ]
	grep '"kind":"DIED_CRASH"' "$T/ev" | grep -q 'killed by SIGKILL'
	run -0 hello
	[ "$(field result)" = negotiated ]
	[ "$(field backend_pipe)" != "$pipe" ]
	[ "$(backend_pid echo)" != "$pid" ]
	[ "$(metric running_process_broker_v1_backend_deaths_total reason=crash)" = 1 ]
	[ "$(metric running_process_broker_v1_spawn_attempts_total service=echo outcome=success)" = 2 ]
}

@test "a success starts the spawn budget over" {
	def echo serve
	start_broker --spawn-budget 1/3600 --events "$T/ev"
	for round in 1 2 3; do
		run -0 hello
		[ "$(field result)" = negotiated ]
		kill -KILL "$(backend_pid echo)"
		wait_for crashes_are "$round"
	done
}

@test "failed spawns leave no process, no zombie and no endpoint behind" {
	def quiet silent
	def forks fork
	def gone exit
	start_broker --spawn-timeout 400 --probe-timeout 100 --events "$T/ev"
	for s in quiet forks gone; do
		run -0 hello --service "$s"
		[ "$(field code)" = 3 ]
	done
	# the silent one and the forked pair are stopped (SIGTERM to the group)
	wait_for no_children
	# every process that started (the fork's child wrote its own file)
	# is gone: kill -0 would still reach a zombie
	[ "$(ls "$RP_TEST_ENV_DIR" | wc -l)" = 4 ]
	for f in "$RP_TEST_ENV_DIR"/*.env; do
		wait_for bash -c '! kill -0 "$1" 2>/dev/null' _ "$(basename "$f" .env)"
	done
	run ! ls "$T"/run/rpb-v1-*-be-*.sock
	[ "$(metric running_process_broker_v1_spawn_attempts_total outcome=failure)" = 3 ]
}

@test "spawned backends are stopped when the broker stops, and their endpoints removed" {
	def a serve
	def b serve
	start_broker --events "$T/ev"
	hello --service a >/dev/null
	hello --service b >/dev/null
	local pa pb
	pa=$(backend_pid a)
	pb=$(backend_pid b)
	stop_broker
	run ! kill -0 "$pa"
	run ! kill -0 "$pb"
	run ! ls "$T"/run/rpb-v1-*-be-*.sock
	[ "$(grep -c '"kind":"DIED_SHUTDOWN"' "$T/ev")" = 2 ]
}

# --------------------------------------------------------------- static

@test "a static backend (-b) is verified at start and served without a definition" {
	rp_start be rp-handoff-recv --serve "$T/run/st.sock" --echo --ready-fd 3
	local be=$RP_LAST_PID
	start_broker -b stat@1.4.0="$T/run/st.sock"
	run -0 hello --service stat --version 1.4.0
	[ "$(field result)" = negotiated ]
	[ "$(field backend_pipe)" = "$T/run/st.sock" ]
	[ "$(field daemon_version)" = 1.4.0 ]
	run -0 admin backend-health --service stat --body
	[ "$(echo "$output" | jf 'd["backends"][0]["kind"]')" = static ]
	[ "$(echo "$output" | jf 'd["backends"][0]["pid"]')" = "$be" ]
	[ "$(echo "$output" | jf 'd["backends"][0]["healthy"]')" = true ]
	# the broker never stops what it did not start
	stop_broker
	kill -0 "$be"
}

@test "a static backend that does not answer at start: exit 3, nothing served" {
	run -3 rp-broker -s "$SOCK" -b stat@1.0.0="$T/run/none.sock"
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "rp-broker: static backend stat@1.0.0 at $T/run/none.sock: identity probe failed: "* ]]
	[ ! -e "$SOCK" ]
}

@test "a static backend in doubt is probed again before use; a dead one refuses 3" {
	rp_start be rp-handoff-recv --serve "$T/run/st.sock" --echo --ready-fd 3
	local be=$RP_LAST_PID
	start_broker -b stat@1.0.0="$T/run/st.sock" --probe-interval 0
	run -0 hello --service stat
	[ "$(field result)" = negotiated ]
	kill -TERM "$be"
	wait "$be" || true
	run -0 hello --service stat
	[ "$(field code)" = 3 ]
	[[ "$(field reason)" == "backend spawn failed: static backend $T/run/st.sock failed its identity probe: "* ]]
	[ "$(field retry_after_ms)" = 1000 ]
	[ "$(admin backend-health --body | jf 'd["backends"][0]["healthy"]')" = false ]
	# it comes back (another process, another pid): served again
	rp_start be2 rp-handoff-recv --serve "$T/run/st.sock" --echo --ready-fd 3
	run -0 hello --service stat
	[ "$(field result)" = negotiated ]
	[ "$(admin backend-health --body | jf 'd["backends"][0]["pid"]')" = "$RP_LAST_PID" ]
}

# -------------------------------------------------- the real echo backend

@test "examples/echo-backend: negotiated, then the backend echoes" {
	def echo "$RP_ROOT/examples/echo-backend"
	export RP_BIN="$RP_BUILD/bin"
	start_broker
	run -0 hello
	[ "$(field result)" = negotiated ]
	local pipe
	pipe=$(field backend_pipe)
	run -0 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"hello backend\n")
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    c = s.recv(100)
    if not c:
        break
    out += c
sys.stdout.write(out.decode())
' "$pipe"
	[ "$output" = "hello backend" ]
	no_zombies
}
