#!/usr/bin/env bats
# rp-broker's admin verbs with real state, its OpenMetrics (checked with
# prometheus_client's OpenMetrics parser, values included), its JSON
# (parsed), and its --events JSON lines for every event kind it observes.

load broker
bats_require_minimum_version 1.5.0

# Parse OpenMetrics text on stdin with the reference parser; print
# "name{labels} value" lines, sorted.
om_parse() {
	/usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = sys.stdin.read()
assert text.endswith("# EOF\n"), "no # EOF"
out = []
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        out.append("%s %s{%s} %g" % (fam.type, s.name, labels, s.value))
print("\n".join(sorted(out)))
'
}

# ------------------------------------------------------------ the verbs

@test "status: the exact text, and JSON with the real state" {
	def echo serve
	start_broker --instance ops
	run -0 admin status --body
	[ "$output" = $'broker_instance: explicit:ops\naccepting_hello: true' ]
	run -0 admin status
	[ "$(field admin_kind)" = 0 ]
	[ "$(field content_type)" = text/plain ]
	hello >/dev/null
	run -0 admin status --json --body
	[ "$(echo "$output" | jf 'd["schema_version"]')" = 1 ]
	[ "$(echo "$output" | jf 'd["command"]')" = status ]
	[ "$(echo "$output" | jf 'd["broker_instance"]')" = explicit:ops ]
	[ "$(echo "$output" | jf 'd["broker_pid"]')" = "$BPID" ]
	[ "$(echo "$output" | jf 'd["accepting_hello"]')" = true ]
	# this very connection is open
	[ "$(echo "$output" | jf 'd["connections_open"]')" = 1 ]
	[ "$(echo "$output" | jf 'd["fd_pressure"]["demoted"]')" = false ]
	[ "$(echo "$output" | jf 'd["uptime_seconds"] >= 0')" = true ]
	[ "$(echo "$output" | jf 'd["generated_at_unix_ms"] > 1600000000000')" = true ]
	[ "$(echo "$output" | jf 'sorted(d["backends"][0].keys())')" = '["backend_pipe", "last_active_unix_ms", "pid", "service_name", "service_version", "state"]' ]
	[ "$(echo "$output" | jf 'd["backends"][0]["state"]')" = live ]
	run -0 admin status --json
	[ "$(field admin_kind)" = 1 ]
	[ "$(field content_type)" = application/json ]
}

@test "healthz and readyz" {
	start_broker
	run -0 admin healthz --body
	[ "$output" = ok ]
	run -0 admin readyz
	[ "$(echo "$output" | jf 'd["body"] == "ready\n"')" = true ]
	[ "$(field exit_code)" = 0 ]
}

@test "unsupported verbs: text 'unsupported admin verb', exit code 2" {
	start_broker
	for v in 0 10 15 20 22 999; do
		run -0 admin "$v"
		[ "$(echo "$output" | jf 'd["body"] == "unsupported admin verb\n"')" = true ]
		[ "$(field exit_code)" = 2 ]
		[ "$(field admin_kind)" = 0 ]
	done
}

@test "admin replies echo request_id and trace context" {
	start_broker
	run -0 admin healthz --frame-id 4242 --traceparent tp-1
	[ "$(field request_id)" = 4242 ]
	[ "$(field traceparent)" = tp-1 ]
	[ "$(field payload_protocol)" = 44289 ]
	[ "$(field kind)" = 1 ]
}

@test "a malformed admin frame is closed without a reply; the broker goes on" {
	start_broker
	# payload that is not an AdminRequest
	run -0 hello --protocol 44289 --payload-hex ffffff
	[ "$(field eof)" = true ]
	# admin with a bad envelope (kind RESPONSE, or compressed)
	run -0 hello --protocol 44289 --kind 1 --payload-hex 0801
	[ "$(field eof)" = true ]
	run -0 hello --protocol 44289 --encoding 2 --payload-hex 0801
	[ "$(field eof)" = true ]
	run -0 admin healthz --body
	[ "$(metric running_process_broker_v1_connections_closed_total reason=bad_admin)" = 3 ]
}

