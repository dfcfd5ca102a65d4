#!/usr/bin/env bats
# Hostile input against the real rp-broker: a peer of another uid, silent
# connections by the hundred, a trickling client, clients that leave
# before the reply, fds sent with SCM_RIGHTS, a 5000-connection flood with
# RLIMIT_NOFILE lowered until accept fails with EMFILE, and 16 brokers
# racing for one socket.  Throughout, the broker keeps serving everyone
# else, loses no accounting, and leaks no fd (/proc/<pid>/fd before and
# after) and no child.

load broker
bats_require_minimum_version 1.5.0

# accepted = closed + open, from one metrics snapshot (which is itself the
# one open connection).
accounting_holds() {
	bw admin --socket "$SOCK" metrics --body | /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
v = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        v[s.name] = v.get(s.name, 0) + s.value
p = "running_process_broker_v1_"
acc, closed, open_ = (v[p + "connections_accepted_total"],
    v[p + "connections_closed_total"], v[p + "connections_open"])
if acc != closed + open_:
    sys.exit("accepted %d != closed %d + open %d" % (acc, closed, open_))
'
}

# The same number of fds as when the broker became ready (closes on the
# client side reach the broker a moment later: a condition, bounded).
fds_back_to() {
	wait_for fd_count_is "$BPID" "$1"
}

@test "a peer of another uid is closed without a byte; --allow-uid lets it in" {
	SHARED=$(rp_shared_dir)
	SOCK="$SHARED/b.sock"
	rp_start broker $(bw_exec) activate --path "$SOCK" --mode 777 \
		--ready-from 3 --ready-to 5 -- rp-broker --ready-fd 5 --events "$T/ev"
	BPID=$RP_LAST_PID
	local base hex
	base=$(rp_fd_count "$BPID")
	hex=$(bw encode-hello --service nope --frame-id 5)
	cat >"$SHARED/peer.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(bytes.fromhex(sys.argv[2]))
except OSError:
    pass
got = b""
try:
    while True:
        c = s.recv(4096)
        if not c:
            break
        got += c
except ConnectionResetError:
    pass
print(len(got))
EOF
	chmod 0644 "$SHARED/peer.py"
	run -0 rp_as_nobody /usr/bin/python3 "$SHARED/peer.py" "$SOCK" "$hex"
	[ "$output" = 0 ]
	run -0 rp_as_nobody /usr/bin/python3 "$SHARED/peer.py" "$SOCK" ""
	[ "$output" = 0 ]
	[ "$(metric running_process_broker_v1_peer_rejected_total)" = 2 ]
	[ "$(metric running_process_broker_v1_connections_closed_total reason=peer_rejected)" = 2 ]
	grep '"kind":"SECURITY_VIOLATION"' "$T/ev" | grep -q 'connection from uid 65534 refused'
	# our own uid is served meanwhile
	run -0 hello --service nope
	[ "$(field code)" = 2 ]
	fds_back_to "$base"
	accounting_holds
	stop_broker
	# with --allow-uid 65534 it is served
	rm -f "$SOCK"
	rp_start broker2 $(bw_exec) activate --path "$SOCK" --mode 777 \
		--ready-from 3 --ready-to 5 -- rp-broker --ready-fd 5 --allow-uid 65534
	BPID=$RP_LAST_PID
	run -0 rp_as_nobody /usr/bin/python3 "$SHARED/peer.py" "$SOCK" "$hex"
	[ "$output" -gt 40 ]
}

