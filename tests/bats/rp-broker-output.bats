#!/usr/bin/env bats
# Where a spawned backend's stdout and stderr go: a pipe the broker reads,
# to its own log as whole lines prefixed with the service and pid,
# escaped, under a byte budget per backend; a backend that floods its
# output (text, binary junk, a line without end, never reading its stdin)
# cannot fill the log nor slow the broker, and what is dropped is said
# and counted.

load broker
bats_require_minimum_version 1.5.0

backend_pid() {
	admin backend-health --service "$1" --body | jf "[b['pid'] for b in d['backends']][0]"
}

@test "a backend's output reaches the broker's log as whole lines, with its service and pid, escaped" {
	def chatty chatty
	start_broker
	run -0 hello --service chatty
	[ "$(field result)" = negotiated ]
	local pid
	pid=$(backend_pid chatty)
	wait_for grep -q "^rp-broker: backend chatty\[$pid\]: on stderr" "$T/broker.err"
	grep -qx "rp-broker: backend chatty\[$pid\]: starting chatty" "$T/broker.err"
	grep -qx "rp-broker: backend chatty\[$pid\]: part one, part two" "$T/broker.err"
	grep -qxF "rp-broker: backend chatty[$pid]: on stderr: café \\x1b[31mred\\x1b[0m" "$T/broker.err"
	# a last line without its newline comes when its output ends
	! grep -q "last words" "$T/broker.err"
	stop_broker
	grep -qx "rp-broker: backend chatty\[$pid\]: last words" "$T/broker.err"
	[ "$(grep -c "backend chatty" "$T/broker.err")" -eq 4 ]
	# the broker's own stdout never saw any of it
	[ ! -s "$T/broker.out" ]
}

@test "a backend that floods its output: the broker serves on, its log stays bounded, the excess is dropped, said and counted" {
	def flood flood
	local t0 rate=4096 burst=8192
	t0=$(date +%s%N)
	start_broker --backend-output-rate "$rate" --backend-output-burst "$burst"
	echo "# $(date +%T.%N) start" >&3
	run -0 hello --service flood
	[ "$(field result)" = negotiated ]
	local pid
	pid=$(backend_pid flood)
	# 3 s of flood: Hellos and healthz are answered as usual meanwhile
	run -0 /usr/bin/python3 - "$SOCK" <<'PY'
import subprocess, sys, time
sock = sys.argv[1]
worst = 0
end = time.monotonic() + 3
n = 0
while time.monotonic() < end:
    for argv in (["rp-probe", "hello", "-q", "-s", sock, "--service", "flood",
                  "--version", "1.0.0", "--timeout", "2000"],
                 ["rp-probe", "admin", "-s", sock, "healthz"]):
        t = time.monotonic()
        r = subprocess.run(argv, capture_output=True, timeout=10)
        worst = max(worst, time.monotonic() - t)
        assert r.returncode == 0, (argv, r)
    n += 1
assert worst < 1, worst
print(n, round(worst, 3))
PY
	echo "# rounds, slowest: $output" >&3
	wait_for grep -q "^rp-broker: dropped [0-9]* bytes of output from backend flood\[$pid\]: over its budget of $rate bytes a second (burst $burst)\$" "$T/broker.err"
	local dropped
	dropped=$(metric running_process_broker_v1_backend_output_dropped_bytes_total service=flood)
	[ "$dropped" -gt 1000000 ]
	admin metrics --body >"$T/om.txt"
	grep -q '^running_process_broker_v1_backend_output_dropped_bytes_total{service="flood"} [0-9]' "$T/om.txt"
	rp-probe admin -s "$SOCK" metrics --format prometheus >"$T/prom.txt"
	promtool check metrics <"$T/prom.txt"
	# what got through is whole text lines of the budget, no more
	local size elapsed_ms bound
	size=$(stat -c %s "$T/broker.err")
	elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	# what the bucket paid for (each line with its prefix), plus the
	# broker's own lines
	bound=$(( burst + rate * elapsed_ms / 1000 + 8192 ))
	echo "# log $size bytes in $elapsed_ms ms, bound $bound" >&3
	[ "$size" -le "$bound" ]
	# every line of the flood got through whole, or not at all
	! grep "backend flood\[$pid\]: " "$T/broker.err" | grep -v "^rp-broker: backend flood\[$pid\]: \(flood \)*flood\$" | grep -qv '\\x'
	stop_broker
	run ! kill -0 "$pid"
}

@test "a backend that writes empty lines: each costs its prefix too, so the log stays within the budget" {
	def empty empty-lines
	local t0 rate=4096 burst=8192
	t0=$(date +%s%N)
	start_broker --backend-output-rate "$rate" --backend-output-burst "$burst"
	run -0 hello --service empty
	[ "$(field result)" = negotiated ]
	local pid
	pid=$(backend_pid empty)
	# three of the once-a-second "dropped" lines: two seconds of it and more
	dropped_lines() {
		[ "$(grep -c "^rp-broker: dropped [0-9]* bytes of output from backend empty\[$pid\]" "$T/broker.err")" -ge 3 ]
	}
	wait_for dropped_lines
	local size elapsed_ms bound lines
	size=$(stat -c %s "$T/broker.err")
	elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	bound=$(( burst + rate * elapsed_ms / 1000 + 8192 ))
	lines=$(grep -c "^rp-broker: backend empty\[$pid\]: \$" "$T/broker.err")
	echo "# log $size bytes ($lines empty lines) in $elapsed_ms ms, bound $bound" >&3
	# (before: 33 bytes of log for each byte of budget)
	[ "$size" -le "$bound" ]
	[ "$lines" -ge 100 ]
	stop_broker
}
