#!/usr/bin/env bats
# rp-broker --handoff end to end through the real binaries: the client's
# Hello connection handed to the backend (event written by the backend or
# by the broker), the plain path when nobody asks for or can take a
# handoff, every failure (no handoff socket, refused, never acked, wrong
# token, wrong correlation id, died mid-transfer, client gone) falling back
# silently to backend_pipe while it is counted in the metrics and the
# events, tokens good once across the whole path, and no fd left behind
# on either side.  Hostile backends are tests/helpers/rp-test-backend in
# its handoff modes (tests/bats/backends/ho-*.sh).

load broker
bats_require_minimum_version 1.5.0

setup() {
	broker_setup
	# Backend endpoints sit next to the broker's socket and must fit
	# sun_path: a short directory, as /run/user/UID would be.
	SHORT=$(mktemp -d /tmp/rph.XXXXXX)
	chmod 0700 "$SHORT"
	SOCK=$SHORT/b.sock
	EV=$T/ev
	export RP_TEST_ENV_DIR="$T/env"
	mkdir -p "$RP_TEST_ENV_DIR"
}

teardown() {
	broker_teardown
	rm -rf "$SHORT"
}

# A broker again, after stop_broker (its own readiness fifo and logs).
restart_broker() {
	rp_start "broker-$1" rp-broker -s "$SOCK" --ready-fd 3 "${@:2}"
	BPID=$RP_LAST_PID
}

adopt() {
	rp-probe hello -s "$SOCK" --service echo --version 1.0.0 --adopt "$@"
}

backend_pid() {
	admin status --json --body | jf "d['backends'][0]['pid']"
}

# Conditions for wait_for.
metric_is() {
	local want=$1
	shift
	[ "$(metric "$@")" = "$want" ]
}

outcome_is() {
	metric_is "$2" running_process_broker_v1_handoff_total outcome="$1"
}

# Nothing in flight, no client connection open (but the admin one that
# asks).
settled() {
	metric_is 0 running_process_broker_v1_handoffs_in_flight &&
		metric_is 1 running_process_broker_v1_connections_open
}

# The same Hello three more times, each falling back and working, then
# the broker and the backend (the real rp-handoff-recv the test backend
# became, which serves the reconnecting clients) hold exactly the fds they
# held after the first one.
# fallback_thrice OUTCOME REASON [rp-probe options]
fallback_thrice() {
	local outcome=$1 reason=$2 base kpid kbase try
	shift 2
	run -0 adopt --connect "$@" <<<"first"
	assert_line "first"
	assert_line "rp-probe: route: reconnect ($reason)"
	wait_for outcome_is "$outcome" 1
	wait_for settled
	base=$(rp_fd_count "$BPID")
	kpid=$(backend_pid)
	kbase=$(rp_fd_count "$kpid")
	# (not "i": bats' run uses that name)
	for try in 2 3 4; do
		run -0 adopt --connect "$@" <<<"try $try"
		assert_line "try $try"
		assert_line "rp-probe: route: reconnect ($reason)"
	done
	wait_for outcome_is "$outcome" 4
	wait_for settled
	wait_for fd_count_is "$BPID" "$base"
	wait_for fd_count_is "$kpid" "$kbase"
	[ "$(metric running_process_broker_v1_handoff_total outcome=accepted)" = 0 ]
	# Each one is an event that says what happened.
	[ "$(grep '"kind":"PROTOCOL_DOWNGRADE"' "$EV" |
		grep -c "\"handoff_outcome\":\"$outcome\"")" -ge 1 ]
	# And the client always got its token: the handoff was attempted.
	[ "$(metric running_process_broker_v1_hello_total outcome=negotiated)" = 4 ]
}

# ---------------------------------------------------------------- usage

