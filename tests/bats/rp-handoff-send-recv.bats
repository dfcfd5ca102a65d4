#!/usr/bin/env bats
# rp-handoff-send and rp-handoff-recv (one-shot mode) through the real
# binaries, against each other and against independent Python peers
# (socket.send_fds / recv_fds, protoc classes): every exit status, every
# hostile sender, the ways a received fd is used.

load helper
load endpoint
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	S="$T/h.sock"
	rp-handoff-recv --new-token >"$T/tok"
	TOK=$(cat "$T/tok")
}

teardown() {
	rp_teardown
	rp_check_sanitizer_logs
}

# Start a one-shot receiver in the background (readiness on fd 3);
# recv_wait collects its exit status into RC (not in a subshell: only
# this shell can wait for it).
recv_start() {
	rp_start recv rp-handoff-recv --ready-fd 3 "$@"
}

recv_wait() {
	RC=0
	wait "$RP_LAST_PID" || RC=$?
}

# fake_recv MODE [OUT] — rpwire's fake receiver on $S, answering as MODE
# says (accept, silent, garbage, wrongcorr, close), its stdout to OUT
# (default /dev/null); returns once it listens, with its pid in FAKE.
fake_recv() {
	[ -p "$T/ready" ] || mkfifo "$T/ready"
	rpwire fake-recv "$S" "$T/ready" "$1" >"${2:-/dev/null}" &
	FAKE=$!
	rp_wait_fifo "$T/ready"
}

# exit_code_for TEXT help|man — the exit status that rp-handoff-recv's
# --help summary ("Exit: 0 ...; 1 ...; ...") or its man page (EXIT STATUS)
# gives to the case described by TEXT.
exit_code_for() {
	if [ "$2" = help ]; then
		rp-handoff-recv --help | sed -n '/^Exit:/,$p' | tr '\n' ' ' |
			sed 's/^Exit: //' | tr ';' '\n' | grep -F -- "$1" |
			awk '{ print $1 }'
	else
		sed -n '/^# EXIT STATUS/,/^# /p' "$RP_ROOT/doc/rp-handoff-recv.1.scd" |
			awk -v want="$1" '/^\*[0-9]/ { code = $1; gsub(/[*,]/, "", code) }
				index($0, want) { print code }'
	fi
}

# ------------------------------------------------------------------ usage

@test "rp-handoff-send: --help is the man page SYNOPSIS; -V; mandoc lint" {
	rp_check_synopsis rp-handoff-send
	run rp-handoff-send -V
	assert_output "rp-handoff-send 0.1.0"
	rp_check_manpage rp-handoff-send
}

@test "rp-handoff-send: usage errors exit 2 with one line" {
	rp_check_usage_error rp-handoff-send --token-file "$T/tok"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" "$S" "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" --fd 77 "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" --fd x "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" --fd -1 "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" --timeout 1x "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" --service Bad_Name "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" --raw --no-wait "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" --token "$TOK" "$S"
	rp_check_usage_error rp-handoff-send --token 1234 "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/missing" "$S"
	rp_check_usage_error rp-handoff-send "$S"
	RP_HANDOFF_TOKEN=nothex rp_check_usage_error rp-handoff-send "$S"
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" ""
	rp_check_usage_error rp-handoff-send --token-file "$T/tok" "/$(printf 'x%.0s' $(seq 120))"
	rp_check_usage_error rp-handoff-send --new-token "$S"
	rp_check_usage_error rp-handoff-send --bogus "$S"
	run rp-handoff-send --new-token
	assert_success
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
}

@test "rp-handoff-recv (one-shot): usage errors exit 2 with one line" {
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok"
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" "$S" cat
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" --fd 3 "$S"
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" --count 2 "$S"
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" --count 0 "$S"
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" --count 1025 "$S"
	rp_check_usage_error rp-handoff-recv --token "$TOK" --token "$TOK" --count 2 "$S"
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" --token "$TOK" "$S"
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" --echo "$S"
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" --max-conns 3 "$S"
	rp_check_usage_error rp-handoff-recv "$S"
	rp_check_usage_error rp-handoff-recv --token zz "$S"
	RP_HANDOFF_TOKEN="$TOK x" rp_check_usage_error rp-handoff-recv "$S"
	rp_check_usage_error rp-handoff-recv --token-file "$T/tok" ""
	[ ! -e "$S" ]
}

