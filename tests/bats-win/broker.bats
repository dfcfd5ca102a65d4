#!/usr/bin/env bats
# rp-broker.exe under Wine: its named pipe (the default name from the
# user's SID, as running-process names it), Hellos built by Python
# protobuf and carried by a plain Win32 client (pipe-relay.exe), their
# replies decoded by Python; the refusal rows of 10-wire.md §6 that hold
# on any system; admin verbs and metrics (read by prometheus_client);
# SHUTDOWN; a second broker on a live pipe; a default start says
# nothing (--max-clients fits the C runtime's descriptors).

load helper

setup_file() {
	rp_pb_setup
}

teardown() {
	wine_stop_all
}

@test "the default pipe is \\\\.\\pipe\\rpb-v1-{hash16}-shared, hash16 from the user's SID" {
	local sid h p
	wine_run "$(helper child)" sid
	[ "$status" -eq 0 ]
	sid=$output
	[[ $sid == S-1-* ]]
	h=$(winwire sid-hash-input "$sid" | b3sum --no-names -l 8)
	[[ $h =~ ^[0-9a-f]{16}$ ]]
	p="rpb-v1-$h-shared"
	broker_start "$p"
	wine_run "$(rp rp-probe)" admin dump --json -s "$p"
	[ "$status" -eq 0 ]
	pyjson 'assert d["socket"].lower() == sys.argv[2].lower(), d' \
		"$output" '\\.\pipe\'"$p"
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

@test "Hello refusals on the pipe, decoded by Python: the rows that hold on any system" {
	local p
	p=$(pipe_name refusals)
	broker_start "$p" -s "$p" --service-dir "$(defs_dir)"
	# Row 1: the first byte is not 0x01.
	printf '\x02\x00\x00\x00\x00' >"$BATS_TEST_TMPDIR/bad"
	relay_reply "$p" "$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 0 ]
	pyjson 'assert d["result"] == "refused" and d["code"] == 1, d
assert d["reason"] == "unsupported framing version", d' "$output"
	# Row 10: no v1 in the client's range.
	hello_reply "$p" echo 1.0.0 client_min_protocol=2 client_max_protocol=3
	[ "$status" -eq 0 ]
	pyjson 'assert d["result"] == "refused" and d["code"] == 1, d
assert d["reason"] == "client protocol range does not include v1", d
assert d["daemon_min_protocol"] == 1 and d["daemon_max_protocol"] == 1, d' "$output"
	# Row 11: a service name that is no name.
	hello_reply "$p" "no/such" 1.0.0
	[ "$status" -eq 0 ]
	pyjson 'assert d["code"] == 6 and d["reason"] == "invalid service_name", d' "$output"
	# Row 15: a peer_pid that is not the client's (GetNamedPipeClientProcessId).
	hello_reply "$p" echo 1.0.0 peer_pid=1
	[ "$status" -eq 0 ]
	pyjson 'assert d["code"] == 6, d
assert d["reason"] == "peer_pid does not match verified peer", d' "$output"
	# Row 19: no definition in the (empty) directory.
	hello_reply "$p" echo 1.0.0
	[ "$status" -eq 0 ]
	pyjson 'assert d["code"] == 2, d
assert d["reason"] == "service definition was not found", d' "$output"
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

@test "admin status and metrics on the pipe; metrics read by prometheus_client" {
	local p
	p=$(pipe_name admin)
	broker_start "$p" -s "$p" --service-dir "$(defs_dir)"
	hello_reply "$p" echo 1.0.0
	[ "$status" -eq 0 ]
	hello_reply "$p" echo 2.0.0
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-probe)" admin healthz -s "$p"
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-probe)" admin status --json -s "$p"
	[ "$status" -eq 0 ]
	pyjson 'assert d["accepting_hello"] is True, d' "$output"
	# a named pipe is in no directory: nothing to fail there (before:
	# socket_dir failed, ". grants access to S-1-1-0")
	wine_run "$(rp rp-probe)" admin diagnose --json -s "$p"
	pyjson 'c = {x["name"]: x for x in d["checks"]}; assert c["socket_dir"]["status"] == "ok", c["socket_dir"]; assert "named pipe" in c["socket_dir"]["detail"], c' "$output"
	wine_run "$(rp rp-probe)" admin metrics -s "$p"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "# EOF" ]
	echo "$output" | /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
h = fams["running_process_broker_v1_hello"]
assert h.type == "counter", h.type
got = {(s.labels["version"], s.labels["outcome"]): s.value for s in h.samples
       if s.name.endswith("_total")}
# A service that does not exist gets no series of its own (20-broker.md).
assert got == {("", "service_unknown"): 2}, got
assert fams["running_process_broker_v1_hello_duration_seconds"].type == "histogram"
'
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

@test "SHUTDOWN: the broker exits 0 and its pipe is gone" {
	local p
	p=$(pipe_name shutdown)
	broker_start "$p" -s "$p"
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
	wine_run -4 "$(helper pipe-wait)" "$p" 500
}

@test "a second broker on a live pipe is exit 3 and the first keeps serving" {
	local p
	p=$(pipe_name second)
	broker_start "$p" -s "$p"
	wine_run -3 "$(rp rp-broker)" -s "$p"
	[[ $output == *"another broker is live on"* ]]
	wine_run "$(rp rp-probe)" admin healthz -s "$p"
	[ "$status" -eq 0 ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

@test "a default start is silent: --max-clients is 1984, what the C runtime's 2048 descriptors hold; more asked for is warned about" {
	local p
	p=$(pipe_name quiet)
	broker_start "$p" -s "$p"
	wine_run "$(rp rp-probe)" admin config --json -s "$p"
	[ "$status" -eq 0 ]
	pyjson 'c = d["config"]["max_clients"]
assert c == {"value": 1984, "source": "default"}, c' "$output"
	# Listening and serving, and not a word (the warning would come
	# before the pipe).
	[ ! -s "$BATS_TEST_TMPDIR/broker.err" ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
	# As many asked for: silent too.
	broker_start "$p" -s "$p" --max-clients 1984
	[ ! -s "$BATS_TEST_TMPDIR/broker.err" ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
	# More: said, and served all the same.
	broker_start "$p" -s "$p" --max-clients 4096
	run cat "$BATS_TEST_TMPDIR/broker.err"
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = "rp-broker: RLIMIT_NOFILE is 2048 (hard 2048), below the 4160 that --max-clients 4096 needs; accept will run out of fds first" ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}
