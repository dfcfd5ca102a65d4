#!/usr/bin/env bats
# rp-handoff-recv --serve, the generic broker backend, through the real
# binary and an independent Python peer: usage, identity probes, the
# in-process echo, PROG per connection, --max-conns, other uids, transfers
# from the broker (accepted, pipelined, replayed, hostile), stopping.

load helper
load endpoint
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	unset RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE \
		RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE RUNNING_PROCESS_BROKER_V1_BROKER_PID \
		RP_HANDOFF_EVENT RP_READY_FD
	EP="$T/be.sock"
	HO="$T/ho.sock"
}

teardown() {
	rp_teardown
	rp_check_sanitizer_logs
}

# Children of a process (direct ones), one pid per line.
children() {
	cat "/proc/$1/task/$1/children" 2>/dev/null | tr ' ' '\n' | sed '/^$/d'
}

# held_client — a client of $EP that is served (one echo) and then holds
# its connection open until the backend goes away, in the background with
# its pid in CLIENT; what its last read got goes to $T/client.out.
# Returns once it has been served.
held_client() {
	mkfifo "$T/served"
	/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(b"ping\n"); assert s.recv(10) == b"ping\n"
with open(sys.argv[2], "w") as f: f.write("served\n")
print(repr(s.recv(10)), flush=True)' "$EP" "$T/served" >"$T/client.out" &
	CLIENT=$!
	rp_wait_fifo "$T/served"
}

# ------------------------------------------------------------------ usage

@test "--help starts with the man page SYNOPSIS, verbatim; -h too" {
	rp_check_synopsis rp-handoff-recv
	run rp-handoff-recv -h
	assert_success
	assert_output --partial "rp-handoff-recv --serve ENDPOINT"
}

@test "-V prints the version" {
	run rp-handoff-recv -V
	assert_success
	assert_output "rp-handoff-recv 0.1.0"
	run rp-handoff-recv --version
	assert_output "rp-handoff-recv 0.1.0"
}

@test "the man page passes mandoc -Tlint" {
	rp_check_manpage rp-handoff-recv
}

@test "usage errors exit 2 with one line on stderr" {
	rp_check_usage_error rp-handoff-recv --bogus
	rp_check_usage_error rp-handoff-recv -x
	rp_check_usage_error rp-handoff-recv --serve "$EP"
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo -- cat
	rp_check_usage_error rp-handoff-recv --serve "" --echo
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --max-conns 0
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --max-conns 12x
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --max-conns 65537
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --timeout -1
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --probe-window " 5"
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --handoff-event nobody
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --handoff ""
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --count 2
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --raw
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo "$T/extra"
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --ready-fd 77
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --allow-uid -1
	rp_check_usage_error rp-handoff-recv --serve "$EP" --echo --namespace "$(printf 'n%.0s' $(seq 300))"
	rp_check_usage_error rp-handoff-recv --serve "$EP" --timeout
	rp_check_usage_error rp-handoff-recv --serve "$EP" --
	RUNNING_PROCESS_BROKER_V1_BROKER_PID=12ab rp_check_usage_error rp-handoff-recv --serve "$EP" --echo
	RP_HANDOFF_EVENT=maybe rp_check_usage_error rp-handoff-recv --serve "$EP" --echo
	rp_check_usage_error rp-handoff-recv --new-token --serve "$EP"
	# Nothing was created by any of them.
	[ ! -e "$EP" ]
}

@test "--new-token prints a fresh token of 32 lowercase hex digits" {
	run rp-handoff-recv --new-token
	assert_success
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	local first=$output
	run rp-handoff-recv --new-token
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	[ "$output" != "$first" ]
}

@test "PROG not found exits 127, not executable 126, before listening" {
	run -127 rp-handoff-recv --serve "$EP" -- "$T/no-such-prog"
	assert_failure 127
	assert_output --partial "no-such-prog"
	run -127 rp-handoff-recv --serve "$EP" -- no-such-prog-on-path-xyz
	assert_failure 127
	printf '#!/bin/sh\n' >"$T/noexec"
	chmod 0644 "$T/noexec"
	run -126 rp-handoff-recv --serve "$EP" -- "$T/noexec"
	assert_failure 126
	assert_output --partial "not executable"
	[ ! -e "$EP" ]
}

