#!/usr/bin/env bats
# rp-broker's standard error as a service manager gives it: --events -
# writes the JSON lines there, also when it is a socket (journald) or a
# pipe; and a reader that stalls never stalls the broker: lines are
# queued, then dropped and counted, and the count is the next line that
# gets through.

load broker
bats_require_minimum_version 1.5.0

# logs_py [ARGS...] <SCRIPT — Python (bounded by timeout) that starts
# rp-broker on $SOCK with the stderr it makes and drives it; argv: the
# socket, the broker, a Hello that is refused (code 2), ARGS.  The script
# kills its broker however it ends (atexit).
logs_py() {
	local hello
	hello=$(bw encode-hello --service nope --frame-id 5)
	(cd "$T" && PYTHONPATH="$RP_PB_DIR" timeout -k 5 120 /usr/bin/python3 - \
		"$SOCK" "$(command -v rp-broker)" "$hello" "$@")
}

@test "--events - writes JSON lines to stderr when it is a socket (as journald gives)" {
	run -0 logs_py <<'PY'
import atexit, json, os, signal, socket, subprocess, sys
sock, broker, hello = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
a, b = socket.socketpair()
r, w = os.pipe()
p = subprocess.Popen([broker, "-s", sock, "--events", "-", "--ready-fd", str(w)],
                     stderr=b.fileno(), pass_fds=(w,))
atexit.register(lambda: p.poll() is None and (p.kill(), p.wait()))
b.close(); os.close(w)
assert os.read(r, 64) == b"\n"; os.close(r)
c = socket.socket(socket.AF_UNIX); c.connect(sock); c.sendall(hello)
while c.recv(4096): pass
c.close()
buf = b""
a.settimeout(10)
while b"HELLO_REFUSED" not in buf:
    got = a.recv(65536)
    assert got, buf
    buf += got
p.send_signal(signal.SIGTERM)
assert p.wait(10) == 0
while True:
    got = a.recv(65536)
    if not got: break
    buf += got
lines = buf.decode().splitlines()
ev = [json.loads(l) for l in lines if l.startswith("{")]
assert [e["kind"] for e in ev] == ["HELLO_REFUSED"], lines
assert ev[0]["service_name"] == "nope"
assert "rp-broker: SIGTERM; draining" in lines, lines
assert not os.path.exists("-")
print("ok")
PY
	[ "$output" = ok ]
	[ ! -e "$T/-" ]
}

@test "--events - to a pipe nobody reads: Hellos and admin still answered at once, drops counted" {
	run -0 logs_py "$RP_ROOT/tests/bats/py" <<'PY'
import atexit, fcntl, json, os, signal, socket, subprocess, sys, time
sock, broker, hello = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
sys.path.insert(0, sys.argv[4])
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)           # F_SETPIPE_SZ: a small pipe, soon full
rr, rw = os.pipe()
p = subprocess.Popen([broker, "-s", sock, "--events", "-", "--ready-fd", str(rw)],
                     stderr=w, pass_fds=(rw,))
atexit.register(lambda: p.poll() is None and (p.kill(), p.wait()))
os.close(w); os.close(rw)
assert os.read(rr, 64) == b"\n"; os.close(rr)

def ask(frame):
    t = time.monotonic()
    c = socket.socket(socket.AF_UNIX); c.settimeout(5); c.connect(sock)
    c.sendall(frame)
    got = b""
    while True:
        x = c.recv(4096)
        if not x: break
        got += x
    c.close()
    return got, time.monotonic() - t

# ~400 bytes an event: 1000 of them are far more than the pipe (4 KiB)
# and the broker's queue (64 KiB) hold; nobody reads.
worst = 0
for _ in range(1000):
    got, dt = ask(hello)
    assert len(got) > 10, got
    worst = max(worst, dt)
assert worst < 2, worst
st = subprocess.run(["rp-probe", "admin", "-s", sock, "status"], timeout=5,
                    capture_output=True)
assert st.returncode == 0, st
# now read: the queue drains, and the next line says how many were lost
fl = fcntl.fcntl(r, fcntl.F_GETFL); fcntl.fcntl(r, fcntl.F_SETFL, fl | os.O_NONBLOCK)
buf = b""
def drain():
    global buf
    while True:
        try:
            x = os.read(r, 65536)
        except BlockingIOError:
            return
        if not x: return
        buf += x
deadline = time.monotonic() + 10
drain()
ask(hello)
while b"log lines dropped" not in buf or not buf.endswith(b"\n") or \
        buf.count(b"HELLO_REFUSED") < 2:
    assert time.monotonic() < deadline, buf[-500:]
    time.sleep(0.01); drain()
m = subprocess.run(["rp-probe", "admin", "-s", sock, "metrics"], timeout=5,
                   capture_output=True, text=True).stdout
failed = [float(l.split()[-1]) for l in m.splitlines()
          if l.startswith('running_process_broker_v1_events_total{result="failed"}')]
p.send_signal(signal.SIGTERM)
assert p.wait(10) == 0
fl = fcntl.fcntl(r, fcntl.F_GETFL); fcntl.fcntl(r, fcntl.F_SETFL, fl & ~os.O_NONBLOCK)
while True:
    x = os.read(r, 65536)
    if not x: break
    buf += x
lines = buf.decode().splitlines()
drops = [i for i, l in enumerate(lines) if "log lines dropped" in l]
assert len(drops) == 1, drops
n = int(lines[drops[0]].split()[1])
events = [json.loads(l) for l in lines if l.startswith("{")]
# every line whole; every Hello accounted for: written or dropped
assert len(events) + n == 1001, (len(events), n)
assert lines[drops[0]] == "rp-broker: %d log lines dropped: standard error was not read fast enough" % n
after = json.loads(lines[drops[0] + 1])
assert after["kind"] == "HELLO_REFUSED"
assert after["extra"]["events_lost"] == str(n), after
assert failed == [n], (failed, n)
print("ok", n)
PY
	[[ "$output" == "ok "* ]]
}