# ------------------------------------------------------- the happy paths

@test "a file handed over: recv execs cat on it, cat writes to our stdout" {
	echo "hello from a file" >"$T/data"
	recv_start --token-file "$T/tok" "$S" -- cat
	run rp-handoff-send --token-file "$T/tok" --fd 5 "$S" 5<"$T/data"
	assert_success
	assert_output ""
	recv_wait
	[ "$RC" -eq 0 ]
	[ "$(cat "$T/recv.out")" = "hello from a file" ]
	# The socket file went before the exec.
	[ ! -e "$S" ]
}

@test "PROG's exit status is the receiver's; --fd N puts the fd on N only" {
	recv_start --token-file "$T/tok" --fd 7 "$S" -- sh -c 'head -c 5 <&7; exit 7'
	echo "12345678" | rp-handoff-send --token-file "$T/tok" "$S"
	recv_wait
	[ "$RC" -eq 7 ]
	[ "$(cat "$T/recv.out")" = "12345" ]
}

@test "token from the environment, and --token; the offer carries --service" {
	SHARED=$(rp_shared_dir)
	fake_recv accept "$T/fake.out"
	RP_HANDOFF_TOKEN=$TOK run rp-handoff-send --service my-svc "$S" </dev/null
	assert_success
	wait "$FAKE"
	grep -q "offer: service=my-svc token_ok=1 corr_ok=1" "$T/fake.out"

	recv_start --token "$TOK" "$S"
	run rp-handoff-send --token "$TOK" "$S" </dev/null
	assert_success
	recv_wait
	[ "$RC" -eq 0 ]
}

@test "without PROG: the fd's data to stdout, and stdin to it when it is a socket" {
	recv_start --token-file "$T/tok" "$S"
	printf 'answer from stdin' >"$T/stdin"
	run rpwire send-fds "$S" "$TOK" --say "said by the sender"
	# --raw is not set on the receiver: send-fds sends no offer, so
	# this one must fail (the offer never comes)...
	recv_wait
	[ "$RC" -ne 0 ]

	# ...and with --raw it works both ways.  (Started by hand: a
	# background job's stdin would be /dev/null otherwise.)
	mkfifo "$T/ready"
	rp-handoff-recv --raw --token-file "$T/tok" --ready-fd 3 "$S" \
		<"$T/stdin" 3>"$T/ready" >"$T/recv2.out" 2>"$T/recv2.err" &
	RP_LAST_PID=$!
	RP_BG_PIDS+=("$RP_LAST_PID")
	rp_wait_fifo "$T/ready"
	run rpwire send-fds "$S" "$TOK" --say "said by the sender"
	assert_output "reply: answer from stdin"
	wait "$RP_LAST_PID"
	[ "$(cat "$T/recv2.out")" = "said by the sender" ]
}

@test "--count N takes N transfers with N tokens and runs PROG for each" {
	rp-handoff-recv --new-token >>"$T/tok"
	rp-handoff-recv --new-token >>"$T/tok"
	recv_start --token-file "$T/tok" --count 3 "$S" -- sh -c 'cat; exit 0'
	local t
	for t in $(cat "$T/tok"); do
		echo "via $t" | rp-handoff-send --token "$t" "$S"
	done
	recv_wait
	[ "$RC" -eq 0 ]
	[ "$(sort "$T/recv.out" | wc -l)" -eq 3 ]
	for t in $(cat "$T/tok"); do
		grep -qx "via $t" "$T/recv.out"
	done
}

@test "--count: the first failing run of PROG sets the status, after all ran" {
	echo "$(rp-handoff-recv --new-token)" >>"$T/tok"
	recv_start --token-file "$T/tok" --count 2 "$S" -- sh -c 'read -r n; echo ran $n; exit $n'
	local t n=3
	for t in $(cat "$T/tok"); do
		echo "$n" | rp-handoff-send --token "$t" "$S"
		n=4
	done
	recv_wait
	[ "$RC" -eq 3 ]
	[ "$(grep -c ran "$T/recv.out")" -eq 2 ]
}

