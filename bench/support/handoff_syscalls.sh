#!/usr/bin/env bash
# bench/support/handoff_syscalls.sh — system calls per handoff (and per
# reconnect) on the broker and on its echo backend, counted with
# strace -c attached to each while bench/handoff repeats one kind N times
# (RP_BENCH_SAMPLES, 2000).  Run from the top of the tree with RP_BUILD
# (or B) set: B=build bench/support/handoff_syscalls.sh.  Not part of
# `make bench` (strace slows everything down; the counts are what matter).
set -u
B=${RP_BUILD:-$(cd "${B:-build}" && pwd)}
n=${RP_BENCH_SAMPLES:-2000}
command -v strace >/dev/null || { echo "handoff_syscalls: strace not found" >&2; exit 1; }
# shellcheck source=bench/support/echo_service.sh
. "$(dirname "$0")/echo_service.sh"

mkfifo "$tmp/r"
"$B/bin/rp-broker" -s "$tmp/run/broker.sock" -d "$tmp/defs" \
	--rate-limit 0 --handoff --ready-fd 3 3>"$tmp/r" &
bpid=$!
pids+=("$bpid")
read -r -t 10 _ <"$tmp/r" || { echo "handoff_syscalls: rp-broker not ready" >&2; exit 1; }
"$B/bin/rp-probe" hello -s "$tmp/run/broker.sock" --service echo \
	--version 1.0.0 >/dev/null || exit 1
kpid=$("$B/bin/rp-probe" admin -s "$tmp/run/broker.sock" status --json |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["backends"][0]["pid"])') || exit 1
# Warm: the handoff connection is open, the caches are filled.
"$B/bench/handoff" repeat "$tmp/run/broker.sock" 200 handoff || exit 1

# count KIND: strace both servers while N of KIND run; print per-exchange
# totals and the calls that make them up.
count() {
	local who p f
	strace -c -q -o "$tmp/broker.$1" -p "$bpid" &
	local s1=$!
	strace -c -q -o "$tmp/backend.$1" -p "$kpid" &
	local s2=$!
	# strace -p attaches asynchronously: let it settle.
	sleep 0.5
	"$B/bench/handoff" repeat "$tmp/run/broker.sock" "$n" "$1" || exit 1
	sleep 0.2
	kill -INT "$s1" "$s2"
	wait "$s1" "$s2" 2>/dev/null
	for who in broker backend; do
		f=$tmp/$who.$1
		awk -v n="$n" -v who="$who" -v kind="$1" '
			# % time, seconds, usecs/call, calls, [errors,] syscall
			$1 ~ /^[0-9.]+$/ && (NF == 5 || NF == 6) {
				if ($NF == "total") { tot = $4; next }
				c[$NF] = $4; e[$NF] = NF == 6 ? $5 : 0
			}
			END {
				printf "%-9s %-7s %5.2f calls per exchange:", kind, who, tot / n
				for (k in c) if (c[k] / n >= 0.05) {
					printf " %s %.2f", k, c[k] / n
					if (e[k] / n >= 0.05) printf " (%.2f failed)", e[k] / n
				}
				printf "\n"
			}' "$f"
	done
}
count handoff
count reconnect
