#!/usr/bin/env bats
# rp-broker's listener (issue 16): one accept per wake-up while the
# backlog proves empty, not a failed accept(2) after every connection
# (traced with strace); a backlog is still taken in batches.

load broker
bats_require_minimum_version 1.5.0

# backlog_at_least N — N connections wait in the listener's queue.
backlog_at_least() {
	local q
	q=$(ss -xlH | awk -v s="$SOCK" '$5 == s { print $3 }')
	[ -n "$q" ] && [ "$q" -ge "$1" ]
}

@test "one client after another: one accept each, at most one in eight wake-ups probing for a backlog" {
	rp_skip_if_traced
	start_broker
	run -0 hello
	strace -qq -o "$T/tr" -e trace=accept4 -p "$BPID" 2>"$T/strace.err" &
	local st=$! i
	RP_BG_PIDS+=("$st")
	wait_for rp_traced "$BPID"
	for i in 1 2 3 4; do
		run -0 hello
		[ "$(field code)" = 2 ]
	done
	kill -INT "$st"
	wait "$st" || true
	cat "$T/tr"
	run grep -c '^accept4(.* = [0-9]' "$T/tr"
	[ "$output" = 4 ]
	run grep -c '^accept4(.*EAGAIN' "$T/tr"
	[ "$output" -le 1 ]
}

@test "a backlog of connections is taken in batches, every one answered" {
	start_broker --max-clients 4096 --rate-limit 0
	# 300 connections made before the broker looks, then all answered
	kill -STOP "$BPID"
	bw_bg "$T/many" hello --socket "$SOCK" --parallel 300
	local many=$BG_PID
	wait_for backlog_at_least 100
	kill -CONT "$BPID"
	wait "$many"
	jf "sorted(set(str(r.get(\"reason\")) for r in d))" <"$T/many"
	[ "$(jf 'sum(1 for r in d if r.get("code") == 2)' <"$T/many")" = 300 ]
}