# start_broker_oom [MIN [ONCE]] — start_broker with
# tests/preload/failrealloc.so: while $T/oom exists, the broker's realloc
# of MIN bytes or more (default any) fails as when memory runs out; with
# ONCE, only the first such realloc fails (and removes $T/oom).  (Under
# the sanitizers the library comes before theirs; it forwards to them.)
start_broker_oom() {
	rp_start broker env LD_PRELOAD="$RP_BUILD/tests/preload/failrealloc.so" \
		RP_FAILREALLOC="$T/oom" RP_FAILREALLOC_MIN="${1:-0}" \
		${2:+RP_FAILREALLOC_ONCE=1} \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		rp-broker -s "$SOCK" --ready-fd 3
	BPID=$RP_LAST_PID
}

@test "out of memory while building a reply: exit 125 and one line, never part of a body" {
	def echo serve
	start_broker_oom 512 once
	hello >/dev/null
	# Each of these bodies needs a buffer of 512 bytes or more: that one
	# allocation fails, the rest of the exchange has memory.
	local verb
	for verb in "status --json" dump config diagnose metrics \
		"backend-health --json" "list-instances --json"; do
		: >"$T/oom"
		run admin $verb --body
		[ ! -e "$T/oom" ] || { echo "$verb: never needed 512 bytes"; return 1; }
		[ "$status" -eq 125 ] || { echo "$verb: exit $status: $output"; return 1; }
		[ "$output" = "rp-broker: cannot build the reply: out of memory" ] ||
			{ echo "$verb: $output"; return 1; }
	done
	: >"$T/oom"
	run -0 admin dump
	[ "$(field admin_kind)" = 0 ]
	[ "$(field content_type)" = text/plain ]
	# The real client shows the line and exits 125.
	: >"$T/oom"
	run -125 rp-probe admin -s "$SOCK" config
	assert_output "rp-broker: cannot build the reply: out of memory"
	# What needs no buffer answers all the same.
	: >"$T/oom"
	run -0 admin healthz --body
	[ "$output" = ok ]
	# Memory back: whole replies again.
	rm "$T/oom"
	run -0 admin dump --body
	[ "$(echo "$output" | jf 'd["command"]')" = dump ]
}

@test "out of memory even for the error reply: the connection closes unanswered" {
	start_broker_oom
	: >"$T/oom"
	run -0 admin status --json
	[ "$(field eof)" = true ]
	run -5 rp-probe admin -s "$SOCK" status
	assert_output "rp-probe: admin: the broker at $SOCK closed the connection before replying (end of file)"
	rm "$T/oom"
	run -0 admin status --body
	[ "$output" = $'broker_instance: shared\naccepting_hello: true' ]
}

@test "config: the effective configuration with the source of each value" {
	export RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS=12345
	start_broker --rate-limit 9/2 --allow-uid 4321
	run -0 admin config --body
	local c='d["config"]'
	[ "$(echo "$output" | jf "$c['hello_timeout_ms']['value']")" = 12345 ]
	[ "$(echo "$output" | jf "$c['hello_timeout_ms']['source']")" = env ]
	[ "$(echo "$output" | jf "$c['rate_limit']['value']")" = 9/2 ]
	[ "$(echo "$output" | jf "$c['rate_limit']['source']")" = flag ]
	[ "$(echo "$output" | jf "$c['spawn_budget']['value']")" = 3/30 ]
	[ "$(echo "$output" | jf "$c['spawn_budget']['source']")" = default ]
	[ "$(echo "$output" | jf "$c['max_clients']['value']")" = 4096 ]
	[ "$(echo "$output" | jf "$c['socket']['value']")" = "$SOCK" ]
	[ "$(echo "$output" | jf "$c['service_dir']['value']")" = "$DEFS" ]
	[ "$(echo "$output" | jf "$c['service_dir']['source']")" = env ]
	[ "$(echo "$output" | jf "$c['allow_uids']['value']")" = "[0, 4321]" ]
	[ "$(echo "$output" | jf "$c['instance']['value']")" = shared ]
	# --hello-timeout beats the environment
	stop_broker
	rp_start broker2 rp-broker -s "$SOCK" --ready-fd 3 --hello-timeout 777
	run -0 admin config --body
	[ "$(echo "$output" | jf "$c['hello_timeout_ms']['value']")" = 777 ]
	[ "$(echo "$output" | jf "$c['hello_timeout_ms']['source']")" = flag ]
}

