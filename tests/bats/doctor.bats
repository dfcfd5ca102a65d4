#!/usr/bin/env bats
# rp-probe doctor: the machine as the broker and its clients find it,
# with no broker, with ours (as root and as another uid), with good and
# broken definitions, stale sockets, bad environment seams, a path that
# will not fit; one "pass|warn|fail NAME: DETAIL" line per check or one
# JSON document; exit 1 on any failure; and it changes nothing.

load broker
bats_require_minimum_version 1.5.0

setup() {
	broker_setup
	# The test's own runtime directory is too deep for backend endpoint
	# names (as readme.bats says): a short one, as /run/user/UID is.
	SHORT=$(mktemp -d /tmp/rpdoc.XXXXXX)
	chmod 0700 "$SHORT"
	export XDG_RUNTIME_DIR=$SHORT
	BDIR=$SHORT/running-process/broker
}

teardown() {
	broker_teardown
	rm -rf "$SHORT"
}

# doctor [ARGS...]: run it; every line must be a check line.
doctor() {
	run --separate-stderr rp-probe doctor "$@"
	[ -z "$stderr" ] || { echo "stderr: $stderr"; return 1; }
	local l
	for l in "${lines[@]}"; do
		[[ "$l" =~ ^(pass|warn|fail)\ [a-z]+:[^\ ]*:\ . ]] ||
			{ echo "not a check line: $l"; return 1; }
	done
}

# line_of NAME: the line of check NAME.
line_of() {
	printf '%s\n' "${lines[@]}" | grep -E "^(pass|warn|fail) $1: "
}

@test "doctor with no broker: exit 0, every area checked, the endpoint the broker would take" {
	doctor
	[ "$status" -eq 0 ]
	local names
	names=$(printf '%s\n' "${lines[@]}" | sed -E 's/^[a-z]+ ([^ ]+): .*/\1/' | tr '\n' ' ')
	[ "$names" = "env:RUNNING_PROCESS_DISABLE env:RUNNING_PROCESS_FAKE_BACKEND env:RUNNING_PROCESS_NO_TRACKING env:RUNNING_PROCESS_DAEMON_SCOPE env:RUNNING_PROCESS_SERVICE_DEF_DIR env:RUNNING_PROCESS_BROKER_V1_SOCKET env:RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS env:RP_BROKER_LOOP env:XDG_RUNTIME_DIR broker:endpoint dir:runtime broker:dir servicedef:dir sockets:runtime-dir filesystem:inodes platform:path-budget build:version " ] ||
		{ echo "$names"; return 1; }
	line_of broker:dir | grep -qx "warn broker:dir: $BDIR does not exist (a broker creates it when it starts)"
	line_of dir:runtime | grep -qx "pass dir:runtime: $SHORT (uid $(id -u), mode 0700)"
	# Where a broker started now would listen, and then does.
	local ep
	ep=$(line_of broker:endpoint | sed -E 's/^warn broker:endpoint: no broker listening at (.*) \(No such file or directory\)$/\1/')
	[[ "$ep" == "$BDIR/rpb-v1-"*"-shared.sock" ]]
	rp_start broker rp-broker --ready-fd 3
	[ -S "$ep" ]
	line_of env:RUNNING_PROCESS_SERVICE_DEF_DIR | grep -qx "warn env:RUNNING_PROCESS_SERVICE_DEF_DIR: set to \"$DEFS\": the service-definition directory is overridden"
	line_of servicedef:dir | grep -qx "pass servicedef:dir: $DEFS (private, 0 definitions)"
	line_of build:version | grep -qx "pass build:version: rp-probe 0.1.0: protocol v1, framing v1"
}

@test "doctor with our broker: who listens, what it speaks, its backends live" {
	rp-servicedef write --service echo --binary "$RP_ROOT/examples/echo-backend" >/dev/null
	rp_start broker rp-broker --ready-fd 3
	local bpid=$RP_LAST_PID ep
	run -0 rp-probe hello --service echo --version 1.0.0
	doctor
	[ "$status" -eq 0 ]
	ep=$(ls "$BDIR"/rpb-v1-*-shared.sock)
	line_of broker:endpoint | grep -qx "pass broker:endpoint: broker listening at $ep: protocols v1..v1, the probe refused with SERVICE_UNKNOWN (as expected for service rp-doctor-probe)"
	line_of broker:listener | grep -qx "pass broker:listener: pid $bpid, uid $(id -u), $RP_BUILD/bin/rp-broker"
	line_of broker:dir | grep -qx "pass broker:dir: $BDIR (uid $(id -u), mode 0700)"
	line_of sockets:runtime-dir | grep -qx "pass sockets:runtime-dir: $BDIR: 1 broker socket, none stale"
	line_of backends:endpoints | grep -qx "pass backends:endpoints: $BDIR: 1 backend endpoint, every one live"
	line_of servicedef:echo.servicedef | grep -qx "pass servicedef:echo.servicedef: service echo, binary $RP_ROOT/examples/echo-backend"
}