@test "handoff options: usage errors exit 2 with one line" {
	rp_check_usage_error rp-broker --handoff-event nobody
	rp_check_usage_error rp-broker --handoff-timeout 0
	rp_check_usage_error rp-broker --handoff-timeout 5s
	rp_check_usage_error rp-broker --handoff-timeout
	rp_check_usage_error rp-broker --backend-handoff "echo@1.0.0=$SHORT/h.sock"
	rp_check_usage_error rp-broker --handoff --backend-handoff "echo@1.0.0=$SHORT/h.sock"
	rp_check_usage_error rp-broker --handoff -b "echo@1.0.0=$SHORT/e.sock" \
		--backend-handoff "echo@1.0.0"
	rp_check_usage_error rp-broker --handoff -b "echo@1.0.0=$SHORT/e.sock" \
		--backend-handoff "echo@1.0=$SHORT/h.sock"
	rp_check_usage_error rp-broker --handoff -b "echo@1.0.0=$SHORT/e.sock" \
		--backend-handoff "echo@1.0.0=$SHORT/$(printf 'h%.0s' $(seq 120))"
	rp_check_usage_error rp-broker --handoff -b "echo@1.0.0=$SHORT/e.sock" \
		--backend-handoff "echo@1.0.0=$SHORT/h.sock" \
		--backend-handoff "echo@1.0.0=$SHORT/h2.sock"
	run -2 rp-broker --handoff --backend-handoff "echo@1.0.0=$SHORT/h.sock"
	assert_output "rp-broker: --backend-handoff: no -b echo@1.0.0 to go with it (see --help)"
}

# ------------------------------------------------------------- handoff

@test "--handoff: examples/echo-backend.c (build/bin/echo-backend) takes the connection, either side writing the event" {
	def echo "$RP_BUILD/bin/echo-backend"
	start_broker --handoff --events "$EV"
	run -0 adopt --connect <<<"echoed after the handoff"
	assert_line "echoed after the handoff"
	assert_line "rp-probe: route: handoff"
	[ "$(metric running_process_broker_v1_handoff_total outcome=accepted)" = 1 ]
	stop_broker
	restart_broker 2 --handoff --handoff-event broker --events "$EV"
	run -0 adopt --connect <<<"the broker's event"
	assert_line "the broker's event"
	assert_line "rp-probe: route: handoff"
	[ "$(metric running_process_broker_v1_handoff_total outcome=accepted)" = 1 ]
}

@test "--handoff: the Hello connection becomes the backend's; the backend writes the event" {
	def echo ho-real
	start_broker --handoff --events "$EV"
	run -0 adopt --connect <<<"over the handoff"
	assert_line "over the handoff"
	assert_line "rp-probe: route: handoff"
	run -0 adopt -- sh -c 'echo "via $RP_ROUTE" >&7; head -1 <&6'
	assert_line "via handoff"
	adopt --json >"$T/r.json" 2>/dev/null
	[ "$(jf 'd["route"]' <"$T/r.json")" = handoff ]
	[ "$(jf 'd["route_detail"]' <"$T/r.json")" = null ]
	[ "$(jf 'd["negotiated"]["server_capabilities"]' <"$T/r.json")" = 1 ]
	[[ "$(jf 'd["negotiated"]["handle_passed_token"]' <"$T/r.json")" =~ ^[0-9a-f]{32}$ ]]
	# The backend was told where and how.
	local pid hpipe
	pid=$(backend_pid)
	hpipe=$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE)
	[[ "$hpipe" == "$SHORT/rpb-v1-"*"-ho-"*".sock" ]]
	[ -S "$hpipe" ]
	[ "$(env_of "$pid" RP_HANDOFF_EVENT)" = backend ]
	# Counted once each, as the Acks came in; one handoff connection.
	wait_for outcome_is accepted 3
	[ "$(metric running_process_broker_v1_connections_closed_total reason=handed_off)" = 3 ]
	[ "$(metric running_process_broker_v1_handoff_connections)" = 1 ]
	[ "$(metric running_process_broker_v1_handoff_total outcome=refused)" = 0 ]
	[ "$(grep -c '"kind":"HELLO_ACCEPTED".*"route":"handoff"' "$EV")" = 3 ]
	run ! grep -q PROTOCOL_DOWNGRADE "$EV"
	# DUMP and CONFIG show it.
	admin dump --json --body >"$T/dump.json"
	[ "$(jf 'd["backends"][0]["handoff"]["handoff_pipe"]' <"$T/dump.json")" = "$hpipe" ]
	[ "$(jf 'd["backends"][0]["handoff"]["event_writer"]' <"$T/dump.json")" = backend ]
	[ "$(jf 'd["backends"][0]["handoff"]["connected"]' <"$T/dump.json")" = true ]
	[ "$(jf 'd["backends"][0]["handoff"]["outcomes"]["accepted"]' <"$T/dump.json")" = 3 ]
	admin config --json --body >"$T/cfg.json"
	[ "$(jf 'd["config"]["handoff"]' <"$T/cfg.json")" = '{"value": true, "source": "flag"}' ]
	[ "$(jf 'd["config"]["handoff_event"]["value"]' <"$T/cfg.json")" = backend ]
	[ "$(jf 'd["config"]["handoff_timeout_ms"]["value"]' <"$T/cfg.json")" = 5000 ]
	# Stopping removes both of the backend's socket files.
	stop_broker
	[ ! -e "$hpipe" ]
	[ -z "$(ls "$SHORT" | grep -e '-ho-' -e '-be-')" ]
}

