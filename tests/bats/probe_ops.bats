#!/usr/bin/env bats
# rp-probe for operators and scripts, against a real rp-broker and the
# scripted Python broker: what --json means for each admin verb, the
# metrics in both text formats (checked by prometheus_client's parsers
# and by promtool), --output written atomically for node_exporter's
# textfile collector, --wait-for-socket, ids as JSON strings that match
# the broker's events, -q, and what a client the broker turns away is
# told.

load broker
bats_require_minimum_version 1.5.0

setup() {
	broker_setup
	BS="$T/fake.sock"
}

# The scripted broker on $BS answering MODE [ARG]; what it received in
# $T/fake.out.
fake_start() {
	mkfifo "$T/fake.ready"
	rpwire serve-hello "$BS" "$T/fake.ready" "$@" >"$T/fake.out" 2>"$T/fake.err" &
	FAKE=$!
	RP_BG_PIDS+=("$FAKE")
	rp_wait_fifo "$T/fake.ready"
	rm "$T/fake.ready"
}

# A broker with a service whose Hellos it has answered, both ways, so
# that the labelled families have samples.
busy_broker() {
	rp-servicedef write --service echo --binary "$RP_ROOT/examples/echo-backend" \
		--min-version 1.0.0 >/dev/null
	start_broker --handoff --events "$T/ev" "$@"
	run -0 rp-probe hello -s "$SOCK" --service echo --version 1.0.0
	run -18 rp-probe hello -s "$SOCK" --service echo --version 0.9.0
	run -0 rp-probe hello -q -s "$SOCK" --service echo --version 1.0.0 --adopt \
		-- true
}

# ------------------------------------------------------------- --json

@test "admin --json: text-only verbs refuse it (exit 2), before connecting" {
	local v
	for v in healthz readyz metrics shutdown; do
		run --separate-stderr rp-probe admin -s "$T/none.sock" --json "$v"
		[ "$status" -eq 2 ] && [ -z "$output" ] || { echo "$v: $status"; return 1; }
		[ "$stderr" = "rp-probe: admin: --json: $v answers in text only (healthz, readyz, metrics and shutdown have no JSON form) (see --help)" ]
	done
}

@test "admin --json: status as asked; the JSON verbs are JSON either way" {
	start_broker
	run -0 rp-probe admin -s "$SOCK" status
	assert_line "accepting_hello: true"
	run -0 rp-probe admin -s "$SOCK" --json status
	[ "$(field command)" = status ]
	local v
	for v in dump list-instances backend-health config diagnose; do
		run -0 rp-probe admin -s "$SOCK" "$v"
		[ "$(field schema_version)" = 1 ] || { echo "$v: $output"; return 1; }
		run -0 rp-probe admin -s "$SOCK" --json "$v"
		[ "$(field schema_version)" = 1 ] || { echo "$v --json: $output"; return 1; }
	done
	# What goes on the wire: json set for the JSON verbs, whatever was
	# typed (a broker that honours the flag answers the same).
	fake_start admin 0,1
	run -0 rp-probe admin -s "$BS" config
	wait "$FAKE"
	grep -qx "admin.json: 1" "$T/fake.out"
	fake_start admin 0,0
	run -0 rp-probe admin -s "$BS" status
	wait "$FAKE"
	grep -qx "admin.json: 0" "$T/fake.out"
}

# ------------------------------------------------------------ metrics

@test "metrics: OpenMetrics as sent, read by prometheus_client's OpenMetrics parser" {
	busy_broker
	run -0 rp-probe admin -s "$SOCK" metrics
	[ "${lines[-1]}" = "# EOF" ]
	run -0 rp-probe admin -s "$SOCK" --format openmetrics metrics
	[ "${lines[-1]}" = "# EOF" ]
	echo "$output" | /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
h = fams["running_process_broker_v1_hello"]
assert h.type == "counter", h.type
got = {(s.labels["version"], s.labels["outcome"]): s.value for s in h.samples
       if s.name.endswith("_total")}
# (a version refused as such is counted under version "", rp-broker(1))
assert got[("1.0.0", "negotiated")] == 2 and got[("", "version_blocked")] == 1, got
assert fams["running_process_broker_v1_hello_duration_seconds"].type == "histogram"
'
}

