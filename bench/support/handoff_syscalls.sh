#!/usr/bin/env bash
# bench/support/handoff_syscalls.sh — system calls per handoff (and per
# reconnect) on the broker and on its echo backend while bench/handoff
# repeats one kind N times (RP_BENCH_SAMPLES, 2000), serially, pinned as
# bench/handoff.sh pins them.  Counted with perf trace -s (in the kernel,
# without stopping the servers), else strace -c attached to each (which
# slows them down enough to change how often a request or a close is
# already there when they look: the failed calls move).  Run from the
# top of the tree with RP_BUILD (or B) set: B=build
# bench/support/handoff_syscalls.sh.  Not part of `make bench`.
set -u
B=${RP_BUILD:-$(cd "${B:-build}" && pwd)}
n=${RP_BENCH_SAMPLES:-2000}
if perf trace -s -o /dev/null -- true >/dev/null 2>&1; then
	tool=perf
elif command -v strace >/dev/null; then
	tool=strace
else
	echo "handoff_syscalls: neither perf nor strace installed" >&2
	exit 1
fi
# shellcheck source=bench/support/pin.sh
. "$(dirname "$0")/pin.sh"
# shellcheck source=bench/support/echo_service.sh
. "$(dirname "$0")/echo_service.sh"

mkfifo "$tmp/r"
"${pin_server[@]}" "$B/bin/rp-broker" -s "$tmp/run/broker.sock" -d "$tmp/defs" \
	--rate-limit 0 --handoff --ready-fd 3 3>"$tmp/r" &
bpid=$!
pids+=("$bpid")
read -r -t 10 _ <"$tmp/r" || { echo "handoff_syscalls: rp-broker not ready" >&2; exit 1; }
"$B/bin/rp-probe" hello -s "$tmp/run/broker.sock" --service echo \
	--version 1.0.0 >/dev/null || exit 1
kpid=$("$B/bin/rp-probe" admin -s "$tmp/run/broker.sock" status --json |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["backends"][0]["pid"])') || exit 1
# Warm: the handoff connection is open, the caches are filled.
"${pin_client[@]}" "$B/bench/handoff" repeat "$tmp/run/broker.sock" 200 handoff || exit 1

# One process's table: "<name> <calls> <errors>" per call.
table() {
	if [ "$tool" = perf ]; then
		# "   name  calls  errors  total min avg max stddev" rows of
		# the section of the process named $2 (comm, 15 characters)
		awk -v who="$2" '
			/^ [^ ].* \([0-9]+\), [0-9]+ events/ { cur = $1 }
			cur == who && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && NF >= 8 { print $1, $2, $3 }' "$1"
	else
		# % time, seconds, usecs/call, calls, [errors,] syscall
		awk '$1 ~ /^[0-9.]+$/ && (NF == 5 || NF == 6) && $NF != "total" {
			print $NF, $4, (NF == 6 ? $5 : 0) }' "$1"
	fi
}

# count KIND: trace both servers while N of KIND run; print per-exchange
# totals and the calls that make them up.
count() {
	local who f s1 s2=
	if [ "$tool" = perf ]; then
		perf trace -s -o "$tmp/trace.$1" -p "$bpid,$kpid" 2>/dev/null &
		s1=$!
	else
		strace -c -q -o "$tmp/trace.$1.broker" -p "$bpid" &
		s1=$!
		strace -c -q -o "$tmp/trace.$1.backend" -p "$kpid" &
		s2=$!
	fi
	# Neither says when it is attached: let it settle.
	sleep 1
	"${pin_client[@]}" "$B/bench/handoff" repeat "$tmp/run/broker.sock" "$n" "$1" || exit 1
	sleep 0.2
	kill -INT "$s1" $s2
	wait "$s1" $s2 2>/dev/null
	for who in broker backend; do
		if [ "$tool" = perf ]; then
			f=$tmp/trace.$1
			[ "$who" = broker ] && name=rp-broker || name=rp-handoff-recv
		else
			f=$tmp/trace.$1.$who
			name=
		fi
		table "$f" "$name" | awk -v n="$n" -v who="$who" -v kind="$1" '
			{ c[$1] = $2; e[$1] = $3; tot += $2 }
			END {
				printf "%-9s %-7s %5.2f calls per exchange:", kind, who, tot / n
				for (k in c) if (c[k] / n >= 0.05) {
					printf " %s %.2f", k, c[k] / n
					if (e[k] / n >= 0.05) printf " (%.2f failed)", e[k] / n
				}
				printf "\n"
			}'
	done
}
echo "system calls per exchange ($n of each, one after the other; $tool)"
count handoff
count reconnect
