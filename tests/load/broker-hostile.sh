#!/bin/sh
# tests/load/broker-hostile.sh — what rp-broker holds under hostile load
# (issue 11): silent connections past --max-clients, Hellos for made-up
# services, clients that ask for METRICS and never read, a burst of
# METRICS beside a health check; then, on a second broker with
# RLIMIT_NOFILE 256, silent connections holding every fd, and a backend
# flooding its output.  Prints measurements, asserts nothing about time
# (the suite does not either); the numbers go in rp-broker(1).  Bounded:
# every client has a deadline, the brokers are stopped at the end.
#
# Usage: tests/load/broker-hostile.sh [BUILD_DIR]   (default build)
# RP_LOAD_SCALE=N divides every count by N (the suite runs it with 10).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
T=$(mktemp -d)
bpid= b2pid=
trap 'kill $bpid $b2pid 2>/dev/null || true; wait $bpid $b2pid 2>/dev/null || true; rm -rf "$T"' EXIT INT TERM
mkdir -m 0700 "$T/defs" "$T/run" "$T/pb"
protoc -I"$root/proto" -I/usr/include --python_out="$T/pb" \
	"$root/proto/rp_v1.proto" /usr/include/protobuf-c/protobuf-c.proto
mkfifo "$T/ready"
RUNNING_PROCESS_SERVICE_DEF_DIR="$T/defs" \
	"$build/bin/rp-broker" -s "$T/run/b.sock" --ready-fd 3 3>"$T/ready" &
bpid=$!
read -r _ <"$T/ready"
PYTHONPATH="$T/pb:$root/tests/bats/py" /usr/bin/python3 - "$T/run/b.sock" "$bpid" <<'PY'
import os, resource, socket, sys, threading, time
import brokerwire as bw
import rp_v1_pb2 as pb