@test "3000 refused peers of another uid: 10 lines, then one \"N more\" line" {
	SHARED=$(rp_shared_dir)
	SOCK="$SHARED/b.sock"
	rp_start broker $(bw_exec) activate --path "$SOCK" --mode 777 \
		--ready-from 3 --ready-to 5 -- rp-broker --ready-fd 5 --events "$T/ev"
	BPID=$RP_LAST_PID
	cat >"$SHARED/flood.py" <<'EOF'
import socket, sys
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    try:
        while s.recv(64):       # closed unread: end of file (or a reset)
            pass
    except ConnectionResetError:
        pass
    s.close()
EOF
	chmod 0644 "$SHARED/flood.py"
	rp_as_nobody timeout 60 /usr/bin/python3 "$SHARED/flood.py" "$SOCK" 3000
	[ "$(metric running_process_broker_v1_peer_rejected_total)" = 3000 ]
	# one line each for the first 10, on stderr and in the events file
	[ "$(grep -c 'connection from uid 65534 refused' "$T/ev")" -eq 10 ]
	[ "$(grep -c 'rp-broker: connection from uid 65534 refused (pid [0-9]*)$' "$T/broker.err")" -eq 10 ]
	# the rest summed up when the window ends, with the count
	wait_for grep -q '"reason":"2990 more connections from other uids refused (not logged one by one)"' "$T/ev"
	grep '2990 more' "$T/ev" | grep -q '"extra":{"suppressed":"2990"}'
	grep -qx 'rp-broker: 2990 more connections from other uids refused (not logged one by one)' "$T/broker.err"
	[ "$(wc -l <"$T/ev")" -eq 11 ]
	# a new window logs again; a stop sums up what is pending at once
	rp_as_nobody timeout 60 /usr/bin/python3 "$SHARED/flood.py" "$SOCK" 15
	[ "$(grep -c 'connection from uid 65534 refused' "$T/ev")" -eq 20 ]
	stop_broker
	grep -q '"reason":"5 more connections from other uids refused' "$T/ev"
	[ "$(wc -l <"$T/ev")" -eq 22 ]
}

@test "DUMP output_path and SHUTDOWN: refused to another uid; our own uid's file is written without following links" {
	rp_share_pb
	SOCK="$SHARED/b.sock"
	rp_start broker $(bw_exec) activate --path "$SOCK" --mode 777 \
		--ready-from 3 --ready-to 5 -- rp-broker --ready-fd 5 --allow-uid 65534
	BPID=$RP_LAST_PID
	printf 'precious\n' >"$T/victim"
	chmod 0644 "$T/victim"
	# uid 65534 may talk to us, but never make us (root) write a file
	run -0 rp_as_nobody env PYTHONPATH="$SHARED/pb" /usr/bin/python3 \
		"$RP_ROOT/tests/bats/py/brokerwire.py" admin --socket "$SOCK" \
		dump --output-path "$T/victim"
	[ "$(field exit_code)" = 1 ]
	[ "$(field admin_kind)" = 0 ]
	[[ "$(field body)" == *"output_path refused: uid 65534 may not make the broker (uid 0) write files"* ]]
	[ "$(cat "$T/victim")" = precious ]
	[ "$(stat -c %a "$T/victim")" = 644 ]
	# its DUMP without output_path is still answered
	run -0 rp_as_nobody env PYTHONPATH="$SHARED/pb" /usr/bin/python3 \
		"$RP_ROOT/tests/bats/py/brokerwire.py" admin --socket "$SOCK" dump --body
	[ "$(echo "$output" | jf 'd["command"]')" = dump ]
	# nor stop the broker for everyone (before: it did, exit 0)
	run -0 rp_as_nobody env PYTHONPATH="$SHARED/pb" /usr/bin/python3 \
		"$RP_ROOT/tests/bats/py/brokerwire.py" admin --socket "$SOCK" shutdown
	[ "$(field exit_code)" = 1 ]
	[ "$(field body)" = "rp-broker: shutdown refused: uid 65534 may not stop the broker (uid 0)" ]
	kill -0 "$BPID"
	run -0 admin healthz --body
	[ "$output" = ok ]
	# our own uid: a symlink planted at the name is replaced, not followed
	ln -s "$T/victim" "$T/planted"
	run -0 admin dump --output-path "$T/planted" --body
	[ "$(echo "$output" | jf 'd["written"]')" = true ]
	[ -f "$T/planted" ] && [ ! -L "$T/planted" ]
	[ "$(jf 'd["command"]' <"$T/planted")" = dump ]
	[ "$(stat -c %a "$T/planted")" = 600 ]
	[ "$(cat "$T/victim")" = precious ]
	# nor is a symlink in the directory's path walked through
	mkdir "$T/real"
	ln -s "$T/real" "$T/dirlink"
	run -0 admin dump --output-path "$T/dirlink/x.json" --body
	[ "$(echo "$output" | jf 'd["written"]')" = false ]
	[[ "$(echo "$output" | jf 'd["write_error"]')" == *"symbolic links"* ]]
	[ -z "$(ls -A "$T/real")" ]
	# a relative path is refused as before
	run -0 admin dump --output-path "rel/x.json" --body
	[ "$(echo "$output" | jf 'd["write_error"]')" = "output_path must be an absolute file path" ]
	# and the loop kept serving throughout
	run -0 admin healthz --body
	[ "$output" = ok ]
}