@test "--handoff-event broker: the broker writes the event once the backend has acked" {
	def echo ho-real
	start_broker --handoff --handoff-event broker --events "$EV"
	run -0 adopt --connect <<<"the spec's sequence"
	assert_line "the spec's sequence"
	assert_line "rp-probe: route: handoff"
	run -0 adopt -- sh -c 'echo "via $RP_ROUTE" >&7; head -1 <&6'
	assert_line "via handoff"
	[ "$(env_of "$(backend_pid)" RP_HANDOFF_EVENT)" = broker ]
	# Counted before the event went out.
	[ "$(metric running_process_broker_v1_handoff_total outcome=accepted)" = 2 ]
	[ "$(metric running_process_broker_v1_connections_closed_total reason=handed_off)" = 2 ]
	[ "$(admin config --json --body | jf 'd["config"]["handoff_event"]["source"]')" = flag ]
}

@test "interop: each transfer is ONE message: Python's socket.recv_fds takes the token, the fd and the whole offer in one call" {
	def echo ho-py
	start_broker --handoff --handoff-event broker --events "$EV"
	run -0 adopt --connect <<<"one message"
	assert_line "one message"
	assert_line "rp-probe: route: handoff"
	run -0 adopt --connect <<<"and another"
	assert_line "and another"
	assert_line "rp-probe: route: handoff"
	wait_for outcome_is accepted 2
	cat "$RP_TEST_ENV_DIR/py.out"
	# The offer for service "echo" is 41 bytes: 16 + 41 in one call.
	[ "$(grep -c '^recv_fds calls: 1 bytes: 57 fds: 1 truncated: 0 offer_whole: 1$' "$RP_TEST_ENV_DIR/py.out")" = 2 ]
	[ "$(grep -c '^offer: service=echo token_ok=1 corr_ok=1 kind=0 protocol=0xd0ff$' "$RP_TEST_ENV_DIR/py.out")" = 2 ]
}