@test "cannot listen: a missing directory or a live listener exits 3" {
	run rp-handoff-recv --serve "$T/missing/be.sock" --echo
	assert_failure 3
	assert_output --partial "cannot listen on endpoint"
	rp_start srv rp-handoff-recv --serve "$EP" --echo --ready-fd 3
	run rp-handoff-recv --serve "$EP" --echo
	assert_failure 3
	assert_output --partial "another process is listening"
	# The first one still serves.
	run rpwire echo "$EP" still-here
	assert_output "still-here"
	# A live listener on the handoff path is refused too, and the
	# endpoint it had already bound is removed again.
	run rp-handoff-recv --serve "$T/other.sock" --handoff "$EP" --echo
	assert_failure 3
	[ ! -e "$T/other.sock" ]
}

# ----------------------------------------------------------------- probes

@test "answers an identity probe with its own, checkable identity" {
	rp_start srv rp-handoff-recv --serve "$EP" --namespace shared --echo --ready-fd 3
	local pid=$RP_LAST_PID
	run rpwire probe "$EP"
	assert_success
	assert_line "pid: $pid"
	assert_line "peer_pid: $pid"
	assert_line "exe_path: $(readlink "/proc/$pid/exe")"
	assert_line "exe_hash: $(b3sum --no-names "$RP_BUILD/bin/rp-handoff-recv")"
	assert_line "exe_hash_algorithm: blake3"
	assert_line "boot_id: $(cat /proc/sys/kernel/random/boot_id)"
	assert_line "namespace: shared"
	assert_line "endpoint: $EP"
	# started_at is the process's start, to the second (ps's etimes).
	local started now
	started=$(echo "$output" | sed -n 's/^started_at_unix_ms: //p')
	now=$(date +%s%3N)
	[ "$started" -le "$now" ]
	[ $((now - started)) -lt $(( ($(ps -o etimes= -p "$pid") + 2) * 1000 )) ]
}

@test "endpoint, namespace and handoff socket come from the broker's environment" {
	export RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE=$EP
	export RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE=private:echo
	export RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE=$HO
	rp_start srv rp-handoff-recv --serve "" --echo --ready-fd 3
	[ -S "$EP" ] && [ -S "$HO" ]
	run rpwire probe "$EP"
	assert_line "namespace: private:echo"
	assert_line "endpoint: $EP"
	run rpwire transfer "$HO" --say via-env
	assert_line "reply: via-env"
}

@test "a probe in PROG mode is answered without running PROG" {
	rp_start srv rp-handoff-recv --serve "$EP" --ready-fd 3 -- \
		sh -c 'echo run >>"$0"; cat' "$T/runs"
	run rpwire probe "$EP"
	assert_success
	run rpwire echo "$EP" client
	assert_output "client"
	# One client, one PROG; the probe ran nothing.
	[ "$(cat "$T/runs")" = "run" ]
}

@test "a malformed probe-like request gets no answer and runs nothing" {
	rp_start srv rp-handoff-recv --serve "$EP" --ready-fd 3 -- \
		sh -c 'echo run >>"$0"; cat' "$T/runs"
	# The probe signature, but a 3-byte payload: the connection is closed.
	run /usr/bin/python3 -c '
import socket, struct, sys
body = bytes([0x08, 0x01, 0x18, 0xb2, 0xe4, 0x02, 0x22, 0x03]) + b"abc"
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"\x01" + struct.pack("<I", len(body)) + body)
print(repr(s.recv(100)))' "$EP"
	assert_success
	assert_output "b''"
	[ ! -e "$T/runs" ]
}

# ------------------------------------------------------------------- echo

@test "--echo echoes every connection in-process, forking nothing" {
	rp_start srv rp-handoff-recv --serve "$EP" --echo --ready-fd 3
	local pid=$RP_LAST_PID
	run rpwire echo "$EP" "hello echo"
	assert_output "hello echo"
	# A megabyte of random data comes back intact while it is sent.
	run /usr/bin/python3 -c '
import hashlib, os, socket, sys, threading
data = os.urandom(1 << 20)
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
got = b""
while True:
    c = s.recv(65536)
    if not c: break
    got += c
t.join()
print(len(got), hashlib.sha256(got).digest() == hashlib.sha256(data).digest())' "$EP"
	assert_output "1048576 True"
	[ -z "$(children "$pid")" ]
}