@test "500 connections that send nothing while another client negotiates" {
	def echo serve
	start_broker
	local base
	base=$(rp_fd_count "$BPID")
	bw_bg "$T/idle" idle --socket "$SOCK" --count 500 --go "$T/go"
	local idle=$BG_PID
	wait_for grep -q ready "$T/idle"
	run -0 hello --frame-id 1
	[ "$(field result)" = negotiated ]
	run -0 admin status --json --body
	[ "$(echo "$output" | jf 'd["connections_open"]')" -ge 501 ]
	[ "$(rp_fd_count "$BPID")" -ge $((base + 500)) ]
	touch "$T/go"
	wait "$idle"
	# nobody was answered: they never sent a frame and the deadline is far
	[ "$(tail -1 "$T/idle" | jf 'd["open"]')" = 500 ]
	# and the backend started meanwhile holds one: its output's pipe
	fds_back_to $((base + 1))
	[ "$(metric running_process_broker_v1_connections_open)" = 1 ]
	accounting_holds
	# (the backend's process is a child, not an fd: unchanged)
	[ "$(children_of "$BPID" | wc -l)" = 1 ]
}

@test "silent connections past --max-clients: the oldest are evicted (code 9), well-behaved clients are served" {
	def echo serve
	start_broker --max-clients 64
	hello >/dev/null
	bw_bg "$T/idle" idle --socket "$SOCK" --count 300 --go "$T/go"
	local idle=$BG_PID
	wait_for grep -q ready "$T/idle"
	# the table is full of connections that sent nothing: a client that
	# sends its Hello is served all the same, admin too, and the broker
	# is ready (it is: it serves)
	run -0 hello --frame-id 1
	[ "$(field result)" = negotiated ]
	run -0 admin healthz --body
	[ "$output" = ok ]
	run -0 admin readyz --body
	[ "$output" = ready ]
	run -0 rp-probe hello -s "$SOCK" --service echo --version 1.0.0
	touch "$T/go"
	wait "$idle"
	# every silent one past the limit was evicted with code 9, the
	# reason being the limit, not fds
	[ "$(tail -1 "$T/idle" | jf 'd["refused"]')" -ge 236 ]
	[ "$(tail -1 "$T/idle" | jf 'list(d["codes"].keys())')" = '["9"]' ]
	run -0 admin dump --body
	local evicted
	evicted=$(echo "$output" | jf 'd["counters"]["connections_evicted"]')
	[ "$evicted" -ge 236 ]
	[ "$(echo "$output" | jf 'd["counters"]["accept_refused_max_clients"]')" = 0 ]
	# in the metrics they are evictions, closed as such, and no Hello was
	# refused for them (they sent none; before: each a Hello refused
	# fd_pressure, most closed as write_failed)
	[ "$(metric running_process_broker_v1_connections_closed_total reason=evicted)" = "$evicted" ]
	[ "$(metric running_process_broker_v1_hello_total outcome=fd_pressure)" = 0 ]
	[ "$(metric running_process_broker_v1_hello_total outcome=negotiated)" = 3 ]
	accounting_holds
}

# cpu_ticks PID — user + system clock ticks a process has used.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

