#!/usr/bin/env bats
# The Hello pipeline of 10-wire.md §6 through the real broker and an
# independent Python peer: every row of the refusal table with its exact
# code, reason and retry_after_ms, in order; what a reply frame echoes;
# negotiated replies (keepalive, connection ids).

load broker
bats_require_minimum_version 1.5.0

# expect_refused CODE REASON RETRY — on the JSON reply in $output.
expect_refused() {
	local got
	got=$(echo "$output" | jf '[d.get("result"), d.get("code"), d.get("reason"), d.get("retry_after_ms"), d.get("daemon_min_protocol"), d.get("daemon_max_protocol"), d.get("kind"), d.get("payload_protocol"), d.get("envelope_version")]')
	local want
	want=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps(["refused", int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), 1, 1, 1, 0, 1]))' "$1" "$2" "$3")
	if [ "$got" != "$want" ]; then
		echo "got  $got"
		echo "want $want"
		return 1
	fi
}

# ----------------------------------------------------- rows 1-4: framing

@test "row 1: a first byte other than 0x01" {
	start_broker
	run -0 bw raw --socket "$SOCK" --hex 0205000000
	expect_refused 1 "unsupported framing version" 0
	[ "$(field request_id)" = 0 ]
	# as soon as that byte arrives: one byte is enough
	run -0 bw raw --socket "$SOCK" --hex ff
	expect_refused 1 "unsupported framing version" 0
}

@test "row 2: an announced length over 64 KiB; exactly 64 KiB is allowed" {
	start_broker
	# up to 16 MiB the body is read first, as running-process v1 reads
	# it: refused with its request id once it is all there (the bytes are
	# in conformance.bats), incomplete when it never is
	run -0 hello --pad-to 70000 --frame-id 3
	expect_refused 6 "initial Hello frame exceeds 64 KiB" 0
	[ "$(field request_id)" = 3 ]
	run -0 bw raw --socket "$SOCK" --hex 0101000100 --shut-wr
	expect_refused 6 "incomplete Hello frame" 0
	# past 16 MiB at once, from the header
	run -0 bw raw --socket "$SOCK" --hex 0101000001
	expect_refused 6 "initial Hello frame exceeds 64 KiB" 0
	run -0 bw raw --socket "$SOCK" --hex 01ffffffff
	expect_refused 6 "initial Hello frame exceeds 64 KiB" 0
	# len == cap: read and decoded (then refused for its huge client_version)
	run -0 hello --pad-to 65536 --frame-id 4
	expect_refused 6 "client_version exceeds 128 bytes" 0
	[ "$(field request_id)" = 4 ]
}

@test "row 3: EOF in the middle of the header or the body" {
	start_broker
	run -0 bw raw --socket "$SOCK" --hex 0110 --shut-wr
	expect_refused 6 "incomplete Hello frame" 0
	run -0 bw raw --socket "$SOCK" --hex 010a0000000801 --shut-wr
	expect_refused 6 "incomplete Hello frame" 0
	# EOF before any byte too, as running-process v1 answers it
	run -0 bw raw --socket "$SOCK" --hex "" --shut-wr
	expect_refused 6 "incomplete Hello frame" 0
	[ "$(field request_id)" = 0 ]
	[ "$(metric running_process_broker_v1_hello_total outcome=peer_rejected)" = 3 ]
}

@test "row 3: a frame still incomplete at the deadline (counted from accept)" {
	start_broker --hello-timeout 300
	run -0 bw raw --socket "$SOCK" --hex 010a00000008
	expect_refused 6 "incomplete Hello frame" 0
	[ "$(metric running_process_broker_v1_connections_closed_total reason=replied)" -ge 1 ]
}

@test "row 4: a body that is not a Frame" {
	start_broker
	run -0 bw raw --socket "$SOCK" --hex 0103000000ffffff
	expect_refused 6 "malformed broker Frame" 0
	[ "$(field request_id)" = 0 ]
	# field number 0
	run -0 bw raw --socket "$SOCK" --hex 01020000000001
	expect_refused 6 "malformed broker Frame" 0
}

# ----------------------------------------------------- rows 5-9: envelope

