#!/usr/bin/env bash
# bench/broker.sh — rp-broker against a trivial echo server, side by side
# in the same run, with a C client (bench/broker):
#   * Hello latency (connect, Hello, reply, close) vs a bare connect +
#     100-byte echo + close against a lean blocking echo server (accept,
#     read, write, close): P50 and P99 (targets 1.15x and 1.3x), and the
#     server CPU time per exchange of each (target 1.15x), with an epoll
#     server doing only accept4 + SO_PEERCRED + read + send + close as the
#     floor beside them;
#   * throughput with 32 concurrent clients (target >= 0.8x);
#   * the broker's RSS idle and with 10 000 idle connections (target
#     <= 8 KiB each), and a fresh Hello's P99 with them open (<= 2x).
# With 2 or more CPUs the client runs on CPU 0 and every server process
# (broker, its backend, the echo and floor servers) on the last CPU, for
# every side of every comparison; with one CPU nothing is pinned.
# Sizes: RP_BENCH_SAMPLES (10000), RP_BENCH_CLIENTS (32), RP_BENCH_SECS
# (3), RP_BENCH_IDLE (10000).  RP_BENCH_BROKER runs another rp-broker
# binary (an older build, for a before/after).
set -u
B=${RP_BUILD:?RP_BUILD not set}
bin=$B/bench/broker
[ -x "$bin" ] || { echo "broker: $bin not built (make bench)" >&2; exit 1; }
samples=${RP_BENCH_SAMPLES:-10000}
clients=${RP_BENCH_CLIENTS:-32}
secs=${RP_BENCH_SECS:-3}
idle=${RP_BENCH_IDLE:-10000}
# shellcheck source=bench/support/pin.sh
. "$(dirname "$0")/support/pin.sh"

# shellcheck source=bench/support/echo_service.sh
. "$(dirname "$0")/support/echo_service.sh"

# The servers, pinned; readiness through fifos.
mkfifo "$tmp/r1" "$tmp/r2" "$tmp/r3"
"${pin_server[@]}" "$bin" echo-server "$tmp/run/echo.sock" 3 3>"$tmp/r1" &
epid=$!
pids+=("$epid")
"${pin_server[@]}" "$bin" floor-server "$tmp/run/floor.sock" 3 3>"$tmp/r3" &
fpid=$!
pids+=("$fpid")
"${pin_server[@]}" "${RP_BENCH_BROKER:-$B/bin/rp-broker}" -s "$tmp/run/broker.sock" \
	-d "$tmp/defs" --rate-limit 0 --max-clients $((idle + 100)) \
	--hello-timeout 600000 --ready-fd 3 3>"$tmp/r2" &
bpid=$!
pids+=("$bpid")
read -r -t 10 _ <"$tmp/r1" || { echo "broker: echo server not ready" >&2; exit 1; }
read -r -t 10 _ <"$tmp/r2" || { echo "broker: rp-broker not ready" >&2; exit 1; }
read -r -t 10 _ <"$tmp/r3" || { echo "broker: floor server not ready" >&2; exit 1; }

pin_say "broker, backend, echo and floor servers"
"${pin_client[@]}" "$bin" latency "$samples" "$tmp/run/echo.sock" "$epid" \
	"$tmp/run/broker.sock" "$bpid" "$tmp/run/floor.sock" "$fpid" || exit 1
"${pin_client[@]}" "$bin" throughput "$tmp/run/echo.sock" "$tmp/run/broker.sock" "$clients" "$secs" || exit 1
"${pin_client[@]}" "$bin" memory "$tmp/run/broker.sock" "$bpid" "$idle" "$samples" || exit 1