@test "silent connections holding every fd (RLIMIT_NOFILE 128): the oldest are evicted, our clients are served, no busy loop" {
	def echo serve
	def other serve
	rp_start broker prlimit --nofile=128:128 rp-broker -s "$SOCK" --ready-fd 3 \
		--events "$T/ev"
	BPID=$RP_LAST_PID
	hello >/dev/null
	bw_bg "$T/idle" idle --socket "$SOCK" --count 300 --go "$T/go"
	local idle=$BG_PID
	wait_for grep -q ready "$T/idle"
	# every fd is held by a connection that sent nothing, more wait in
	# the backlog: a Hello is served all the same, admin too, and a
	# backend can still be started (its pipe, its probe)
	run -0 hello --frame-id 1
	[ "$(field result)" = negotiated ]
	run -0 admin healthz --body
	[ "$output" = ok ]
	run -0 rp-probe hello -s "$SOCK" --service echo --version 1.0.0
	run -0 hello --service other
	[ "$(field result)" = negotiated ]
	run -0 admin status --json --body
	# no busy loop while they are held: at most 0.3 s of CPU in 1 s
	local t0 t1
	t0=$(cpu_ticks "$BPID")
	sleep 1
	t1=$(cpu_ticks "$BPID")
	echo "cpu ticks in 1 s: $((t1 - t0))"
	[ $((t1 - t0)) -le 30 ]
	touch "$T/go"
	wait "$idle"
	tail -1 "$T/idle"
	# the evicted were told why: code 9, for want of fds
	[ "$(tail -1 "$T/idle" | jf 'd["refused"]')" -ge 1 ]
	[ "$(tail -1 "$T/idle" | jf 'list(d["codes"].keys())')" = '["9"]' ]
	run -0 admin dump --body
	[ "$(echo "$output" | jf 'd["counters"]["connections_evicted"]')" -ge 1 ]
	grep '"kind":"RESOURCE_PRESSURE"' "$T/ev" | grep -q '"severity_text":"WARN"'
	accounting_holds
}

# many_services N — N definitions s0..s(N-1) that refuse every version
# asked for (min_version 99.0.0): each Hello for one adds its series to
# METRICS (about 750 bytes each) and starts nothing.
many_services() {
	PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 - "$DEFS" "$1" <<'PY'
import os, sys
import rp_v1_pb2 as pb
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = os.path.join(d, "s%d.servicedef" % i)
    with open(p, "wb") as f:
        f.write(pb.ServiceDefinition(service_name="s%d" % i, binary_path="/bin/false",
                                     min_version="99.0.0").SerializeToString())
    os.chmod(p, 0o600)
PY
}

# ask_services N — one Hello for each of s0..s(N-1).
ask_services() {
	PYTHONPATH="$RP_PB_DIR:$RP_ROOT/tests/bats/py" timeout -k 5 120 \
		/usr/bin/python3 - "$SOCK" "$1" <<'PY'
import sys
import brokerwire as bw
sock, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    s = bw.connect(sock, 10)
    s.sendall(bw.frame(bw.hello("s%d" % i), request_id=3))
    assert bw.describe(bw.read_reply(s))["code"] == 8
    s.close()
PY
}

# unread_metrics COUNT — COUNT clients that ask for METRICS and do not
# read; once healthz (queued behind them) is answered, print the broker's
# VmHWM and VmRSS (KiB), then read every reply: how many came whole, how
# many were cut (closed by the broker), as JSON.
unread_metrics() {
	PYTHONPATH="$RP_PB_DIR:$RP_ROOT/tests/bats/py" timeout -k 5 240 \
		/usr/bin/python3 - "$SOCK" "$BPID" "$1" <<'PY'
import json, sys, time
import brokerwire as bw
import rp_v1_pb2 as pb
sock, pid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
req = bw.frame(pb.AdminRequest(verb=pb.ADMIN_VERB_METRICS).SerializeToString(),
               protocol=bw.ADMIN, request_id=1)
socks = []
for _ in range(n):
    s = bw.connect(sock, 30)
    s.sendall(req)
    socks.append(s)
t = time.monotonic()
s = bw.connect(sock, 10)
s.sendall(bw.frame(pb.AdminRequest(verb=pb.ADMIN_VERB_HEALTHZ).SerializeToString(),
                   protocol=bw.ADMIN, request_id=2))
d = bw.describe(bw.read_reply(s))
healthz = time.monotonic() - t
st = {l.split(":")[0]: int(l.split()[1]) for l in open("/proc/%d/status" % pid)
      if l.startswith(("VmHWM", "VmRSS"))}
out = {"healthz": d.get("body"), "healthz_s": round(healthz, 3), "hwm_kib": st["VmHWM"],
       "rss_kib": st["VmRSS"], "whole": 0, "cut": 0}
for s in socks:
    try:
        b = bw.describe(bw.read_reply(s))
        out["whole" if b.get("body", "").endswith("# EOF\n") else "cut"] += 1
    except (OSError, SystemExit):
        out["cut"] += 1
    s.close()
print(json.dumps(out))
PY
}