@test "row 5: envelope_version other than 1 (a zero-length body too)" {
	start_broker
	run -0 hello --envelope 2 --frame-id 11
	expect_refused 1 "frame envelope_version is not v1" 0
	[ "$(field request_id)" = 11 ]
	run -0 bw raw --socket "$SOCK" --hex 0100000000
	expect_refused 1 "frame envelope_version is not v1" 0
}

@test "row 6: kind other than REQUEST" {
	start_broker
	run -0 hello --kind 1 --frame-id 12
	expect_refused 6 "Hello frame kind must be REQUEST" 0
	[ "$(field request_id)" = 12 ]
	run -0 hello --kind 3
	expect_refused 6 "Hello frame kind must be REQUEST" 0
}

@test "row 7: payload_protocol neither control-plane nor admin" {
	start_broker
	run -0 hello --protocol 45618 --frame-id 13
	expect_refused 6 "Hello frame payload_protocol must be control-plane" 0
	[ "$(field request_id)" = 13 ]
	run -0 hello --protocol 53503
	expect_refused 6 "Hello frame payload_protocol must be control-plane" 0
}

@test "row 8: a compressed payload" {
	start_broker
	run -0 hello --encoding 1 --frame-id 14
	expect_refused 6 "Hello payload must not be compressed" 0
	run -0 hello --encoding 3
	expect_refused 6 "Hello payload must not be compressed" 0
}

@test "row 9: a payload that is not a Hello" {
	start_broker
	run -0 hello --payload-hex ffffff --frame-id 15
	expect_refused 6 "malformed Hello payload" 0
	[ "$(field request_id)" = 15 ]
	# a string field that is not UTF-8 (service_name = ff)
	run -0 hello --payload-hex 1a01ff
	expect_refused 6 "malformed Hello payload" 0
}

# ----------------------------------------------- rows 10-15: Hello shape

@test "row 10: a protocol range without v1 (0/0 included)" {
	start_broker
	run -0 hello --min-protocol 2 --max-protocol 3
	expect_refused 1 "client protocol range does not include v1" 0
	run -0 hello --min-protocol 0 --max-protocol 0
	expect_refused 1 "client protocol range does not include v1" 0
}

@test "row 11: invalid service names" {
	start_broker
	for s in Echo "" "a_b" "a b" "$(printf 'a%.0s' $(seq 1 65))"; do
		run -0 hello --service "$s"
		expect_refused 6 "invalid service_name" 0
	done
}

@test "row 12: invalid wanted_version, or one over 64 bytes" {
	start_broker
	for v in 1.0 1.0.0.0 v1.0.0 1.0.0- 1.0.0-ALPHA "1.0.0+b" "" "1.0.0-$(printf 'a%.0s' $(seq 1 59))"; do
		run -0 hello --version "$v"
		expect_refused 6 "invalid wanted_version" 0
	done
}

@test "row 13: client_version over 128 bytes (128 is fine)" {
	start_broker
	run -0 hello --client-version "$(printf 'c%.0s' $(seq 1 129))"
	expect_refused 6 "client_version exceeds 128 bytes" 0
	run -0 hello --client-version "$(printf 'c%.0s' $(seq 1 128))"
	expect_refused 2 "service definition was not found" 0
}

@test "row 14: client_lib_name or client_lib_version over 64 bytes" {
	start_broker
	run -0 hello --client-lib-name "$(printf 'n%.0s' $(seq 1 65))"
	expect_refused 6 "client_lib fields exceed 64 bytes" 0
	run -0 hello --client-lib-version "$(printf 'n%.0s' $(seq 1 65))"
	expect_refused 6 "client_lib fields exceed 64 bytes" 0
}

@test "row 15: peer_pid that is not the kernel's; the true one passes" {
	start_broker
	run -0 hello --peer-pid 1
	expect_refused 6 "peer_pid does not match verified peer" 0
	# the client's own pid (-1 asks for it) is what the kernel reports
	run -0 hello --peer-pid -1
	expect_refused 2 "service definition was not found" 0
}

@test "the rows are checked in order: the first failing one is reported" {
	start_broker
	run -0 hello --envelope 2 --kind 1 --encoding 1
	expect_refused 1 "frame envelope_version is not v1" 0
	run -0 hello --kind 1 --encoding 1
	expect_refused 6 "Hello frame kind must be REQUEST" 0
	run -0 hello --min-protocol 5 --max-protocol 5 --service BAD --version x
	expect_refused 1 "client protocol range does not include v1" 0
	run -0 hello --service BAD --version x --peer-pid 1
	expect_refused 6 "invalid service_name" 0
}

