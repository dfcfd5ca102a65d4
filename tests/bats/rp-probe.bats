#!/usr/bin/env bats
# rp-probe through the real binary: identity against our backend and
# against independent (sometimes lying) Python backends; hello and admin
# against a scripted Python broker that speaks the wire (tests/bats/py/
# rpwire.py serve-hello); every exit status.

load helper
load endpoint
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	EP="$T/be.sock"
	BS="$T/broker.sock"
}

teardown() {
	rp_teardown
	rp_check_sanitizer_logs
}

# A JSON field of a file, by Python's parser (an independent one).
json_get() {
	/usr/bin/python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v))' "$@"
}

# Start the scripted broker on $BS answering MODE [ARG]; what it received
# goes to $T/broker.out.
broker_start() {
	mkfifo "$T/broker.ready" 2>/dev/null || true
	rpwire serve-hello "$BS" "$T/broker.ready" "$@" >"$T/broker.out" 2>"$T/broker.err" &
	BROKER=$!
	RP_BG_PIDS+=("$BROKER")
	rp_wait_fifo "$T/broker.ready"
}

broker_wait() {
	wait "$BROKER"
}

# A Python backend answering identity probes on $EP as MODE says.
fake_backend_start() {
	mkfifo "$T/fb.ready" 2>/dev/null || true
	# Python itself in the background (not a function's subshell), so
	# that $! is the backend's pid.
	PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 "$RP_ROOT/tests/bats/py/rpwire.py" \
		fake-backend "$EP" "$T/fb.ready" "$@" >"$T/fb.out" 2>"$T/fb.err" &
	FB=$!
	RP_BG_PIDS+=("$FB")
	rp_wait_fifo "$T/fb.ready"
}

# ------------------------------------------------------------------ usage

@test "--help is the man page SYNOPSIS; -V; mandoc lint" {
	rp_check_synopsis rp-probe
	run rp-probe -V
	assert_output "rp-probe 0.1.0"
	run rp-probe hello --help
	assert_success
	assert_output --partial "rp-probe admin [-s SOCKET]"
	rp_check_manpage rp-probe
}

@test "usage errors exit 2 with one line on stderr" {
	rp_check_usage_error rp-probe
	rp_check_usage_error rp-probe frobnicate
	rp_check_usage_error rp-probe identity
	rp_check_usage_error rp-probe identity "$EP" "$EP"
	rp_check_usage_error rp-probe identity ""
	rp_check_usage_error rp-probe identity --timeout 5x "$EP"
	rp_check_usage_error rp-probe identity --expect-pid 0 "$EP"
	rp_check_usage_error rp-probe identity --expect-hash abc "$EP"
	rp_check_usage_error rp-probe identity --allow-uid x "$EP"
	rp_check_usage_error rp-probe identity --bogus "$EP"
	rp_check_usage_error rp-probe hello -s "$BS" --service echo
	rp_check_usage_error rp-probe hello -s "$BS" --version 1.0.0
	rp_check_usage_error rp-probe hello -s "$BS" --service echo --version 1.0.0 cat
	rp_check_usage_error rp-probe hello -s "$BS" --service echo --version 1.0.0 --connect -- cat
	rp_check_usage_error rp-probe hello -s "$BS" --service echo --version 1.0.0 --json --connect
	rp_check_usage_error rp-probe hello -s "$BS" --service echo --version 1.0.0 --
	rp_check_usage_error rp-probe hello -s "$BS" --service echo --version 1.0.0 --keepalive -1
	rp_check_usage_error rp-probe hello -s "$BS" --service "$(printf 'e\xffe')" --version 1.0.0
	rp_check_usage_error rp-probe hello -s "" --service echo --version 1.0.0
	TRACEPARENT=$(printf 'a\tb') rp_check_usage_error rp-probe hello -s "$BS" --service echo --version 1.0.0
	TRACESTATE=$(printf 'x%.0s' $(seq 513)) rp_check_usage_error rp-probe hello -s "$BS" --service echo --version 1.0.0
	rp_check_usage_error rp-probe admin -s "$BS"
	rp_check_usage_error rp-probe admin -s "$BS" status extra
	rp_check_usage_error rp-probe admin -s "$BS" --drain-deadline 10 status
	rp_check_usage_error rp-probe admin -s "$BS" --service Bad status
	run rp-probe admin -s "$BS" frob
	assert_failure 2
	assert_output --partial "one of status, dump, list-instances, healthz, readyz, backend-health, config, diagnose, metrics, shutdown"
}

