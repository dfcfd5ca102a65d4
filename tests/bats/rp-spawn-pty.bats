#!/usr/bin/env bats
# rp-spawn-pty through the real binary: exit statuses, exec errors, the
# terminal it gives, output completeness, input and EOF, timeouts,
# signals, no orphans, the exit record, the transcript, --raise, the
# master handoff (against a Python receiver), and an interactive session
# under tmux whose terminal modes must come back unchanged.

load helper
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	SP="$RP_BUILD/bin/rp-spawn-pty"
	TSOCK="$T/tmux.sock"
}

teardown() {
	if [ -S "$TSOCK" ]; then
		tmux -S "$TSOCK" kill-server 2>/dev/null || true
	fi
	rp_teardown
	# Anything a test recorded as "must be gone" that is not: kill it so
	# one failure does not leave processes behind.
	local p
	for p in $(cat "$T"/*.pid 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# The bytes of a file, \r and all, as one string for assertions.
crlf() {
	tr '\r' '^' <"$1"
}

# A JSON field of a file, printed by Python (an independent parser).
json_field() {
	/usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(json.dumps(v))' "$1" "$2"
}

# How a command ended, as Python's subprocess sees it: "exit N" or
# "signal N" (the shell cannot tell 143 from death by SIGTERM).
how_it_ended() {
	/usr/bin/python3 -c '
import subprocess, sys
r = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL).returncode
print("signal %d" % -r if r < 0 else "exit %d" % r)' "$@"
}

# ------------------------------------------------------------ usage

@test "--help starts with the man page SYNOPSIS, verbatim" {
	local syn
	syn=$(sed -n '/^# SYNOPSIS/,/^# DESCRIPTION/p' "$RP_ROOT/doc/rp-spawn-pty.1.scd" |
		sed -n '/^```$/,/^```$/p' | sed '1d;$d')
	[ -n "$syn" ]
	run "$SP" --help
	assert_success
	[ "$(printf '%s\n' "$output" | head -n "$(printf '%s\n' "$syn" | wc -l)")" = "$syn" ]
	run "$SP" -h
	assert_success
	assert_line --index 0 --partial "rp-spawn-pty [--size COLSxROWS]"
}

@test "-V and --version print the name and version" {
	run "$SP" -V
	assert_success
	assert_output --regexp '^rp-spawn-pty [0-9]+\.[0-9]+\.[0-9]+$'
	run "$SP" --version
	assert_success
	assert_output --regexp '^rp-spawn-pty [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "usage errors exit 2 with one line on stderr and run nothing" {
	local args
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		run --separate-stderr "$SP" $args -- touch "$T/ran"
		[ "$status" -eq 2 ] || { echo "args: $args -> $status"; false; }
		[ "${#stderr_lines[@]}" -eq 1 ] || { echo "args: $args: $stderr"; false; }
		[[ "$stderr" == "rp-spawn-pty: "* ]]
		[ -z "$output" ]
		[ ! -e "$T/ran" ]
	done <<'EOF'
--bogus
-x
--size
--size 0x24
--size 80x0
--size 80x
--size x24
--size 80x24x1
--size 65536x24
--size 080x24
--size -80x24
--size 80X24
--size abc
--timeout -1
--timeout 1.2345
--timeout 1e3
--timeout abc
--timeout 1.
--timeout .5
--timeout 99999999999
--kill-after x
--transcript t --master-to /nonexistent.sock --token-file /dev/null
--token-file /dev/null
--master-to /nonexistent.sock
EOF
	run --separate-stderr "$SP"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"no program to run"* ]]
	run --separate-stderr "$SP" --size 80x24
	[ "$status" -eq 2 ]
}

# ------------------------------------------------------- exit status

@test "exit codes 0, 1, 3 and 255 come through" {
	local c
	for c in 0 1 3 255; do
		run "$SP" -- sh -c "exit $c"
		[ "$status" -eq "$c" ] || { echo "want $c got $status"; false; }
	done
}

@test "death by SIGKILL is 137, by SIGSEGV 139" {
	run "$SP" -- sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ]
	run "$SP" -- sh -c 'kill -SEGV $$'
	[ "$status" -eq 139 ]
}

@test "a missing program is 127, a non-executable one 126, with the reason" {
	run -127 --separate-stderr "$SP" -- rp-no-such-program-5d1
	[ "$status" -eq 127 ]
	assert_equal "$stderr" "rp-spawn-pty: cannot run rp-no-such-program-5d1: No such file or directory"
	printf '#!/bin/sh\necho should-not-run\n' >"$T/noexec"
	chmod 0644 "$T/noexec"
	run --separate-stderr "$SP" -- "$T/noexec"
	[ "$status" -eq 126 ]
	assert_equal "$stderr" "rp-spawn-pty: cannot run $T/noexec: Permission denied"
	[ -z "$output" ]
}

@test "--raise dies of the child's signal; without it, exits 128+N" {
	run how_it_ended "$SP" --raise -- sh -c 'kill -TERM $$'
	assert_output "signal 15"
	run how_it_ended "$SP" -- sh -c 'kill -TERM $$'
	assert_output "exit 143"
	run how_it_ended "$SP" --raise -- sh -c 'exit 4'
	assert_output "exit 4"
}

# ------------------------------------------------------- the terminal

@test "the child's tty is a /dev/pts path and it is the session leader" {
	run "$SP" -- sh -c 'tty; ps -o sid= -p $$; echo $$'
	assert_success
	[[ "${lines[0]}" =~ ^/dev/pts/[0-9]+$'\r'$ ]]
	[ "$(echo "${lines[1]}" | tr -d ' \r')" = "$(echo "${lines[2]}" | tr -d '\r')" ]
}

@test "stty size shows --size; 80x24 when stdin is not a terminal" {
	run "$SP" --size 132x43 -- stty size
	assert_success
	assert_output $'43 132\r'
	run "$SP" -- stty size </dev/null
	assert_success
	assert_output $'24 80\r'
}

@test "only fds 0, 1 and 2 reach the child" {
	exec 7</dev/null
	run "$SP" -- sh -c 'ls -1 /proc/$$/fd'
	exec 7<&-
	assert_success
	[ "$(echo "$output" | tr -d '\r' | tr '\n' ' ')" = "0 1 2 " ]
}

# -------------------------------------------------------------- output

@test "1 000 000 lines printed just before exit are all there" {
	"$SP" -- seq 1000000 >"$T/out"
	seq 1000000 | sed 's/$/\r/' >"$T/want"
	cmp "$T/out" "$T/want"
}

# A reader slower than the child keeps our buffer full, so when the child
# exits its last lines are still queued in the terminal: they must be
# drained after the exit, not dropped with it.
@test "output still queued in the terminal at exit reaches a slow reader" {
	"$SP" -- seq 100000 | dd bs=1 status=none >"$T/out"
	seq 100000 | sed 's/$/\r/' >"$T/want"
	cmp "$T/out" "$T/want"
}

@test "--transcript holds exactly what was relayed" {
	"$SP" --transcript "$T/t.log" -- sh -c 'seq 50000; echo done >&2' >"$T/out"
	cmp "$T/out" "$T/t.log"
	[ "$(tail -n 1 "$T/t.log")" = $'done\r' ]
	[ "$(wc -l <"$T/t.log")" -eq 50001 ]
}

# Issue 16: a read of the master gives at most one line-discipline buffer
# (4 KiB), and reading again before the kernel has moved the next one in
# sleeps until it has; each piece read goes on at once (stdout, the
# transcript), which is time that sleep would take.  Neither is a socket
# here, so nothing is tried on them with send(2) first.
@test "each piece read from the terminal goes to stdout and the transcript at once, with write(2) alone" {
	command -v strace >/dev/null || skip "strace is not installed"
	rp_skip_if_traced
	seq 200000 >"$T/in"
	# (LeakSanitizer cannot run under ptrace: off for this one run)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -qq -o "$T/tr" -e trace=read,write,sendto \
		"$SP" --transcript "$T/t.log" -- cat "$T/in" </dev/null >"$T/out"
	sed 's/$/\r/' "$T/in" | cmp - "$T/out"
	cmp "$T/out" "$T/t.log"
	# no send(2) tried on a file (ENOTSOCK)
	run ! grep -q '^sendto(' "$T/tr"
	# Every read that brought bytes is followed, before the next read,
	# by a write of as many bytes to stdout and to the transcript.
	/usr/bin/python3 - "$T/tr" <<'PY'
import collections, re, sys
calls = []
for line in open(sys.argv[1]):
    m = re.match(r"(read|write)\((\d+), .*\) = (-?\d+)", line)
    if m:
        calls.append((m.group(1), int(m.group(2)), int(m.group(3))))
# the terminal: the fd most reads brought bytes from
master = collections.Counter(fd for c, fd, n in calls
                             if c == "read" and n > 0).most_common(1)[0][0]
reads = late = 0
pending = []
for c, fd, n in calls:
    if c == "read" and fd == master:
        late += bool(pending)
        pending = [n, n] if n > 0 else []   # stdout, transcript
        reads += n > 0
    elif c == "write" and n in pending:
        pending.remove(n)
late += bool(pending)
print("reads with bytes: %d, not written on before the next: %d"
      % (reads, late))
sys.exit(0 if reads >= 100 and late <= reads // 100 else 1)
PY
}

@test "to a stdout that is /dev/null nothing is written; the exit record counts every byte all the same" {
	command -v strace >/dev/null || skip "strace is not installed"
	rp_skip_if_traced
	seq 100000 >"$T/in"
	# (LeakSanitizer cannot run under ptrace: off for this one run)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -qq -o "$T/tr" -e trace=write,sendto \
		"$SP" --exit-record "$T/rec" -- cat "$T/in" </dev/null >/dev/null
	# no write of output (the end-of-file character for the program's
	# stdin and the record are a few bytes each)
	run -0 awk '/^(write|sendto)\(/ && $NF + 0 >= 200 { n++ } END { print n + 0 }' "$T/tr"
	[ "$output" = 0 ]
	[ "$(json_field "$T/rec" bytes_out)" = "$(sed 's/$/\r/' "$T/in" | wc -c)" ]
	# ...and to a pipe it is all there
	"$SP" -- cat "$T/in" </dev/null | cat >"$T/out"
	sed 's/$/\r/' "$T/in" | cmp - "$T/out"
}

@test "an unwritable transcript or record directory is 125, and nothing runs" {
	run --separate-stderr "$SP" --transcript "$T/nodir/t.log" -- touch "$T/ran"
	[ "$status" -eq 125 ]
	[[ "$stderr" == "rp-spawn-pty: open transcript $T/nodir/t.log: No such file or directory" ]]
	run --separate-stderr "$SP" --exit-record "$T/nodir/r.json" -- touch "$T/ran"
	[ "$status" -eq 125 ]
	# Said once: the record that cannot be written is not tried again
	# at the end.
	[ "$stderr" = "rp-spawn-pty: exit record $T/nodir/r.json: No such file or directory" ]
	[ ! -e "$T/ran" ]
}

@test "a closed stdout hangs the child up instead of running forever" {
	run timeout -s KILL 20 sh -c "'$SP' -- yes | head -n 2"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
}

@test "a closed stdout loses the output as /dev/full does: said, exit 125, nobody left behind" {
	cat >"$T/child.sh" <<'EOF'
echo $$ >"$1"
sleep 100 &
echo $! >>"$1"
echo hi
wait
EOF
	run --separate-stderr timeout -s KILL 20 sh -c '"$1" -- sh "$2" "$3" >&-' _ \
		"$SP" "$T/child.sh" "$T/closed.pid"
	[ "$status" -eq 125 ]
	[ "$stderr" = "rp-spawn-pty: write to stdout: Bad file descriptor" ]
	run --separate-stderr timeout -s KILL 20 sh -c '"$1" -- sh "$2" "$3" >/dev/full' _ \
		"$SP" "$T/child.sh" "$T/full.pid"
	[ "$status" -eq 125 ]
	[ "$stderr" = "rp-spawn-pty: write to stdout: No space left on device" ]
	local p
	[ "$(cat "$T/closed.pid" "$T/full.pid" | wc -l)" -eq 4 ]
	for p in $(cat "$T/closed.pid" "$T/full.pid"); do
		run kill -0 "$p"
		assert_failure
	done
	# Nothing written, nothing lost: the child's own status.
	run --separate-stderr sh -c '"$1" --no-stdin -- sh -c "exit 3" >&-' _ "$SP"
	[ "$status" -eq 3 ]
	[ -z "$stderr" ]
}

@test "a stdout nobody reads does not stop --timeout, and the loss is said" {
	mkfifo "$T/fifo"
	exec 8<>"$T/fifo"        # a reader that never reads
	run --separate-stderr timeout -s KILL 20 sh -c "'$SP' --timeout 0.3 --kill-after 0.2 -- yes >'$T/fifo'"
	exec 8<&-
	[ "$status" -eq 124 ]
	[[ "$stderr" == "rp-spawn-pty: --timeout: stdout did not take the output in time; "*" bytes and whatever was left in the terminal were dropped" ]]
}

# --------------------------------------------------------------- input

@test "echo hi | rp-spawn-pty -- cat ends, with the echo and cat's copy" {
	run timeout -s KILL 20 sh -c "echo hi | '$SP' -- cat >'$T/out'"
	assert_success
	assert_equal "$(crlf "$T/out")" "hi^
hi^"
}

@test "a last line without newline still reaches EOF" {
	run timeout -s KILL 20 sh -c "printf abc | '$SP' -- cat >'$T/out'"
	assert_success
	assert_equal "$(crlf "$T/out")" "abcabc"
}

@test "stdin from /dev/null or a regular file is relayed and ends" {
	run timeout -s KILL 20 "$SP" -- cat </dev/null
	assert_success
	assert_output ""
	seq 3 >"$T/in"
	run timeout -s KILL 20 "$SP" -- wc -l <"$T/in"
	assert_success
	assert_line --index 3 $'3\r'
}

@test "piped input is data: control characters reach the program as they are; none freezes it or is a signal" {
	# Ctrl-C, -D, -Q, -S, -Z, -\, -U, -W, -V, -R, DEL and CR inside a line
	printf 'a\003\004\021\023\032\034\025\027\026\022\177\rz\n' >"$T/in"
	run --separate-stderr timeout -s KILL 10 sh -c '"$1" --exit-record "$2" -- od -An -tx1 <"$3"' _ \
		"$SP" "$T/r.json" "$T/in"
	assert_success
	[ -z "$stderr" ]
	assert_line --index 1 $' 61 03 04 11 13 1a 1c 15 17 16 12 7f 0d 7a 0a\r'
	[ "$(json_field "$T/r.json" bytes_in)" = 15 ]
	# through a pipe, and with a Ctrl-S first: the output still flows
	run --separate-stderr timeout -s KILL 10 sh -c 'printf "\023\003hi\n" | "$1" -- od -An -c' _ "$SP"
	assert_success
	assert_line --index 1 $' 023 003   h   i  \\n\r'
}

@test "a 1 000 000-byte line reaches the program whole, control characters and all" {
	/usr/bin/python3 -c '
import sys
unit = b"a" * 990 + bytes([3, 4, 0x11, 0x13, 0x1a, 0x1c, 0x15, 0x16, 0x7f, 13])
sys.stdout.buffer.write(unit * 1000)' >"$T/line"
	[ "$(wc -c <"$T/line")" -eq 1000000 ]
	run --separate-stderr timeout -s KILL 30 sh -c \
		'"$1" -- sh -c "stty -echo; cat >\"\$0\"" "$2" <"$3" >/dev/null' _ \
		"$SP" "$T/got" "$T/line"
	assert_success
	[ -z "$stderr" ]
	cmp "$T/got" "$T/line"
	# the example of the issue, through a pipe
	run --separate-stderr timeout -s KILL 30 sh -c \
		'head -c 1000000 /dev/zero | tr "\0" a | "$1" -- sh -c "wc -c"' _ "$SP"
	assert_success
	# (the echo of the line, then wc's count)
	[[ "$output" == *$'a1000000\r' ]]
	# programs that read lines get the line whole: Python, a shell
	cat >"$T/lines.py" <<'EOF'
import sys, termios
a = termios.tcgetattr(0)
a[3] &= ~termios.ECHO
termios.tcsetattr(0, termios.TCSANOW, a)
first = sys.stdin.buffer.readline()
print(first == open(sys.argv[1], "rb").read() + b"\n", sys.stdin.buffer.readline())
EOF
	run --separate-stderr timeout -s KILL 30 sh -c \
		'{ cat "$2"; printf "\nrest\n"; } | "$1" -- /usr/bin/python3 "$3" "$2"' _ \
		"$SP" "$T/line" "$T/lines.py"
	assert_success
	[[ "$output" == *$'True b\'rest\\n\'\r' ]]
	head -c 100000 "$T/line" >"$T/head"
	cat >"$T/read.sh" <<'EOF'
stty -echo
IFS= read -r l
printf %s "$l" | cmp - "$1" && echo same
EOF
	run --separate-stderr timeout -s KILL 30 sh -c \
		'{ cat "$2"; printf "\n"; } | "$1" -- sh "$3" "$2"' _ \
		"$SP" "$T/head" "$T/read.sh"
	assert_success
	[[ "$output" == *$'same\r' ]]      # (after what was echoed)
}

@test "ordinary piped text gives the same bytes as util-linux script" {
	printf 'hello\nworld\n' | timeout -s KILL 10 script -qec cat /dev/null >"$T/script.out"
	printf 'hello\nworld\n' | timeout -s KILL 10 "$SP" -- cat >"$T/ours.out"
	cmp "$T/script.out" "$T/ours.out"
	[ "$(crlf "$T/ours.out")" = $'hello^\nworld^\nhello^\nworld^' ]
}

@test "bytes the program's own terminal settings would take are not sent, but said: exit 125" {
	# The program turns on signal characters outside canonical mode, and
	# says so on a FIFO before the rest of the input comes.
	mkfifo "$T/set"
	run --separate-stderr timeout -s KILL 10 sh -c '
{ printf "go\n"; read -r _ <"$2"; printf "a\003b\n"; } |
"$1" -- sh -c "read x; stty isig -icanon -echo min 1 time 0; echo >\"\$0\"; head -c 3 | od -An -tx1" "$2"' _ \
		"$SP" "$T/set"
	[ "$status" -eq 125 ]
	assert_line --index 1 $' 61 62 0a\r'
	[ "$stderr" = "rp-spawn-pty: stdin: 1 byte was not delivered: the program's terminal settings give it another meaning: signal characters (ISIG)" ]
	# A terminal without an end-of-file character cannot be handed a
	# long line in pieces: the terminal keeps 4095 bytes of it.
	run --separate-stderr timeout -s KILL 10 sh -c '
{ printf "go\n"; read -r _ <"$2"; head -c 5000 /dev/zero | tr "\0" b; printf "\n"; } |
"$1" -- sh -c "read x; stty eof undef -echo; echo >\"\$0\"; head -n 1 | wc -c" "$2"' _ \
		"$SP" "$T/set"
	[ "$status" -eq 125 ]
	[ "${lines[-1]}" = $'4096\r' ]
	assert_equal "$stderr" "rp-spawn-pty: stdin ended, but the program's terminal has no end-of-file character (VEOF): it was not told
rp-spawn-pty: stdin: 905 bytes were not delivered: the program's terminal settings give them another meaning: a line longer than the terminal holds, with no end-of-file character to hand it over (VEOF)"
}

@test "--no-stdin leaves stdin unread" {
	printf 'left for the next reader\n' >"$T/in"
	run sh -c "'$SP' --no-stdin -- true; cat" <"$T/in"
	assert_success
	assert_output "left for the next reader"
	# Without it the input goes to the child's terminal.
	run sh -c "'$SP' -- true >/dev/null; cat" <"$T/in"
	assert_success
	assert_output ""
}

# ------------------------------------------------- timeouts and signals

@test "--timeout stops the child: SIGTERM, exit 124" {
	run timeout -s KILL 20 "$SP" --timeout 0.2 --exit-record "$T/r.json" -- \
		tail -f /dev/null
	[ "$status" -eq 124 ]
	[ "$(json_field "$T/r.json" timed_out)" = true ]
	[ "$(json_field "$T/r.json" signal)" = '"SIGTERM"' ]
	[ "$(json_field "$T/r.json" exit_code)" = 124 ]
}

@test "a child that ignores SIGTERM is killed after --kill-after" {
	run timeout -s KILL 20 "$SP" --timeout 0.2 --kill-after 0.4 \
		--exit-record "$T/r.json" -- \
		sh -c 'trap "" TERM; exec tail -f /dev/null'
	[ "$status" -eq 124 ]
	[ "$(json_field "$T/r.json" signal)" = '"SIGKILL"' ]
	[ "$(json_field "$T/r.json" duration_ms)" -ge 600 ]
}

@test "SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded to the child" {
	local sig
	for sig in INT TERM HUP QUIT; do
		rm -f "$T/ready" "$T/outp"
		mkfifo "$T/ready" "$T/outp"
		# Its output through a fifo: the end of file there is its exit.
		timeout 10 cat "$T/outp" >"$T/out" &
		local reader=$!
		RP_BG_PIDS+=("$reader")
		# The shell waits on a child, so a trapped signal runs at once.
		"$SP" -- sh -c "trap 'echo got-$sig; exit 7' $sig; echo >'$T/ready'; tail -f /dev/null & wait" \
			>"$T/outp" &
		local pid=$!
		RP_BG_PIDS+=("$pid")
		read -r -t 10 _ <"$T/ready"
		kill -s "$sig" "$pid"
		# Bounded: without forwarding it would never end.
		local rc=0
		wait "$reader" || { echo "$sig: still running"; false; }
		wait "$pid" || rc=$?
		[ "$rc" -eq 7 ] || { echo "$sig: exit $rc"; false; }
		grep -q "got-$sig" "$T/out"
	done
}

# ---------------------------------------------------------- no orphans

@test "a background job and a setsid daemon of the child are killed and reaped" {
	run timeout -s KILL 20 "$SP" -- sh -c "
		tail -f /dev/null & echo \$! >'$T/bg.pid'
		setsid sh -c 'tail -f /dev/null & echo \$! >\"$T/daemon.pid\"' </dev/null >/dev/null 2>&1
		exit 0"
	assert_success
	local p
	for p in "$(cat "$T/bg.pid")" "$(cat "$T/daemon.pid")"; do
		[ -n "$p" ]
		! kill -0 "$p" 2>/dev/null
	done
}

# ------------------------------------------------------ the exit record

@test "--exit-record: every field, for a run and for a program not found" {
	run timeout -s KILL 20 sh -c "echo hi | '$SP' --size 100x30 --exit-record '$T/r.json' -- cat"
	assert_success
	[[ "$(json_field "$T/r.json" pid)" =~ ^[0-9]+$ ]]
	[ "$(json_field "$T/r.json" exit_code)" = 0 ]
	[ "$(json_field "$T/r.json" signal)" = null ]
	[ "$(json_field "$T/r.json" timed_out)" = false ]
	[[ "$(json_field "$T/r.json" duration_ms)" =~ ^[0-9]+$ ]]
	[ "$(json_field "$T/r.json" bytes_in)" = 3 ]
	[ "$(json_field "$T/r.json" bytes_out)" = 8 ]
	[ "$(json_field "$T/r.json" size)" = '"100x30"' ]

	run -127 "$SP" --exit-record "$T/r.json" -- rp-no-such-program-5d1
	[ "$status" -eq 127 ]
	[ "$(json_field "$T/r.json" pid)" = null ]
	[ "$(json_field "$T/r.json" exit_code)" = 127 ]

	run "$SP" --exit-record "$T/r.json" -- sh -c 'kill -SEGV $$'
	[ "$status" -eq 139 ]
	[ "$(json_field "$T/r.json" exit_code)" = 139 ]
	[ "$(json_field "$T/r.json" signal)" = '"SIGSEGV"' ]
}

# ------------------------------------------------- --master-to (handoff)

# A receiver in Python: socket.recv_fds for the token and the master, the
# offer frame decoded with protoc-generated code, the ack written back;
# then it drives the terminal: types a line and reads to EIO.
start_receiver() {
	local mode=$1
	sed '/protobuf-c\.proto/d; /pb_c_file/d' "$RP_ROOT/proto/rp_v1.proto" >"$T/rp_v1.proto"
	protoc -I "$T" --python_out="$T" "$T/rp_v1.proto"
	cat >"$T/recv.py" <<'EOF'
import os, socket, struct, sys
sys.path.insert(0, os.path.dirname(sys.argv[0]))
import rp_v1_pb2 as pb

path, tokhex, mode, outpath = sys.argv[1:5]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
os.write(3, b"ready\n")
os.close(3)
conn, _ = srv.accept()
msg, fds, flags, _ = socket.recv_fds(conn, 64, 4)
assert len(fds) == 1 and msg == bytes.fromhex(tokhex), (msg, fds)
master = fds[0]

def exact(n):
    b = b""
    while len(b) < n:
        c = conn.recv(n - len(b))
        assert c, "eof"
        b += c
    return b

hdr = exact(5)
assert hdr[0] == 1
body = exact(struct.unpack("<I", hdr[1:])[0])
f = pb.Frame()
f.ParseFromString(body)
assert f.envelope_version == 1 and f.kind == pb.FRAME_KIND_REQUEST
assert f.payload_protocol == 0xD0FF and f.payload_encoding == 0
offer = pb.HandoffOffer()
offer.ParseFromString(f.payload)
assert offer.token == msg and offer.correlation_id == f.request_id
if mode == "close":
    sys.exit(0)    # no ack: the way a receiver refuses a peer
ok = mode == "accept"
ack = pb.HandoffAck(token=offer.token, accepted=ok,
                    error_detail="" if ok else "not today",
                    correlation_id=offer.correlation_id)
rf = pb.Frame(envelope_version=1, kind=pb.FRAME_KIND_RESPONSE,
              payload_protocol=0xD0FF, request_id=f.request_id,
              payload=ack.SerializeToString())
b = rf.SerializeToString()
conn.sendall(bytes([1]) + struct.pack("<I", len(b)) + b)
if not ok:
    sys.exit(0)
os.write(master, b"hello\n")
out = b""
while True:
    try:
        c = os.read(master, 4096)
    except OSError:
        break          # EIO: the child and everyone else let go
    if not c:
        break
    out += c
open(outpath, "wb").write(out)
EOF
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/tok"
	rp_start recv /usr/bin/python3 "$T/recv.py" "$T/h.sock" "$(cat "$T/tok")" "$mode" "$T/recv.out"
}

@test "--master-to hands the master over; the receiver drives the child" {
	start_receiver accept
	run timeout -s KILL 20 "$SP" --master-to "$T/h.sock" --token-file "$T/tok" \
		--exit-record "$T/r.json" -- sh -c 'read x; echo "got $x"; exit 5'
	[ "$status" -eq 5 ]
	[ -z "$output" ]                      # nothing came our way
	wait "$RP_LAST_PID"
	grep -q 'got hello' "$T/recv.out"
	[ "$(json_field "$T/r.json" bytes_out)" = 0 ]
}

@test "--master-to rp-handoff-recv: the receiver gets the terminal's output, we keep the status" {
	rp-handoff-recv --new-token >"$T/tok"
	rp_start recv rp-handoff-recv --token-file "$T/tok" --timeout 20000 \
		--ready-fd 3 "$T/m.sock"
	run --separate-stderr timeout -s KILL 20 "$SP" --master-to "$T/m.sock" \
		--token-file "$T/tok" -- sh -c 'echo from-pty; exit 4'
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	# The receiver copied the master until the terminal hung up (EIO is
	# a terminal's end of file) and exited 0, its socket removed.
	wait "$RP_LAST_PID"
	[ "$(tr -d '\r' <"$T/recv.out")" = "from-pty" ]
	[ ! -s "$T/recv.err" ]
	[ ! -e "$T/m.sock" ]
}

@test "--master-to: a refusal is 1 and the program never runs" {
	local mode why
	# An Ack that says no, or none at all (how a receiver refuses a peer).
	for mode in refuse close; do
		why="not today"
		[ "$mode" = close ] && why="it closed the connection without an ack"
		start_receiver "$mode"
		run --separate-stderr timeout -s KILL 20 "$SP" --master-to "$T/h.sock" \
			--token-file "$T/tok" -- touch "$T/ran"
		[ "$status" -eq 1 ]
		assert_equal "$stderr" "rp-spawn-pty: $T/h.sock refused the terminal: $why"
		[ ! -e "$T/ran" ]
		wait "$RP_LAST_PID" || true
		rm -f "$T/h.sock" "$T/recv.ready"
	done
}

@test "--master-to: a receiver of another uid never gets the terminal (1, the program never runs); --allow-uid trusts it" {
	SHARED=$(rp_shared_dir)
	chmod 1777 "$SHARED"    # as /tmp is
	rp-handoff-recv --new-token >"$SHARED/tok"
	chmod 0644 "$SHARED/tok"
	# rp-handoff-recv as uid 65534, which itself admits a sender of uid 0
	rp_start recv setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		rp-handoff-recv --token-file "$SHARED/tok" --allow-uid 0 \
		--timeout 20000 --ready-fd 3 "$SHARED/m.sock"
	run --separate-stderr timeout -s KILL 20 "$SP" --master-to "$SHARED/m.sock" \
		--token-file "$SHARED/tok" -- touch "$T/ran"
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^"rp-spawn-pty: refused to hand the terminal to $SHARED/m.sock: its listener runs as uid 65534 (pid "[0-9]+"), not as ours or root's (--allow-uid 65534 trusts it)"$ ]]
	[ ! -e "$T/ran" ]
	# it got a connection that sent nothing, and says so
	run -5 wait "$RP_LAST_PID"
	grep -q "closed the connection without sending" "$T/recv.err"
	# trusted by --allow-uid, the terminal is its
	rp_start recv2 setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		rp-handoff-recv --token-file "$SHARED/tok" --allow-uid 0 \
		--timeout 20000 --ready-fd 3 "$SHARED/m.sock"
	run --separate-stderr timeout -s KILL 20 "$SP" --master-to "$SHARED/m.sock" \
		--token-file "$SHARED/tok" --allow-uid 65534 -- sh -c 'echo from-pty; exit 4'
	[ "$status" -eq 4 ]
	wait "$RP_LAST_PID"
	[ "$(tr -d '\r' <"$T/recv2.out")" = "from-pty" ]
	# only with --master-to
	run --separate-stderr "$SP" --allow-uid 65534 -- true
	[ "$status" -eq 2 ]
	[ "$stderr" = "rp-spawn-pty: --allow-uid is only for --master-to (see --help)" ]
}

@test "--master-to: nobody listening is 3, a bad token file is 2" {
	run --separate-stderr "$SP" --master-to "$T/none.sock" --token-file /dev/null -- touch "$T/ran"
	[ "$status" -eq 2 ]
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/tok"
	run --separate-stderr "$SP" --master-to "$T/none.sock" --token-file "$T/tok" -- touch "$T/ran"
	[ "$status" -eq 3 ]
	[[ "$stderr" == "rp-spawn-pty: connect to $T/none.sock: "* ]]
	RP_HANDOFF_TOKEN=$(cat "$T/tok") run "$SP" --master-to "$T/none.sock" -- touch "$T/ran"
	[ "$status" -eq 3 ]
	[ ! -e "$T/ran" ]
}

# ------------------------------------------------ interactive, under tmux

# Poll the pane for a text, up to 10 s (a condition with a deadline).
pane_has() {
	local i
	for ((i = 0; i < 500; i++)); do
		if tmux -S "$TSOCK" capture-pane -p -t rp | grep -qF -- "$1"; then
			return 0
		fi
		sleep 0.02
	done
	echo "# pane does not show '$1':" >&3
	tmux -S "$TSOCK" capture-pane -p -t rp | sed 's/^/# /' >&3
	return 1
}

# Run a script in a fresh tmux server (its own socket), 100x30.
tmux_run() {
	tmux -S "$TSOCK" -f /dev/null new-session -d -s rp -x 100 -y 30 \
		"bash '$1'"
}

@test "interactive under tmux: keys, size, resize, Ctrl-C, and modes restored" {
	cat >"$T/inner.sh" <<EOF
stty -g >'$T/before'
'$SP' -- sh -c 'trap "stty size" WINCH; trap "echo caught-int; exit 9" INT
	printf "name? "; read name; echo "hello \$name"; stty size
	tail -f /dev/null & while :; do wait; done'
echo "status=\$?" >'$T/status'
stty -g >'$T/after'
tmux -S '$TSOCK' wait-for -S done
tmux -S '$TSOCK' wait-for finish   # keep the pane until teardown
EOF
	tmux_run "$T/inner.sh"
	pane_has "name?"
	tmux -S "$TSOCK" send-keys -t rp "world" Enter
	pane_has "hello world"
	pane_has "30 100"                       # our terminal's size
	tmux -S "$TSOCK" resize-window -t rp -x 90 -y 25
	pane_has "25 90"                        # SIGWINCH passed on
	tmux -S "$TSOCK" send-keys -t rp C-c    # a byte through raw mode
	timeout 10 tmux -S "$TSOCK" wait-for done
	[ "$(cat "$T/status")" = "status=9" ]
	pane_has "caught-int"
	[ -s "$T/before" ]
	assert_equal "$(cat "$T/after")" "$(cat "$T/before")"
}

@test "under tmux: modes restored when rp-spawn-pty dies of a fatal signal or --raise" {
	cat >"$T/inner.sh" <<EOF
exec 3<&0
stty -g >'$T/before'
mkfifo '$T/relayed'
# Its output through a fifo: the child's first line comes out of the relay,
# which runs only once the terminal is in raw mode.
'$SP' -- sh -c 'echo ready; exec tail -f /dev/null' <&3 >'$T/relayed' &
pid=\$!
read -r _ <'$T/relayed'
stty -g >'$T/during'
kill -ABRT \$pid
wait \$pid
echo "abrt=\$?" >'$T/status'
stty -g >'$T/after1'
'$SP' --raise -- sh -c 'kill -TERM \$\$'
echo "raise=\$?" >>'$T/status'
stty -g >'$T/after2'
tmux -S '$TSOCK' wait-for -S done
tmux -S '$TSOCK' wait-for finish   # keep the pane until teardown
EOF
	tmux_run "$T/inner.sh"
	timeout 20 tmux -S "$TSOCK" wait-for done
	assert_equal "$(cat "$T/status")" "abrt=134
raise=143"
	[ "$(cat "$T/during")" != "$(cat "$T/before")" ]
	assert_equal "$(cat "$T/after1")" "$(cat "$T/before")"
	assert_equal "$(cat "$T/after2")" "$(cat "$T/before")"
}