@test "--early-request: the request goes behind the Hello; handed off, the backend answers it behind the event" {
	def echo ho-real
	start_broker --handoff --events "$EV"
	printf 'early one\n' >"$T/req"
	run -0 adopt --early-request "$T/req" --connect </dev/null
	assert_output "rp-probe: route: handoff
early one"
	# With PROG: the answer is there to read, the request already sent.
	run -0 adopt --early-request "$T/req" -- sh -c 'head -1 <&6; echo "via $RP_ROUTE"'
	assert_line "early one"
	assert_line "via handoff"
	wait_for outcome_is accepted 2
	# Usage: only with --adopt and somewhere for the answer to go.
	run -2 rp-probe hello -s "$SOCK" --service echo --version 1.0.0 --early-request "$T/req" --connect
	assert_output --partial "--early-request goes with --adopt"
	run -2 adopt --early-request "$T/req"
	run -2 adopt --early-request /dev/null --connect
	assert_output --partial "is empty"
	head -c 70000 /dev/zero >"$T/big"
	run -2 adopt --early-request "$T/big" --connect
	assert_output --partial "longer than 65536 bytes"
	run ! adopt --early-request "$T/nonexistent" --connect
	assert_output --partial "--early-request $T/nonexistent: No such file"
}

@test "--early-request on fallback: sent again, once, on the backend_pipe connection" {
	def echo ho-refuse
	start_broker --handoff --events "$EV"
	printf 'idempotent\n' >"$T/req"
	run -0 adopt --early-request "$T/req" --connect </dev/null
	assert_output "rp-probe: route: reconnect (the connection closed before the handoff event)
idempotent"
	wait_for outcome_is refused 1
	stop_broker
	# No handoff at all (a broker without --handoff): the same.
	def echo ho-real
	restart_broker 2
	run -0 adopt --early-request "$T/req" --connect </dev/null
	assert_output "rp-probe: route: reconnect (the broker issued no handoff token)
idempotent"
}

@test "a static backend with --backend-handoff, and a token good once across the whole path" {
	rp_start be rp-handoff-recv --serve "$SHORT/st.sock" --handoff "$SHORT/st-ho.sock" \
		--echo --ready-fd 3
	local bepid=$RP_LAST_PID
	start_broker --handoff --handoff-event broker -b "echo@1.0.0=$SHORT/st.sock" \
		--backend-handoff "echo@1.0.0=$SHORT/st-ho.sock"
	run -0 adopt --connect <<<"static"
	assert_line "static"
	assert_line "rp-probe: route: handoff"
	# A token the broker issued and the backend took once...
	run -0 hello --capabilities 1
	local tok
	tok=$(echo "$output" | jf 'd["handle_passed_token"]')
	[[ "$tok" =~ ^[0-9a-f]{32}$ ]]
	wait_for outcome_is accepted 2
	# ... is refused when offered again, and its fd closed.
	run rpwire transfer "$SHORT/st-ho.sock" --token "$tok" --say replayed
	assert_line "accepted: 0"
	assert_line "error_detail: handoff token is not pending"
	assert_line "fds closed by receiver: yes"
	refute_line "reply: replayed"
	grep -q "handoff token is not pending" "$T/be.err"
	[ "$(admin config --json --body | jf 'd["config"]["static_backends"]["value"][0]["handoff"]')" = "$SHORT/st-ho.sock" ]
	kill -TERM "$bepid"
}

