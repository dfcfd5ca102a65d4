#!/usr/bin/env bats
# rp-broker reads a connection's frame (issue 16): without --handoff in
# one read, whatever follows the frame with it; with --handoff exactly
# the frame, what follows left in the socket for the backend.

load broker
bats_require_minimum_version 1.5.0

# after HEX_HELLO — send the Hello and 100 bytes behind it in one write,
# read the reply, then what the stream says next: "eof", "reset" or the
# bytes; prints "<code> <next>".
after() {
	/usr/bin/python3 - "$SOCK" "$1" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(bytes.fromhex(sys.argv[2]) + b"x" * 100)
def exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("short reply")
        b += c
    return b
hdr = exact(5)
exact(struct.unpack("<I", hdr[1:])[0])
try:
    nxt = s.recv(10)
    nxt = "eof" if nxt == b"" else nxt.hex()
except ConnectionResetError:
    nxt = "reset"
print("reply", nxt)
PY
}

@test "without --handoff: one read per Hello, bytes after the frame read with it, the client sees a clean end of stream" {
	start_broker
	run -0 after "$(bw encode-hello --service nope --frame-id 5)"
	# the bytes after the frame were read (the build before read only
	# the frame and closed on them: a reset)
	[ "$output" = "reply eof" ]
	# the count below needs strace, which cannot trace what is traced
	rp_skip_if_traced
	strace -qq -o "$T/tr" -e trace=read,recvfrom -p "$BPID" 2>/dev/null &
	local st=$!
	RP_BG_PIDS+=("$st")
	wait_for rp_traced "$BPID"
	run -0 hello --service nope
	run -0 hello --service nope
	kill -INT "$st"
	wait "$st" || true
	cat "$T/tr"
	# one read with data per Hello (this client connects before it
	# writes, so a read may first find nothing: EAGAIN)
	run grep -c '^read(.* = [0-9]' "$T/tr"
	[ "$output" = 2 ]
}

@test "with --handoff: exactly the frame is read, what follows stays in the socket" {
	start_broker --handoff
	run -0 after "$(bw encode-hello --service nope --frame-id 5)"
	# left unread, closing resets the connection: nothing was taken
	# that could have been the backend's
	[ "$output" = "reply reset" ]
}

@test "a first frame over 64 KiB read ahead: its body is still read to the end and answered" {
	start_broker
	run -0 bw hello --socket "$SOCK" --service nope --pad-to 70000 --frame-id 9
	# its request id is at the start of the body, read with the header
	[ "$(field code)" = 6 ]
	[ "$(field reason)" = "initial Hello frame exceeds 64 KiB" ]
	[ "$(field request_id)" = 9 ]
}
