# helper.bash — what the Windows end-to-end tests share.  They run from
# tests/run-windows, which provides the Wine prefix and a warm wineserver
# (whose services must not be started from inside a test: they would
# inherit bats' descriptors and hold it open after the last test).
#
#   RP_BUILD_WIN  the Windows build directory (build-win/)
#   wine_run EXE [ARG...]
#                 bats' `run` for an .exe under Wine: bounded in time, fd 3
#                 closed (bats waits for every holder of it), CRs dropped
#                 from $output and $lines (the CRT writes CRLF).

WINE=${WINE:-/usr/lib/wine/wine64}
RP_BUILD_WIN=${RP_BUILD_WIN:-$BATS_TEST_DIRNAME/../../build-win}

wine_run() {
	run timeout -k 10 120 "$WINE" "$@" 3>&-
	output=${output//$'\r'/}
	lines=()
	if [ -n "$output" ]; then
		# shellcheck disable=SC2034  # bats' own $lines
		mapfile -t lines <<<"$output"
	fi
}

# Every .exe of the build.
win_exes() {
	ls "$RP_BUILD_WIN"/bin/*.exe "$RP_BUILD_WIN"/tests/unit/*.exe \
		2>/dev/null
}
