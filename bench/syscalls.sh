#!/usr/bin/env bash
# bench/syscalls.sh — the system calls rp-broker makes per Hello: perf
# trace -s (else strace -f -c) attached to the broker while a client (bench/broker hellos) sends
# RP_BENCH_HELLOS (2000) Hellos one after the other, each on a new
# connection, after a warm-up that started the backend.  Prints each call
# per Hello and the total (no target: bench/RESULTS.md records the counts
# before and after each change).  RP_BENCH_BROKER runs another rp-broker
# binary (an older build, for a before/after).  Skipped without either.
set -u
B=${RP_BUILD:?RP_BUILD not set}
bin=$B/bench/broker
broker=${RP_BENCH_BROKER:-$B/bin/rp-broker}
n=${RP_BENCH_HELLOS:-2000}
command -v perf >/dev/null || command -v strace >/dev/null ||
	{ echo "syscalls: neither perf nor strace installed; skipped"; exit 0; }
[ -x "$bin" ] || { echo "syscalls: $bin not built (make bench)" >&2; exit 1; }
# shellcheck source=bench/support/pin.sh
. "$(dirname "$0")/support/pin.sh"
# shellcheck source=bench/support/echo_service.sh
. "$(dirname "$0")/support/echo_service.sh"

mkfifo "$tmp/r"
"${pin_server[@]}" "$broker" -s "$tmp/run/broker.sock" -d "$tmp/defs" \
	--rate-limit 0 --ready-fd 3 3>"$tmp/r" &
bpid=$!
pids+=("$bpid")
read -r -t 10 _ <"$tmp/r" || { echo "syscalls: rp-broker not ready" >&2; exit 1; }
"${pin_client[@]}" "$bin" hellos "$tmp/run/broker.sock" 200 || exit 1

# perf trace counts in the kernel without stopping the broker at each
# call; strace (ptrace) slows it down enough to change what it does (more
# connections already queued at each wake-up), so it is only the fallback.
if perf trace -s -o /dev/null -- true >/dev/null 2>&1; then
	tool="perf trace -s"
	perf trace -s -o "$tmp/trace" -p "$bpid" 2>/dev/null &
	spid=$!
	sleep 1    # perf offers no sign that it is attached
else
	tool="strace -f -c"
	strace -f -c -o "$tmp/trace" -p "$bpid" 2>/dev/null &
	spid=$!
	# Bounded wait until strace is attached.
	for ((i = 0; i < 500; i++)); do
		[ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$bpid/status")" != 0 ] && break
		sleep 0.01
	done
fi
"${pin_client[@]}" "$bin" hellos "$tmp/run/broker.sock" "$n" || exit 1
kill -INT "$spid"
wait "$spid" 2>/dev/null
pin_say "rp-broker"
echo "rp-broker system calls per Hello ($n Hellos, $tool; ${broker#"$B/"}):"
if [ "$tool" = "perf trace -s" ]; then
	# "   name  calls  errors  total min avg max stddev" rows
	awk -v n="$n" '
		$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && NF >= 8 {
			tot += $2; err += $3
			printf "  %-16s %6.2f%s\n", $1, $2 / n, ($3 > 0 ? sprintf("  (%.2f of them failed)", $3 / n) : "")
		}
		END { printf "  %-16s %6.2f%s\n", "total", tot / n, (err > 0 ? sprintf("  (%.2f of them failed)", err / n) : "") }' "$tmp/trace"
else
	awk -v n="$n" '
		function fail(e) { return e == "" ? "" : sprintf("  (%.2f of them failed)", e / n) }
		$1 ~ /^[0-9.]+$/ && NF >= 5 {
			name = $NF; calls = $4; errs = (NF == 6 ? $5 : "")
			if (name == "total") { total = sprintf("  %-16s %6.2f%s\n", name, calls / n, fail(errs)); next }
			printf "  %-16s %6.2f%s\n", name, calls / n, fail(errs)
		}
		END { printf "%s", total }' "$tmp/trace"
fi