@test "--echo: data that starts like a probe is echoed after the window" {
	rp_start srv rp-handoff-recv --serve "$EP" --echo --probe-window 50 --ready-fd 3
	# Six bytes that match the probe signature so far, then silence: the
	# window decides, and they come back without the client closing.
	run /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b"\x01abcd\x08")
got = b""
while len(got) < 6:
    got += s.recv(16)
print(got)' "$EP"
	assert_output "b'\\x01abcd\\x08'"
}

# ------------------------------------------------------------------- PROG

@test "PROG runs on fds 0 and 1 with RP_ROUTE, RP_PEER_PID and RP_PEER_UID" {
	rp_start srv rp-handoff-recv --serve "$EP" --ready-fd 3 -- \
		sh -c 'read -r line; echo "$line $RP_ROUTE $RP_PEER_PID $RP_PEER_UID"'
	run /usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b"hi\n")
got = b""
while True:
    c = s.recv(100)
    if not c: break
    got += c
print(got.decode().strip(), os.getpid())' "$EP"
	assert_success
	local words
	read -ra words <<<"$output"
	[ "${words[0]}" = hi ]
	[ "${words[1]}" = reconnect ]
	[ "${words[2]}" = "${words[4]}" ]   # the client's pid, from the kernel
	[ "${words[3]}" = "$(id -u)" ]
}

@test "a server-first PROG talks to a silent client after the probe window" {
	rp_start srv rp-handoff-recv --serve "$EP" --probe-window 20 --ready-fd 3 -- \
		echo server speaks first
	run /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
print(s.recv(100).decode().strip())' "$EP"
	assert_output "server speaks first"
}

@test "--max-conns 1: clients are served one at a time, none dropped; probes still answered" {
	rp_start srv rp-handoff-recv --serve "$EP" --max-conns 1 --ready-fd 3 -- \
		sh -c 'echo "start $$" >>"$0"; cat; echo end >>"$0"' "$T/log"
	run /usr/bin/python3 -c '
import socket, sys, subprocess
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
    return s
a = conn(); a.sendall(b"a\n"); assert a.recv(10) == b"a\n"
b = conn(); b.sendall(b"b\n")
c = conn(); c.sendall(b"c\n")
# Saturated: the backend still proves who it is.
subprocess.run(sys.argv[2:], check=True, stdout=subprocess.DEVNULL)
a.close()
assert b.recv(10) == b"b\n"; b.close()
assert c.recv(10) == b"c\n"; c.close()
print("served all")' "$EP" env PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 \
		"$RP_ROOT/tests/bats/py/rpwire.py" probe "$EP"
	assert_output "served all"
	# Strictly one after the other: each run ended before the next began.
	run rpwire echo "$EP" sync
	run sed 's/ .*//' "$T/log"
	assert_output "$(printf 'start\nend\nstart\nend\nstart\nend\nstart\nend')"
}