# --------------------------------------------- rows 16-18: broker state

@test "row 16: the per-peer-pid rate limit; another process is not limited" {
	start_broker --rate-limit 3/30
	run -0 hello --count 5
	local r
	for i in 0 1 2; do
		r=$(echo "$output" | jf "d[$i]['code']")
		[ "$r" = 2 ]
	done
	for i in 3 4; do
		[ "$(echo "$output" | jf "d[$i]['code']")" = 4 ]
		[ "$(echo "$output" | jf "d[$i]['reason']")" = "Hello rate limit exceeded" ]
		r=$(echo "$output" | jf "d[$i]['retry_after_ms']")
		[ "$r" -ge 1 ] && [ "$r" -le 30000 ]
	done
	run -0 hello
	expect_refused 2 "service definition was not found" 0
	[ "$(metric running_process_broker_v1_hello_total outcome=rate_limited)" = 2 ]
}

@test "row 16: --rate-limit 0 disables it; admin is never limited" {
	start_broker --rate-limit 0
	run -0 hello --count 300
	[ "$(echo "$output" | jf 'sum(1 for r in d if r["code"] == 4)')" = 0 ]
	run -0 admin healthz --body
}

@test "row 18: over --max-clients, connections are refused with code 9 (request id echoed)" {
	# the one slot does real work (a Hello waiting for its spawn): nothing
	# to evict, so the next ones are over the limit, and told so
	full_of_waiting
	run -0 hello --frame-id 21
	expect_refused 9 "broker is at its connection limit; retry shortly" 1000
	[ "$(field request_id)" = 21 ]
	# admin still answers, and readyz tells the truth: not ready
	run -0 admin healthz --body
	[ "$output" = ok ]
	run -0 admin readyz
	[ "$(field exit_code)" = 1 ]
	[ "$(field body)" = "not ready" ]
	# one that sends nothing is refused once its short grace is over
	run -0 bw raw --socket "$SOCK" --hex ""
	expect_refused 9 "broker is at its connection limit; retry shortly" 1000
	[ "$(field request_id)" = 0 ]
	first_negotiated
	# the slot is free again: ready
	run -0 admin readyz --body
	[ "$output" = ready ]
	[ "$(metric running_process_broker_v1_accept_refused_total reason=max_clients)" = 4 ]
	run -0 hello
	[ "$(field result)" = negotiated ]
}

# --------------------------------------- rows 19-22: service definition

@test "row 19: no definition; a static service without that version" {
	rp_start be rp-handoff-recv --serve "$T/run/st.sock" --echo --ready-fd 3
	start_broker -b stat@1.0.0="$T/run/st.sock"
	run -0 hello --service nope --version 1.0.0
	expect_refused 2 "service definition was not found" 0
	# no definition to start another version with: running-process v1's
	# router without a launcher
	run -0 hello --service stat --version 2.0.0
	expect_refused 3 "backend is not registered" 1000
	run -0 hello --service stat --version 1.0.0
	[ "$(field result)" = negotiated ]
}

@test "row 19: a service directory that does not exist" {
	# (from the environment: -d must name a directory at start-up)
	RUNNING_PROCESS_SERVICE_DEF_DIR="$T/none" start_broker
	run -0 hello
	expect_refused 2 "service definition was not found" 0
}

@test "row 20: a corrupt definition file" {
	printf '\377\377\377' >"$DEFS/echo.servicedef"
	start_broker --events "$T/ev"
	run -0 hello
	[ "$(field code)" = 2 ]
	[ "$(field reason)" = "service definition could not be loaded: not a ServiceDefinition" ]
	[ "$(field retry_after_ms)" = 0 ]
	# one that cannot be read: the reason reads the same way, and the
	# event names the file once
	mkdir "$DEFS/dir.servicedef"
	run -0 hello --service dir
	[ "$(field reason)" = "service definition could not be loaded: Is a directory" ]
	run -0 grep -c '"kind":"SERVICE_DEF_LOADED"' "$T/ev"
	[ "$output" = 2 ]
	run -0 jf 'd["reason"]' < <(grep '"service_name":"echo"' "$T/ev" | grep SERVICE_DEF_LOADED)
	[ "$output" = "$DEFS/echo.servicedef could not be loaded: not a ServiceDefinition" ]
	run -0 jf 'd["reason"]' < <(grep '"service_name":"dir"' "$T/ev" | grep SERVICE_DEF_LOADED)
	[ "$output" = "$DEFS/dir.servicedef could not be loaded: Is a directory" ]
}