@test "metrics --format prometheus: promtool check metrics passes (and fails on OpenMetrics)" {
	busy_broker
	rp-probe admin -s "$SOCK" metrics >"$T/om.txt"
	rp-probe admin -s "$SOCK" --format prometheus metrics >"$T/prom.txt"
	# The problem this format solves: read as classic text, OpenMetrics
	# counters are samples of an undeclared metric.
	run promtool check metrics <"$T/om.txt"
	[ "$status" -ne 0 ]
	assert_output --partial "running_process_broker_v1_hello_total"
	run promtool check metrics <"$T/prom.txt"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	grep -qx "# TYPE running_process_broker_v1_hello_total counter" "$T/prom.txt"
	grep -qx "# TYPE running_process_broker_v1_handoff_total counter" "$T/prom.txt"
	! grep -q "^# EOF" "$T/prom.txt"
	# The same samples, by prometheus_client's classic parser and its
	# OpenMetrics one: only the declarations differ.
	/usr/bin/python3 - "$T/om.txt" "$T/prom.txt" <<'PY'
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
from prometheus_client.parser import text_string_to_metric_families as classic
def samples(fams):
    out = {}
    for f in fams:
        for s in f.samples:
            if s.name.endswith("uptime_seconds") or s.name.endswith("fd_usage_ratio") \
                    or s.name.endswith("fds_open") or "admin_requests" in s.name \
                    or s.name == "process_open_fds" \
                    or "connections_" in s.name:
                continue          # these move between the two scrapes
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out
a = samples(om(open(sys.argv[1]).read()))
b = samples(classic(open(sys.argv[2]).read()))
assert a == b, (set(a.items()) ^ set(b.items()))
assert len(a) > 40, len(a)
types = {f.name: f.type for f in classic(open(sys.argv[2]).read())}
assert types["running_process_broker_v1_hello"] == "counter", types
assert types["running_process_broker_v1_hello_duration_seconds"] == "histogram"
assert types["running_process_broker_v1_connections_open"] == "gauge"
PY
}

@test "metrics -o FILE: written whole, atomically, 0644, for the textfile collector" {
	busy_broker
	mkdir "$T/tf"
	echo old >"$T/tf/rp.prom"
	local ino
	ino=$(stat -c %i "$T/tf/rp.prom")
	run --separate-stderr rp-probe admin -s "$SOCK" --format prometheus \
		-o "$T/tf/rp.prom" metrics
	[ "$status" -eq 0 ] && [ -z "$output" ] && [ -z "$stderr" ]
	# Replaced (a new inode renamed over the old), never written in place.
	[ "$(stat -c %i "$T/tf/rp.prom")" != "$ino" ]
	[ "$(stat -c %a "$T/tf/rp.prom")" = 644 ]
	[ "$(ls -A "$T/tf")" = rp.prom ]
	run -0 promtool check metrics <"$T/tf/rp.prom"
	grep -q '^running_process_broker_v1_hello_total{service="echo",version="1.0.0",outcome="negotiated"} 2$' "$T/tf/rp.prom"
	# Any verb's body can go to a file; a relative name is in the
	# current directory.
	(cd "$T/tf" && rp-probe admin -s "$SOCK" --output health.txt healthz)
	[ "$(cat "$T/tf/health.txt")" = ok ]
}

@test "metrics -o FILE: a failing reply or a failed write leaves FILE alone" {
	echo old >"$T/keep.prom"
	# The broker's exit_code 1: its body to stdout, the file untouched.
	fake_start admin 1,0
	run --separate-stderr rp-probe admin -s "$BS" -o "$T/keep.prom" metrics
	[ "$status" -eq 1 ] && [ "$output" = ok ]
	[ "$(cat "$T/keep.prom")" = old ]
	# A directory we cannot write to: 125, said, nothing left behind.
	mkdir "$T/ro"
	chmod 0500 "$T/ro"
	start_broker
	run --separate-stderr rp-probe admin -s "$SOCK" -o "$T/ro/x.prom" metrics
	if [ "$(id -u)" -ne 0 ]; then
		[ "$status" -eq 125 ]
		[[ "$stderr" == "rp-probe: admin: cannot write $T/ro/x.prom: Permission denied" ]]
	fi
	run --separate-stderr rp-probe admin -s "$SOCK" -o "$T/nodir/x.prom" metrics
	[ "$status" -eq 125 ]
	[ "$stderr" = "rp-probe: admin: cannot write $T/nodir/x.prom: No such file or directory" ]
	[ "$(ls -A "$T/ro")" = "$( [ "$(id -u)" -eq 0 ] && echo x.prom)" ]
}

