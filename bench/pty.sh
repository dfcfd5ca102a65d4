#!/usr/bin/env bash
# bench/pty.sh — rp-spawn-pty side by side with util-linux `script -qefc`
# in one run, the two interleaved round by round:
#
#   1. throughput: the child cats a 256 MiB text file into its terminal,
#      the wrapper relays it to /dev/null, into a pipe (| cat), and to
#      /dev/null while keeping a copy in a file (--transcript; script's
#      typescript);
#   2. start-up cost of `-- true` (script: -qefc true).
#
# Prints medians and the ratio script/rp-spawn-pty of the times (>= 1.00
# means rp-spawn-pty is at least as fast).  Nothing is asserted.
# Knobs: PTY_BENCH_MB (256), PTY_BENCH_ROUNDS (5), PTY_BENCH_STARTS (400).
set -eu

SP=$RP_BUILD/bin/rp-spawn-pty
CLOCK=$RP_BUILD/bench/pty
MB=${PTY_BENCH_MB:-256}
ROUNDS=${PTY_BENCH_ROUNDS:-5}
STARTS=${PTY_BENCH_STARTS:-400}
BLOCKS=4

if ! command -v script >/dev/null; then
	echo "pty: util-linux script is not installed" >&2
	exit 1
fi
# script runs its command through $SHELL -c: the lightest shell there is.
export SHELL=/bin/sh

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# 79 characters and a newline per line, like a wide build log.
line=$(printf '%079d' 0 | tr 0 x)
yes "$line" | head -c $((MB * 1048576)) >"$dir/data"
lines=$((MB * 1048576 / 80))

# Both must relay every byte (each \n becomes \r\n on the terminal).
want=$((MB * 1048576 + lines))
"$CLOCK" -o "$dir/out" -- "$SP" -- cat "$dir/data" >/dev/null
got_rp=$(stat -c %s "$dir/out")
"$CLOCK" -o "$dir/out" -- script -qefc "cat $dir/data" /dev/null >/dev/null
got_sc=$(stat -c %s "$dir/out")
rm -f "$dir/out"
echo "sanity: $want bytes expected; rp-spawn-pty relayed $got_rp, script $got_sc"

us() { sed -n 's/.*median_us=\([0-9]*\).*/\1/p'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# throughput NAME CMD-FOR-RP CMD-FOR-SCRIPT (each a sh -c string)
throughput() {
	local name=$1 rp_cmd=$2 sc_cmd=$3 r rp=() sc=() mrp msc
	for ((r = 0; r < ROUNDS; r++)); do
		rp+=("$("$CLOCK" -- sh -c "$rp_cmd" | us)")
		sc+=("$("$CLOCK" -- sh -c "$sc_cmd" | us)")
	done
	mrp=$(printf '%s\n' "${rp[@]}" | median)
	msc=$(printf '%s\n' "${sc[@]}" | median)
	awk -v n="$name" -v mb="$MB" -v r="$ROUNDS" -v a="$mrp" -v b="$msc" 'BEGIN {
		printf "throughput, %d MiB through cat, %s (median of %d):\n", mb, n, r
		printf "  rp-spawn-pty   %7.3f s  %7.1f MiB/s\n", a / 1e6, mb / (a / 1e6)
		printf "  script -qefc   %7.3f s  %7.1f MiB/s\n", b / 1e6, mb / (b / 1e6)
		printf "  ratio script/rp-spawn-pty: %.2f\n", b / a
		printf "RESULT\t%d MiB %s: script time / rp-spawn-pty time, median of %d\t%.3f\t>=\t1\n", mb, n, r, b / a
	}'
}

throughput "to /dev/null" \
	"'$SP' -- cat '$dir/data' </dev/null >/dev/null" \
	"script -qefc 'cat $dir/data' /dev/null </dev/null >/dev/null"
throughput "into a pipe" \
	"'$SP' -- cat '$dir/data' </dev/null | cat >/dev/null" \
	"script -qefc 'cat $dir/data' /dev/null </dev/null | cat >/dev/null"
throughput "to /dev/null, with a transcript file" \
	"'$SP' --transcript '$dir/t' -- cat '$dir/data' </dev/null >/dev/null" \
	"script -qefc 'cat $dir/data' '$dir/t' </dev/null >/dev/null"
rm -f "$dir/t"

per=$((STARTS / BLOCKS))
rp=()
sc=()
for ((b = 0; b < BLOCKS; b++)); do
	rp+=("$("$CLOCK" -n "$per" -- "$SP" -- true | us)")
	sc+=("$("$CLOCK" -n "$per" -- script -qefc true /dev/null | us)")
done
mrp=$(printf '%s\n' "${rp[@]}" | median)
msc=$(printf '%s\n' "${sc[@]}" | median)
awk -v n="$STARTS" -v a="$mrp" -v b="$msc" 'BEGIN {
	printf "start-up, -- true (median of %d runs, in 4 interleaved blocks):\n", n
	printf "  rp-spawn-pty   %8.0f us\n", a
	printf "  script -qefc   %8.0f us\n", b
	printf "  ratio script/rp-spawn-pty: %.2f\n", b / a
}'
