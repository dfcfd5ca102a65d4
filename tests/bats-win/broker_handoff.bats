#!/usr/bin/env bats
# rp-broker.exe --handoff under Wine: the client's own pipe handed to
# its backend by DuplicateHandle (40-handoff.md "The transfer on
# Windows"), the client a plain Win32 program (handoff-client.exe) that
# sends a Hello Python built and is echoed by the backend on the pipe it
# dialled the broker on; echo-backend.exe from a definition and
# rp-handoff-recv.exe --serve --handoff as a static backend accept it;
# a transfer that cannot be made falls back silently, and the metrics
# say why.  Of the classes of a handle that cannot be given (rp-broker(1)
# METRICS), open_process_failed and permission_denied are provoked here
# (ho-server.exe); Wine cannot provoke integrity_mismatch (it ignores a
# token's integrity level: SetTokenInformation(TokenIntegrityLevel)
# changes nothing and no mandatory label is checked) nor
# duplicate_failed (DuplicateHandle of a live handle into a process we
# could open fails only with access denied there, or for want of room
# in its handle table).

load helper

setup_file() {
	rp_pb_setup
}

teardown() {
	wine_stop_all
}

# handoff PIPE DATA: a Hello with capability bit 0 to the broker on
# PIPE, then DATA on the same pipe once the event came; what came back
# (decoded by Python) as JSON in $output, the pipe servers' pids seen
# by the client in $BATS_TEST_TMPDIR/hc.err.
handoff() {
	local rc=0
	winwire hello echo 1.0.0 client_capabilities=1 >"$BATS_TEST_TMPDIR/hello"
	timeout -k 5 60 "$WINE" "$(helper handoff-client)" "$1" \
		"$(winpath "$BATS_TEST_TMPDIR/hello")" "$2" </dev/null \
		>"$BATS_TEST_TMPDIR/hc.out" 2>"$BATS_TEST_TMPDIR/hc.err" 3>&- ||
		rc=$?
	run winwire handoff-stream <"$BATS_TEST_TMPDIR/hc.out"
	HC_STATUS=$rc
}

# The count of handoff outcome OUTCOME in the broker's metrics on PIPE.
handoff_count() {
	wine_run "$(rp rp-probe)" admin metrics -s "$1"
	/usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
n = 0
for f in text_string_to_metric_families(sys.argv[1]):
    if f.name == "running_process_broker_v1_handoff":
        for s in f.samples:
            if s.name.endswith("_total") and s.labels["outcome"] == sys.argv[2]:
                n += s.value
print(int(n))' "$output" "$2"
}