@test "metrics --format: a usage error off metrics or with another name; a body that is not OpenMetrics is exit 5" {
	run --separate-stderr rp-probe admin --format prometheus status
	[ "$status" -eq 2 ]
	[ "$stderr" = "rp-probe: admin: --format is for metrics (see --help)" ]
	run --separate-stderr rp-probe admin --format classic metrics
	[ "$status" -eq 2 ]
	[ "$stderr" = "rp-probe: admin: --format: 'classic' is neither openmetrics nor prometheus (see --help)" ]
	run --separate-stderr rp-probe admin -o "" metrics
	[ "$status" -eq 2 ]
	# The scripted broker's hostile body (terminal controls) is no
	# OpenMetrics: refused, not converted.
	fake_start admin 0,3
	run --separate-stderr rp-probe admin -s "$BS" --format prometheus metrics
	[ "$status" -eq 5 ] && [ -z "$output" ]
	[ "$stderr" = "rp-probe: admin: the metrics are not OpenMetrics text: line 1: no value after the metric" ] || { echo "$stderr"; return 1; }
}

# ---------------------------------------------------- --wait-for-socket

@test "--wait-for-socket: admin and hello wait for a broker that comes up later" {
	rp-servicedef write --service echo --binary "$RP_ROOT/examples/echo-backend" >/dev/null
	# Nothing there yet, not even the directory.
	local sock="$T/later/b.sock"
	rp-probe admin -s "$sock" --wait-for-socket --timeout 20s readyz \
		>"$T/readyz.out" 2>"$T/readyz.err" &
	local w1=$!
	rp-probe hello -s "$sock" --wait-for-socket --timeout 20s \
		--service echo --version 1.0.0 >"$T/hello.out" 2>"$T/hello.err" &
	local w2=$!
	RP_BG_PIDS+=("$w1" "$w2")
	# Both are waiting: neither has given up.
	kill -0 "$w1" && kill -0 "$w2"
	mkdir -m 0700 "$T/later"
	rp_start broker rp-broker -s "$sock" --ready-fd 3
	wait "$w1" || { cat "$T/readyz.err"; return 1; }
	wait "$w2" || { cat "$T/hello.err"; return 1; }
	[ "$(cat "$T/readyz.out")" = ready ]
	[[ "$(cat "$T/hello.out")" == "$T/later/rpb-v1-"*"-be-"*".sock" ]]
}

@test "--wait-for-socket: bounded by --timeout (exit 4); without it, exit 3 at once" {
	run --separate-stderr rp-probe admin -s "$T/none/b.sock" readyz
	[ "$status" -eq 3 ]
	[ "$stderr" = "rp-probe: cannot connect to the broker at $T/none/b.sock: No such file or directory" ]
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr rp-probe admin -s "$T/none/b.sock" --wait-for-socket \
		--timeout 300ms readyz
	t1=$(date +%s%N)
	[ "$status" -eq 4 ]
	[ "$stderr" = "rp-probe: the broker at $T/none/b.sock did not come up before the deadline" ]
	[ $(((t1 - t0) / 1000000)) -ge 300 ] && [ $(((t1 - t0) / 1000000)) -lt 5000 ]
	run --separate-stderr rp-probe hello -s "$T/none/b.sock" --wait-for-socket \
		--timeout 300ms --service echo --version 1.0.0
	[ "$status" -eq 4 ]
}

# ------------------------------------------------------------- ids