@test "row 20: a definition directory with group/other permissions, or not ours" {
	def echo serve
	start_broker
	chmod 0770 "$DEFS"
	run -0 hello
	[ "$(field code)" = 2 ]
	[ "$(field reason)" = "service definition could not be loaded: directory $DEFS has mode 0770; group/other permissions must be off" ]
	chmod 0700 "$DEFS"
	chown 65534 "$DEFS"
	run -0 hello
	[[ "$(field reason)" == *"is owned by uid 65534"* ]]
	chown 0 "$DEFS"
	run -0 hello
	[ "$(field result)" = negotiated ]
}

@test "row 20: a definition that names another service, or is invalid" {
	def other serve
	mv "$DEFS/other.servicedef" "$DEFS/echo.servicedef"
	bw servicedef --dir "$DEFS" --service rel --binary relative/path >/dev/null
	bw servicedef --dir "$DEFS" --service minv --binary /bin/true --min-version 1.0 >/dev/null
	bw servicedef --dir "$DEFS" --service iso --binary /bin/true --isolation 2 >/dev/null
	start_broker
	run -0 hello --service echo
	[ "$(field code)" = 2 ]
	[[ "$(field reason)" == "service definition could not be loaded: "*other* ]]
	run -0 hello --service rel
	[[ "$(field reason)" == "service definition could not be loaded: "*absolute* ]]
	run -0 hello --service minv
	[[ "$(field reason)" == "service definition could not be loaded: "*min_version* ]]
	run -0 hello --service iso
	[[ "$(field reason)" == "service definition could not be loaded: "*explicit_instance* ]]
}

@test "row 20: a definition file not to be trusted: another owner, group/other write, a link out of the directory" {
	# It loads (a version below its floor proves it without a spawn)...
	def echo serve --min-version 9.0.0
	start_broker
	run -0 hello
	expect_refused 8 "wanted_version is below min_version" 30000
	# ...until someone else could have written what it runs
	chmod 0666 "$DEFS/echo.servicedef"
	run -0 hello
	expect_refused 2 "service definition could not be loaded: writable by group or others (mode 0666)" 0
	chmod 0620 "$DEFS/echo.servicedef"
	run -0 hello
	expect_refused 2 "service definition could not be loaded: writable by group or others (mode 0620)" 0
	chmod 0644 "$DEFS/echo.servicedef"
	run -0 hello
	expect_refused 8 "wanted_version is below min_version" 30000
	chown 65534 "$DEFS/echo.servicedef"
	run -0 hello
	expect_refused 2 "service definition could not be loaded: owned by uid 65534, not root" 0
	chown 0 "$DEFS/echo.servicedef"
	# a link out of the directory: refused; one within it: followed
	mkdir -m 0700 "$T/elsewhere" "$DEFS/v2"
	mv "$DEFS/echo.servicedef" "$T/elsewhere/"
	ln -s "$T/elsewhere/echo.servicedef" "$DEFS/echo.servicedef"
	run -0 hello
	expect_refused 2 "service definition could not be loaded: a symbolic link leading out of its directory, to $(realpath "$T/elsewhere/echo.servicedef")" 0
	mv "$T/elsewhere/echo.servicedef" "$DEFS/v2/"
	ln -sfn v2/echo.servicedef "$DEFS/echo.servicedef"
	run -0 hello
	expect_refused 8 "wanted_version is below min_version" 30000
}