@test "--wait-for-socket: the sender may start before the receiver" {
	echo "early" >"$T/data"
	rp-handoff-send --token-file "$T/tok" --wait-for-socket --timeout 10000 "$S" <"$T/data" &
	local sender=$!
	recv_start --token-file "$T/tok" "$S" -- cat
	wait "$sender"
	recv_wait
	[ "$RC" -eq 0 ]
	[ "$(cat "$T/recv.out")" = "early" ]
}

# ------------------------------------------------ interoperability (raw)

@test "interop: Python's socket.send_fds hands a file; recv --raw adopts it" {
	echo "sent by python" >"$T/data"
	recv_start --raw --token-file "$T/tok" "$S" -- cat
	run rpwire send-fds "$S" "$TOK" --file "$T/data"
	assert_success
	recv_wait
	[ "$RC" -eq 0 ]
	[ "$(cat "$T/recv.out")" = "sent by python" ]
}

@test "interop: rp-handoff-send --raw to Python's socket.recv_fds" {
	echo "sent by rp" >"$T/data"
	mkfifo "$T/ready"
	rpwire recv-fds "$S" "$T/ready" >"$T/py.out" &
	local py=$!
	rp_wait_fifo "$T/ready"
	run rp-handoff-send --raw --token-file "$T/tok" "$S" <"$T/data"
	assert_success
	wait "$py"
	grep -qx "token: $TOK" "$T/py.out"
	grep -qx "fds: 1" "$T/py.out"
	grep -qx "data: sent by rp" "$T/py.out"
}

# recv-fds as uid 65534 on $SHARED/h.sock (after rp_share_pb); its report
# in $T/py.out, its pid in $PY.
nobody_recv_fds() {
	chmod 0777 "$SHARED"
	rm -f "$SHARED/ready"
	mkfifo -m 0666 "$SHARED/ready"
	rpwire_as_nobody recv-fds "$SHARED/h.sock" "$SHARED/ready" >"$T/py.out" &
	PY=$!
	rp_wait_fifo "$SHARED/ready"
}

@test "send: a receiver of another uid gets neither token nor fd (exit 1); --allow-uid trusts it" {
	rp_share_pb
	echo "for our own eyes" >"$T/data"
	nobody_recv_fds
	run rp-handoff-send --raw --token-file "$T/tok" "$SHARED/h.sock" <"$T/data"
	[ "$status" -eq 1 ]
	[[ "$output" =~ ^"rp-handoff-send: refused to hand fd 0 to $SHARED/h.sock: its listener runs as uid 65534 (pid "[0-9]+"), not as ours or root's (--allow-uid 65534 trusts it)"$ ]]
	wait "$PY"
	grep -qx "token: " "$T/py.out"
	grep -qx "fds: 0" "$T/py.out"
	# the full transfer (offer and ack) is refused the same way
	nobody_recv_fds
	run -1 rp-handoff-send --token-file "$T/tok" --fd 5 "$SHARED/h.sock" 5<"$T/data"
	[[ "$output" == *"refused to hand fd 5 to $SHARED/h.sock: its listener runs as uid 65534"* ]]
	wait "$PY"
	grep -qx "fds: 0" "$T/py.out"
	# named with --allow-uid, it is trusted
	nobody_recv_fds
	run -0 rp-handoff-send --raw --allow-uid 1234 --allow-uid 65534 \
		--token-file "$T/tok" "$SHARED/h.sock" <"$T/data"
	wait "$PY"
	grep -qx "token: $TOK" "$T/py.out"
	grep -qx "fds: 1" "$T/py.out"
	grep -qx "data: for our own eyes" "$T/py.out"
	# a bad --allow-uid is a usage error
	run -2 rp-handoff-send --allow-uid x --token-file "$T/tok" "$S"
	[ "$output" = "rp-handoff-send: --allow-uid: 'x' is not a number from 0 to 4294967294 (see --help)" ]
}

# ----------------------------------------------- the sender's exit codes

@test "send exit 1: the receiver rejects a wrong token (and says why)" {
	recv_start --token-file "$T/tok" "$S" -- cat
	run rp-handoff-send --token "$(rp-handoff-recv --new-token)" "$S" </dev/null
	assert_failure 1
	assert_output "rp-handoff-send: rejected: handoff token mismatch"
	recv_wait
	[ "$RC" -eq 1 ]
	grep -q "rejected a transfer: handoff token mismatch" "$T/recv.err"
}

