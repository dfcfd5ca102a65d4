# Shared by the rp-broker suites (it loads helper and endpoint): a broker
# on a private socket in the test's directory, service definitions written
# by an independent peer, the test backends, JSON fields.  It gives a
# suite its setup and teardown; one that needs more defines its own and
# calls broker_setup and broker_teardown from them.

load helper
load endpoint

bw() {
	PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 "$RP_ROOT/tests/bats/py/brokerwire.py" "$@"
}

# bw_bg OUT ARGS... — brokerwire in the background with stdout to OUT (and
# not on bats' fd 3); its pid in BG_PID and in rp_teardown's list, so a
# failing test never leaves it behind.
bw_bg() {
	local out=$1
	shift
	PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 \
		"$RP_ROOT/tests/bats/py/brokerwire.py" "$@" >"$out" 3>&- &
	BG_PID=$!
	RP_BG_PIDS+=("$BG_PID")
}

# The same as a plain command (no function), for rp_start when the pid
# must be the one that execs on: bw_exec activate ... -- rp-broker ...
bw_exec() {
	echo env PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 \
		"$RP_ROOT/tests/bats/py/brokerwire.py"
}

# jf EXPR — evaluate EXPR over the JSON document d read from stdin.
jf() {
	/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
' "$1"
}

# field NAME — a top-level field of the JSON document in $output.
field() {
	echo "$output" | jf "d[\"$1\"]"
}

broker_setup() {
	rp_setup_dirs
	export RP_TEST_BACKEND="$RP_BUILD/tests/helpers/rp-test-backend"
	unset RP_TEST_ENV_DIR RP_TEST_BACKEND_DELAY_MS RP_TEST_BACKEND_GATE NOTIFY_SOCKET \
		LISTEN_PID LISTEN_FDS RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS
	BK="$RP_ROOT/tests/bats/backends"
	DEFS="$RUNNING_PROCESS_SERVICE_DEF_DIR"
	mkdir -p "$DEFS"
	chmod 0700 "$T/config" "$T/config/running-process" "$DEFS"
	SOCK="$T/run/b.sock"
	BPID=
}

broker_teardown() {
	rp_teardown
	rp_check_sanitizer_logs
}

setup() {
	broker_setup
}

teardown() {
	broker_teardown
}

# start_broker [ARGS...]: rp-broker on $SOCK, ready on fd 3; pid in BPID.
start_broker() {
	rp_start broker rp-broker -s "$SOCK" --ready-fd 3 "$@"
	BPID=$RP_LAST_PID
}

# spawn_in_flight WAITERS — a broker with --spawn-waiters WAITERS and
# events to $T/ev, whose backend (serve) is held at its start until
# release_backends, and a first Hello in the background (pid in FIRST,
# reply in $T/first) whose spawn is under way on return.  first_negotiated
# releases the backend, waits for that Hello and expects it negotiated.
spawn_in_flight() {
	def echo serve
	hold_backends
	start_broker --spawn-waiters "$1" --events "$T/ev" --spawn-timeout 120s
	bw_bg "$T/first" hello --socket "$SOCK"
	FIRST=$BG_PID
	wait_for grep -q SPAWN_ATTEMPT "$T/ev"
}

# full_of_waiting [ARGS...] — a broker with --max-clients 1 (and ARGS)
# whose one slot is a Hello waiting for a backend held at its start (as in
# spawn_in_flight): a connection doing real work, which is never evicted
# (pid in FIRST, reply in $T/first), so the next client is over the limit.
full_of_waiting() {
	def echo serve
	hold_backends
	start_broker --max-clients 1 --events "$T/ev" --spawn-timeout 120s "$@"
	bw_bg "$T/first" hello --socket "$SOCK"
	FIRST=$BG_PID
	wait_for grep -q SPAWN_ATTEMPT "$T/ev"
}

# hold_backends: test backends started from now on wait, before anything
# else, until release_backends (rp-test-backend's RP_TEST_BACKEND_GATE).
hold_backends() {
	rm -f "$T/gate"
	export RP_TEST_BACKEND_GATE="$T/gate"
}

release_backends() {
	touch "$T/gate"
}

first_negotiated() {
	release_backends
	wait "$FIRST"
	[ "$(jf 'd["result"]' <"$T/first")" = negotiated ]
}

# Stop the broker with SIGTERM and expect exit status 0.
stop_broker() {
	local rc=0
	kill -TERM "$BPID"
	wait "$BPID" || rc=$?
	[ "$rc" -eq 0 ] || { echo "broker exited $rc"; cat "$T/broker.err"; return 1; }
}

# def SERVICE BACKEND [servicedef options]: a definition whose binary is
# tests/bats/backends/BACKEND.sh (or BACKEND itself when absolute).
def() {
	local svc=$1 be=$2
	shift 2
	case $be in
	/*) ;;
	*) be="$BK/$be.sh" ;;
	esac
	bw servicedef --dir "$DEFS" --service "$svc" --binary "$be" "$@" >/dev/null
}

hello() {
	bw hello --socket "$SOCK" "$@"
}

admin() {
	bw admin --socket "$SOCK" "$@"
}

# The value of one OpenMetrics sample (0 when absent), parsed by
# prometheus_client's OpenMetrics parser.
metric() {
	bw admin --socket "$SOCK" metrics --body | /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
name, want = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
total = 0
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
            total += s.value
print(int(total) if total == int(total) else total)
' "$@"
}

# Wait (bounded) until a command succeeds: a condition, not a sleep.
wait_for() {
	local i
	for i in $(seq 1 500); do
		"$@" && return 0
		sleep 0.02
	done
	echo "condition never held: $*"
	return 1
}

# env_of PID VAR — VAR in the environment a test backend started with
# (it writes them to $RP_TEST_ENV_DIR/PID.env).
env_of() {
	sed -n "s/^$2=//p" "$RP_TEST_ENV_DIR/$1.env"
}

# Direct children of a process, one pid per line.
children_of() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | sed '/^$/d'
}

# fd_count_is PID N — PID has N fds open (a condition for wait_for).
fd_count_is() {
	[ "$(rp_fd_count "$1")" -eq "$2" ]
}
