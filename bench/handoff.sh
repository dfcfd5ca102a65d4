#!/usr/bin/env bash
# bench/handoff.sh — connection handoff through rp-broker against the
# reconnect path, side by side in one run, with a C client (bench/handoff):
# from the Hello to one 100-byte request/response on the backend
# connection, P50 and P99 of each (targets: handoff < 0.9x the Hello and
# reconnect at both), the median time of each step, context switches per
# exchange of the client, the broker and the backend, and the CPU time of
# the broker and the backend per exchange (target: < 1.0x reconnecting's).
# The backend is the real examples/echo-backend (rp-handoff-recv --serve
# --echo: no fork per connection), spawned by rp-broker --handoff, which
# gives it its handoff socket.  The client runs on CPU 0; the broker and
# the backend on the last CPU, for both paths (bench/support/pin.sh; with
# one CPU nothing is pinned).  RP_BENCH_SAMPLES (10000) each.
# Then, for the breakdown, the spec's own sequence (--handoff-event broker,
# the client waiting for the event) against reconnecting, in a run of its
# own on a second broker.
set -u
B=${RP_BUILD:?RP_BUILD not set}
bin=$B/bench/handoff
[ -x "$bin" ] || { echo "handoff: $bin not built (make bench)" >&2; exit 1; }
samples=${RP_BENCH_SAMPLES:-10000}
# shellcheck source=bench/support/pin.sh
. "$(dirname "$0")/support/pin.sh"

# shellcheck source=bench/support/echo_service.sh
. "$(dirname "$0")/support/echo_service.sh"

mkfifo "$tmp/r" "$tmp/r2"
"${pin_server[@]}" "$B/bin/rp-broker" -s "$tmp/run/broker.sock" \
	-d "$tmp/defs" --rate-limit 0 --handoff --ready-fd 3 3>"$tmp/r" &
bpid=$!
pids+=("$bpid")
read -r -t 10 _ <"$tmp/r" || { echo "handoff: rp-broker not ready" >&2; exit 1; }
# For the breakdown: the spec's own sequence, on a broker of its own.
"${pin_server[@]}" "$B/bin/rp-broker" -s "$tmp/run/naive.sock" \
	-d "$tmp/defs" --rate-limit 0 --handoff --handoff-event broker \
	--ready-fd 3 3>"$tmp/r2" &
npid=$!
pids+=("$npid")
read -r -t 10 _ <"$tmp/r2" || { echo "handoff: rp-broker not ready" >&2; exit 1; }

# The first Hello spawns the backend (with the broker's CPU affinity).
backend_of() {
	"$B/bin/rp-probe" hello -s "$1" --service echo --version 1.0.0 \
		>/dev/null || return 1
	"$B/bin/rp-probe" admin -s "$1" status --json |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["backends"][0]["pid"])'
}
kpid=$(backend_of "$tmp/run/broker.sock") || exit 1
nkpid=$(backend_of "$tmp/run/naive.sock") || exit 1

pin_say "broker (pid $bpid) and backend (pid $kpid)"
"${pin_client[@]}" "$bin" latency "$tmp/run/broker.sock" "$samples" \
	"$bpid" "$kpid" || exit 1
"$B/bin/rp-probe" admin -s "$tmp/run/broker.sock" metrics |
	grep -E '^running_process_broker_v1_handoff_total' | grep -v ' 0$' | sed 's/^/  /'
# Kept apart so that it cannot disturb the bar's run: the naive sequence.
kill -TERM "$bpid"
wait "$bpid" 2>/dev/null
"${pin_client[@]}" "$bin" latency "$tmp/run/naive.sock" "$samples" \
	"$npid" "$nkpid" naive || exit 1