@test "send exit 3: no socket, or nobody listening" {
	run rp-handoff-send --token-file "$T/tok" "$T/none.sock" </dev/null
	assert_failure 3
	assert_output --partial "cannot connect"
	/usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale.sock"
	run rp-handoff-send --token-file "$T/tok" "$T/stale.sock" </dev/null
	assert_failure 3
	# --wait-for-socket gives up at the deadline.
	run rp-handoff-send --token-file "$T/tok" --wait-for-socket --timeout 50 "$T/none.sock" </dev/null
	assert_failure 3
}

@test "send exit 4: no ack before the deadline" {
	fake_recv silent "$T/fake.out"
	run rp-handoff-send --token-file "$T/tok" --timeout 200 "$S" </dev/null
	assert_failure 4
	assert_output --partial "no ack"
	wait "$FAKE"
}

@test "send exit 5: a malformed ack, or one for another offer" {
	fake_recv garbage
	run rp-handoff-send --token-file "$T/tok" "$S" </dev/null
	assert_failure 5
	assert_output --partial "malformed ack"
	wait "$FAKE"

	fake_recv wrongcorr
	run rp-handoff-send --token-file "$T/tok" "$S" </dev/null
	assert_failure 5
	assert_output "rp-handoff-send: malformed ack: request_id does not match"
	wait "$FAKE"

	fake_recv ackcorr
	run rp-handoff-send --token-file "$T/tok" "$S" </dev/null
	assert_failure 5
	assert_output "rp-handoff-send: malformed ack: ack correlation_id does not match request_id"
	wait "$FAKE"

	# An "accepted" that presents another token is not our Ack.
	fake_recv wrongtoken
	run rp-handoff-send --token-file "$T/tok" "$S" </dev/null
	assert_failure 5
	assert_output "rp-handoff-send: malformed ack: the ack presents another token"
	wait "$FAKE"
}

@test "send exit 1: the receiver closes without an ack; --raw and --no-wait exit 0" {
	fake_recv close
	run rp-handoff-send --token-file "$T/tok" "$S" </dev/null
	assert_failure 1
	assert_output --partial "refused: $S closed the connection"
	wait "$FAKE"

	fake_recv silent "$T/fake.out"
	run rp-handoff-send --token-file "$T/tok" --no-wait "$S" </dev/null
	assert_success
	wait "$FAKE"
	grep -q "token_ok=1" "$T/fake.out"
}

# --------------------------------------------- the receiver's exit codes

@test "recv exit 3: cannot listen (missing or unsafe directory, live socket)" {
	run rp-handoff-recv --token-file "$T/tok" "$T/missing/h.sock"
	assert_failure 3
	mkdir -m 0777 "$T/open"
	run rp-handoff-recv --token-file "$T/tok" "$T/open/h.sock"
	assert_failure 3
	assert_output --partial "group/other"
	recv_start --token-file "$T/tok" "$S"
	run rp-handoff-recv --token-file "$T/tok" "$S"
	assert_failure 3
	assert_output --partial "another process is listening"
}

@test "recv exit 4: nothing arrives; or the offer never does (fd closed)" {
	run rp-handoff-recv --token-file "$T/tok" --timeout 100 "$S"
	assert_failure 4
	assert_output --partial "no transfer arrived"
	[ ! -e "$S" ]

	# A sender that sends the token and the fd, then never the offer.
	# The deadline covers the receiver's whole run, so the sender must
	# get its sideband in before it: it is started (and its Python
	# loaded) first, and held until the receiver is ready, so that what
	# the deadline has to cover is one connect, not a start-up on a busy
	# machine.  Once the sideband is in, only the deadline can end the
	# wait, and the receiver then closes everything.
	local go t0 t1
	mkfifo "$T/sender.ready" "$T/go"
	exec {go}<>"$T/go"
	rpwire transfer "$S" --token "$TOK" --no-offer --hold "$T/sender.ready" \
		<&"$go" >"$T/sender.out" 2>&1 &
	local sender=$!
	RP_BG_PIDS+=("$sender")
	rp_wait_fifo "$T/sender.ready"
	t0=${EPOCHREALTIME/./}
	recv_start --token-file "$T/tok" --timeout 1000 "$S" -- cat
	echo go >&"$go"
	exec {go}>&-
	recv_wait
	t1=${EPOCHREALTIME/./}
	wait "$sender"
	[ "$RC" -eq 4 ]
	grep -q "the offer did not arrive before the deadline" "$T/recv.err"
	grep -qx "connection closed: yes" "$T/sender.out"
	grep -qx "fds closed by receiver: yes" "$T/sender.out"
	# It waited for the whole deadline, not less.
	[ $(( (t1 - t0) / 1000 )) -ge 1000 ]
}

