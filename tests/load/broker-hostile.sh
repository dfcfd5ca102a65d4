#!/bin/sh
# tests/load/broker-hostile.sh — what rp-broker holds under hostile load
# (issue 11): silent connections past --max-clients, Hellos for made-up
# services, clients that ask for METRICS and never read, a burst of
# METRICS beside a health check.  Prints measurements, asserts nothing
# about time (the suite does not either); the numbers go in rp-broker(1).
# Bounded: every client has a deadline, the broker is stopped at the end.
#
# Usage: tests/load/broker-hostile.sh [BUILD_DIR]   (default build)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
T=$(mktemp -d)
trap 'kill "$bpid" 2>/dev/null || true; wait "$bpid" 2>/dev/null || true; rm -rf "$T"' EXIT INT TERM
mkdir -m 0700 "$T/defs" "$T/run" "$T/pb"
protoc -I"$root/proto" -I/usr/include --python_out="$T/pb" \
	"$root/proto/rp_v1.proto" /usr/include/protobuf-c/protobuf-c.proto
mkfifo "$T/ready"
RUNNING_PROCESS_SERVICE_DEF_DIR="$T/defs" \
	"$build/bin/rp-broker" -s "$T/run/b.sock" --ready-fd 3 3>"$T/ready" &
bpid=$!
read -r _ <"$T/ready"
PYTHONPATH="$T/pb:$root/tests/bats/py" /usr/bin/python3 - "$T/run/b.sock" "$bpid" <<'PY'
import resource, socket, sys, threading, time
import brokerwire as bw
import rp_v1_pb2 as pb

path, pid = sys.argv[1], int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def rss_kb():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def admin(verb, timeout=10.0):
    t0 = time.monotonic()
    try:
        s = bw.connect(path, timeout)
        s.sendall(bw.frame(pb.AdminRequest(verb=verb).SerializeToString(),
                           protocol=bw.ADMIN, request_id=1))
        d = bw.describe(bw.read_reply(s))
        s.close()
        ok = d.get("result") == "admin" and d["exit_code"] == 0
    except OSError:
        ok = False
    return ok, time.monotonic() - t0

def hello(service="nope", timeout=10.0):
    try:
        s = bw.connect(path, timeout)
        s.sendall(bw.frame(bw.hello(service), request_id=2))
        d = bw.describe(bw.read_reply(s))
        s.close()
        return d.get("code")
    except OSError:
        return None

print("rss at start: %d KiB" % rss_kb())

# 1. 4,200 silent connections (default --max-clients 4096)
t0 = time.monotonic()
silent = []
for _ in range(4200):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    silent.append(s)
opened = time.monotonic() - t0
served = sum(1 for _ in range(50) if hello() == 2)
admin_ok = [admin(pb.ADMIN_VERB_HEALTHZ) for _ in range(50)]
print("silent: %d connections opened in %.2f s; while held: %d/50 Hellos "
      "answered (code 2, not 9), %d/50 healthz ok, slowest %.1f ms; rss %d KiB"
      % (len(silent), opened, served, sum(o for o, _ in admin_ok),
         1000 * max(t for _, t in admin_ok), rss_kb()))
for s in silent:
    s.close()

# 2. 300 made-up services
for i in range(300):
    hello("made-up-%d" % i)
s = bw.connect(path)
s.sendall(bw.frame(pb.AdminRequest(verb=pb.ADMIN_VERB_METRICS)
                   .SerializeToString(), protocol=bw.ADMIN, request_id=1))
body = bw.read_reply(s)
s.close()
print("made-up services: METRICS is %d bytes after 300 of them" % len(body))

# 3. 1,000 clients ask for METRICS and never read
unread = []
req = bw.frame(pb.AdminRequest(verb=pb.ADMIN_VERB_METRICS).SerializeToString(),
               protocol=bw.ADMIN, request_id=1)
for _ in range(1000):
    s = bw.connect(path)
    s.sendall(req)
    unread.append(s)
ok, _ = admin(pb.ADMIN_VERB_HEALTHZ)
print("unread METRICS x1000: rss %d KiB, healthz %s" % (rss_kb(), "ok" if ok else "FAILED"))
for s in unread:
    s.close()

# 4. a burst of 2,000 METRICS beside healthz
def burst():
    socks = []
    for _ in range(2000):
        try:
            s = bw.connect(path)
            s.sendall(req)
            socks.append(s)
        except OSError:
            pass
    for s in socks:
        try:
            bw.read_reply(s)
        except OSError:
            pass
        s.close()
th = threading.Thread(target=burst)
th.start()
lat = []
while th.is_alive():
    lat.append(admin(pb.ADMIN_VERB_HEALTHZ))
th.join()
print("burst of 2000 METRICS: %d healthz during it, %d ok, slowest %.1f ms; rss %d KiB"
      % (len(lat), sum(o for o, _ in lat), 1000 * max(t for _, t in lat), rss_kb()))
PY