@test "children it inherited are reaped, at start and when they end later; --max-conns still counts its own" {
	# A wrapper forks 20 children that end at once and one that ends when
	# told, then execs the server: all of them are the server's now.
	mkfifo "$T/late"
	rp_start srv /usr/bin/python3 -c '
import os, sys
for _ in range(20):
    if os.fork() == 0:
        os._exit(0)
if os.fork() == 0:
    os.close(3)                       # not the readiness fd
    with open(sys.argv[1]) as f:
        f.read()
    os._exit(0)
os.execvp(sys.argv[2], sys.argv[2:])' "$T/late" \
		rp-handoff-recv --serve "$EP" --max-conns 1 --ready-fd 3 -- \
		sh -c 'echo "start $$" >>"$0"; cat; echo end >>"$0"' "$T/log"
	local pid=$RP_LAST_PID late i
	# Bounded waits on a condition: the 20 leave no zombie behind...
	for i in $(seq 1 250); do
		[ "$(children "$pid" | wc -l)" -eq 1 ] && break
		sleep 0.02
	done
	[ "$(children "$pid" | wc -l)" -eq 1 ]
	late=$(children "$pid")
	[ "$(awk '{print $3}' "/proc/$late/stat")" != Z ]
	# ...nor does the one that ends later
	echo go >"$T/late"
	for i in $(seq 1 250); do
		[ -z "$(children "$pid")" ] && break
		sleep 0.02
	done
	[ -z "$(children "$pid")" ]
	# Its own children are still counted: one at a time, none dropped.
	run /usr/bin/python3 -c '
import socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
    return s
a = conn(); a.sendall(b"a\n"); assert a.recv(10) == b"a\n"
b = conn(); b.sendall(b"b\n")
a.close()
assert b.recv(10) == b"b\n"; b.close()
c = conn(); c.sendall(b"c\n"); assert c.recv(10) == b"c\n"; c.close()
print("served all")' "$EP"
	assert_output "served all"
	run rpwire echo "$EP" sync
	run sed 's/ .*//' "$T/log"
	assert_output "$(printf 'start\nend\nstart\nend\nstart\nend\nstart\nend')"
	for i in $(seq 1 250); do
		[ -z "$(children "$pid")" ] && break
		sleep 0.02
	done
	[ -z "$(children "$pid")" ]
}

@test "a client of another uid is closed unread; --allow-uid admits it" {
	rp_share_pb
	rp_start srv rp-handoff-recv --serve "$SHARED/be.sock" --ready-fd 3 -- \
		sh -c 'echo run >>"$0"; cat' "$T/runs"
	chmod 0666 "$SHARED/be.sock"
	run --separate-stderr rpwire_as_nobody echo "$SHARED/be.sock" intruder
	# Closed without a byte back (a reset: its bytes were never read).
	assert_output ""
	[ ! -e "$T/runs" ]
	grep -q "refused a connection from uid 65534" "$T/srv.err"
	kill -TERM "$RP_LAST_PID"
	wait "$RP_LAST_PID" || true

	rp_start srv2 rp-handoff-recv --serve "$SHARED/be.sock" --allow-uid 65534 \
		--ready-fd 3 -- cat
	chmod 0666 "$SHARED/be.sock"
	run rpwire_as_nobody echo "$SHARED/be.sock" welcome
	assert_output "welcome"
}

@test "SIGTERM: socket files removed, children stopped, exit 0" {
	rp_start srv rp-handoff-recv --serve "$EP" --handoff "$HO" --ready-fd 3 -- \
		sh -c 'echo $$ >"$0"; exec cat' "$T/child"
	local pid=$RP_LAST_PID line child
	held_client
	child=$(cat "$T/child")
	kill -0 "$child"
	kill -TERM "$pid"
	wait "$pid"
	[ ! -e "$EP" ] && [ ! -e "$HO" ]
	run kill -0 "$child"
	assert_failure
	wait "$CLIENT"
	assert_equal "$(cat "$T/client.out")" "b''"
}

@test "SIGINT stops it too; a child that ignores SIGTERM is killed after 2 s" {
	rp_start srv rp-handoff-recv --serve "$EP" --ready-fd 3 -- \
		sh -c 'trap "" TERM; echo $$ >"$0"; exec cat' "$T/child"
	local pid=$RP_LAST_PID child
	held_client
	child=$(cat "$T/child")
	kill -INT "$pid"
	wait "$pid"
	[ ! -e "$EP" ]
	run kill -0 "$child"
	assert_failure
	grep -q "did not stop within 2000 ms; killed" "$T/srv.err"
	wait "$CLIENT"
}

# ------------------------------------------------------ transfers (--handoff)

@test "a transfer from the broker is acked and PROG runs with RP_ROUTE=handoff" {
	rp_start srv rp-handoff-recv --serve "$EP" --handoff "$HO" --ready-fd 3 -- \
		sh -c 'read -r l; echo "$l $RP_ROUTE $RP_PEER_UID"'
	run rpwire transfer "$HO" --say "adopted"
	assert_success
	assert_line "accepted: 1"
	assert_line "error_detail: "
	assert_line "reply: adopted handoff $(id -u)"
	assert_line "handoff connection closed by receiver: yes"
}