@test "recv exit 5: a malformed offer, or a sender that sends nothing" {
	recv_start --token-file "$T/tok" "$S" -- cat
	run /usr/bin/python3 -c '
import socket, struct, sys, os
tok = bytes.fromhex(open(sys.argv[2]).read().strip())
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
a, b = socket.socketpair()
socket.send_fds(s, [tok], [b.fileno()]); b.close()
s.sendall(b"\x01\x03\x00\x00\x00\xff\xff\xff")   # not a Frame
print(len(s.recv(100)) > 0)                    # a rejecting Ack comes back
print(a.recv(1) == b"")                        # and the fd was closed' "$S" "$T/tok"
	assert_output "$(printf 'True\nTrue')"
	recv_wait
	[ "$RC" -eq 5 ]
	grep -q "malformed offer" "$T/recv.err"

	rp_start recv2 rp-handoff-recv --token-file "$T/tok" --ready-fd 3 "$S"
	/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.close()' "$S"
	local rc=0
	wait "$RP_LAST_PID" || rc=$?
	[ "$rc" -eq 5 ]
	grep -q "without sending" "$T/recv2.err"
}

@test "recv exit 126/127: PROG not executable / not found" {
	run -127 rp-handoff-recv --token-file "$T/tok" "$S" -- "$T/nope"
	printf '#!/bin/sh\n' >"$T/noexec"
	run -126 rp-handoff-recv --token-file "$T/tok" "$S" -- "$T/noexec"
	[ ! -e "$S" ]
}

@test "recv: PROG is looked for as exec looks for it (execvpe's PATH rules)" {
	local recv
	recv=$(command -v rp-handoff-recv)
	mkdir "$T/d1" "$T/d2"
	printf '#!/bin/sh\nexit 0\n' >"$T/d1/prog"
	printf '#!/bin/sh\nexit 0\n' >"$T/d2/prog"
	chmod 0755 "$T/d2/prog"
	# Found not executable, then found: exec runs the second one.
	PATH="$T/d1:$T/d2" run -4 "$recv" --timeout 50 --token-file "$T/tok" \
	    "$S" -- prog
	# Only the one that is not executable.
	PATH="$T/d1" run -126 "$recv" --timeout 50 --token-file "$T/tok" \
	    "$S" -- prog
	assert_output --partial "prog: not executable"
	# An empty PATH is the current directory, as it is to exec.
	cd "$T/d2"
	PATH= run -4 "$recv" --timeout 50 --token-file "$T/tok" "$S" -- prog
	cd "$T/d1"
	PATH= run -126 "$recv" --timeout 50 --token-file "$T/tok" "$S" -- prog
}

# ------------------------------------------------------- hostile senders

@test "hostile: several fds in one message, rejected (exit 1), every fd closed" {
	recv_start --token-file "$T/tok" "$S" -- cat
	run rpwire transfer "$S" --token "$TOK" --fds 3
	assert_line "accepted: 0"
	assert_line "error_detail: 3 fds in one message"
	assert_line "fds closed by receiver: yes"
	recv_wait
	[ "$RC" -eq 1 ]
}

@test "hostile: a truncated control message (too many fds), rejected" {
	recv_start --token-file "$T/tok" "$S" -- cat
	run rpwire transfer "$S" --token "$TOK" --fds 20
	assert_line "error_detail: control message truncated (too many fds)"
	assert_line "fds closed by receiver: yes"
	recv_wait
	[ "$RC" -eq 1 ]
}