@test "durations take a unit: 2s, 1.5s, 250ms, 1m; a bare number is milliseconds" {
	start_broker --hello-timeout 2s --spawn-timeout 1.5s --probe-interval 1m \
		--probe-timeout 250ms --drain-timeout 3 --handoff --handoff-timeout 1s
	run -0 admin config --body
	local c='d["config"]'
	[ "$(echo "$output" | jf "$c['hello_timeout_ms']['value']")" = 2000 ]
	[ "$(echo "$output" | jf "$c['spawn_timeout_ms']['value']")" = 1500 ]
	[ "$(echo "$output" | jf "$c['probe_interval_ms']['value']")" = 60000 ]
	[ "$(echo "$output" | jf "$c['probe_timeout_ms']['value']")" = 250 ]
	[ "$(echo "$output" | jf "$c['drain_timeout_ms']['value']")" = 3 ]
	[ "$(echo "$output" | jf "$c['handoff_timeout_ms']['value']")" = 1000 ]
	# out of range or not a duration: one usage line naming the option
	rp_check_usage_error rp-broker --hello-timeout 2d
	rp_check_usage_error rp-broker --hello-timeout 25h
	rp_check_usage_error rp-broker --spawn-timeout 0s
	rp_check_usage_error rp-broker --probe-timeout 1.0005s
	run -2 rp-broker --drain-timeout 2x
	[[ "$output" == "rp-broker: --drain-timeout: '2x' is not a duration"* ]]
}

@test "list-instances, backend-health (with a service filter), dump" {
	def a serve
	def b exit
	start_broker
	hello --service a >/dev/null
	hello --service b >/dev/null
	run -0 admin list-instances --body
	[ "$(echo "$output" | jf 'd["command"]')" = list-instances ]
	[ "$(echo "$output" | jf 'd["instances"][0]["socket"]')" = "$SOCK" ]
	[ "$(echo "$output" | jf 'd["instances"][0]["accepting_hello"]')" = true ]
	# one of them (b) is not healthy: exit 1, as grpc_health_probe
	run -1 admin backend-health --body
	[ "$(echo "$output" | jf 'len(d["backends"])')" = 2 ]
	run -1 admin backend-health --service b --body
	[ "$(echo "$output" | jf 'd["service_filter"]')" = b ]
	[ "$(echo "$output" | jf 'len(d["backends"])')" = 1 ]
	[ "$(echo "$output" | jf 'd["backends"][0]["healthy"]')" = false ]
	[ "$(echo "$output" | jf 'd["backends"][0]["state"]')" = idle ]
	run -0 admin backend-health --service a --body
	[ "$(echo "$output" | jf 'd["backends"][0]["healthy"]')" = true ]
	[ "$(echo "$output" | jf 'd["backends"][0]["last_probe_ok"]')" = true ]
	# a service with no backend at all is not healthy either
	run -1 admin backend-health --service zzz --body
	[ "$(echo "$output" | jf 'len(d["backends"])')" = 0 ]
	# and rp-probe passes the exit status through
	run -1 rp-probe admin -s "$SOCK" backend-health --service b
	[[ "$output" == *'"healthy":false'* ]]
	run -0 rp-probe admin -s "$SOCK" backend-health --service a
	run -0 admin dump --body
	[ "$(echo "$output" | jf 'd["command"]')" = dump ]
	[ "$(echo "$output" | jf 'd["config"]["socket"]["value"]')" = "$SOCK" ]
	[ "$(echo "$output" | jf '[x["spawn"]["budget_remaining"] for x in d["backends"] if x["service_name"] == "b"][0]')" = 2 ]
	[ "$(echo "$output" | jf '[x["spawn"]["failed"] for x in d["backends"] if x["service_name"] == "b"][0]')" = 1 ]
	[ "$(echo "$output" | jf 'd["counters"]["hello_by_outcome"]["negotiated"]')" = 1 ]
	[ "$(echo "$output" | jf 'd["counters"]["hello_by_outcome"]["backend_spawn_failed"]')" = 1 ]
	[ "$(echo "$output" | jf 'sorted(set(e["kind"] for e in d["events"]))')" = '["HELLO_REFUSED", "SERVICE_DEF_LOADED", "SPAWN", "SPAWN_ATTEMPT"]' ]
	[ "$(echo "$output" | jf 'len(d["definitions"])')" = 2 ]
}