path, pid = sys.argv[1], int(sys.argv[2])
K = int(os.environ.get("RP_LOAD_SCALE", "1"))
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
for _ in range(4200 // K):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    silent.append(s)
opened = time.monotonic() - t0
served = sum(1 for _ in range(50 // K) if hello() == 2)
admin_ok = [admin(pb.ADMIN_VERB_HEALTHZ) for _ in range(50 // K)]
print("silent: %d connections opened in %.2f s; while held: %d/%d Hellos "
      "answered (code 2, not 9), %d/%d healthz ok, slowest %.1f ms; rss %d KiB"
      % (len(silent), opened, served, 50 // K, sum(o for o, _ in admin_ok), 50 // K,
         1000 * max(t for _, t in admin_ok), rss_kb()))
for s in silent:
    s.close()

# 2. 300 made-up services
for i in range(300 // K):
    hello("made-up-%d" % i)
s = bw.connect(path)
s.sendall(bw.frame(pb.AdminRequest(verb=pb.ADMIN_VERB_METRICS)
                   .SerializeToString(), protocol=bw.ADMIN, request_id=1))
body = bw.read_reply(s)
s.close()
print("made-up services: METRICS is %d bytes after %d of them" % (len(body), 300 // K))

# 3. 1,000 clients ask for METRICS and never read
unread = []
req = bw.frame(pb.AdminRequest(verb=pb.ADMIN_VERB_METRICS).SerializeToString(),
               protocol=bw.ADMIN, request_id=1)
for _ in range(1000 // K):
    s = bw.connect(path)
    s.sendall(req)
    unread.append(s)
ok, _ = admin(pb.ADMIN_VERB_HEALTHZ)
print("unread METRICS x%d: rss %d KiB, healthz %s" % (1000 // K, rss_kb(), "ok" if ok else "FAILED"))
for s in unread:
    s.close()

# 4. a burst of 2,000 METRICS beside healthz
def burst():
    socks = []
    for _ in range(2000 // K):
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
print("burst of %d METRICS: %d healthz during it, %d ok, slowest %.1f ms; rss %d KiB"
      % (2000 // K, len(lat), sum(o for o, _ in lat), 1000 * max(t for _, t in lat), rss_kb()))
PY
kill "$bpid"
wait "$bpid" || true
bpid=

# The second broker: RLIMIT_NOFILE 256, two services whose backends are
# rp-test-backend: echo, and flood, which writes its output without end.
mkdir -m 0700 "$T/defs2" "$T/run2"
printf '#!/bin/sh\nexec "%s" serve\n' "$build/tests/helpers/rp-test-backend" >"$T/echo.sh"
printf '#!/bin/sh\nyes flood flood flood flood flood flood flood flood &\nexec "%s" serve\n' \
	"$build/tests/helpers/rp-test-backend" >"$T/flood.sh"
chmod 0755 "$T/echo.sh" "$T/flood.sh"
PYTHONPATH="$T/pb" /usr/bin/python3 - "$T/defs2" "$T/echo.sh" "$T/flood.sh" <<'PY'
import os, sys
import rp_v1_pb2 as pb
for name, binary in (("echo", sys.argv[2]), ("flood", sys.argv[3])):
    p = os.path.join(sys.argv[1], name + ".servicedef")
    with open(p, "wb") as f:
        f.write(pb.ServiceDefinition(service_name=name,
                                     binary_path=binary).SerializeToString())
    os.chmod(p, 0o600)
PY
mkfifo "$T/ready2"
RUNNING_PROCESS_SERVICE_DEF_DIR="$T/defs2" prlimit --nofile=256:256 \
	"$build/bin/rp-broker" -s "$T/run2/b.sock" --ready-fd 3 3>"$T/ready2" \
	2>"$T/log2" &
b2pid=$!
read -r _ <"$T/ready2"
PYTHONPATH="$T/pb:$root/tests/bats/py" /usr/bin/python3 - "$T/run2/b.sock" \
	"$b2pid" "$T/log2" <<'PY'
import os, resource, socket, sys, time
import brokerwire as bw
import rp_v1_pb2 as pb

path, pid, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
K = int(os.environ.get("RP_LOAD_SCALE", "1"))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def rss_kb():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def hello(service="echo", timeout=10.0):
    t0 = time.monotonic()
    try:
        s = bw.connect(path, timeout)
        s.sendall(bw.frame(bw.hello(service), request_id=2))
        d = bw.describe(bw.read_reply(s))
        s.close()
        return d.get("result"), time.monotonic() - t0
    except OSError:
        return None, time.monotonic() - t0

def admin(verb, timeout=10.0):
    t0 = time.monotonic()
    try:
        s = bw.connect(path, timeout)
        s.sendall(bw.frame(pb.AdminRequest(verb=verb).SerializeToString(),
                           protocol=bw.ADMIN, request_id=1))
        d = bw.describe(bw.read_reply(s))
        s.close()
        return d, time.monotonic() - t0
    except OSError:
        return None, time.monotonic() - t0

# 5. silent connections holding every fd (RLIMIT_NOFILE 256)
hello()
silent = []
for _ in range(max(300, 1000 // K)):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    silent.append(s)
res = [hello() for _ in range(50 // K)]
hz = [admin(pb.ADMIN_VERB_HEALTHZ) for _ in range(50 // K)]
print("RLIMIT_NOFILE 256, %d silent connections: %d/%d Hellos negotiated, "
      "slowest %.1f ms; %d/%d healthz ok; rss %d KiB"
      % (len(silent), sum(r == "negotiated" for r, _ in res), len(res),
         1000 * max(t for _, t in res),
         sum(d is not None and d.get("body") == "ok\n" for d, _ in hz),
         len(hz), rss_kb()))
for s in silent:
    s.close()

# 6. a backend flooding its output
size0 = os.path.getsize(log)
r, _ = hello("flood")
t0 = time.monotonic()
lat = []
while time.monotonic() - t0 < 3.0 / K:
    lat.append(hello()[1])
    lat.append(admin(pb.ADMIN_VERB_HEALTHZ)[1])
el = time.monotonic() - t0
d, _ = admin(pb.ADMIN_VERB_METRICS)
dropped = sum(float(l.split()[-1]) for l in d["body"].splitlines()
              if l.startswith("running_process_broker_v1_backend_output_"
                              "dropped_bytes_total"))
print("a backend flooding its output (%s) for %.1f s: %d Hellos and "
      "healthz, slowest %.1f ms; log grew %d bytes; %d bytes dropped"
      % (r, el, len(lat), 1000 * max(lat), os.path.getsize(log) - size0,
         dropped))
PY