@test "hostile: tokens of the wrong length, in the sideband and in the offer" {
	recv_start --token-file "$T/tok" "$S" -- cat
	run rpwire transfer "$S" --token "$TOK" --data-len 8
	assert_line "error_detail: handoff token length was 8 bytes; expected 16"
	assert_line "fds closed by receiver: yes"
	recv_wait
	[ "$RC" -eq 1 ]

	rp_start recv2 rp-handoff-recv --raw --token-file "$T/tok" --ready-fd 3 "$S" -- cat
	run rpwire transfer "$S" --token "$TOK" --data-len 24 --raw
	assert_line "fds closed by receiver: yes"
	local rc=0
	wait "$RP_LAST_PID" || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "handoff token length was 24 bytes; expected 16" "$T/recv2.err"
}

@test "hostile: a sideband without any fd, rejected with an ack" {
	recv_start --token-file "$T/tok" "$S" -- cat
	run rpwire transfer "$S" --token "$TOK" --fds 0
	assert_line "accepted: 0"
	assert_line "error_detail: no fd in the message"
	recv_wait
	[ "$RC" -eq 1 ]
}

@test "hostile: an offer frame over 8 KiB is answered with a rejecting Ack that names it (exit 5); past 16 MiB at once" {
	recv_start --token-file "$T/tok" "$S" -- cat
	# rpwire checks that the Ack's request_id and correlation_id are the
	# offer's
	run rpwire transfer "$S" --token "$TOK" --offer-size 70000
	assert_line "accepted: 0"
	assert_line "error_detail: HandoffOffer frame exceeds 8 KiB"
	assert_line "ack token: ours"
	assert_line "fds closed by receiver: yes"
	recv_wait
	[ "$RC" -eq 5 ]
	grep -qx "rp-handoff-recv: the offer frame of 70000 bytes is more than 8192; closed the received fd" "$T/recv.err"

	rp_start recv2 rp-handoff-recv --token-file "$T/tok" --ready-fd 3 "$S" -- cat
	run rpwire transfer "$S" --token "$TOK" --announce 4294967295
	assert_line "ack for a bad offer: accepted=0 request_id=0 detail=HandoffOffer frame exceeds 8 KiB"
	assert_line "ack token: ours"
	assert_line "fds closed by receiver: yes"
	local rc=0
	wait "$RP_LAST_PID" || rc=$?
	[ "$rc" -eq 5 ]
}

@test "hostile: a replayed token is not pending" {
	local t2
	t2=$(rp-handoff-recv --new-token)
	recv_start --token "$TOK" --token "$t2" --count 2 "$S" -- cat
	run rpwire transfer "$S" --token "$TOK" --say "first"
	assert_line "accepted: 1"
	run rpwire transfer "$S" --token "$TOK" --say "again"
	assert_line "accepted: 0"
	assert_line "error_detail: handoff token is not pending"
	assert_line "fds closed by receiver: yes"
	recv_wait
	[ "$RC" -eq 1 ]
}

@test "hostile: a sender of another uid is refused unread (exit 1); --allow-uid admits it" {
	rp_share_pb
	cp "$T/tok" "$SHARED/tok"
	chmod 0644 "$SHARED/tok"
	recv_start --token-file "$T/tok" "$SHARED/h.sock" -- cat
	chmod 0666 "$SHARED/h.sock"
	run rpwire_as_nobody transfer "$SHARED/h.sock" --token "$TOK" --say x
	refute_line "accepted: 1"
	recv_wait
	[ "$RC" -eq 1 ]
	grep -q "refused a connection from uid 65534" "$T/recv.err"
	# --help and the man page give this case the status it has.
	[ "$(exit_code_for "another uid" help)" = 1 ]
	[ "$(exit_code_for "another uid" man)" = 1 ]

	rp_start recv2 rp-handoff-recv --token-file "$T/tok" --allow-uid 65534 \
		--ready-fd 3 "$SHARED/h.sock" -- cat
	chmod 0666 "$SHARED/h.sock"
	echo "from nobody" >"$SHARED/data"
	chmod 0644 "$SHARED/data"
	run rp_as_nobody rp-handoff-send --token-file "$SHARED/tok" "$SHARED/h.sock" <"$SHARED/data"
	assert_success
	wait "$RP_LAST_PID"
	[ "$(cat "$T/recv2.out")" = "from nobody" ]
}