@test "dump with output_path also writes the JSON there, atomically" {
	start_broker
	run -0 admin dump --output-path "$T/dump.json" --body
	[ "$(echo "$output" | jf 'd["written"]')" = true ]
	[ "$(jf 'd["command"]' <"$T/dump.json")" = dump ]
	[ "$(jf 'd["written"]' <"$T/dump.json")" = true ]
	run -0 admin dump --output-path "$T/no/such/dir/x.json" --body
	[ "$(echo "$output" | jf 'd["written"]')" = false ]
	[[ "$(echo "$output" | jf 'd["write_error"]')" == *"No such file"* ]]
}

@test "diagnose: ok checks, and failures with exit code 1" {
	def echo serve
	def other serve --isolation 2 --instance elsewhere
	printf 'junk' >"$DEFS/bad.servicedef"
	start_broker
	run -0 admin diagnose
	[ "$(field exit_code)" = 1 ]
	local body
	body=$(field body)
	[ "$(echo "$body" | jf 'd["status"]')" = fail ]
	[ "$(echo "$body" | jf '[c["status"] for c in d["checks"] if c["name"] == "definition:echo"][0]')" = ok ]
	[ "$(echo "$body" | jf '[c["status"] for c in d["checks"] if c["name"] == "definition:bad"][0]')" = fail ]
	[ "$(echo "$body" | jf '[c["status"] for c in d["checks"] if c["name"] == "definition:other"][0]')" = warn ]
	[ "$(echo "$body" | jf '[c["status"] for c in d["checks"] if c["name"] == "socket_dir"][0]')" = ok ]
	[ "$(echo "$body" | jf '[c["status"] for c in d["checks"] if c["name"] == "fd_usage"][0]')" = ok ]
	rm "$DEFS/bad.servicedef"
	run -0 admin diagnose
	[ "$(field exit_code)" = 0 ]
	chmod 0750 "$DEFS"
	run -0 admin diagnose
	[ "$(field exit_code)" = 1 ]
	[[ "$(field body | jf '[c["detail"] for c in d["checks"] if c["name"] == "service_dir"][0]')" == *"has mode 0750"* ]]
}

@test "dump output_path: a broker that stops while the file is written waits for it (bounded), and answers" {
	rp_start broker env LD_PRELOAD="$RP_BUILD/tests/preload/slowfsync.so" \
		RP_SLOWFSYNC_MS=1500 \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		rp-broker -s "$SOCK" --ready-fd 3 --drain-timeout 100ms
	BPID=$RP_LAST_PID
	bw_bg "$T/reply" admin --socket "$SOCK" dump --output-path "$T/dump.json" --body
	local client=$BG_PID
	# the write is under way: its temporary file is there
	wait_for compgen -G "$T/.dump.json.*"
	stop_broker
	# the file was written whole, renamed into place, nothing left over
	[ "$(jf 'd["command"]' <"$T/dump.json")" = dump ]
	[ -z "$(compgen -G "$T/.dump.json.*")" ]
	grep -q "waiting for 1 dump file being written" "$T/broker.err"
	wait "$client"
	[ "$(jf 'd["written"]' <"$T/reply")" = true ]
}

