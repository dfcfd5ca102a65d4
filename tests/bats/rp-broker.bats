#!/usr/bin/env bats
# rp-broker through the real binary: usage, where it listens and the
# directory and stale-socket rules, socket activation, readiness (--ready-fd
# and sd_notify), stopping (SIGTERM, SIGINT, SHUTDOWN) with the drain, and
# the events file's reopening on SIGHUP, SIGUSR1 and SIGUSR2.

load broker
bats_require_minimum_version 1.5.0

# ------------------------------------------------------------------ usage

@test "--help starts with the man page SYNOPSIS, verbatim; -h too" {
	rp_check_synopsis rp-broker
	run -0 rp-broker -h
	[ "${lines[0]}" = "$(rp_synopsis rp-broker | head -1)" ]
}

@test "--version prints the name and version" {
	run -0 rp-broker --version
	[ "$output" = "rp-broker 0.1.0" ]
	run -0 rp-broker -V
	[ "$output" = "rp-broker 0.1.0" ]
}

@test "the man page passes mandoc -Tlint" {
	rp_check_manpage rp-broker
}

@test "bad options and values exit 2 with one line on stderr" {
	rp_check_usage_error rp-broker --no-such-option
	rp_check_usage_error rp-broker extra-argument
	rp_check_usage_error rp-broker --hello-timeout 0
	rp_check_usage_error rp-broker --hello-timeout 12abc
	rp_check_usage_error rp-broker --hello-timeout -5
	rp_check_usage_error rp-broker --rate-limit 10
	rp_check_usage_error rp-broker --rate-limit 10/0
	rp_check_usage_error rp-broker --rate-limit x/1
	rp_check_usage_error rp-broker --spawn-budget 0
	rp_check_usage_error rp-broker --spawn-budget 3/
	rp_check_usage_error rp-broker --spawn-timeout 0
	rp_check_usage_error rp-broker --spawn-waiters many
	rp_check_usage_error rp-broker --probe-timeout 0
	rp_check_usage_error rp-broker --max-clients 0
	rp_check_usage_error rp-broker --max-clients 99999999999999999999
	rp_check_usage_error rp-broker --allow-uid -1
	rp_check_usage_error rp-broker --instance Bad
	rp_check_usage_error rp-broker --private ""
	rp_check_usage_error rp-broker --instance a --private b
	rp_check_usage_error rp-broker --instance a --instance b
	rp_check_usage_error rp-broker --backend nope
	rp_check_usage_error rp-broker --backend Svc@1.0.0=/tmp/x.sock
	rp_check_usage_error rp-broker --backend svc@1.0=/tmp/x.sock
	rp_check_usage_error rp-broker --backend svc@1.0.0=
	rp_check_usage_error rp-broker -b svc@1.0.0=/a.sock -b svc@1.0.0=/b.sock
	rp_check_usage_error rp-broker --events ""
	rp_check_usage_error rp-broker --ready-fd 77
	RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS=soon rp_check_usage_error rp-broker
	RP_BROKER_LOOP=select rp_check_usage_error rp-broker
}

@test "a socket path that does not fit sun_path is a clear usage error" {
	local long="$T/$(printf 'x%.0s' $(seq 1 120)).sock"
	run -2 rp-broker -s "$long"
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "rp-broker: socket path is "*" bytes; at most 107 fit a socket address"* ]]
	# from the environment too, and nothing was created
	RUNNING_PROCESS_BROKER_V1_SOCKET=$long run -2 rp-broker
	[ ! -e "$long" ]
}