@test "clients that ask for METRICS and never read: past 64 MiB kept in all they are closed, others are served, memory bounded" {
	many_services 1000
	start_broker --rate-limit 0
	ask_services 1000
	admin metrics --body >"$T/m.txt"
	local size
	size=$(stat -c %s "$T/m.txt")
	echo "metrics: $size bytes"
	[ "$size" -ge 600000 ]
	run -0 unread_metrics 200
	echo "# $output" >&3
	[ "$(echo "$output" | jf 'd["healthz"]')" = ok ]
	# some were kept whole, the ones past the total budget were closed
	local cut
	cut=$(echo "$output" | jf 'd["cut"]')
	[ "$cut" -ge 1 ]
	[ "$(echo "$output" | jf 'd["whole"]')" -ge 50 ]
	[ "$(metric running_process_broker_v1_connections_closed_total reason=output_budget)" = "$cut" ]
	# memory: the 64 MiB budget and the broker's own, never more
	# (without the budget: 108 MB, and more with more clients)
	# (not under the sanitizers: ASan's shadow and quarantine are not the
	# broker's, and hold freed replies by design)
	rp_sanitized || [ "$(echo "$output" | jf 'd["hwm_kib"]')" -le $(( (64 + 16) * 1024 )) ]
	run -0 hello --service s1
	[ "$(field code)" = 8 ]
	accounting_holds
}

# metrics_then_healthz COUNT — with the broker stopped (SIGSTOP), COUNT
# clients connect and ask for METRICS, then one asks for healthz; the
# broker continues (SIGCONT) and finds them all at once, healthz last.
# Once healthz is answered, print how many METRICS replies had begun to
# arrive by then, and whether every one then comes whole, as JSON.
metrics_then_healthz() {
	PYTHONPATH="$RP_PB_DIR:$RP_ROOT/tests/bats/py" timeout -k 5 240 \
		/usr/bin/python3 - "$SOCK" "$BPID" "$1" <<'PY'
import json, os, select, signal, sys
import brokerwire as bw
import rp_v1_pb2 as pb
sock, pid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def req(verb, rid):
    return bw.frame(pb.AdminRequest(verb=verb).SerializeToString(),
                    protocol=bw.ADMIN, request_id=rid)
os.kill(pid, signal.SIGSTOP)
try:
    socks = []
    for i in range(n):
        s = bw.connect(sock, 60)
        s.sendall(req(pb.ADMIN_VERB_METRICS, 100 + i))
        socks.append(s)
    h = bw.connect(sock, 60)
    h.sendall(req(pb.ADMIN_VERB_HEALTHZ, 7))
finally:
    os.kill(pid, signal.SIGCONT)
d = bw.describe(bw.read_reply(h))
begun = len(select.select(socks, [], [], 0)[0])
whole = 0
for i, s in enumerate(socks):
    b = bw.describe(bw.read_reply(s))
    if b.get("body", "").endswith("# EOF\n") and b.get("request_id") == 100 + i:
        whole += 1
    s.close()
print(json.dumps({"healthz": d.get("body"), "request_id": d.get("request_id"),
                  "begun": begun, "whole": whole}))
PY
}

@test "a healthz behind a burst of METRICS is answered between their turns, not after them all" {
	many_services 1000
	# (the output budget is not what this is about: room for them all)
	start_broker --rate-limit 0 --max-unread-total 268435456
	ask_services 1000
	run -0 metrics_then_healthz 100
	echo "$output"
	[ "$(echo "$output" | jf 'd["healthz"]')" = ok ]
	[ "$(echo "$output" | jf 'd["request_id"]')" = 7 ]
	# answered in FIFO order, healthz came after all 100 replies (each
	# ~750 kB rendered and encoded for itself: 100 of 100 begun); in
	# turns, before most of them
	[ "$(echo "$output" | jf 'd["begun"]')" -lt 50 ]
	# and every METRICS is still answered, whole, with its own request_id
	[ "$(echo "$output" | jf 'd["whole"]')" = 100 ]
	run -0 admin metrics --body
	[[ "$output" == *'running_process_broker_v1_admin_requests_total{verb="metrics"} 101'* ]]
	accounting_holds
}