# -------------------------------------------------------------- metrics

@test "metrics: OpenMetrics that the reference parser accepts, with real values" {
	def echo serve
	start_broker
	hello >/dev/null
	hello >/dev/null
	hello --service nope >/dev/null
	hello --version 1.0 >/dev/null
	run -0 admin metrics
	[ "$(field admin_kind)" = 2 ]
	[ "$(field content_type)" = application/openmetrics-text ]
	[ "$(field exit_code)" = 0 ]
	local m
	m=$(bw admin --socket "$SOCK" metrics --body | om_parse)
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=negotiated,service=echo,version=1.0.0} 2'
	# a service with no definition makes no series of its own
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=service_unknown,service=,version=} 1'
	! echo "$m" | grep -q 'service=nope'
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=peer_rejected,service=,version=} 1'
	echo "$m" | grep -qx 'histogram running_process_broker_v1_hello_duration_seconds_count{service=echo} 2'
	echo "$m" | grep -qx 'histogram running_process_broker_v1_hello_duration_seconds_bucket{le=+Inf,service=echo} 2'
	echo "$m" | grep -qx 'gauge running_process_broker_v1_active_backends{service=echo} 1'
	echo "$m" | grep -qx 'counter running_process_broker_v1_spawn_attempts_total{outcome=success,service=echo,version=1.0.0} 1'
	echo "$m" | grep -qx 'gauge running_process_broker_v1_spawn_budget_remaining{service=echo,version=1.0.0} 3'
	# the metrics request itself is the one open connection
	echo "$m" | grep -qx 'gauge running_process_broker_v1_connections_open{} 1'
	echo "$m" | grep -Eq '^gauge running_process_broker_v1_fd_usage_ratio\{\} 0\.[0-9e-]+$'
	echo "$m" | grep -q '^gauge running_process_broker_v1_uptime_seconds{} '
	echo "$m" | grep -qx 'counter running_process_broker_v1_admin_requests_total{verb=metrics} 2'
	echo "$m" | grep -qx 'gauge running_process_broker_v1_ready{} 1'
}

@test "metrics: build_info and the standard process_* names of every exporter" {
	local t0 t1
	t0=$(date +%s)
	start_broker
	t1=$(date +%s)
	local m
	m=$(bw admin --socket "$SOCK" metrics --body | om_parse)
	echo "$m" | grep -qx 'gauge running_process_broker_v1_build_info{protocol=v1,version=0.1.0} 1'
	echo "$m" | grep -Eqx 'gauge process_open_fds\{\} [0-9]+'
	local soft
	soft=$(awk '/^Max open files/ { print $4 }' "/proc/$BPID/limits")
	echo "$m" | grep -qx "gauge process_max_fds{} $soft"
	# the values, as prometheus_client reads them
	bw admin --socket "$SOCK" metrics --body | /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
t0, t1, nfd = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
v = {s.name: s.value for f in text_string_to_metric_families(sys.stdin.read())
     for s in f.samples}
assert t0 - 1 <= v["process_start_time_seconds"] <= t1 + 1, v
# the admin connection asking is one of them, the broker counts its own
assert abs(v["process_open_fds"] - nfd) <= 2, (v["process_open_fds"], nfd)
assert v["process_open_fds"] == v["running_process_broker_v1_fds_open"]
' "$t0" "$t1" "$(rp_fd_count "$BPID")"
}

# send_each FILE — each line of FILE (hex) on a connection of its own,
# the reply read to the end.
send_each() {
	/usr/bin/python3 -c '
import socket, sys
for line in open(sys.argv[2]):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(bytes.fromhex(line.strip()))
    while s.recv(4096):
        pass
    s.close()
' "$SOCK" "$1"
}