@test "start-up surprises: an explicit socket's directory is never created, -d must exist, --handoff-* need --handoff, a failed start leaves no --events file" {
	# a typo in -s (or the environment's socket) makes no tree
	run -3 rp-broker -s "$T/no/such/dir/x.sock" --events "$T/ev"
	[ "${#lines[@]}" -eq 1 ]
	assert_output "rp-broker: cannot listen on $T/no/such/dir/x.sock: directory $T/no/such/dir does not exist (the directory of a socket from -s is never created)"
	[ ! -e "$T/no" ]
	# ... and the --events file it made is gone again
	[ ! -e "$T/ev" ]
	RUNNING_PROCESS_BROKER_V1_SOCKET="$T/no/x.sock" run -3 rp-broker
	[[ "$output" == *"(the directory of a socket from \$RUNNING_PROCESS_BROKER_V1_SOCKET is never created)" ]]
	[ ! -e "$T/no" ]
	# an --events file that was there before is kept, as it was
	echo '{"old":1}' >"$T/ev"
	run -3 rp-broker -s "$T/no/x.sock" --events "$T/ev"
	[ "$(cat "$T/ev")" = '{"old":1}' ]
	# -d that is not a directory
	rp_check_usage_error rp-broker -d "$T/nope"
	run -2 rp-broker -d "$T/nope"
	assert_output "rp-broker: -d $T/nope: No such file or directory (see --help)"
	run -2 rp-broker -d "$T/ev"
	assert_output "rp-broker: -d $T/ev: not a directory (see --help)"
	# the environment's directory may come later (as the default may)
	RUNNING_PROCESS_SERVICE_DEF_DIR="$T/later" rp_start broker rp-broker -s "$SOCK" --ready-fd 3
	BPID=$RP_LAST_PID
	stop_broker
	# handoff options without --handoff
	rp_check_usage_error rp-broker --handoff-timeout 5000
	run -2 rp-broker --handoff-timeout 1s
	assert_output "rp-broker: --handoff-timeout needs --handoff (see --help)"
	run -2 rp-broker --handoff-event broker
	assert_output "rp-broker: --handoff-event needs --handoff (see --help)"
	# the default runtime directories are still made
	rm -rf "$XDG_RUNTIME_DIR/running-process"
	rp_start broker2 rp-broker --ready-fd 3
	[ -d "$XDG_RUNTIME_DIR/running-process/broker" ]
	kill -TERM "$RP_LAST_PID"
	wait "$RP_LAST_PID"
}

@test "a socket directory too deep for its backends' endpoints: said at start, and the spawn refused with the reason" {
	def echo serve
	# the socket fits a socket address (107 bytes), a backend's endpoint
	# there (65 bytes more than the directory) would not
	local d=$T/deep
	while [ "${#d}" -lt 80 ]; do d=$d/d; done
	mkdir -p -m 0700 "$d"
	SOCK=$d/b.sock
	start_broker
	grep -qxF "rp-broker: backend endpoints in $d would not fit a socket address (107 bytes at most): spawning will fail; give -s a shorter directory" "$T/broker.err"
	run -0 hello
	[ "$(field result)" = refused ]
	[[ "$(field reason)" == *"no room for a backend endpoint in $d: File name too long"* ]]
	# a directory that leaves room: nothing said
	stop_broker
	rp_start broker2 rp-broker -s "$T/run/b.sock" --ready-fd 3
	[ ! -s "$T/broker2.err" ]
}

# --------------------------------------------------------- where it listens

@test "the default socket: XDG_RUNTIME_DIR, hash16 of uid:machine-id, shared" {
	local mid hash dir
	mid=$(cat /etc/machine-id 2>/dev/null || cat /var/lib/dbus/machine-id)
	hash=$(printf '%s:%s' "$(id -u)" "$mid" | b3sum --no-names -l 8)
	dir="$XDG_RUNTIME_DIR/running-process/broker"
	rp_start broker rp-broker --ready-fd 3
	BPID=$RP_LAST_PID
	[ -S "$dir/rpb-v1-$hash-shared.sock" ]
	[ "$(stat -c %a "$dir")" = 700 ]
	[ "$(stat -c %a "$dir/rpb-v1-$hash-shared.sock")" = 600 ]
	SOCK="$dir/rpb-v1-$hash-shared.sock"
	run -0 admin healthz --body
	[ "$output" = ok ]
	run -0 admin config --body
	[ "$(echo "$output" | jf 'd["config"]["socket"]["source"]')" = default ]
	stop_broker
	[ ! -e "$dir/rpb-v1-$hash-shared.sock" ]
}

