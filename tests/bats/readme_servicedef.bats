#!/usr/bin/env bats
# The README's rp-servicedef snippet, run exactly as written (from the
# top of the tree, as a reader would), with its output checked.  If this
# test changes, the README must change with it, and the other way round.

load helper
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	D="$RUNNING_PROCESS_SERVICE_DEF_DIR"
}

teardown() {
	rp_teardown
}

@test "README: service definitions" {
	cat >"$T/snippet.sh" <<'SNIPPET'
# A service: the broker starts its backend (any program) on the first Hello
rp-servicedef write --service echo --binary "$PWD/examples/echo-backend" --min-version 1.0.0
# Served by a named broker instance, for two versions only
rp-servicedef write --service echo-team --binary /usr/local/bin/echo-backend \
    --isolation explicit --instance team-a \
    --allow-version 1.0.0 --allow-version 1.2.0 --label owner=platform
rp-servicedef show echo                  # one "key: value" line per fact
rp-servicedef show --json echo-team      # or one JSON document
rp-servicedef check                      # CI pre-flight: the directory, then each file
SNIPPET
	cd "$RP_ROOT"
	run --separate-stderr bash -e "$T/snippet.sh"
	assert_success
	[ -z "$stderr" ]
	[ "${lines[0]}" = "$D/echo.servicedef" ]
	[ "${lines[1]}" = "$D/echo-team.servicedef" ]
	[ "${lines[2]}" = "file: $D/echo.servicedef" ]
	[ "${lines[3]}" = "service: echo" ]
	[ "${lines[4]}" = "binary: $RP_ROOT/examples/echo-backend" ]
	[ "${lines[5]}" = "isolation: shared" ]
	[ "${lines[6]}" = "min_version: 1.0.0" ]
	/usr/bin/python3 - "${lines[7]}" "$D" <<'PY'
import json, sys
doc = json.loads(sys.argv[1])
assert doc == {
    "path": sys.argv[2] + "/echo-team.servicedef",
    "definition": {
        "service_name": "echo-team",
        "binary_path": "/usr/local/bin/echo-backend",
        "isolation": "explicit",
        "explicit_instance": "team-a",
        "per_version_binary_dir": "",
        "min_version": "",
        "version_allow_list": ["1.0.0", "1.2.0"],
        "labels": {"owner": "platform"},
    },
}, doc
PY
	[ "${lines[8]}" = "echo-team.servicedef: ok" ]
	[ "${lines[9]}" = "echo.servicedef: ok" ]
	[ "${#lines[@]}" -eq 10 ]
}
