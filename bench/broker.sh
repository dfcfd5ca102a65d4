#!/usr/bin/env bash
# bench/broker.sh — rp-broker against a trivial echo server, side by side
# in the same run, with a C client (bench/broker):
#   * Hello latency (connect, Hello, reply, close) vs a bare connect +
#     100-byte echo + close: P50 and P99 (targets 1.3x and 1.5x);
#   * throughput with 32 concurrent clients (target >= 0.8x);
#   * the broker's RSS idle and with 10 000 idle connections (target
#     <= 8 KiB each), and a fresh Hello's P99 with them open (<= 2x).
# The client runs on CPU 0 and every server process (broker, its backend,
# the echo server) on CPU 1, for both sides of every comparison.
# Sizes: RP_BENCH_SAMPLES (10000), RP_BENCH_CLIENTS (32), RP_BENCH_SECS
# (3), RP_BENCH_IDLE (10000).
set -u
B=${RP_BUILD:?RP_BUILD not set}
bin=$B/bench/broker
for t in taskset; do
	command -v "$t" >/dev/null || { echo "broker: $t not found" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "broker: $bin not built (make bench)" >&2; exit 1; }
samples=${RP_BENCH_SAMPLES:-10000}
clients=${RP_BENCH_CLIENTS:-32}
secs=${RP_BENCH_SECS:-3}
idle=${RP_BENCH_IDLE:-10000}
client_cpu=0
server_cpu=$(($(nproc) - 1))

# shellcheck source=bench/support/echo_service.sh
. "$(dirname "$0")/support/echo_service.sh"

# The servers, pinned; readiness through fifos.
mkfifo "$tmp/r1" "$tmp/r2"
taskset -c "$server_cpu" "$bin" echo-server "$tmp/run/echo.sock" 3 3>"$tmp/r1" &
pids+=($!)
taskset -c "$server_cpu" "$B/bin/rp-broker" -s "$tmp/run/broker.sock" \
	-d "$tmp/defs" --rate-limit 0 --max-clients $((idle + 100)) \
	--hello-timeout 600000 --ready-fd 3 3>"$tmp/r2" &
bpid=$!
pids+=("$bpid")
read -r -t 10 _ <"$tmp/r1" || { echo "broker: echo server not ready" >&2; exit 1; }
read -r -t 10 _ <"$tmp/r2" || { echo "broker: rp-broker not ready" >&2; exit 1; }

echo "client on CPU $client_cpu; broker, backend and echo server on CPU $server_cpu"
pin() { taskset -c "$client_cpu" "$@"; }
pin "$bin" latency "$tmp/run/echo.sock" "$tmp/run/broker.sock" "$samples" || exit 1
pin "$bin" throughput "$tmp/run/echo.sock" "$tmp/run/broker.sock" "$clients" "$secs" || exit 1
pin "$bin" memory "$tmp/run/broker.sock" "$bpid" "$idle" "$samples" || exit 1