@test "private and explicit instances: their socket names and instance ids" {
	local dir="$XDG_RUNTIME_DIR/running-process/broker" hash
	hash=$(printf '%s:%s' "$(id -u)" "$(cat /etc/machine-id)" | b3sum --no-names -l 8)
	rp_start b1 rp-broker --ready-fd 3 --private echo
	local p1=$RP_LAST_PID
	rp_start b2 rp-broker --ready-fd 3 --instance ci-7
	SOCK="$dir/rpb-v1-$hash-svc-echo.sock"
	run -0 admin list-instances --body
	[ "$(echo "$output" | jf 'd["instances"][0]["instance_id"]')" = private:echo ]
	[ "$(echo "$output" | jf 'd["instances"][0]["pid"]')" = "$p1" ]
	run -0 admin status --body
	[ "$output" = $'broker_instance: private:echo\naccepting_hello: true' ]
	SOCK="$dir/rpb-v1-$hash-inst-ci-7.sock"
	run -0 admin list-instances --body
	[ "$(echo "$output" | jf 'd["instances"][0]["instance_id"]')" = explicit:ci-7 ]
	[ "$(echo "$output" | jf 'd["instances"][0]["isolation"]')" = explicit ]
}

@test "without XDG_RUNTIME_DIR the directory is /tmp/running-process-UID/broker" {
	local hash name sock
	hash=$(printf '%s:%s' "$(id -u)" "$(cat /etc/machine-id)" | b3sum --no-names -l 8)
	name="t$$-$RANDOM"
	sock="/tmp/running-process-$(id -u)/broker/rpb-v1-$hash-inst-$name.sock"
	unset XDG_RUNTIME_DIR
	rp_start broker rp-broker --ready-fd 3 --instance "$name"
	BPID=$RP_LAST_PID
	[ -S "$sock" ]
	SOCK=$sock
	run -0 admin healthz --body
	stop_broker
	[ ! -e "$sock" ]
}

# setpriv to uid $1 with XDG_RUNTIME_DIR and the socket variable unset.
as_uid() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups -- \
		env -u XDG_RUNTIME_DIR -u RUNNING_PROCESS_BROKER_V1_SOCKET "$@"
}

@test "without XDG_RUNTIME_DIR: a /tmp/running-process-UID made by another user is refused by the broker, and a broker of theirs there by rp-probe" {
	# uid 4242 the victim, 4243 who came first (uids no other test uses)
	local top=/tmp/running-process-4242 hash sock
	rm -rf "$top"
	hash=$(printf '4242:%s' "$(cat /etc/machine-id)" | b3sum --no-names -l 8)
	sock=$top/broker/rpb-v1-$hash-shared.sock
	SHARED=$(rp_shared_dir)
	mkdir -m 0700 "$SHARED/svc"
	chown 4242 "$SHARED/svc"
	as_uid 4243 mkdir -m 0777 "$top"
	run -3 as_uid 4242 timeout -k 2 10 rp-broker -d "$SHARED/svc"
	[ "$output" = "rp-broker: cannot listen on $sock: directory $top/broker is inside $top, owned by uid 4243 (not 4242 or root), who could swap it for another: Operation not permitted" ]
	[ ! -e "$sock" ]
	# a mode that lets others in is refused the same way, whoever owns it
	rm -rf "$top"
	mkdir -m 0777 "$top"
	run -3 as_uid 4242 timeout -k 2 10 rp-broker -d "$SHARED/svc"
	[[ "$output" == *"is inside $top, of mode 0777 (writable by group/other without the sticky bit): others could swap it for another"* ]]
	# a broker of uid 4243 where ours would be: rp-probe does not talk to it
	rm -rf "$top"
	as_uid 4243 mkdir -m 0755 "$top" "$top/broker"
	rp_start fake setpriv --reuid=4243 --regid=4243 --clear-groups -- \
		rp-handoff-recv --serve "$sock" --echo --ready-fd 3
	as_uid 4243 chmod 0666 "$sock"
	run -3 as_uid 4242 rp-probe hello --service echo --version 1.0.0
	[ "$output" = "rp-probe: the broker at $sock runs as uid 4243, not as uid 4242 or root: not trusted (another user may have made its directory; give it with -s to use it all the same)" ]
	run -3 as_uid 4242 rp-probe admin healthz
	[[ "$output" == *"runs as uid 4243, not as uid 4242 or root: not trusted"* ]]
	kill "$RP_LAST_PID"
	wait "$RP_LAST_PID" || true
	rm -rf "$top"
	# ours, made by our broker: both work
	rp_start victim setpriv --reuid=4242 --regid=4242 --clear-groups -- \
		env -u XDG_RUNTIME_DIR rp-broker -d "$SHARED/svc" --ready-fd 3
	run -0 as_uid 4242 rp-probe admin healthz
	[ "$output" = ok ]
	kill "$RP_LAST_PID"
	wait "$RP_LAST_PID" || true
	rm -rf "$top"
}