@test "echo-backend.exe takes the client's pipe: token, the event, echo on the same pipe" {
	local p
	p=$(pipe_name ho)
	echo_def
	broker_start "$p" -s "$p" -d "$DEFS" --handoff
	handoff "$p" "ping over the handed pipe"
	[ "$HC_STATUS" -eq 0 ]
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["result"] == "negotiated", d
assert len(d["token"]) == 32 and d["server_capabilities"] & 1, d
e = d["event"]
# {1, EVENT, 0xD0FF, request_id = connection_id, the Ack}
assert e["kind"] == 2 and e["payload_protocol"] == 0xD0FF, e
assert e["request_id"] == d["connection_id"] == e["correlation_id"], (d, e)
assert e["accepted"] and e["token"] == d["token"], e
assert d["data"] == "ping over the handed pipe", d' "$output"
	[ "$(handoff_count "$p" accepted)" = 1 ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

@test "--handoff-event broker: the broker writes the event once echo-backend.exe acked" {
	local p
	p=$(pipe_name hoev)
	echo_def
	broker_start "$p" -s "$p" -d "$DEFS" --handoff --handoff-event broker
	handoff "$p" "pong"
	[ "$HC_STATUS" -eq 0 ]
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
e = d["event"]
assert e["accepted"] and e["token"] == d["token"], d
assert e["request_id"] == d["connection_id"], d
assert d["data"] == "pong", d' "$output"
	[ "$(handoff_count "$p" accepted)" = 1 ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

@test "rp-handoff-recv.exe --serve --handoff, a static backend, takes the client's pipe" {
	local p be ho
	p=$(pipe_name hos)
	be=$(pipe_name hos-be)
	ho=$(pipe_name hos-ho)
	# A static backend writes the event itself (rp-broker(1)).
	wine_bg recv "$(rp rp-handoff-recv)" --serve "$be" --handoff "$ho" \
		--handoff-event backend --echo
	wine_run "$(helper pipe-wait)" "$ho"
	[ "$status" -eq 0 ]
	broker_start "$p" -s "$p" --handoff -b "echo@1.0.0=$be" \
		--backend-handoff "echo@1.0.0=$ho"
	handoff "$p" "static"
	[ "$HC_STATUS" -eq 0 ]
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["event"]["accepted"], d
assert d["data"] == "static", d' "$output"
	[ "$(handoff_count "$p" accepted)" = 1 ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

@test "no handoff endpoint: the client gets no token and reconnects (silent fallback, counted no_socket)" {
	local p be
	p=$(pipe_name hof)
	be=$(pipe_name hof-be)
	# A backend that takes no handoffs: its endpoint given, no -ho- pipe.
	wine_bg be "$(rp echo-backend)" "$be"
	wine_run "$(helper pipe-wait)" "$be"
	[ "$status" -eq 0 ]
	broker_start "$p" -s "$p" --handoff -b "echo@1.0.0=$be" \
		--backend-handoff "echo@1.0.0=$(pipe_name hof-nobody)"
	handoff "$p" "x"
	# The reply came, then the broker closed: nothing more.
	[ "$HC_STATUS" -eq 1 ]
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["result"] == "negotiated" and d["token"] == "", d
assert "event" not in d and d["data"] == "", d' "$output"
	[ "$(handoff_count "$p" no_socket)" = 1 ]
	broker_shutdown "$p"
	[ "$status" -eq 0 ]
}

# ho_fallback MODE: a static echo backend whose handoff pipe ho-server.exe
# MODE serves; the broker, with its events in $BATS_TEST_TMPDIR/ev.
# $P is the broker's pipe, $HO_BG the index of ho-server among the
# background programs.
ho_fallback() {
	local be ho
	P=$(pipe_name "ho$1")
	be=$(pipe_name "ho$1-be")
	ho=$(pipe_name "ho$1-ho")
	wine_bg be "$(rp echo-backend)" "$be"
	wine_run "$(helper pipe-wait)" "$be"
	[ "$status" -eq 0 ]
	HO_BG=${#WIN_BG[@]}
	wine_bg ho "$(helper ho-server)" "$1" "$ho"
	wine_run "$(helper pipe-wait)" "$ho"
	[ "$status" -eq 0 ]
	broker_start "$P" -s "$P" --handoff -b "echo@1.0.0=$be" \
		--backend-handoff "echo@1.0.0=$ho" \
		--events "$(winpath "$BATS_TEST_TMPDIR/ev")"
}

# The pid of the process that created ho-server's pipe instance.
ho_pid() {
	sed -n 's/^server-pid \([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/ho.err"
}

# The handoff's reply (in $output) carried a token, and then the broker
# closed the connection: no event, nothing echoed.
fell_back() {
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["result"] == "negotiated" and len(d["token"]) == 32, d
assert "event" not in d and d["data"] == "", d' "$output"
}

# downgraded OUTCOME TEXT: one PROTOCOL_DOWNGRADE event in the log says
# OUTCOME, its message TEXT.
downgraded() {
	/usr/bin/python3 -c 'import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
d = [e for e in evs
     if e.get("extra", {}).get("handoff_outcome") == sys.argv[2]]
assert len(d) == 1, evs
assert d[0]["kind"] == "PROTOCOL_DOWNGRADE", d
assert sys.argv[3] in d[0]["reason"], d' "$BATS_TEST_TMPDIR/ev" "$@"
}

# Two handoffs to a backend whose pipe ho-server.exe MODE (orphan or
# zombie) serves: the first goes to the process that created the pipe,
# which ends once its child, which serves the pipe, read the offer (the
# client's handle given to it goes with it); the second finds that
# process gone, and falls back.
second_after_creator() {
	ho_fallback "$1"
	handoff "$P" "first"
	[ "$HC_STATUS" -eq 1 ]
	wine_wait "$HO_BG"
	handoff "$P" "second"
	[ "$HC_STATUS" -eq 1 ]
	fell_back
}

@test "the backend's process gone before the transfer: silent fallback, counted open_process_failed" {
	# The pipe is still served, by a process the broker cannot open.
	second_after_creator orphan
	[ "$(handoff_count "$P" open_process_failed)" = 1 ]
	[ "$(handoff_count "$P" backend_gone)" = 0 ]
	downgraded open_process_failed "cannot open process $(ho_pid) (Win32 error 87)"
	broker_shutdown "$P"
	[ "$status" -eq 0 ]
}

@test "the backend's process denies PROCESS_DUP_HANDLE: silent fallback, counted permission_denied" {
	ho_fallback deny
	handoff "$P" "x"
	[ "$HC_STATUS" -eq 1 ]
	fell_back
	[ "$(handoff_count "$P" permission_denied)" = 1 ]
	downgraded permission_denied "permission denied opening process $(ho_pid)"
	broker_shutdown "$P"
	[ "$status" -eq 0 ]
}

@test "the backend's process ended but still held: duplicating into it is denied, counted permission_denied" {
	# Its process object lives on (its child holds it): it opens, and
	# takes no handle.
	second_after_creator zombie
	[ "$(handoff_count "$P" permission_denied)" = 1 ]
	downgraded permission_denied "permission denied duplicating the handle into process $(ho_pid)"
	broker_shutdown "$P"
	[ "$status" -eq 0 ]
}