@test "metrics: Hellos for made-up services add no series, rate-limited or not" {
	def echo serve
	# one peer process: its first 10 are answered, the rest rate-limited
	start_broker --rate-limit 10/60
	hello >/dev/null
	hello --service nope >/dev/null
	local i
	for i in $(seq 1 40); do
		printf '%s\n' "$(bw encode-hello --service "made-up-$i" --frame-id $i)"
	done >"$T/hex"
	run -0 send_each "$T/hex"
	# the only services in METRICS: echo's and "" (the rest)
	[ "$(bw admin --socket "$SOCK" metrics --body | grep -o 'service="[^"]*"' | sort -u | tr '\n' ' ')" = 'service="" service="echo" ' ]
	local m
	m=$(bw admin --socket "$SOCK" metrics --body | om_parse)
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=service_unknown,service=,version=} 11'
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=rate_limited,service=,version=} 30'
	! echo "$m" | grep -q 'made-up'
	# a service that exists has its series
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=negotiated,service=echo,version=1.0.0} 1'
}

@test "metrics: Hellos for versions refused as such add no series: counted under version \"\"" {
	def echo serve --min-version 2.0.0 --allow 2.0.0 --allow 3.0.0
	def solo serve
	start_broker --rate-limit 0 --max-backends 1
	run -0 hello --service echo --version 2.0.0
	[ "$(field result)" = negotiated ]
	local i
	for i in $(seq 1 30); do
		printf '%s\n' "$(bw encode-hello --service echo --version "1.$i.0" --frame-id $i)"
		printf '%s\n' "$(bw encode-hello --service echo --version "2.$i.0" --frame-id $i)"
	done >"$T/hex"
	run -0 send_each "$T/hex"
	# one backend of solo at most: a second version is refused (code 4)
	run -0 hello --service solo --version 1.0.0
	[ "$(field result)" = negotiated ]
	run -0 hello --service solo --version 1.1.0
	[ "$(field code)" = 4 ]
	local m
	m=$(bw admin --socket "$SOCK" metrics --body | om_parse)
	echo "$m" | grep hello_total
	# the versions served keep their series; the 61 refused ones make two
	# (before: one series each)
	[ "$(echo "$m" | grep -c '^counter running_process_broker_v1_hello_total{')" = 4 ]
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=negotiated,service=echo,version=2.0.0} 1'
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=version_blocked,service=echo,version=} 60'
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=negotiated,service=solo,version=1.0.0} 1'
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=rate_limited,service=solo,version=} 1'
	# the version refused a backend slot left nothing behind: no spawn
	# series, no row in backend-health (which stays healthy)
	! echo "$m" | grep -q 'version=1.1.0'
	run -0 admin backend-health --service solo --body
	[ "$(echo "$output" | jf 'len(d["backends"])')" = 1 ]
}

@test "metrics: rate-limited Hellos for made-up versions add no series either" {
	def echo serve
	start_broker --rate-limit 2/60
	local i
	for i in $(seq 1 40); do
		printf '%s\n' "$(bw encode-hello --service echo --version "7.0.$i" --frame-id $i)"
	done >"$T/hex"
	run -0 send_each "$T/hex"
	local m
	m=$(bw admin --socket "$SOCK" metrics --body | om_parse)
	echo "$m" | grep hello_total
	# two let through, each its own version; the 38 others one series
	echo "$m" | grep -qx 'counter running_process_broker_v1_hello_total{outcome=rate_limited,service=echo,version=} 38'
	[ "$(echo "$m" | grep -c '^counter running_process_broker_v1_hello_total{')" = 3 ]
}

