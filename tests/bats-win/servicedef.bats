#!/usr/bin/env bats
# rp-servicedef.exe under Wine: definitions written, shown and checked in
# a private directory with Windows paths (owner and DACL stand in for the
# uid and mode checks).

load helper

@test "write, show and check a definition with Windows paths" {
	local dir
	dir=$BATS_TEST_TMPDIR/defs
	mkdir -m 0700 "$dir"
	wine_run "$(rp rp-servicedef)" write --dir "$(winpath "$dir")" \
		--service echo --binary 'C:\Program Files\rp\echo-backend.exe' \
		--min-version 1.0.0
	[ "$status" -eq 0 ]
	[ -f "$dir/echo.servicedef" ]
	wine_run "$(rp rp-servicedef)" show --json echo --dir "$(winpath "$dir")"
	[ "$status" -eq 0 ]
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["definition"]["binary_path"] == "C:\\Program Files\\rp\\echo-backend.exe", d
assert d["definition"]["min_version"] == "1.0.0", d' "$output"
	wine_run "$(rp rp-servicedef)" check --dir "$(winpath "$dir")"
	[ "$status" -eq 0 ]
}

@test "a directory others may write to is refused (exit 1, the reason said)" {
	local dir
	dir=$BATS_TEST_TMPDIR/open
	mkdir -m 0777 "$dir"
	wine_run "$(rp rp-servicedef)" write --dir "$(winpath "$dir")" \
		--service echo --binary 'C:\x.exe'
	[ "$status" -ne 0 ]
	[[ $output == *"grants access to S-1-1-0"* ]]
}
