#!/usr/bin/env bats
# rp-probe.exe under Wine, where no broker of ours runs yet (part 2):
# hello and admin against a stand-in v1 broker on a named pipe (child.exe
# broker, served by rp-handoff-recv.exe --serve) whose replies Python
# protobuf builds and whose answers Python decodes; the bounded wait for
# a pipe that is not there; the doctor on a Windows machine.

load helper

setup_file() {
	rp_pb_setup
}

# pb PYTHON — Python with the classes of proto/rp_v1.proto as pb.
pb() {
	PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 -c "import sys
import rp_v1_pb2 as pb
$1" "${@:2}"
}

# A stand-in broker on pipe $1 answering one request with the payload
# in file $2.
stand_in() {
	wine_bg broker "$(rp rp-handoff-recv)" --serve "$1" --probe-window 20 \
		-- "$(helper child)" broker "$(winpath "$2")"
	wine_run "$(helper pipe-wait)" "$1"
	[ "$status" -eq 0 ]
}

teardown() {
	wine_stop_all
}

@test "hello against a v1 broker on a named pipe: the negotiated backend, --json and plain (no backslash doubled), as Python encoded it" {
	local p
	p=$(pipe_name hello)
	pb 'open(sys.argv[1], "wb").write(pb.HelloReply(negotiated=pb.Negotiated(
    negotiated_protocol=1, daemon_version="1.2.3",
    backend_pipe=r"\\.\pipe\rp-be-x", keepalive_interval_secs=1800,
    connection_id=12915730307450431623)).SerializeToString())' \
		"$BATS_TEST_TMPDIR/reply"
	stand_in "$p" "$BATS_TEST_TMPDIR/reply"
	wine_run "$(rp rp-probe)" hello --json -s "$p" --service echo \
		--version 1.0.0
	[ "$status" -eq 0 ]
	pb 'import json
d = json.loads(sys.argv[1])
assert d["result"] == "negotiated", d
n = d["negotiated"]
assert n["backend_pipe"] == r"\\.\pipe\rp-be-x", n
assert n["daemon_version"] == "1.2.3", n
assert n["connection_id"] == "12915730307450431623", n' "$output"
	# Plain: the pipe's name as Windows writes it (JSON escapes it).
	wine_run "$(rp rp-probe)" hello -s "$p" --service echo --version 1.0.0
	[ "$status" -eq 0 ]
	[ "$output" = '\\.\pipe\rp-be-x' ]
}

@test "hello: a refusal from a broker on a named pipe is exit 10 + code, its reason said" {
	local p
	p=$(pipe_name refused)
	pb 'open(sys.argv[1], "wb").write(pb.HelloReply(refused=pb.Refused(
    code=3, reason="backend is not registered", retry_after_ms=1000,
    daemon_min_protocol=1, daemon_max_protocol=1)).SerializeToString())' \
		"$BATS_TEST_TMPDIR/reply"
	stand_in "$p" "$BATS_TEST_TMPDIR/reply"
	wine_run "$(rp rp-probe)" hello -s "$p" --service echo --version 9.0.0
	[ "$status" -eq 13 ]
	[[ $output == *"backend is not registered"* ]]
}

@test "admin healthz against a v1 broker on a named pipe: its body, exit 0" {
	local p
	p=$(pipe_name admin)
	pb 'open(sys.argv[1], "wb").write(pb.AdminReply(kind=0, body="ok\n",
    exit_code=0, content_type="text/plain").SerializeToString())' \
		"$BATS_TEST_TMPDIR/reply"
	stand_in "$p" "$BATS_TEST_TMPDIR/reply"
	wine_run "$(rp rp-probe)" admin healthz -s "$p"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "hello --wait-for-socket: a pipe that never comes is exit 4 at the deadline; without it exit 3 at once" {
	local p
	p=$(pipe_name none)
	wine_run "$(rp rp-probe)" hello --wait-for-socket --timeout 700ms \
		-s "$p" --service echo --version 1.0.0
	[ "$status" -eq 4 ]
	wine_run "$(rp rp-probe)" hello --timeout 700ms -s "$p" \
		--service echo --version 1.0.0
	[ "$status" -eq 3 ]
}

@test "admin --wait-for-socket: a broker's pipe that comes later is dialled, and answers" {
	local p
	p=$(pipe_name late)
	pb 'open(sys.argv[1], "wb").write(pb.AdminReply(kind=0, body="ok\n",
    exit_code=0, content_type="text/plain").SerializeToString())' \
		"$BATS_TEST_TMPDIR/reply"
	wine_bg probe "$(rp rp-probe)" admin healthz --wait-for-socket \
		--timeout 60s -s "$p"
	stand_in "$p" "$BATS_TEST_TMPDIR/reply"
	# In this shell: a `run` subshell cannot wait for the test's child.
	local rc=0
	wine_wait 0 || rc=$?
	[ "$rc" -eq 0 ]
	[ "$(tr -d '\r' <"$BATS_TEST_TMPDIR/probe.out")" = ok ]
}

@test "doctor runs on Windows: one line per check, exit 0 or 1, nothing about inodes to fear" {
	local sid h
	wine_run "$(helper child)" sid
	sid=$output
	h=$(winwire sid-hash-input "$sid" | b3sum --no-names -l 8)
	wine_run "$(rp rp-probe)" doctor
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	[[ $output == *"filesystem:inodes"* ]]
	[[ $output == *"no fixed inode table"* ]]
	# the broker's own pipe, hash16 from the user's SID (before: from a
	# uid and machine id, a pipe no broker listens on), in no directory
	[[ $output == *'broker:endpoint: no broker listening at \\.\pipe\rpb-v1-'"$h"'-shared'* ]]
	[[ $output != *"broker:dir"* ]]
	wine_run "$(rp rp-probe)" doctor --json
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	/usr/bin/python3 -c 'import json, sys; json.loads(sys.argv[1])' "$output"
}