@test "metrics account for every connection: accepted = closed + open" {
	def echo serve
	start_broker
	hello >/dev/null
	hello --service nope >/dev/null
	bw raw --socket "$SOCK" --hex "" --shut-wr >/dev/null
	bw raw --socket "$SOCK" --hex 02 >/dev/null
	hello --protocol 44289 --payload-hex ff >/dev/null
	# one snapshot; this metrics request is the one open connection
	local m
	m=$(bw admin --socket "$SOCK" metrics --body | om_parse)
	run -0 /usr/bin/python3 -c '
import sys
v = {}
for line in sys.argv[1].splitlines():
    _, name, value = line.split(" ")
    name = name.split("{")[0]
    v[name] = v.get(name, 0) + float(value)
p = "running_process_broker_v1_"
print(int(v[p + "connections_accepted_total"]), int(v[p + "connections_closed_total"]), int(v[p + "connections_open"]))
' "$m"
	[ "$output" = "6 5 1" ]
}

# --------------------------------------------------------------- events

@test "--events: one JSON object a line, every kind the broker observes" {
	def echo serve --min-version 1.0.0
	def dies exit
	start_broker --events "$T/ev" --spawn-timeout 2000
	hello >/dev/null                                   # SPAWN_ATTEMPT, SPAWN, HELLO_ACCEPTED, SERVICE_DEF_LOADED
	hello --version 0.9.0 >/dev/null                   # VERSION_MISMATCH, HELLO_REFUSED
	hello --service dies >/dev/null                    # SPAWN_ATTEMPT (failed)
	def echo serve --min-version 0.1.0
	hello --version 0.9.0 >/dev/null                   # SERVICE_DEF_CHANGED
	# 64-bit ids in dump are decimal strings too
	admin dump --body | jf 'repr(d["counters"]["next_connection_id"])' | grep -Eqx "'[0-9]+'"
	admin dump --body | jf 'repr([e["connection_id"] for e in d["events"]][0])' | grep -Eqx "'[0-9]+'"
	kill -KILL "$(admin backend-health --service echo --body | jf '[b["pid"] for b in d["backends"] if b["service_version"] == "1.0.0"][0]')"
	wait_for grep -q DIED_CRASH "$T/ev"                # DIED_CRASH
	chmod 0750 "$DEFS"
	hello >/dev/null                                   # SECURITY_VIOLATION
	chmod 0700 "$DEFS"
	stop_broker                                        # DIED_SHUTDOWN
	run -0 /usr/bin/python3 -c '
import json, sys
kinds = set()
for line in open(sys.argv[1], "rb"):
    assert len(line) <= 4096, len(line)
    assert line.endswith(b"\n")
    e = json.loads(line)
    for k in ("ts_ms", "pid", "service_name", "kind", "reason",
              "severity_number", "severity_text", "request_id",
              "connection_id", "broker_instance", "extra"):
        assert k in e, (k, e)
    assert e["broker_instance"] == "shared"
    assert (e["severity_number"], e["severity_text"]) in ((9, "INFO"), (13, "WARN"), (17, "ERROR")), e
    kinds.add(e["kind"])
print(" ".join(sorted(kinds)))
' "$T/ev"
	[ "$output" = "DIED_CRASH DIED_SHUTDOWN HELLO_ACCEPTED HELLO_REFUSED SECURITY_VIOLATION SERVICE_DEF_CHANGED SERVICE_DEF_LOADED SPAWN SPAWN_ATTEMPT VERSION_MISMATCH" ]
	# an accepted Hello's event carries its connection id and request id;
	# the id, 64 bits, is a decimal string (as rp-probe writes it)
	grep '"kind":"HELLO_ACCEPTED"' "$T/ev" | head -1 | jf 'repr(d["connection_id"])' | grep -qx "'1'"

}

@test "--events: a reason too long for 4096 bytes is cut, the line still parses" {
	local long="/$(printf 'd%.0s' $(seq 1 200))"
	long="$long$long$long$long$long$long$long$long$long$long$long$long$long$long$long$long$long$long/backend"
	def echo "$long"
	start_broker --events "$T/ev"
	run -0 hello
	[ "$(field code)" = 3 ]
	run -0 /usr/bin/python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], "rb"):
    assert len(line) <= 4096, len(line)
    json.loads(line)
    n += 1
print(n)
' "$T/ev"
	[ "$output" -ge 3 ]
}