@test "no token: a client without bit 0, a broker without --handoff, a backend without a handoff endpoint" {
	def echo ho-real
	start_broker --handoff
	run -0 hello
	[ "$(echo "$output" | jf 'd["handle_passed_token"]')" = "" ]
	[ "$(echo "$output" | jf 'd["server_capabilities"]')" = 0 ]
	run -0 rp-probe hello -s "$SOCK" --service echo --version 1.0.0 --json
	run ! grep -q route <<<"$output"
	stop_broker

	# Without --handoff: no token, and the backend is told nothing.
	restart_broker 2
	run -0 hello --capabilities 1
	[ "$(echo "$output" | jf 'd["handle_passed_token"]')" = "" ]
	[ "$(echo "$output" | jf 'd["server_capabilities"]')" = 0 ]
	local pid
	pid=$(backend_pid)
	run ! grep -q -e HANDOFF_PIPE -e RP_HANDOFF_EVENT "$RP_TEST_ENV_DIR/$pid.env"
	run -0 adopt --connect <<<"plain"
	assert_line "plain"
	assert_line "rp-probe: route: reconnect (the broker issued no handoff token)"
	adopt --json >"$T/r.json" 2>/dev/null
	[ "$(jf 'd["route"]' <"$T/r.json")" = reconnect ]
	[ "$(jf 'd["route_detail"]' <"$T/r.json")" = "the broker issued no handoff token" ]
	run ! grep -q running_process_broker_v1_handoff < <(admin metrics --body)
	stop_broker

	# A static backend with no handoff socket: the plain path, and not
	# a failure.
	rp_start be rp-handoff-recv --serve "$SHORT/st.sock" --echo --ready-fd 3
	restart_broker 3 --handoff -b "echo@2.0.0=$SHORT/st.sock"
	run -0 hello --version 2.0.0 --capabilities 1
	[ "$(echo "$output" | jf 'd["handle_passed_token"]')" = "" ]
	run -0 rp-probe hello -s "$SOCK" --service echo --version 2.0.0 --adopt --connect <<<"static"
	assert_line "static"
	assert_line "rp-probe: route: reconnect (the broker issued no handoff token)"
	run ! grep -q 'handoff_total{' < <(admin metrics --body)
	[ "$(admin dump --json --body | jf 'd["backends"][0]["handoff"]')" = null ]
}

# ------------------------------------------------------------ failures

@test "fallback: the backend has no handoff socket" {
	def echo ho-none
	start_broker --handoff --events "$EV"
	fallback_thrice no_socket "the broker issued no handoff token"
	grep '"handoff_outcome":"no_socket"' "$EV" | grep -q "cannot connect to"
	[ "$(metric running_process_broker_v1_handoff_connections)" = 0 ]
}

@test "fallback: the backend refuses the transfer" {
	def echo ho-refuse
	start_broker --handoff --events "$EV"
	fallback_thrice refused "the connection closed before the handoff event"
	grep '"handoff_outcome":"refused"' "$EV" | grep -q "refused by rp-test-backend"
	# Counted by the reason the Ack gave too: a backend's own one.
	[ "$(metric running_process_broker_v1_handoff_refusals_total reason=other)" = 4 ]
	[ "$(metric running_process_broker_v1_handoff_refusals_total reason=replay)" = 0 ]
	[ "$(metric running_process_broker_v1_handoff_refusals_total)" = 4 ]
	# A refusal leaves the handoff connection up.
	[ "$(metric running_process_broker_v1_handoff_connections)" = 1 ]
}

@test "fallback: the backend never acks (the broker's deadline)" {
	def echo ho-silent
	start_broker --handoff --handoff-timeout 300 --events "$EV"
	fallback_thrice ack_timeout "no handoff event in time" --handoff-timeout 300
	grep '"handoff_outcome":"ack_timeout"' "$EV" | grep -q "no Ack within 300 ms"
	[ "$(metric running_process_broker_v1_handoff_connections)" = 0 ]
}

@test "fallback: the backend acks with another token" {
	def echo ho-badtoken
	start_broker --handoff --events "$EV"
	fallback_thrice bad_ack "the connection closed before the handoff event"
	grep '"handoff_outcome":"bad_ack"' "$EV" | grep -q "the Ack carries another token"
}

@test "fallback: the backend acks with another correlation id" {
	def echo ho-badcorr
	start_broker --handoff --events "$EV"
	fallback_thrice bad_ack "the connection closed before the handoff event"
	grep '"handoff_outcome":"bad_ack"' "$EV" | grep -q "an Ack for no transfer in flight"
	# A backend answering out of turn loses its handoff connection.
	[ "$(metric running_process_broker_v1_handoff_connections)" = 0 ]
}