@test "a relative -s is made absolute: clients elsewhere get usable endpoints; -s '' is a usage error; no fds to listen is 125" {
	def echo serve
	mkdir -m 0700 "$T/rel"
	mkfifo "$T/ready"
	(cd "$T" && exec rp-broker -s ./rel/b.sock --ready-fd 3 3>"$T/ready" \
		2>"$T/rel.err") &
	local b=$!
	RP_BG_PIDS+=("$b")
	rp_wait_fifo "$T/ready"
	SOCK=$T/rel/b.sock
	run -0 rp-probe admin -s "$SOCK" config --json
	[ "$(echo "$output" | jf 'd["config"]["socket"]["value"]')" = "$T/rel/b.sock" ]
	run -0 rp-probe hello -s "$SOCK" --service echo --version 1.0.0
	[[ "$output" == "$T/rel/rpb-v1-"*"-be-"*".sock" ]]
	kill -TERM "$b"
	wait "$b"
	run -2 rp-broker -s ''
	[ "$output" = "rp-broker: -s: the socket path is empty (see --help)" ]
	# (bats holds fds of its own: closed, so the limit is the broker's;
	# the sanitizers need fds of their own to start at all)
	rp_sanitized && return 0
	run -125 bash -c 'for fd in /proc/self/fd/*; do fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		exec prlimit --nofile=5:5 rp-broker -s "$1"' _ "$T/rel/c.sock"
	[[ "${lines[-1]}" == "rp-broker: cannot listen on $T/rel/c.sock: "*"Too many open files" ]]
}

@test "RUNNING_PROCESS_BROKER_V1_SOCKET is used when -s is not given; -s wins" {
	RUNNING_PROCESS_BROKER_V1_SOCKET="$T/run/env.sock" rp_start b1 rp-broker --ready-fd 3
	SOCK="$T/run/env.sock"
	run -0 admin config --body
	[ "$(echo "$output" | jf 'd["config"]["socket"]["source"]')" = env ]
	RUNNING_PROCESS_BROKER_V1_SOCKET="$T/run/env2.sock" rp_start b2 rp-broker -s "$T/run/flag.sock" --ready-fd 3
	[ -S "$T/run/flag.sock" ]
	[ ! -e "$T/run/env2.sock" ]
	SOCK="$T/run/flag.sock"
	run -0 admin config --body
	[ "$(echo "$output" | jf 'd["config"]["socket"]["source"]')" = flag ]
}

@test "a missing default socket directory is created 0700 (with its parents); an explicit one never" {
	rm -rf "$XDG_RUNTIME_DIR/running-process"
	rp_start broker rp-broker --ready-fd 3
	BPID=$RP_LAST_PID
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/running-process")" = 700 ]
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/running-process/broker")" = 700 ]
	[ "$(stat -c %a "$XDG_RUNTIME_DIR"/running-process/broker/rpb-v1-*-shared.sock)" = 600 ]
	# -s names a socket, not a tree to make (rp-broker(1), -s)
	run -3 rp-broker -s "$T/run/a/b/c.sock"
	[ ! -e "$T/run/a" ]
}