# --------------------------------------------------------------- identity

@test "identity: our backend is verified; plain and JSON output" {
	rp_start be rp-handoff-recv --serve "$EP" --namespace shared --echo --ready-fd 3
	local pid=$RP_LAST_PID hash
	hash=$(b3sum --no-names "$RP_BUILD/bin/rp-handoff-recv")
	run rp-probe identity "$EP"
	assert_success
	assert_line "pid: $pid"
	assert_line "exe_path: $(readlink "/proc/$pid/exe")"
	assert_line "exe_hash: $hash"
	assert_line "exe_hash_algorithm: blake3"
	assert_line "boot_id: $(cat /proc/sys/kernel/random/boot_id)"
	assert_line "namespace: shared"
	assert_line "endpoint: $EP"
	assert_line "peer_uid: $(id -u)"
	assert_line --regexp '^started_at_unix_ms: [0-9]{13}$'
	rp-probe identity --json "$EP" >"$T/id.json"
	[ "$(json_get "$T/id.json" verified)" = true ]
	[ "$(json_get "$T/id.json" pid)" = "$pid" ]
	[ "$(json_get "$T/id.json" exe_hash)" = "\"$hash\"" ]
	# Every expectation that holds.
	run rp-probe identity --expect-pid "$pid" --expect-exe "$(readlink "/proc/$pid/exe")" \
		--expect-hash "$hash" --expect-namespace shared "$EP"
	assert_success
}

@test "identity: expectations that do not hold are mismatches (exit 1), by field" {
	rp_start be rp-handoff-recv --serve "$EP" --namespace shared --echo --ready-fd 3
	run rp-probe identity --expect-pid 1 "$EP"
	assert_failure 1
	assert_output --partial "identity mismatch: pid: "
	run rp-probe identity --expect-exe /bin/sh "$EP"
	assert_failure 1
	assert_output --partial "identity mismatch: exe_path: "
	run rp-probe identity --expect-hash "$(printf '0%.0s' $(seq 64))" "$EP"
	assert_failure 1
	assert_output --partial "identity mismatch: exe_hash: "
	run rp-probe identity --expect-namespace private:x "$EP"
	assert_failure 1
	assert_output --partial "identity mismatch: ipc_endpoint: namespace shared, expected private:x"
	run --separate-stderr rp-probe identity --json --expect-pid 1 "$EP"
	assert_failure 1
	echo "$output" >"$T/m.json"
	[ "$(json_get "$T/m.json" verified)" = false ]
	[ "$(json_get "$T/m.json" mismatch)" = '"pid"' ]
}

@test "identity: ENDPOINT relative or through a linked directory is the socket the backend claims" {
	mkdir -m 0700 "$T/d"
	ln -s d "$T/link"
	EP="$T/d/be.sock"
	rp_start be rp-handoff-recv --serve "$EP" --namespace shared --echo --ready-fd 3
	# Relative: the claim is the absolute path of the same socket file.
	run bash -c 'cd "$1" && rp-probe identity be.sock' _ "$T/d"
	assert_success
	assert_line "endpoint: $EP"
	run bash -c 'cd "$1" && rp-probe identity ./../link/be.sock' _ "$T/d"
	assert_success
	# Through the linked directory, as the man page says.
	run rp-probe identity "$T/link/be.sock"
	assert_success
	# The namespace is still checked after such a match.
	run bash -c 'cd "$1" && rp-probe identity --expect-namespace private:x be.sock' _ "$T/d"
	assert_failure 1
	assert_output "rp-probe: identity mismatch: ipc_endpoint: namespace shared, expected private:x"
	# And the other way round: an independent backend that claims the
	# linked path (ours refuse to listen in a linked directory).
	EP="$T/link/b2.sock"
	fake_backend_start honest --count 2
	run rp-probe identity "$T/d/b2.sock"
	assert_success
	assert_line "endpoint: $T/link/b2.sock"
}