@test "transfers back to back on one connection are each acked, in order" {
	rp_start srv rp-handoff-recv --serve "$EP" --handoff "$HO" --echo --ready-fd 3
	run rpwire transfer "$HO" --repeat 5 --say "pipelined"
	assert_success
	[ "$(grep -c '^accepted: 1$' <<<"$output")" -eq 5 ]
	[ "$(grep -c '^reply: pipelined$' <<<"$output")" -eq 5 ]
}

@test "two handoff connections, each with too many fds: each rejection counts its own" {
	# Connection A's sideband (2 fds) is taken and judged only when its
	# offer comes; B's (3 fds) is taken and answered in between.
	rp_start srv rp-handoff-recv --serve "$EP" --handoff "$HO" --echo --ready-fd 3
	run env PYTHONPATH="$RP_PB_DIR:$RP_ROOT/tests/bats/py" /usr/bin/python3 -c '
import os, socket, sys
from rpwire import (PP_HANDOFF, REQUEST, connect, encode, fd_closed_everywhere,
                    pb, read_frame, send_sideband)

def sideband(s, tok, n):
    pairs = [socket.socketpair() for _ in range(n)]
    send_sideband(s, tok, [p[1].fileno() for p in pairs])
    for p in pairs:
        p[1].close()
    return [p[0] for p in pairs]

def detail(s, tok, corr):
    s.sendall(encode(REQUEST, PP_HANDOFF, pb.HandoffOffer(
        token=tok, service_name="x", correlation_id=corr)
        .SerializeToString(), corr))
    ack = pb.HandoffAck()
    ack.ParseFromString(read_frame(s).payload)
    return ack.error_detail

a, b = connect(sys.argv[1], 10), connect(sys.argv[1], 10)
ta, tb = os.urandom(16), os.urandom(16)
ends = sideband(a, ta, 2)
# Once the receiver has closed them, it has taken A'"'"'s sideband.
print("A fds closed:", all(fd_closed_everywhere(e, 10) for e in ends))
sideband(b, tb, 3)
print("B:", detail(b, tb, 2))
print("A:", detail(a, ta, 1))' "$HO"
	assert_success
	assert_output "$(printf 'A fds closed: True\nB: 3 fds in one message\nA: 2 fds in one message')"
}

@test "a replayed token is rejected (not pending) and its fd closed" {
	rp_start srv rp-handoff-recv --serve "$EP" --handoff "$HO" --echo --ready-fd 3
	local tok
	tok=$(rp-handoff-recv --new-token)
	run rpwire transfer "$HO" --token "$tok" --say once
	assert_line "accepted: 1"
	run rpwire transfer "$HO" --token "$tok" --say twice
	assert_failure 1
	assert_line "accepted: 0"
	assert_line "error_detail: handoff token is not pending"
	assert_line "fds closed by receiver: yes"
	refute_line "reply: twice"
}

@test "hostile transfers are rejected with the documented detail; every fd is closed" {
	rp_start srv rp-handoff-recv --serve "$EP" --handoff "$HO" --echo \
		--timeout 300 --ready-fd 3
	local pid=$RP_LAST_PID before
	before=$(rp_fd_count "$pid")

	run rpwire transfer "$HO" --fds 2
	assert_line "error_detail: 2 fds in one message"
	assert_line "fds closed by receiver: yes"

	run rpwire transfer "$HO" --fds 12
	assert_line "error_detail: control message truncated (too many fds)"
	assert_line "fds closed by receiver: yes"

	run rpwire transfer "$HO" --data-len 15
	assert_line "error_detail: handoff token length was 15 bytes; expected 16"
	assert_line "fds closed by receiver: yes"

	run rpwire transfer "$HO" --data-len 20
	assert_line "error_detail: handoff token length was 20 bytes; expected 16"
	assert_line "fds closed by receiver: yes"

	run rpwire transfer "$HO" --fds 0
	assert_line "error_detail: no fd in the message"

	run rpwire transfer "$HO" --offer-token 00112233445566778899aabbccddeeff
	assert_line "error_detail: handoff token mismatch"
	assert_line "fds closed by receiver: yes"

	# Something that is not an offer: a rejecting Ack all the same,
	# then the connection goes.
	run rpwire transfer "$HO" --bad-offer
	assert_line --regexp '^ack for a bad offer: accepted=0 request_id=0 detail=malformed frame'
	assert_line "fds closed by receiver: yes"
	assert_line "handoff connection closed by receiver: yes"

	# The offer never comes: the receiver gives up after --timeout and
	# closes both the connection and the fd.
	run rpwire transfer "$HO" --no-offer
	assert_line "connection closed: yes"
	assert_line "fds closed by receiver: yes"

	# Each of those connections was closed by the receiver before rpwire
	# returned, so the count is exact.
	[ "$(rp_fd_count "$pid")" -eq "$before" ]
	grep -q "the offer did not arrive in time" "$T/srv.err"
	# And it still serves.
	run rpwire transfer "$HO" --say fine
	assert_line "reply: fine"
}

