#!/usr/bin/env bats
# examples/demo.cmd, the Windows counterpart of the README's demo, run
# by Wine's cmd as it would run on Windows: every step works, the broker
# and its backend are gone at the end, and it leaves nothing in %TEMP%.

load helper

teardown() {
	wine_stop_all
}

@test "examples\\demo.cmd: a broker, its backend and a client, then stopped" {
	local before after
	before=$(ls "$WINEPREFIX"/drive_c/users/*/Temp 2>/dev/null | grep -c rpdemo || true)
	RP_BIN=$(winpath "$RP_BUILD_WIN/bin") wine_run cmd /c \
		"$(winpath "$RP_ROOT/examples/demo.cmd")"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[[ $output == *"1. a service definition"* ]]
	# The Hello negotiated: the backend's pipe, named as upstream names it.
	[[ $output =~ pipe.+rpb-v1-[0-9a-f]{16}-be-[0-9a-f]{32} ]]
	# rp-probe's plain line is the name as Windows writes it.
	grep -qxE '\\\\\.\\pipe\\rpb-v1-[0-9a-f]{16}-be-[0-9a-f]{32}' <<<"$output"
	[[ $output == *'"healthy":true'* ]]
	[[ $output == *"broker shutting down"* ]]
	[ "${lines[-1]}" = "demo: done" ]
	after=$(ls "$WINEPREFIX"/drive_c/users/*/Temp 2>/dev/null | grep -c rpdemo || true)
	[ "$after" = "$before" ]
}