@test "doctor: a listener of another uid is named as such" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run the broker as uid 65534"
	SHARED=$(rp_shared_dir)
	mkdir -m 0700 "$SHARED/b" && chown 65534:65534 "$SHARED/b"
	rp_start nb setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		rp-broker -s "$SHARED/b/b.sock" -d "$SHARED/b" --ready-fd 3
	doctor -s "$SHARED/b/b.sock"
	[ "$status" -eq 1 ]     # its directory is not ours: fail
	# (A reset or a broken pipe, as the kernel's timing has it.)
	line_of broker:endpoint | grep -qxE "warn broker:endpoint: broker listening at $SHARED/b/b.sock: no HelloReply: the connection was closed unanswered \((Connection reset by peer|Broken pipe|end of file)\), as a broker closes it for a uid it does not serve"
	line_of broker:listener | grep -qx "warn broker:listener: pid $RP_LAST_PID, uid 65534, $RP_BUILD/bin/rp-broker: not our uid (0); it serves us only if its --allow-uid admits us"
	line_of broker:dir | grep -qx "fail broker:dir: $SHARED/b is owned by uid 65534, not 0: a broker of uid 0 refuses it"
}

@test "doctor: definitions that do not load or whose binary is missing fail; JSON says the same" {
	rp-servicedef write --service echo --binary "$RP_ROOT/examples/echo-backend" >/dev/null
	rp-servicedef write --service gone --binary "$T/no-such-binary" >/dev/null
	printf 'junk' >"$DEFS/junk.servicedef"
	doctor
	[ "$status" -eq 1 ]
	line_of servicedef:dir | grep -qx "pass servicedef:dir: $DEFS (private, 3 definitions)"
	line_of servicedef:gone.servicedef | grep -qx "fail servicedef:gone.servicedef: service gone: binary $T/no-such-binary does not exist"
	line_of servicedef:junk.servicedef | grep -qx "fail servicedef:junk.servicedef: $DEFS/junk.servicedef: not a ServiceDefinition"
	# A file the broker would not trust fails as the broker says it.
	rp-servicedef write --service open --binary "$RP_ROOT/examples/echo-backend" >/dev/null
	chmod 0664 "$DEFS/open.servicedef"
	doctor
	[ "$status" -eq 1 ]
	line_of servicedef:open.servicedef | grep -q "^fail servicedef:open.servicedef: $DEFS/open.servicedef: .*writable" ||
		{ line_of servicedef:open.servicedef; return 1; }
	rm "$DEFS/open.servicedef"
	run -1 rp-probe doctor --json
	/usr/bin/python3 - "$output" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["schema_version"] == 1 and d["command"] == "doctor" and d["exit_code"] == 1, d
st = {c["check"]: c["status"] for c in d["checks"]}
assert st["servicedef:echo.servicedef"] == "PASS", st
assert st["servicedef:gone.servicedef"] == "FAIL", st
assert st["servicedef:junk.servicedef"] == "FAIL", st
assert all(set(c) == {"check", "status", "detail"} for c in d["checks"])
# running-process's words, in JSON.
assert {c["status"] for c in d["checks"]} <= {"PASS", "WARN", "FAIL"}
PY
	# An insecure directory fails, and its files are still listed.
	chmod 0755 "$DEFS"
	doctor
	[ "$status" -eq 1 ]
	line_of servicedef:dir | grep -qx "fail servicedef:dir: $DEFS has mode 0755; group/other permissions must be off: the broker loads no definition from it"
	line_of servicedef:echo.servicedef | grep -q "^pass"
}

@test "doctor: stale sockets and dead backends' endpoints are reported, never removed" {
	mkdir -p "$BDIR"
	chmod 0700 "$SHORT/running-process" "$BDIR"
	local hash=0123456789abcdef
	for f in "rpb-v1-$hash-shared.sock" "rpb-v1-$hash-be-0123456789abcdef0123456789abcdef.sock"; do
		/usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$BDIR/$f"
	done
	doctor
	[ "$status" -eq 0 ]
	line_of sockets:runtime-dir | grep -qx "warn sockets:runtime-dir: $BDIR: 1 of 1 broker socket refuse connections (nobody listens): rpb-v1-$hash-shared.sock; a broker removes its own stale socket when it starts"
	line_of backends:endpoints | grep -qx "warn backends:endpoints: $BDIR: 1 of 1 backend endpoint without a live process (a backend that died without removing it): rpb-v1-$hash-be-0123456789abcdef0123456789abcdef.sock"
	[ -S "$BDIR/rpb-v1-$hash-shared.sock" ]
	[ -S "$BDIR/rpb-v1-$hash-be-0123456789abcdef0123456789abcdef.sock" ]
}