@test "an offer frame over 8 KiB is answered (request_id, token), its fd closed, the connection goes on; past 16 MiB answered at once" {
	rp_start srv rp-handoff-recv --serve "$EP" --handoff "$HO" --echo --ready-fd 3
	local pid=$RP_LAST_PID before
	before=$(rp_fd_count "$pid")
	# rpwire checks that the Ack's request_id and correlation_id are
	# the offer's
	run rpwire transfer "$HO" --offer-size 8193
	assert_failure 1
	assert_line "accepted: 0"
	assert_line "error_detail: HandoffOffer frame exceeds 8 KiB"
	assert_line "ack token: ours"
	assert_line "fds closed by receiver: yes"
	run rpwire transfer "$HO" --offer-size 16777216
	assert_failure 1
	assert_line "error_detail: HandoffOffer frame exceeds 8 KiB"
	assert_line "ack token: ours"
	assert_line "fds closed by receiver: yes"
	# more than any frame: nothing to read, request_id 0, and closed
	run rpwire transfer "$HO" --announce 16777217
	assert_line "ack for a bad offer: accepted=0 request_id=0 detail=HandoffOffer frame exceeds 8 KiB"
	assert_line "ack token: ours"
	assert_line "fds closed by receiver: yes"
	assert_line "handoff connection closed by receiver: yes"
	# one connection: a transfer too large, then one that is fine
	run env PYTHONPATH="$RP_PB_DIR:$RP_ROOT/tests/bats/py" /usr/bin/python3 -c '
import os, socket, sys
from rpwire import (PP_HANDOFF, REQUEST, connect, encode, fd_closed_everywhere,
                    pb, read_frame, send_sideband, sized_offer)
s = connect(sys.argv[1], 10)
def sideband(tok):
    a, b = socket.socketpair()
    send_sideband(s, tok, [b.fileno()])
    b.close()
    return a
t1, t2 = os.urandom(16), os.urandom(16)
a1 = sideband(t1)
s.sendall(sized_offer(t1, 5, 100000))
f = read_frame(s)
ack = pb.HandoffAck.FromString(f.payload)
print("1:", f.request_id, ack.correlation_id, ack.accepted, ack.token == t1,
      ack.error_detail, fd_closed_everywhere(a1, 10))
a2 = sideband(t2)
s.sendall(encode(REQUEST, PP_HANDOFF, pb.HandoffOffer(
    token=t2, service_name="x", correlation_id=6).SerializeToString(), 6))
f = read_frame(s)
ack = pb.HandoffAck.FromString(f.payload)
print("2:", f.request_id, ack.correlation_id, ack.accepted)
a2.settimeout(10)
a2.sendall(b"ping")
print("echo:", a2.recv(10))' "$HO"
	assert_success
	assert_output "$(printf '%s\n' "1: 5 5 False True HandoffOffer frame exceeds 8 KiB True" \
		"2: 6 6 True" "echo: b'ping'")"
	# exactly 8 KiB is fine
	run rpwire transfer "$HO" --offer-size 8192 --say fine
	assert_success
	assert_line "accepted: 1"
	assert_line "reply: fine"
	[ "$(rp_fd_count "$pid")" -eq "$before" ]
	grep -qx "rp-handoff-recv: handoff: an offer frame of 16777216 bytes, more than 8192; closing the received fd" "$T/srv.err"
}