@test "fallback: the backend dies in the middle of the transfer" {
	def echo ho-die
	start_broker --handoff --events "$EV"
	run -0 adopt --connect <<<"first"
	assert_line "first"
	assert_line "rp-probe: route: reconnect (the connection closed before the handoff event)"
	wait_for outcome_is backend_gone 1
	wait_for settled
	# Whichever the broker notices first: the connection's end, or the
	# backend's exit (it exits 0 on taking the fd).
	grep '"handoff_outcome":"backend_gone"' "$EV" |
		grep -q -e "closed its handoff connection" \
			-e "handoff connection failed" \
			-e "the backend exited with status 0"
	local base
	base=$(rp_fd_count "$BPID")
	# Its handoff socket is dead now: no token any more, still served.
	run -0 adopt --connect <<<"second"
	assert_line "second"
	assert_line "rp-probe: route: reconnect (the broker issued no handoff token)"
	wait_for outcome_is no_socket 1
	[ "$(rp_fd_count "$BPID")" -eq "$base" ]
}

@test "fallback with --handoff-event broker: refused, and never acked, the client is let go" {
	def echo ho-refuse
	start_broker --handoff --handoff-event broker --events "$EV"
	fallback_thrice refused "the connection closed before the handoff event"
	stop_broker

	# The broker kept the client's connection for the event; at its
	# deadline it lets go of it (the silent backend still holds its
	# copy, so the client waits for its own deadline).
	def echo ho-silent
	restart_broker 2 --handoff --handoff-event broker --handoff-timeout 300 \
		--events "$EV"
	fallback_thrice ack_timeout "no handoff event in time" --handoff-timeout 500
	[ "$(metric running_process_broker_v1_connections_closed_total reason=handoff_failed)" = 4 ]
}

@test "fallback: the client is gone before the transfer" {
	def echo ho-real
	# The Hello waits for a held spawn; its client leaves meanwhile.
	hold_backends
	start_broker --handoff --events "$EV"
	local base
	base=$(rp_fd_count "$BPID")
	run -0 bw early-close --socket "$SOCK" --capabilities 1
	release_backends
	wait_for outcome_is client_gone 1
	wait_for settled
	grep '"handoff_outcome":"client_gone"' "$EV" | grep -q "the client left"
	# Only the handoff connection is new, and the backend's output pipe.
	[ "$(metric running_process_broker_v1_handoff_connections)" = 1 ]
	wait_for fd_count_is "$BPID" $((base + 2))
	run -0 adopt --connect <<<"still fine"
	assert_line "still fine"
	assert_line "rp-probe: route: handoff"
}

@test "clients that leave right after their token cost the backend nothing" {
	def echo ho-real
	start_broker --handoff
	run -0 adopt --connect <<<"warm"
	wait_for outcome_is accepted 1
	local pid base n
	pid=$(backend_pid)
	wait_for settled
	base=$(rp_fd_count "$pid")
	# Each reads its reply and closes: the backend adopts a connection
	# whose client is gone, and lets it go.
	for n in $(seq 1 20); do
		hello --capabilities 1 >/dev/null
	done
	wait_for outcome_is accepted 21
	wait_for fd_count_is "$pid" "$base"
	run -0 adopt --connect <<<"still fine"
	assert_line "still fine"
}

# strace_start NAME PID CALLS: trace CALLS of PID into $T/NAME (its pid in
# the global STRACE_PID once attached).
strace_start() {
	strace -qq -o "$T/$1" -e trace="$3" -p "$2" 2>/dev/null &
	STRACE_PID=$!
	RP_BG_PIDS+=("$STRACE_PID")
	wait_for rp_traced "$2"
}

strace_stop() {
	kill -INT "$1"
	wait "$1" || true
}