@test "identity: a claim of another socket file is a mismatch, however ENDPOINT is spelled" {
	mkdir -m 0700 "$T/d"
	EP="$T/d/be.sock"
	fake_backend_start endpoint
	# It claims $EP.elsewhere, which exists and is not the socket we dial.
	: >"$EP.elsewhere"
	run bash -c 'cd "$1" && rp-probe identity be.sock' _ "$T/d"
	assert_failure 1
	assert_output "rp-probe: identity mismatch: ipc_endpoint: claimed ipc_endpoint $EP.elsewhere, but we dialled be.sock"
	wait "$FB"
}

@test "identity: an honest independent backend passes (legacy trailer and idle timeout too)" {
	fake_backend_start honest --count 1
	run rp-probe identity --expect-pid "$FB" "$EP"
	assert_success
	assert_line "pid: $FB"
	fake_backend_start legacy
	run rp-probe identity "$EP"
	assert_success
	fake_backend_start idle
	run rp-probe identity "$EP"
	assert_success
	assert_line "idle_timeout_secs: 77"
}

@test "identity: each lie is caught by the kernel cross-check, named by field" {
	local mode field
	for mode in pid:pid exe:exe_path hash:exe_hash boot:boot_id endpoint:ipc_endpoint; do
		field=${mode#*:}
		fake_backend_start "${mode%%:*}"
		run rp-probe identity "$EP"
		[ "$status" -eq 1 ] || { echo "$mode: exit $status: $output"; return 1; }
		[[ "$output" == *"identity mismatch: $field: "* ]] || { echo "$mode: $output"; return 1; }
		wait "$FB"
	done
}

@test "identity: malformed answers exit 5" {
	local mode
	for mode in nonce algo rid kind garbage; do
		fake_backend_start "$mode"
		run rp-probe identity "$EP"
		[ "$status" -eq 5 ] || { echo "$mode: exit $status: $output"; return 1; }
		wait "$FB"
	done
}

@test "identity: a silent backend exits 4; nothing there exits 3" {
	fake_backend_start silent
	run rp-probe identity --timeout 200 "$EP"
	assert_failure 4
	wait "$FB"
	run rp-probe identity "$EP"
	assert_failure 3
	/usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$EP"
	run rp-probe identity "$EP"
	assert_failure 3
}

@test "identity: a backend of another uid is a uid mismatch unless --allow-uid" {
	SHARED=$(rp_shared_dir)
	mkdir "$SHARED/nb"
	chown 65534:65534 "$SHARED/nb"
	rp_start nb setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		rp-handoff-recv --serve "$SHARED/nb/be.sock" --allow-uid 0 --echo --ready-fd 3
	run rp-probe identity "$SHARED/nb/be.sock"
	assert_failure 1
	assert_output --partial "identity mismatch: uid: the endpoint is served by uid 65534"
	run rp-probe identity --allow-uid 65534 "$SHARED/nb/be.sock"
	assert_success
	assert_line "peer_uid: 65534"
}

# ------------------------------------------------------------------ hello

@test "hello: the Hello on the wire, and the backend endpoint printed" {
	broker_start negotiated "/run/backend.sock"
	TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 \
	TRACESTATE=vendor=value \
		run rp-probe hello -s "$BS" --service echo --version 1.2.3 \
		--client-version "my client 9" --keepalive 60
	assert_success
	assert_output "/run/backend.sock"
	broker_wait
	run cat "$T/broker.out"
	assert_line "frame.kind: 0"
	assert_line "frame.payload_protocol: 0"
	assert_line --regexp '^frame.request_id: [1-9][0-9]*$'
	assert_line "frame.traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	assert_line "frame.tracestate: vendor=value"
	assert_line "hello.client_min_protocol: 1"
	assert_line "hello.client_max_protocol: 1"
	assert_line "hello.service_name: echo"
	assert_line "hello.wanted_version: 1.2.3"
	assert_line "hello.client_version: my client 9"
	assert_line "hello.client_capabilities: 0"
	assert_line --regexp '^hello.request_id: [0-9a-f]{32}$'
	assert_line "hello.client_lib_name: rp"
	assert_line "hello.client_lib_version: 0.1.0"
	assert_line "hello.client_keepalive_secs: 60"
	# peer_pid is ours, as the kernel says.
	local pp kp
	pp=$(sed -n 's/^hello.peer_pid: //p' "$T/broker.out")
	kp=$(sed -n 's/^kernel_pid: //p' "$T/broker.out")
	[ "$pp" = "$kp" ] && [ "$pp" -gt 0 ]
}

@test "hello --json prints the whole reply" {
	broker_start negotiated "/run/backend.sock"
	rp-probe hello -s "$BS" --service echo --version 1.0.0 --json >"$T/r.json"
	broker_wait
	[ "$(json_get "$T/r.json" result)" = '"negotiated"' ]
	[ "$(json_get "$T/r.json" negotiated protocol)" = 1 ]
	[ "$(json_get "$T/r.json" negotiated daemon_version)" = '"1.2.3"' ]
	[ "$(json_get "$T/r.json" negotiated backend_pipe)" = '"/run/backend.sock"' ]
	[ "$(json_get "$T/r.json" negotiated warnings 0)" = '"w1"' ]
	[ "$(json_get "$T/r.json" negotiated keepalive_interval_secs)" = 1800 ]
	[ "$(json_get "$T/r.json" negotiated connection_id)" = '"7"' ]
	[ "$(json_get "$T/r.json" negotiated handle_passed_token)" = '""' ]
	# The ids as the broker saw them: the frame's in decimal, the Hello's
	# own as sent; both JSON strings.
	grep -q "^frame.request_id: $(json_get "$T/r.json" frame_request_id | tr -d '"')$" "$T/broker.out"
	grep -q "^hello.request_id: $(json_get "$T/r.json" request_id | tr -d '"')$" "$T/broker.out"
}

@test "hello: each refusal code N exits 10+N and says why" {
	local code
	for code in 0 1 2 3 4 5 6 7 8 9; do
		broker_start refused "$code"
		run rp-probe hello -s "$BS" --service echo --version 1.0.0
		[ "$status" -eq $((10 + code)) ] || { echo "code $code: exit $status"; return 1; }
		[[ "$output" == "rp-probe: refused: "*" ($code): scripted refusal $code; retry after "*" ms" ]] ||
			{ echo "$output"; return 1; }
		broker_wait
	done
	broker_start refused 2
	run --separate-stderr rp-probe hello -s "$BS" --service nope --version 1.0.0 --json
	assert_failure 12
	assert_equal "$stderr" "rp-probe: refused: SERVICE_UNKNOWN (2): scripted refusal 2; retry after 1000 ms"
	echo "$output" >"$T/r.json"
	[ "$(json_get "$T/r.json" refused code_name)" = '"SERVICE_UNKNOWN"' ]
	[ "$(json_get "$T/r.json" refused retry_after_ms)" = 1000 ]
}

@test "hello: malformed replies exit 5, silence 4, no broker 3" {
	local mode
	for mode in garbage badbyte wrongkind close; do
		broker_start "$mode"
		run rp-probe hello -s "$BS" --service echo --version 1.0.0
		[ "$status" -eq 5 ] || { echo "$mode: exit $status: $output"; return 1; }
		broker_wait
	done
	broker_start silence
	run rp-probe hello -s "$BS" --service echo --version 1.0.0 --timeout 200
	assert_failure 4
	broker_wait
	run rp-probe hello -s "$BS" --service echo --version 1.0.0
	assert_failure 3
}

@test "hello: the broker socket from the environment, else the shared default" {
	export RUNNING_PROCESS_BROKER_V1_SOCKET=$BS
	broker_start negotiated /x.sock
	run rp-probe hello --service echo --version 1.0.0
	assert_output "/x.sock"
	broker_wait
	unset RUNNING_PROCESS_BROKER_V1_SOCKET
	# rpb-v1-{first 8 bytes of BLAKE3("uid:machine-id")}-shared.sock
	local hash dir
	hash=$(printf '%s' "$(id -u):$(tr -d ' \n' </etc/machine-id)" | b3sum --no-names | cut -c1-16)
	dir="$XDG_RUNTIME_DIR/running-process/broker"
	mkdir -p "$dir" && chmod 0700 "$dir"
	BS="$dir/rpb-v1-$hash-shared.sock"
	broker_start negotiated /default.sock
	run rp-probe hello --service echo --version 1.0.0
	assert_output "/default.sock"
	broker_wait
}

@test "hello -- PROG: the backend connection on fds 6 and 7, RP_ROUTE=reconnect" {
	rp_start be rp-handoff-recv --serve "$EP" --echo --ready-fd 3
	broker_start negotiated "$EP"
	run rp-probe hello -s "$BS" --service echo --version 1.0.0 -- \
		sh -c 'echo "hi $RP_ROUTE" >&7; head -1 <&6'
	assert_success
	assert_output "hi reconnect"
	broker_wait
}

@test "hello --connect relays stdin and stdout like nc -U" {
	rp_start be rp-handoff-recv --serve "$EP" --echo --ready-fd 3
	broker_start negotiated "$EP"
	run sh -c 'printf "line one\nline two\n" | rp-probe hello -s "$1" --service echo --version 1.0.0 --connect' sh "$BS"
	assert_success
	assert_output "$(printf 'line one\nline two')"
	broker_wait
}

@test "hello: PROG's status is ours; not found 127, not executable 126; an unreachable backend 3" {
	rp_start be rp-handoff-recv --serve "$EP" --echo --ready-fd 3
	broker_start negotiated "$EP"
	run rp-probe hello -s "$BS" --service echo --version 1.0.0 -- sh -c 'exit 9'
	assert_failure 9
	broker_wait
	broker_start negotiated "$EP"
	run -127 rp-probe hello -s "$BS" --service echo --version 1.0.0 -- no-such-prog-xyz
	broker_wait
	printf '#!/bin/sh\n' >"$T/noexec"
	broker_start negotiated "$EP"
	run -126 rp-probe hello -s "$BS" --service echo --version 1.0.0 -- "$T/noexec"
	broker_wait
	broker_start negotiated "$T/nobody-here.sock"
	run rp-probe hello -s "$BS" --service echo --version 1.0.0 --connect </dev/null
	assert_failure 3
	assert_output --partial "cannot connect to the backend"
	broker_wait
}

@test "hello --adopt: the handoff event makes the Hello socket the backend's" {
	broker_start adopt
	run rp-probe hello -s "$BS" --service echo --version 1.0.0 --adopt -- \
		sh -c 'echo "via $RP_ROUTE" >&7; head -1 <&6'
	assert_success
	assert_line "rp-probe: route: handoff"
	assert_line "via handoff"
	broker_wait
	grep -q "^hello.client_capabilities: 1$" "$T/broker.out"
	broker_start adopt
	rp-probe hello -s "$BS" --service echo --version 1.0.0 --adopt --json >"$T/r.json" 2>/dev/null
	[ "$(json_get "$T/r.json" route)" = '"handoff"' ]
	[ "$(json_get "$T/r.json" negotiated server_capabilities)" = 1 ]
	[ "$(json_get "$T/r.json" negotiated handle_passed_token | tr -d '"' | wc -c)" -eq 33 ]
}

@test "hello --adopt falls back to reconnecting, silently, when the handoff does not happen" {
	rp_start be rp-handoff-recv --serve "$EP" --echo --ready-fd 3
	# An event with another token.
	broker_start adopt-bad "$EP"
	run rp-probe hello -s "$BS" --service echo --version 1.0.0 --adopt -- \
		sh -c 'echo "via $RP_ROUTE" >&7; head -1 <&6'
	assert_success
	assert_line "rp-probe: route: reconnect (the handoff event carries another token)"
	assert_line "via reconnect"
	broker_wait
	# No token at all.
	broker_start negotiated "$EP"
	run rp-probe hello -s "$BS" --service echo --version 1.0.0 --adopt --connect <<<"plain"
	assert_success
	assert_line "rp-probe: route: reconnect (the broker issued no handoff token)"
	assert_line "plain"
	broker_wait
	# A token but no event before --handoff-timeout.
	broker_start adopt-silent "$EP"
	run rp-probe hello -s "$BS" --service echo --version 1.0.0 --adopt \
		--handoff-timeout 100 --connect <<<"late"
	assert_success
	assert_line "rp-probe: route: reconnect (no handoff event in time)"
	assert_line "late"
	broker_wait
}

# ------------------------------------------------------------------ admin

@test "admin: every verb is sent by its number, with --json and --service" {
	local pair verb num
	for pair in status:1 dump:2 list-instances:3 healthz:4 readyz:5 \
		backend-health:6 config:7 diagnose:8 metrics:9 shutdown:21; do
		verb=${pair%%:*}
		num=${pair#*:}
		broker_start admin 0,0
		run rp-probe admin -s "$BS" "$verb"
		assert_success
		assert_output "ok"
		broker_wait
		grep -qx "admin.verb: $num" "$T/broker.out" || { echo "$verb"; cat "$T/broker.out"; return 1; }
	done
	broker_start admin 0,1
	run rp-probe admin -s "$BS" --json --service echo backend-health
	assert_output '{"schema_version":1}'
	broker_wait
	grep -qx "admin.json: 1" "$T/broker.out"
	grep -qx "admin.service_name: echo" "$T/broker.out"
	broker_start admin 0,0
	run rp-probe admin -s "$BS" --drain-deadline 2500 shutdown
	broker_wait
	grep -qx "admin.drain_deadline_ms: 2500" "$T/broker.out"
}

@test "admin: the body is printed as is and exit_code is the exit status" {
	broker_start admin 0,2
	rp-probe admin -s "$BS" metrics >"$T/body"
	broker_wait
	printf '# EOF\n' | cmp - "$T/body"
	broker_start admin 1,0
	run rp-probe admin -s "$BS" readyz
	assert_failure 1
	broker_wait
	broker_start admin 2,0
	run rp-probe admin -s "$BS" status
	assert_failure 2
	broker_wait
}

@test "a hostile peer's strings reach the terminal escaped, never raw" {
	# identity: the unverified namespace a backend claims.
	fake_backend_start honest --namespace $'ns\e[2J\nx'
	run --separate-stderr rp-probe identity "$EP"
	assert_success
	assert_line 'namespace: ns\x1b[2J\nx'
	[[ "$output" != *$'\e'* ]]
	# hello: the backend path a broker names.
	broker_start negotiated $'/x\e]0;title\a.sock'
	run --separate-stderr rp-probe hello -s "$BS" --service echo --version 1.0.0
	assert_success
	assert_output '/x\x1b]0;title\x07.sock'
	broker_wait
	# admin: the body's lines, tabs and backslashes as they are; every
	# other control (ESC, C1 CSI, BEL, CR) escaped.
	broker_start admin 0,3
	rp-probe admin -s "$BS" status >"$T/body"
	broker_wait
	printf 'a\\x1b[2J\tb\\"c\\xc2\\x9b\\x07\nd\\r\n' | cmp - "$T/body"
}

@test "admin: malformed replies exit 5, silence 4, no broker 3" {
	broker_start garbage
	run rp-probe admin -s "$BS" status
	assert_failure 5
	broker_wait
	broker_start wrongkind
	run rp-probe admin -s "$BS" status
	assert_failure 5
	broker_wait
	broker_start silence
	run rp-probe admin -s "$BS" --timeout 200 status
	assert_failure 4
	broker_wait
	run rp-probe admin -s "$BS" status
	assert_failure 3
}

@test "hello and admin: a refusal sent before the request is written is read and reported, not a broken pipe" {
	# connecthup.so holds connect(2) until the scripted broker has sent
	# its code 9 and closed: the request's write then fails with EPIPE.
	local pre="$RP_BUILD/tests/preload/connecthup.so"
	local asan="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	broker_start refuse-first
	run -19 env LD_PRELOAD="$pre" RP_CONNECTHUP=1 "$asan" \
		rp-probe hello -s "$BS" --service echo --version 1.0.0
	[[ "$output" == *"hello: the broker refused the connection: FD_PRESSURE (9): broker is low on file descriptors"* ]]
	[[ "$output" != *"Broken pipe"* ]]
	broker_wait
	rm -f "$BS"
	broker_start refuse-first
	run -1 env LD_PRELOAD="$pre" RP_CONNECTHUP=1 "$asan" \
		rp-probe admin -s "$BS" readyz
	[[ "$output" == *"admin: the broker refused the connection: FD_PRESSURE (9)"* ]]
	broker_wait
	rm -f "$BS"
	broker_start refuse-first
	run -19 env LD_PRELOAD="$pre" RP_CONNECTHUP=1 "$asan" \
		rp-probe admin -s "$BS" status
	broker_wait
}