@test "a socket directory with group/other bits, a symlink or another owner: exit 3" {
	mkdir -m 0755 "$T/open"
	run -3 rp-broker -s "$T/open/b.sock"
	[[ "$output" == *"has mode 0755; group/other permissions must be off"* ]]
	[ ! -e "$T/open/b.sock" ]
	mkdir -m 0700 "$T/real"
	ln -s "$T/real" "$T/link"
	run -3 rp-broker -s "$T/link/b.sock"
	[[ "$output" == *"is a symlink"* ]]
	mkdir -m 0700 "$T/theirs"
	chown 65534 "$T/theirs"
	run -3 rp-broker -s "$T/theirs/b.sock"
	[[ "$output" == *"is owned by uid 65534"* ]]
}

@test "a path that is not a socket is never replaced: exit 3" {
	echo data >"$SOCK"
	run -3 rp-broker -s "$SOCK"
	[[ "$output" == *"exists and is not a socket"* ]]
	[ "$(cat "$SOCK")" = data ]
}

@test "a stale socket of ours is replaced; a live one is never stolen (exit 3)" {
	/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
	[ -S "$SOCK" ]
	start_broker
	run -0 admin healthz --body
	local ino
	ino=$(stat -c %i "$SOCK")
	run -3 rp-broker -s "$SOCK"
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "rp-broker: another broker is live on $SOCK" ]
	[ "$(stat -c %i "$SOCK")" = "$ino" ]
	run -0 admin healthz --body
}

