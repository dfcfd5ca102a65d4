# shellcheck shell=bash
# bench/support/echo_service.sh — sourced (not run) by bench/broker.sh and
# bench/handoff.sh, with B set to the build directory.  Makes a private
# temporary tree $tmp with run/ and defs/ (removed on exit, after the
# processes listed in the array pids are stopped), writes into defs/ a
# service "echo" whose backend is the real examples/echo-backend, and
# exports RP_BIN for the broker.
tmp=$(mktemp -d) || exit 1
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -m 0700 "$tmp/run" "$tmp/defs"

export RP_BIN=$B/bin
"$B/bin/rp-servicedef" write --dir "$tmp/defs" --service echo \
	--binary "$PWD/examples/echo-backend" >/dev/null || exit 1
# Where the broker cannot watch its definitions (no inotify), one changed
# within the last second is re-read on every Hello (its timestamp cannot
# yet prove it unchanged); deployed definitions are older than that, so
# let this one age before measuring.
sleep 1.1