@test "--max-unread: a client that leaves more than that unread is closed at once, others are served" {
	many_services 1000
	start_broker --rate-limit 0 --max-unread 65536
	ask_services 1000
	run -0 unread_metrics 50
	echo "$output"
	[ "$(echo "$output" | jf 'd["healthz"]')" = ok ]
	[ "$(echo "$output" | jf 'd["cut"]')" = 50 ]
	rp_sanitized || [ "$(echo "$output" | jf 'd["hwm_kib"]')" -le $(( 48 * 1024 )) ]
	# (the judgement is made at once, before anyone could read: a
	# METRICS this big can be cut for a reader too, so no metric here)
	run -0 admin config --body
	[ "$(echo "$output" | jf 'd["config"]["max_unread"]["value"]')" = 65536 ]
	[ "$(echo "$output" | jf 'd["config"]["max_unread"]["source"]')" = flag ]
	run -0 hello --service s1
	[ "$(field code)" = 8 ]
}

@test "tests/load/broker-hostile.sh, a tenth of it: every client served in each scenario" {
	run -0 env RP_LOAD_SCALE=10 timeout -k 5 300 "$RP_ROOT/tests/load/broker-hostile.sh" "$RP_BUILD"
	echo "$output" | sed 's/^/# /' >&3
	[[ "$output" == *"while held: 5/5 Hellos answered (code 2, not 9), 5/5 healthz ok"* ]]
	[[ "$output" == *"unread METRICS x100: rss "*" KiB, healthz ok"* ]]
	[[ "$output" =~ "burst of 200 METRICS: "([0-9]+)" healthz during it, "([0-9]+)" ok" ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	[[ "$output" == *"RLIMIT_NOFILE 256, 300 silent connections: 5/5 Hellos negotiated"*"5/5 healthz ok"* ]]
	[[ "$output" =~ "a backend flooding its output (negotiated) for "[0-9.]+" s: "[0-9]+" Hellos and healthz, slowest "[0-9.]+" ms; log grew "([0-9]+)" bytes; "([0-9]+)" bytes dropped" ]]
	[ "${BASH_REMATCH[1]}" -le 400000 ]
	[ "${BASH_REMATCH[2]}" -gt 0 ]
}

@test "a client that trickles one byte at a time cannot extend its deadline" {
	def echo serve
	start_broker --hello-timeout 500
	bw_bg "$T/tr" trickle --socket "$SOCK" --delay-ms 60
	local tr=$BG_PID
	# everyone else is served meanwhile
	run -0 hello
	[ "$(field result)" = negotiated ]
	wait "$tr"
	[ "$(jf 'd["code"]' <"$T/tr")" = 6 ]
	[ "$(jf 'd["reason"]' <"$T/tr")" = "incomplete Hello frame" ]
	# it was cut short: not all of its ~35 bytes made it
	[ "$(jf 'd["bytes_sent"] < 20' <"$T/tr")" = true ]
	accounting_holds
}

@test "a trickling client within the deadline is served like any other" {
	def echo serve
	start_broker
	run -0 bw trickle --socket "$SOCK" --delay-ms 5
	[ "$(field result)" = negotiated ]
	[ "$(field request_id)" = 77 ]
}

@test "clients that leave before reading the reply" {
	def echo serve
	start_broker
	hello >/dev/null
	local base
	base=$(rp_fd_count "$BPID")
	run -0 bw early-close --socket "$SOCK" --count 200
	run -0 bw early-close --socket "$SOCK" --service nope --count 200
	run -0 hello
	[ "$(field result)" = negotiated ]
	fds_back_to "$base"
	accounting_holds
	[ "$(metric running_process_broker_v1_hello_total)" = 402 ]
}

@test "fds sent to the control socket with SCM_RIGHTS are never kept" {
	def echo serve
	start_broker
	hello >/dev/null
	local base ino
	base=$(rp_fd_count "$BPID")
	run -0 bw sendfds --socket "$SOCK"
	[ "$(field result)" = negotiated ]
	for ino in $(echo "$output" | jf '" ".join(str(i) for i in d["pipe_inodes"])'); do
		run ! bash -c "ls -l /proc/$BPID/fd | grep -q 'pipe:\[$ino\]'"
	done
	# with the fds on the first byte and the rest sent later
	run -0 bw sendfds --socket "$SOCK" --split 1
	[ "$(field result)" = negotiated ]
	run -0 bw sendfds --socket "$SOCK" --split 7 --service nope
	[ "$(field code)" = 2 ]
	fds_back_to "$base"
	accounting_holds
}

@test "a 5000-connection flood with RLIMIT_NOFILE lowered: EMFILE, code 9, recovery" {
	def echo serve
	rp_start broker prlimit --nofile=96:96 rp-broker -s "$SOCK" --ready-fd 3 \
		--hello-timeout 3000 --events "$T/ev"
	BPID=$RP_LAST_PID
	hello >/dev/null
	local base
	base=$(rp_fd_count "$BPID")
	bw_bg "$T/flood" flood --socket "$SOCK" --count 5000 --silent --go "$T/go"
	local flood=$BG_PID
	wait_for grep -q '^connected' "$T/flood"
	# under pressure: silent connections are evicted to make room, and a
	# Hello of ours is served (it used to be refused with code 9)
	run -0 hello
	[ "$(field result)" = negotiated ]
	run -0 admin healthz --body
	[ "$output" = ok ]
	touch "$T/go"
	wait "$flood"
	local out
	out=$(tail -1 "$T/flood")
	echo "$out"
	[ "$(echo "$out" | jf 'd["connected"]')" = 5000 ]
	[ "$(echo "$out" | jf 'd["eof"] + d["error"]')" = 0 ]
	# every connection was answered: refused at accept (9), or accepted and
	# timed out without a frame (6)
	[ "$(echo "$out" | jf 'd["codes"].get("9", 0) + d["codes"].get("6", 0)')" = 5000 ]
	[ "$(echo "$out" | jf 'd["codes"].get("9", 0) > 4000')" = true ]
	# recovered: ready again, serving, no fd left behind
	wait_for bash -c "PYTHONPATH=$RP_PB_DIR /usr/bin/python3 $RP_ROOT/tests/bats/py/brokerwire.py admin --socket $SOCK readyz --body >/dev/null"
	run -0 hello
	[ "$(field result)" = negotiated ]
	fds_back_to "$base"
	accounting_holds
	# no busy loop: accept failed with EMFILE far fewer times than there
	# were connections (a spinning loop fails it millions of times)
	local emfile
	emfile=$(metric running_process_broker_v1_accept_emfile_total)
	[ "$emfile" -ge 1 ]
	[ "$emfile" -le 5000 ]
	# the silent ones were evicted for want of fds, or refused at accept
	# when nothing was left to evict
	run -0 admin dump --body
	echo "$output" | jf 'd["counters"]'
	[ "$(echo "$output" | jf 'd["counters"]["connections_evicted"] + d["counters"]["accept_refused_fd_exhausted"]')" -ge 4000 ]
	[ "$(metric running_process_broker_v1_fd_pressure_episodes_total)" -ge 1 ]
	grep '"kind":"RESOURCE_PRESSURE"' "$T/ev" | grep -q '"severity_text":"WARN"'
	grep '"kind":"RESOURCE_PRESSURE"' "$T/ev" | grep -q 'ready'
	[ "$(children_of "$BPID" | wc -l)" = 1 ]
}

@test "16 brokers started at once on one path: one serves, 15 exit 3, the socket survives" {
	bw_bg "$T/race" race --socket "$SOCK" --broker "$(command -v rp-broker)" \
		--count 16 --go "$T/go"
	local race=$BG_PID
	wait_for grep -q '"ready"' "$T/race"
	local r
	r=$(head -1 "$T/race")
	echo "$r"
	[ "$(echo "$r" | jf 'd["ready"]')" = 1 ]
	[ "$(echo "$r" | jf 'd["exit_codes"]')" = "[3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]" ]
	[ "$(echo "$r" | jf 'd["messages"]')" = "[\"rp-broker: another broker is live on $SOCK\"]" ]
	# the winner's socket is intact and it answers
	[ -S "$SOCK" ]
	run -0 admin list-instances --body
	[ "$(echo "$output" | jf 'd["instances"][0]["pid"]')" = "$(echo "$r" | jf 'd["winner"]')" ]
	touch "$T/go"
	wait "$race"
	[ "$(tail -1 "$T/race" | jf 'd["winner_exit"]')" = "[0]" ]
	[ ! -e "$SOCK" ]
}
