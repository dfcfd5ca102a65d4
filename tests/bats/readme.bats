#!/usr/bin/env bats
# The README's examples, extracted from README.md itself (the ```sh block
# after each "<!-- readme-test: NAME -->" marker) and run as written, each
# in a fresh directory that looks like the top of the tree (examples/ is
# there), with the built programs first on PATH.  Change the README and
# this runs the new text.

load helper
load endpoint
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	# A user's XDG_RUNTIME_DIR is short (/run/user/1000): socket paths
	# under the test's own would not fit in sun_path.
	SHORT=$(mktemp -d /tmp/rpr.XXXXXX)
	export XDG_RUNTIME_DIR=$SHORT
	W=$SHORT/w
	mkdir "$W"
	ln -s "$RP_ROOT/examples" "$W/examples"
	cd "$W"
	SNIPPET=
}

teardown() {
	cd /
	# A snippet runs in a session of its own: whatever it left behind
	# after a failure (a broker in the background) goes with it.
	[ -z "$SNIPPET" ] || kill -KILL -- "-$SNIPPET" 2>/dev/null || true
	rm -rf "$SHORT"
	rp_teardown
	rp_check_sanitizer_logs
}

# The block after the marker NAME, exactly as the README has it.
readme_block() {
	awk -v name="$1" '
		$0 == "<!-- readme-test: " name " -->" { want = 1; next }
		want && /^```sh$/ { inblock = 1; next }
		inblock && /^```$/ { exit }
		inblock { print }
	' "$RP_ROOT/README.md"
}

# Run block NAME with sh -e in its own session, at most 60 s; its stdout
# and stderr in $output / $lines as `run` would set them.
run_block() {
	readme_block "$1" >snippet.sh
	[ -s snippet.sh ] || { echo "README has no block '$1'"; return 1; }
	setsid sh -e snippet.sh >snippet.out 2>&1 &
	SNIPPET=$!
	status=0
	timeout 60 tail -s 0.02 --pid="$SNIPPET" -f /dev/null || true
	wait "$SNIPPET" || status=$?
	output=$(cat snippet.out)
	mapfile -t lines <<<"$output"
	if [ "$status" -ne 0 ]; then
		echo "README block '$1' exited $status:"
		echo "$output"
		return 1
	fi
}

@test "README: every marked block exists and is extracted whole" {
	local name
	for name in broker broker-handoff servicedef handoff identity pty; do
		[ -n "$(readme_block "$name")" ]
	done
	# Continuation lines stay attached to their command.
	readme_block servicedef | grep -q -- '--isolation explicit --instance team-a'
}

@test "README: a service, a broker and a client" {
	run_block broker
	assert_line --regexp "^$XDG_RUNTIME_DIR/running-process/broker/rpb-v1-[0-9a-f]{16}-be-[0-9a-f]{32}\.sock\$"
	[ "$(grep -cx hi <<<"$output")" -eq 2 ]
	assert_line "exe_path: $RP_BUILD/bin/rp-handoff-recv"
	assert_line "namespace: shared"
	assert_line --regexp '^[1-9][0-9]*$'
	assert_line --partial "VERSION_BLOCKED (8): wanted_version is below min_version"
	assert_line "refused: exit 18"
	assert_line "broker shutting down"
	# The broker removed its socket and stopped its backend.
	[ -z "$(find "$XDG_RUNTIME_DIR" -name '*.sock')" ]
}

@test "README: the broker hands the client's connection to the backend" {
	run_block broker-handoff
	# The program's own line came back through the handed-off connection.
	assert_line "handoff"
	assert_line "hi"
	[ "$(grep -cx 'rp-probe: route: handoff' <<<"$output")" -eq 3 ]
	assert_line --regexp '^\{"result":"negotiated",.*"handle_passed_token":"[0-9a-f]{32}".*"route":"handoff","route_detail":null\}$'
	assert_line 'running_process_broker_v1_handoff_total{service="echo",version="1.0.0",outcome="accepted"} 3'
	refute_output --partial "reconnect"
	[ -z "$(find "$XDG_RUNTIME_DIR" -name '*.sock')" ]
}

@test "README: service definitions" {
	local D=$RUNNING_PROCESS_SERVICE_DEF_DIR
	run_block servicedef
	[ "${lines[0]}" = "$D/echo.servicedef" ]
	[ "${lines[1]}" = "$D/echo-team.servicedef" ]
	[ "${lines[2]}" = "file: $D/echo.servicedef" ]
	[ "${lines[3]}" = "service: echo" ]
	[ "${lines[4]}" = "binary: $W/examples/echo-backend" ]
	[ "${lines[5]}" = "isolation: shared" ]
	[ "${lines[6]}" = "min_version: 1.0.0" ]
	/usr/bin/python3 - "${lines[7]}" "$D" <<'PY'
import json, sys
doc = json.loads(sys.argv[1])
assert doc == {
    "path": sys.argv[2] + "/echo-team.servicedef",
    "definition": {
        "service_name": "echo-team",
        "binary_path": "/usr/local/bin/echo-backend",
        "isolation": "explicit",
        "explicit_instance": "team-a",
        "per_version_binary_dir": "",
        "min_version": "",
        "version_allow_list": ["1.0.0", "1.2.0"],
        "labels": {"owner": "platform"},
    },
}, doc
PY
	# echo-team's binary is not installed on this machine: flagged.
	[ "${lines[8]}" = "echo-team.servicedef: binary /usr/local/bin/echo-backend does not exist" ]
	[ "${lines[9]}" = "echo.servicedef: ok" ]
	[ "${lines[10]}" = "exit 1" ]
	[ "${#lines[@]}" -eq 11 ]
}

@test "README: hand an fd from one process to another" {
	run_block handoff
	assert_output "$(cat /etc/hostname)"
	[ ! -e h.sock ]
}

@test "README: a backend endpoint, and who really listens there" {
	run_block identity
	assert_line --regexp '^pid: [0-9]+$'
	assert_line "exe_path: $RP_BUILD/bin/rp-handoff-recv"
	assert_line "exe_hash: $(b3sum --no-names "$RP_BUILD/bin/rp-handoff-recv")"
	assert_line "endpoint: $W/be.sock"
	assert_line --regexp '^\{"verified":true,"pid":[0-9]+,'
	[ ! -e be.sock ]
}

@test "README: a PTY wrapper whose exit status can be trusted" {
	run_block pty
	# A terminal ends its lines with CR LF.
	assert_line --regexp $'^40 120\r$'
	assert_line "exit=3"
	assert_line --regexp $'^got y\r$'
	grep -q 'got y' build.log
	/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["exit_code"] == 0 and r["timed_out"] is False, r' build.json
}