@test "a broker of another uid trusts its own definitions and root's, not a third uid's" {
	SHARED=$(rp_shared_dir)
	mkdir -m 0700 "$SHARED/run" "$SHARED/defs"
	chown 65534:65534 "$SHARED/run" "$SHARED/defs"
	local s
	for s in mine roots third; do
		bw servicedef --dir "$SHARED/defs" --service "$s" --binary /bin/true --min-version 9.0.0 >/dev/null
	done
	chown 65534 "$SHARED/defs/mine.servicedef"
	chmod 0644 "$SHARED/defs/roots.servicedef" "$SHARED/defs/third.servicedef"
	chown 65533 "$SHARED/defs/third.servicedef"
	rp_start broker setpriv --reuid=65534 --regid=65534 --clear-groups \
		env XDG_RUNTIME_DIR="$SHARED/run" rp-broker -s "$SHARED/run/b.sock" \
		-d "$SHARED/defs" --allow-uid 0 --ready-fd 3
	SOCK="$SHARED/run/b.sock"
	run -0 hello --service mine
	expect_refused 8 "wanted_version is below min_version" 30000
	run -0 hello --service roots
	expect_refused 8 "wanted_version is below min_version" 30000
	run -0 hello --service third
	expect_refused 2 "service definition could not be loaded: owned by uid 65533, not 65534 or root" 0
}

@test "an edited definition takes effect on the next Hello" {
	def echo serve --min-version 2.0.0
	start_broker
	run -0 hello --version 1.0.0
	expect_refused 8 "wanted_version is below min_version" 30000
	def echo serve --min-version 1.0.0
	run -0 hello --version 1.0.0
	[ "$(field result)" = negotiated ]
	rm "$DEFS/echo.servicedef"
	run -0 hello --version 1.0.1
	expect_refused 2 "service definition was not found" 0
}

@test "rows 21 and 22: below min_version, not in the allow-list (8, 30000)" {
	def echo serve --min-version 1.10.0 --allow 1.10.0 --allow 2.0.0-rc.1
	start_broker
	run -0 hello --version 1.9.9
	expect_refused 8 "wanted_version is below min_version" 30000
	run -0 hello --version 1.11.0
	expect_refused 8 "wanted_version is not in version_allow_list" 30000
	run -0 hello --version 2.0.0-rc.1
	[ "$(field result)" = negotiated ]
	# a prerelease tail is ignored by the floor; a component too big for
	# u64 makes the floor "unknown", which does not block
	def echo2 serve --min-version 1.10.0
	run -0 hello --service echo2 --version 1.10.0-rc.1
	[ "$(field result)" = negotiated ]
	run -0 hello --service echo2 --version 99999999999999999999.0.0
	[ "$(field result)" = negotiated ]
}

# ------------------------------------------------ rows 23-26: backends

@test "row 23: a spawn in flight, with --spawn-waiters 0" {
	spawn_in_flight 0
	run -0 hello
	expect_refused 4 "backend spawn already in progress" 1000
	first_negotiated
}

@test "row 24: the spawn budget, with the rest of the window as retry" {
	def echo exit
	start_broker --spawn-budget 2/60
	run -0 hello
	[ "$(field code)" = 3 ]
	run -0 hello
	[ "$(field code)" = 3 ]
	run -0 hello
	[ "$(field code)" = 4 ]
	[ "$(field reason)" = "backend spawn budget exhausted" ]
	local r
	r=$(field retry_after_ms)
	[ "$r" -ge 1 ] && [ "$r" -le 60000 ]
	# the budget is per version
	run -0 hello --version 1.0.1
	[ "$(field code)" = 3 ]
	[ "$(metric running_process_broker_v1_spawn_budget_remaining service=echo version=1.0.0)" = 0 ]
	[ "$(metric running_process_broker_v1_spawn_budget_remaining service=echo version=1.0.1)" = 1 ]
}

@test "row 25: a backend that exits at once" {
	def echo exit
	start_broker
	run -0 hello
	expect_refused 3 "backend spawn failed: the backend exited with status 7 before it was ready" 1000
}

@test "row 25: a binary that cannot be executed" {
	def echo /nonexistent/backend
	start_broker
	run -0 hello
	expect_refused 3 "backend spawn failed: cannot execute /nonexistent/backend: No such file or directory" 1000
	printf 'not a program' >"$T/noexec"
	chmod 0644 "$T/noexec"
	def echo2 "$T/noexec"
	run -0 hello --service echo2
	expect_refused 3 "backend spawn failed: cannot execute $T/noexec: Permission denied" 1000
}