@test "a handoff connection from another uid is refused; so is another pid" {
	rp_share_pb
	rp_start srv rp-handoff-recv --serve "$SHARED/be.sock" --handoff "$SHARED/ho.sock" \
		--echo --ready-fd 3
	local pid=$RP_LAST_PID before
	chmod 0666 "$SHARED/ho.sock"
	before=$(rp_fd_count "$pid")
	run rpwire_as_nobody transfer "$SHARED/ho.sock" --say x
	refute_line "accepted: 1"
	refute_line "reply: x"
	grep -q "handoff: refused a connection from uid 65534" "$T/srv.err"
	[ "$(rp_fd_count "$pid")" -eq "$before" ]
	kill -TERM "$pid"
	wait "$pid"

	# With the broker's pid given, our own uid from another pid is refused.
	RUNNING_PROCESS_BROKER_V1_BROKER_PID=1 rp_start srv2 rp-handoff-recv \
		--serve "$EP" --handoff "$HO" --echo --ready-fd 3
	run rpwire transfer "$HO" --say x
	refute_line "accepted: 1"
	grep -q "not the broker" "$T/srv2.err"
	# --broker-uid names another uid: we are not it.
	rp_start srv3 rp-handoff-recv --serve "$T/b3.sock" --handoff "$T/h3.sock" \
		--broker-uid 65534 --echo --ready-fd 3
	run rpwire transfer "$T/h3.sock" --say x
	refute_line "accepted: 1"
}

@test "the broker's pid, when given, is the one process allowed" {
	# The sender subshell execs python, so the pid we name is the
	# sender's; it waits on a fifo until the receiver is ready.
	mkfifo "$T/go"
	(
		read -r _ <"$T/go"
		exec env PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 \
			"$RP_ROOT/tests/bats/py/rpwire.py" transfer "$HO" --say "from the broker"
	) >"$T/sender.out" &
	local sender=$!
	RUNNING_PROCESS_BROKER_V1_BROKER_PID=$sender rp_start srv2 rp-handoff-recv \
		--serve "$EP" --handoff "$HO" --echo --ready-fd 3
	echo go >"$T/go"
	wait "$sender"
	grep -q "^reply: from the broker$" "$T/sender.out"
}

@test "--handoff-event backend writes the EVENT frame before any data" {
	rp_start srv rp-handoff-recv --serve "$EP" --handoff "$HO" --echo \
		--handoff-event backend --ready-fd 3
	run rpwire transfer "$HO" --correlation 99 --expect-event --say "after the event"
	assert_success
	assert_line "event: kind=2 protocol=0xd0ff request_id=99 accepted=1 token_ok=1"
	assert_line "reply: after the event"
	# The same from the environment, with PROG.
	RP_HANDOFF_EVENT=backend rp_start srv2 rp-handoff-recv --serve "$T/b2.sock" \
		--handoff "$T/h2.sock" --ready-fd 3 -- cat
	run rpwire transfer "$T/h2.sock" --correlation 5 --expect-event --say "prog"
	assert_line "event: kind=2 protocol=0xd0ff request_id=5 accepted=1 token_ok=1"
	assert_line "reply: prog"
}

# ---------------------------------------------------------------- examples

@test "examples/echo-backend serves the endpoint a broker gives it" {
	export RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE=$EP
	export RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE=shared
	export RP_BIN=$RP_BUILD/bin RP_READY_FD=3
	rp_start be "$RP_ROOT/examples/echo-backend"
	local pid=$RP_LAST_PID
	run rpwire probe "$EP"
	# exec: the pid the broker started is the one that answers.
	assert_line "pid: $pid"
	assert_line "namespace: shared"
	run rpwire echo "$EP" "echo backend"
	assert_output "echo backend"
	kill -TERM "$pid"
	wait "$pid"
	[ ! -e "$EP" ]

	# With arguments, they are the program run per connection.
	rp_start be2 "$RP_ROOT/examples/echo-backend" tr a-z A-Z
	run rpwire echo "$EP" "shout"
	assert_output "SHOUT"
}

@test "examples/echo-backend refuses to run outside a broker" {
	run "$RP_ROOT/examples/echo-backend"
	assert_failure 2
	assert_output --partial "RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE is not set"
}