@test "doctor: environment seams, set, empty or wrong" {
	RUNNING_PROCESS_DISABLE=1 doctor
	[ "$status" -eq 0 ]
	line_of env:RUNNING_PROCESS_DISABLE | grep -q '^warn .*set to "1": running-process clients skip the broker'
	RUNNING_PROCESS_DISABLE=yes doctor
	[ "$status" -eq 1 ]
	line_of env:RUNNING_PROCESS_DISABLE | grep -qx 'fail env:RUNNING_PROCESS_DISABLE: set to "yes": only "1" (or unset) is valid; running-process clients refuse to start'
	RUNNING_PROCESS_FAKE_BACKEND=/x doctor
	line_of env:RUNNING_PROCESS_FAKE_BACKEND | grep -q '^warn .*TEST-ONLY seam'
	RUNNING_PROCESS_FAKE_BACKEND= doctor
	line_of env:RUNNING_PROCESS_FAKE_BACKEND | grep -qx 'warn env:RUNNING_PROCESS_FAKE_BACKEND: set but empty (the seam is ignored): unset it'
	RP_BROKER_LOOP=select doctor
	[ "$status" -eq 1 ]
	line_of env:RP_BROKER_LOOP | grep -q '^fail .*neither epoll nor poll'
	RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS=0 doctor
	[ "$status" -eq 1 ]
	line_of env:RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS | grep -q '^fail .*"0", not a number of milliseconds'
	# An empty XDG_RUNTIME_DIR: no endpoint can be named at all.
	XDG_RUNTIME_DIR= doctor
	[ "$status" -eq 1 ]
	line_of env:XDG_RUNTIME_DIR | grep -q '^fail env:XDG_RUNTIME_DIR: set but empty'
	line_of broker:endpoint | grep -qx 'fail broker:endpoint: cannot derive the broker endpoint: XDG_RUNTIME_DIR is not an absolute path'
	# A relative one: the same (the XDG specification calls it invalid).
	XDG_RUNTIME_DIR=run/user doctor
	[ "$status" -eq 1 ]
	line_of env:XDG_RUNTIME_DIR | grep -qx 'fail env:XDG_RUNTIME_DIR: not an absolute path: no broker directory can be named (running-process v1 would use a relative path); set it to an absolute path or unset it'
	line_of broker:endpoint | grep -qx 'fail broker:endpoint: cannot derive the broker endpoint: XDG_RUNTIME_DIR is not an absolute path'
	# Control characters in a value stay on their line, escaped.
	RUNNING_PROCESS_NO_TRACKING=$'a\nb\e[2J' doctor
	line_of env:RUNNING_PROCESS_NO_TRACKING | grep -qxF 'warn env:RUNNING_PROCESS_NO_TRACKING: set to "a\nb\x1b[2J": daemon IPC tracking off'
}

@test "doctor: a runtime directory too deep for a backend endpoint fails the path budget" {
	local deep=$SHORT/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
	mkdir -m 0700 "$deep"
	XDG_RUNTIME_DIR=$deep doctor
	[ "$status" -eq 1 ]
	# "/rpb-v1-" <16 hex> "-be-" <32 hex> ".sock": 65 bytes after it.
	local bdir=$deep/running-process/broker
	local len=$((${#bdir} + 65))
	line_of platform:path-budget | grep -qx "fail platform:path-budget: a backend endpoint in $deep/running-process/broker would be $len bytes; at most 107 fit sun_path: shorten XDG_RUNTIME_DIR or -s"
	line_of broker:endpoint | grep -qx "fail broker:endpoint: cannot derive the broker endpoint in $deep/running-process/broker: its name would not fit a socket address (sun_path)"
	# And a runtime directory others may use is pointed out.
	chmod 0755 "$deep"
	XDG_RUNTIME_DIR=$deep doctor
	line_of dir:runtime | grep -qx "warn dir:runtime: $deep is uid $(id -u), mode 0755; a runtime directory is its user's alone (0700)"
}

@test "doctor changes nothing: no file made, moved or touched" {
	rp-servicedef write --service echo --binary "$RP_ROOT/examples/echo-backend" >/dev/null
	mkdir -p "$BDIR" && chmod 0700 "$SHORT/running-process" "$BDIR"
	/usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
		"$BDIR/rpb-v1-0123456789abcdef-shared.sock"
	local before after
	before=$(find "$SHORT" "$T/config" -printf '%p %m %s %T@\n' | sort)
	doctor
	run -0 rp-probe doctor --json
	after=$(find "$SHORT" "$T/config" -printf '%p %m %s %T@\n' | sort)
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); return 1; }
}

@test "doctor: usage errors" {
	rp_check_usage_error rp-probe doctor extra
	rp_check_usage_error rp-probe doctor -s ""
	rp_check_usage_error rp-probe doctor -s "/$(printf 'x%.0s' $(seq 1 120))"
	rp_check_usage_error rp-probe doctor -d ""
	rp_check_usage_error rp-probe doctor --timeout 1x
	rp_check_usage_error rp-probe doctor --bogus
}