@test "row 25: a backend that never answers the probe, or never listens" {
	def quiet silent
	def deaf nolisten
	start_broker --spawn-timeout 600 --probe-timeout 200
	run -0 hello --service quiet
	[ "$(field code)" = 3 ]
	[[ "$(field reason)" == "backend spawn failed: no verified identity within 600 ms (last attempt: no answer to the identity probe within 200 ms)" ]]
	run -0 hello --service deaf
	[ "$(field code)" = 3 ]
	[[ "$(field reason)" == "backend spawn failed: no verified identity within 600 ms (last attempt: cannot connect to "* ]]
}

@test "row 25: a backend that answers with another pid (a forked child, a liar)" {
	def forks fork
	def liar liar
	start_broker
	run -0 hello --service forks
	[ "$(field code)" = 3 ]
	[[ "$(field reason)" == "backend spawn failed: identity mismatch: pid: pid "*", expected "* ]]
	run -0 hello --service liar
	[ "$(field code)" = 3 ]
	[[ "$(field reason)" == "backend spawn failed: identity mismatch: pid: claimed pid "*"but the kernel says"* ]]
}

@test "row 26: something unexpected inside the broker (the backend table is full), in upstream's words" {
	def echo /nonexistent/backend
	start_broker --spawn-budget 1/3600 --rate-limit 0
	run -0 /usr/bin/python3 -c '
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
import brokerwire as bw
codes = {}
for i in range(1024):
    r = bw.exchange(sys.argv[2], bw.frame(bw.hello("echo", "1.0.%d" % i)))
    codes[r["code"]] = codes.get(r["code"], 0) + 1
# the next one, byte for byte as running-process v1 words it
got, how = bw.talk(sys.argv[2], bw.frame(bw.hello("echo", "2.0.0"), request_id=5))
bw.expect_exact(got, how, bw.refused_frame(
    7, "registered backend could not be installed: too many backend keys",
    request_id=5))
print(json.dumps({"codes": codes}))
' "$RP_ROOT/tests/bats/py" "$SOCK"
	[ "$(echo "${lines[-1]}" | jf 'd["codes"]["3"]')" = 1024 ]
}

# -------------------------------------------------------------- replies

@test "a reply echoes request_id and the trace context; never a deadline" {
	def echo serve
	start_broker
	run -0 hello --frame-id 123456789 --traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 --tracestate k=v
	[ "$(field result)" = negotiated ]
	[ "$(field request_id)" = 123456789 ]
	[ "$(field traceparent)" = 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ]
	[ "$(field tracestate)" = k=v ]
	[ "$(field kind)" = 1 ]
	[ "$(field payload_protocol)" = 0 ]
	[ "$(field deadline_unix_ms)" = 0 ]
	run -0 hello --service nope --frame-id 99 --traceparent tp --tracestate ts
	[ "$(field request_id)" = 99 ]
	[ "$(field traceparent)" = tp ]
	[ "$(field tracestate)" = ts ]
}

@test "negotiated: protocol 1, the backend's version and pipe, keepalive echo or 1800" {
	def echo serve
	start_broker
	run -0 hello --version 1.2.3
	[ "$(field negotiated_protocol)" = 1 ]
	[ "$(field daemon_version)" = 1.2.3 ]
	[ "$(field keepalive_interval_secs)" = 1800 ]
	[ "$(field server_capabilities)" = 0 ]
	[ "$(field handle_passed_token)" = "" ]
	[ "$(field warnings)" = "[]" ]
	[[ "$(field backend_pipe)" == "$T/run/rpb-v1-"*"-be-"*".sock" ]]
	run -0 hello --version 1.2.3 --keepalive 45
	[ "$(field keepalive_interval_secs)" = 45 ]
}

@test "connection ids count from 1 and only negotiated Hellos consume them" {
	def echo serve
	start_broker
	run -0 hello
	[ "$(field connection_id)" = 1 ]
	hello --service nope >/dev/null
	hello --version 1.0 >/dev/null
	admin healthz >/dev/null
	run -0 hello
	[ "$(field connection_id)" = 2 ]
	run -0 hello
	[ "$(field connection_id)" = 3 ]
}