@test "socket activation: fd 3 is served, LISTEN_* are not passed on, the file stays" {
	export RP_TEST_ENV_DIR="$T/env"
	mkdir "$T/env"
	def echo serve
	SOCK="$T/run/act.sock"
	rp_start broker $(bw_exec) activate --path "$SOCK" --ready-from 3 \
		--ready-to 5 -- rp-broker --ready-fd 5 -d "$DEFS"
	BPID=$RP_LAST_PID
	run -0 hello --service echo --version 1.0.0
	[ "$(echo "$output" | jf 'd["result"]')" = negotiated ]
	run -0 admin config --body
	[ "$(echo "$output" | jf 'd["config"]["socket"]["source"]')" = socket-activation ]
	[ "$(echo "$output" | jf 'd["config"]["socket"]["value"]')" = "$SOCK" ]
	run ! grep -h '^LISTEN_' "$T"/env/*.env
	stop_broker
	# Not ours to remove.
	[ -S "$SOCK" ]
}

@test "socket activation with LISTEN_FDS other than 1 is a usage error" {
	# LISTEN_PID names the shell, which is the broker after exec
	run -2 bash -c 'LISTEN_PID=$$ LISTEN_FDS=2 exec rp-broker -s "$1"' _ "$SOCK"
	[[ "$output" == *"exactly one listening socket"* ]]
	# LISTEN_PID of another process: not for us, ignored
	LISTEN_PID=1 LISTEN_FDS=1 start_broker
	run -0 admin healthz --body
}

# -------------------------------------------------------------- readiness

@test "--ready-fd gets one newline once the socket accepts, then is closed" {
	mkfifo "$T/r"
	rp-broker -s "$SOCK" --ready-fd 7 7>"$T/r" 2>"$T/broker.err" 3>&- &
	BPID=$!
	RP_BG_PIDS+=("$BPID")
	# od sees exactly one byte, then EOF: the fd was closed
	run -0 timeout 10 od -An -tx1 "$T/r"
	[ "$(echo $output)" = 0a ]
	run -0 admin healthz --body
}

@test "sd_notify: READY=1 once listening, STOPPING=1 when the drain starts" {
	rp_start rec $(bw_exec) notify-record --path "$T/notify" --out "$T/notes" \
		--pidfile "$T/bpid" -- rp-broker -s "$SOCK" --ready-fd 3
	local rec=$RP_LAST_PID
	BPID=$(cat "$T/bpid")
	wait_for grep -qx READY=1 "$T/notes"
	kill -TERM "$BPID"
	local rc=0
	wait "$rec" || rc=$?
	[ "$rc" -eq 0 ]
	[ "$(cat "$T/notes")" = $'READY=1\nSTOPPING=1' ]
}

# ------------------------------------------------------------- stopping

@test "SIGTERM: exit 0, the socket is removed, spawned backends are stopped" {
	def echo serve
	start_broker
	run -0 hello --service echo --version 1.0.0
	local pipe bpid
	pipe=$(echo "$output" | jf 'd["backend_pipe"]')
	[ -S "$pipe" ]
	bpid=$(admin status --json --body | jf 'd["backends"][0]["pid"]')
	kill -0 "$bpid"
	stop_broker
	[ ! -e "$SOCK" ]
	[ ! -e "$pipe" ]
	run ! kill -0 "$bpid"
	grep -q 'SIGTERM; draining' "$T/broker.err"
}

@test "the event loop fails: exit 125, and still the socket is removed, backends stopped, clients let go" {
	# A real failure of rp_loop_run: on the poll(2) backend, lowering
	# RLIMIT_NOFILE (prlimit) below the number of watched fds makes the
	# next poll fail with EINVAL.  One backend ends on SIGTERM, the other
	# ignores it and needs the SIGKILL after the grace.
	def echo serve
	printf '#!/bin/sh\ntrap "" TERM\nexec "$RP_TEST_BACKEND" serve "$@"\n' >"$T/stubborn.sh"
	chmod 0755 "$T/stubborn.sh"
	def stubborn "$T/stubborn.sh"
	rp_start broker env RP_BROKER_LOOP=poll rp-broker -s "$SOCK" --ready-fd 3 \
		--events "$T/ev" --hello-timeout 60000
	BPID=$RP_LAST_PID
	local p1 p2 b1 b2 rc=0
	p1=$(hello --service echo | jf 'd["backend_pipe"]')
	p2=$(hello --service stubborn | jf 'd["backend_pipe"]')
	b1=$(admin backend-health --service echo --body | jf 'd["backends"][0]["pid"]')
	b2=$(admin backend-health --service stubborn --body | jf 'd["backends"][0]["pid"]')
	RP_BG_PIDS+=("$b1" "$b2")      # if this test fails, not left behind
	# Six clients that never send a Hello: with the listener and the
	# signal pipe, eight fds for poll(2).
	mkfifo "$T/held"
	/usr/bin/python3 -c '
import socket, sys
cs = []
for _ in range(6):
    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.settimeout(30)
    cs.append(c)
open(sys.argv[2], "w").write("held\n")
print("let go:", sum(c.recv(1) == b"" for c in cs))' "$SOCK" "$T/held" >"$T/held.out" &
	local held=$!
	RP_BG_PIDS+=("$held")
	rp_wait_fifo "$T/held"
	# They came before this one, so they are accepted by now.
	[ "$(admin status --json --body | jf 'd["connections_open"]')" = 7 ]
	prlimit --pid "$BPID" --nofile=5:
	kill -HUP "$BPID"
	timeout 20 tail -s 0.02 --pid="$BPID" -f /dev/null
	wait "$BPID" || rc=$?
	[ "$rc" -eq 125 ] || { echo "exit $rc"; cat "$T/broker.err"; return 1; }
	[ ! -e "$SOCK" ]
	run ! kill -0 "$b1"
	run ! kill -0 "$b2"
	[ ! -e "$p1" ] && [ ! -e "$p2" ]
	grep -qx "rp-broker: event loop: Invalid argument; stopping" "$T/broker.err"
	wait "$held"
	[ "$(cat "$T/held.out")" = "let go: 6" ]
	# Each stop is reported as the drain reports it.
	grep '"kind":"DIED_SHUTDOWN"' "$T/ev" | grep -q "(pid $b1) stopped: killed by SIGTERM"
	grep '"kind":"DIED_SHUTDOWN"' "$T/ev" | grep -q "(pid $b2) stopped: killed by SIGKILL"
}

@test "SIGINT drains and exits 0 as well" {
	start_broker
	kill -INT "$BPID"
	local rc=0
	wait "$BPID" || rc=$?
	[ "$rc" -eq 0 ]
	[ ! -e "$SOCK" ]
}

@test "the SHUTDOWN verb replies, then drains; exit 0" {
	start_broker
	run -0 admin shutdown
	[ "$(echo "$output" | jf 'd["body"]')" = "broker shutting down" ]
	[ "$(echo "$output" | jf 'd["exit_code"]')" = 0 ]
	[ "$(echo "$output" | jf 'd["admin_kind"]')" = 0 ]
	local rc=0
	wait "$BPID" || rc=$?
	[ "$rc" -eq 0 ]
	[ ! -e "$SOCK" ]
}

@test "during the drain: Hellos already connected get code 5, admin is answered" {
	def echo serve
	start_broker
	bw_bg "$T/h1" held --socket "$SOCK" --go "$T/go"
	local h1=$BG_PID
	bw_bg "$T/h2" held --socket "$SOCK" --go "$T/go" --admin readyz
	local h2=$BG_PID
	wait_for grep -q connected "$T/h1"
	wait_for grep -q connected "$T/h2"
	kill -TERM "$BPID"
	wait_for test ! -e "$SOCK"
	# No new connections once draining.
	run ! bw admin --socket "$SOCK" healthz
	touch "$T/go"
	wait "$h1"
	wait "$h2"
	local r1 r2
	r1=$(tail -1 "$T/h1")
	[ "$(echo "$r1" | jf 'd["code"]')" = 5 ]
	[ "$(echo "$r1" | jf 'd["reason"]')" = "broker is shutting down" ]
	[ "$(echo "$r1" | jf 'd["retry_after_ms"]')" = 1000 ]
	[ "$(echo "$r1" | jf 'd["request_id"]')" = 8 ]
	r2=$(tail -1 "$T/h2")
	[ "$(echo "$r2" | jf 'd["body"]')" = "not ready" ]
	[ "$(echo "$r2" | jf 'd["exit_code"]')" = 1 ]
	local rc=0
	wait "$BPID" || rc=$?
	[ "$rc" -eq 0 ]
}

@test "the drain deadline lets go of silent connections; SHUTDOWN's own deadline" {
	start_broker --drain-timeout 60000
	bw_bg "$T/h1" held --socket "$SOCK" --go "$T/never"
	local h1=$BG_PID
	wait_for grep -q connected "$T/h1"
	run -0 admin shutdown --drain-ms 200
	local rc=0
	wait "$BPID" || rc=$?
	[ "$rc" -eq 0 ]
	touch "$T/never"
	wait "$h1"
	[ "$(tail -1 "$T/h1" | jf 'd["eof"]')" = true ]
}

@test "a spawn in flight finishes during the drain and its Hello is answered" {
	def echo serve
	hold_backends
	start_broker --events "$T/ev"
	bw_bg "$T/h" hello --socket "$SOCK" --service echo --version 1.0.0
	local h=$BG_PID
	wait_for grep -q SPAWN_ATTEMPT "$T/ev"
	kill -TERM "$BPID"
	wait_for grep -q "draining" "$T/broker.err"
	release_backends
	wait "$h"
	[ "$(jf 'd["result"]' <"$T/h")" = negotiated ]
	local rc=0
	wait "$BPID" || rc=$?
	[ "$rc" -eq 0 ]
	grep -q '"kind":"DIED_SHUTDOWN"' "$T/ev"
}

# ------------------------------------------------------------------ events

@test "a Hello's request_id of any length cannot push its event out of the --events file: its first 64 bytes are kept" {
	def echo serve
	start_broker --events "$T/ev"
	local long quotes
	long=$(printf 'a%.0s' $(seq 1 5000))
	quotes=$(printf '"%.0s' $(seq 1 2100))
	run -0 hello --service nope --request-id "$long"
	[ "$(field code)" = 2 ]
	run -0 hello --service nope --request-id "$quotes"
	[ "$(field code)" = 2 ]
	run -0 hello --request-id "$long"
	[ "$(field result)" = negotiated ]
	wait_for grep -q HELLO_ACCEPTED "$T/ev"
	# (before: no line for any of them, each counted as lost)
	[ "$(grep -c '"kind":"HELLO_REFUSED"' "$T/ev")" = 2 ]
	/usr/bin/python3 - "$T/ev" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ids = [e["request_id"] for e in ev if e["kind"] in ("HELLO_REFUSED", "HELLO_ACCEPTED")]
assert ids == ["a" * 64, '"' * 64, "a" * 64], ids
PY
	[ "$(metric running_process_broker_v1_events_total result=failed)" = 0 ]
	run -0 admin dump --body
	[ "$(echo "$output" | jf '[e["request_id"] for e in d["events"] if e["kind"] == "HELLO_REFUSED"] == ["a" * 64, chr(34) * 64]')" = true ]
}

@test "SIGHUP reopens the --events file after it was moved away" {
	start_broker --events "$T/ev"
	hello --service nope --version 1.0.0 >/dev/null
	wait_for grep -q HELLO_REFUSED "$T/ev"
	mv "$T/ev" "$T/ev.1"
	kill -HUP "$BPID"
	wait_for test -e "$T/ev"
	hello --service again --version 1.0.0 >/dev/null
	wait_for grep -q '"service_name":"again"' "$T/ev"
	run ! grep -q '"service_name":"again"' "$T/ev.1"
	[ "$(stat -c %a "$T/ev")" = 600 ]
	# and says so, in one line
	wait_for grep -q "SIGHUP: reopened --events $T/ev; service definitions will be read again" "$T/broker.err"
}

@test "SIGUSR1 and SIGUSR2 reopen the --events file and the broker keeps serving" {
	start_broker --events "$T/ev"
	local sig
	for sig in USR1 USR2; do
		mv "$T/ev" "$T/ev.$sig" 2>/dev/null || true
		kill -"$sig" "$BPID"
		wait_for grep -q "SIG$sig: reopened --events $T/ev\$" "$T/broker.err"
		[ -e "$T/ev" ]
		hello --service "after-${sig,,}" --version 1.0.0 >/dev/null
		wait_for grep -q "\"service_name\":\"after-${sig,,}\"" "$T/ev"
	done
	kill -0 "$BPID"
	run -0 admin status --body
	# without --events, a line says there was nothing to reopen
	stop_broker
	rp_start broker2 rp-broker -s "$SOCK" --ready-fd 3
	kill -USR1 "$RP_LAST_PID"
	wait_for grep -q "SIGUSR1: no --events file to reopen" "$T/broker2.err"
	kill -0 "$RP_LAST_PID"
}

@test "a full --events file (a file size limit) loses lines, never tears one, and says how many" {
	start_broker --events "$T/ev"
	hello --service one --version 1.0.0 >/dev/null
	wait_for grep -q '"service_name":"one"' "$T/ev"
	local size
	size=$(stat -c %s "$T/ev")
	# room for part of one more line: the next writes are short, then fail
	prlimit --pid "$BPID" --fsize=$((size + 100)):unlimited
	hello --service two --version 1.0.0 >/dev/null
	hello --service three --version 1.0.0 >/dev/null
	[ "$(stat -c %s "$T/ev")" -eq "$size" ]
	[ "$(metric running_process_broker_v1_events_total result=failed)" = 2 ]
	# space again
	prlimit --pid "$BPID" --fsize=unlimited:unlimited
	hello --service four --version 1.0.0 >/dev/null
	wait_for grep -q '"service_name":"four"' "$T/ev"
	/usr/bin/python3 - "$T/ev" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
assert raw.endswith(b"\n")
lines = [json.loads(l) for l in raw.decode().splitlines()]
assert [l["service_name"] for l in lines] == ["one", "four"], lines
assert lines[1]["extra"]["events_lost"] == "2", lines[1]
assert "events_lost" not in lines[0]["extra"]
PY
	kill -0 "$BPID"
	[ "$(metric running_process_broker_v1_events_total result=written)" = 2 ]
}

@test "an --events file that cannot be opened: exit 3 before listening" {
	run -3 rp-broker -s "$SOCK" --events "$T/no/such/dir/ev"
	[[ "$output" == *"cannot open --events"* ]]
	[ ! -e "$SOCK" ]
}