@test "hello --json: 64-bit ids are strings; request_id is the one the events file has" {
	start_broker --events "$T/ev"
	run -12 --separate-stderr rp-probe hello -s "$SOCK" --service nosuch \
		--version 1.0.0 --json
	/usr/bin/python3 - "$output" "$T/ev" <<'PY'
import json, re, sys
r = json.loads(sys.argv[1])
assert r["result"] == "refused"
assert isinstance(r["request_id"], str) and re.fullmatch("[0-9a-f]{32}", r["request_id"]), r
assert isinstance(r["frame_request_id"], str) and re.fullmatch("[1-9][0-9]*", r["frame_request_id"]), r
ev = [json.loads(l) for l in open(sys.argv[2])]
mine = [e for e in ev if e["request_id"] == r["request_id"]]
assert len(mine) == 1 and mine[0]["service_name"] == "nosuch", ev
PY
	# Against the scripted broker: the frame id it saw, digit for digit,
	# above 2^53 or not; connection_id a string too.
	fake_start negotiated /run/be.sock
	run -0 rp-probe hello -s "$BS" --service echo --version 1.0.0 --json
	wait "$FAKE"
	/usr/bin/python3 - "$output" "$T/fake.out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
seen = dict(l.split(": ", 1) for l in open(sys.argv[2]).read().splitlines() if ": " in l)
assert r["frame_request_id"] == seen["frame.request_id"], (r, seen)
assert r["request_id"] == seen["hello.request_id"], (r, seen)
assert r["negotiated"]["connection_id"] == "7", r
PY
}

# ------------------------------------------------------------- -q

@test "hello -q: no route line on stderr; errors are still said" {
	busy_broker
	run --separate-stderr rp-probe hello -s "$SOCK" --service echo --version 1.0.0 \
		--adopt -- sh -c 'echo "$RP_ROUTE"'
	[ "$status" -eq 0 ] && [ "$output" = handoff ] && [ "$stderr" = "rp-probe: route: handoff" ]
	run --separate-stderr rp-probe hello -q -s "$SOCK" --service echo --version 1.0.0 \
		--adopt -- sh -c 'echo "$RP_ROUTE"'
	[ "$status" -eq 0 ] && [ "$output" = handoff ] && [ -z "$stderr" ]
	run --separate-stderr rp-probe hello --quiet -s "$SOCK" --service echo \
		--version 0.9.0
	[ "$status" -eq 18 ]
	[[ "$stderr" == "rp-probe: refused: VERSION_BLOCKED (8): "* ]]
}

# ------------------------------------------------- a broker turns us away

@test "a broker that does not serve our uid: said so, with what to change" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run the broker as uid 65534"
	SHARED=$(rp_shared_dir)
	mkdir -m 0700 "$SHARED/b" && chown 65534:65534 "$SHARED/b"
	rp_start nb setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		rp-broker -s "$SHARED/b/b.sock" -d "$SHARED/b" --ready-fd 3
	# How the kernel tells the client (a reset, or a broken pipe when the
	# request was still being written) depends on timing; the rest does
	# not.
	local how='\((Connection reset by peer|Broken pipe|end of file)\)'
	local why=": it runs as uid 65534 and most likely does not serve uid 0 \\(rp-broker --allow-uid 0 would\\)"
	local v
	for v in admin hello; do
		if [ "$v" = admin ]; then
			run --separate-stderr rp-probe admin -s "$SHARED/b/b.sock" status
		else
			run --separate-stderr rp-probe hello -s "$SHARED/b/b.sock" \
				--service echo --version 1.0.0
		fi
		[ "$status" -eq 5 ]
		[[ "$stderr" =~ ^"rp-probe: $v: the broker at $SHARED/b/b.sock closed the connection before replying "$how$why$ ]] ||
			{ echo "$stderr"; return 1; }
	done
	# Admitted, it answers.
	kill -TERM "$RP_LAST_PID"
	wait "$RP_LAST_PID"
	rp_start nb2 setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		rp-broker -s "$SHARED/b/b.sock" -d "$SHARED/b" --allow-uid 0 --ready-fd 3
	run -0 rp-probe admin -s "$SHARED/b/b.sock" healthz
}

@test "a peer of our own uid that hangs up unanswered: said plainly" {
	fake_start close
	run --separate-stderr rp-probe admin -s "$BS" status
	[ "$status" -eq 5 ]
	[ "$stderr" = "rp-probe: admin: the broker at $BS closed the connection before replying (end of file)" ]
}