@test "the Acks of handoffs one after the other are read together, not one wake-up each (issue 16)" {
	def echo ho-real
	start_broker --handoff
	run -0 adopt --connect <<<"warm"
	wait_for outcome_is accepted 1
	wait_for settled
	# the count below needs strace, which cannot trace what is traced
	rp_skip_if_traced
	strace_start broker.tr "$BPID" recvfrom
	local st=$STRACE_PID
	# A moment between handoffs, so that each Ack is back before the next
	# Hello.
	run -0 bw handoffs --socket "$SOCK" --count 64 --linger-ms 2
	[ "$(jf 'd["handed_off"]' <<<"$output")" = 64 ]
	strace_stop "$st"
	# Each Ack read as it came was one recvfrom (and a wake-up) per
	# handoff; read together, after 32 transfers or 50 ms after one,
	# it is a few.
	local n
	n=$(grep -c '^recvfrom(' "$T/broker.tr")
	echo "broker: $n reads of Acks for 64 handoffs"
	[ "$n" -lt 32 ]
	# Every one of them is counted all the same (an admin request reads
	# what has come back before it answers).
	[ "$(metric running_process_broker_v1_handoff_total outcome=accepted)" = 65 ]
	[ "$(metric running_process_broker_v1_handoffs_in_flight)" = 0 ]
}

@test "the backend does not read an adopted connection again before it is readable (issue 16)" {
	def echo ho-real
	start_broker --handoff
	run -0 adopt --connect <<<"warm"
	wait_for outcome_is accepted 1
	rp_skip_if_traced
	local pid
	pid=$(backend_pid)
	strace_start backend.tr "$pid" recvfrom
	local st=$STRACE_PID
	# Each client sends its request behind the Hello (so it is there
	# with the transfer), reads the answer and waits a little before it
	# closes: the socket is empty when the backend has answered.  A read
	# then could only fail (EAGAIN); the next one comes with the close.
	run -0 bw handoffs --socket "$SOCK" --count 32 --early --linger-ms 5
	[ "$(jf 'd["handed_off"]' <<<"$output")" = 32 ]
	strace_stop "$st"
	local n
	n=$(grep -c '^recvfrom(.*= -1 EAGAIN' "$T/backend.tr" || true)
	echo "backend: $n reads that found nothing, for 32 handoffs"
	[ "$n" -lt 8 ]
	# and it still read each request and each end of stream
	[ "$(grep -c '^recvfrom(.*= 100$' "$T/backend.tr")" -ge 32 ]
	[ "$(grep -c '^recvfrom(.*= 0$' "$T/backend.tr")" -ge 32 ]
}

@test "a backend that dies loses its handoff connection; its successor gets a new one" {
	def echo ho-real
	start_broker --handoff --events "$EV"
	run -0 adopt --connect <<<"one"
	assert_line "rp-probe: route: handoff"
	local pid hpipe
	pid=$(backend_pid)
	hpipe=$(env_of "$pid" RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE)
	kill -KILL "$pid"
	wait_for grep -q DIED_CRASH "$EV"
	wait_for metric_is 0 running_process_broker_v1_handoff_connections
	[ ! -e "$hpipe" ]
	run -0 adopt --connect <<<"two"
	assert_line "two"
	assert_line "rp-probe: route: handoff"
	[ "$(env_of "$(backend_pid)" RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE)" != "$hpipe" ]
	wait_for outcome_is accepted 2
}

@test "stopping with a transfer waiting for its Ack: the drain deadline ends it" {
	def echo ho-silent
	start_broker --handoff --handoff-event broker --handoff-timeout 60000 \
		--drain-timeout 300 --events "$EV"
	# Its reply read, this client leaves; the broker keeps the connection
	# for the event the silent backend will never let it write.
	run -0 hello --capabilities 1
	[[ "$(echo "$output" | jf 'd["handle_passed_token"]')" =~ ^[0-9a-f]{32}$ ]]
	wait_for metric_is 1 running_process_broker_v1_handoffs_in_flight
	[ "$(metric running_process_broker_v1_connections_open)" = 2 ]
	stop_broker
	grep '"handoff_outcome":"shutdown"' "$EV" | grep -q "the broker is stopping"
	run ! grep -q '"handoff_outcome":"ack_timeout"' "$EV"
}
