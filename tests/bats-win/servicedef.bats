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
	# The file named as Windows names it: DIR\NAME.servicedef.
	[ "$output" = "$(winpath "$dir")\echo.servicedef" ]
	wine_run "$(rp rp-servicedef)" show --json echo --dir "$(winpath "$dir")"
	[ "$status" -eq 0 ]
	/usr/bin/python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["definition"]["binary_path"] == "C:\\Program Files\\rp\\echo-backend.exe", d
assert d["definition"]["min_version"] == "1.0.0", d' "$output"
	# Plain: the path as Windows writes it, no backslash doubled.
	wine_run "$(rp rp-servicedef)" show echo --dir "$(winpath "$dir")"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "file: $(winpath "$dir")\echo.servicedef" ]
	[ "${lines[2]}" = 'binary: C:\Program Files\rp\echo-backend.exe' ]
	# No such program on this machine: check says so.
	wine_run "$(rp rp-servicedef)" check --dir "$(winpath "$dir")"
	[ "$status" -eq 1 ]
	[[ $output == *"does not exist"* ]]
	wine_run "$(rp rp-servicedef)" write --dir "$(winpath "$dir")" \
		--service echo --binary "$(winpath "$(rp echo-backend)")" \
		--min-version 1.0.0
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-servicedef)" check --dir "$(winpath "$dir")"
	[ "$status" -eq 0 ]
	# The doctor names the binary as Windows does too.
	wine_run "$(rp rp-probe)" doctor --service-dir "$(winpath "$dir")"
	grep -qxF "pass servicedef:echo.servicedef: service echo, binary $(winpath "$(rp echo-backend)")" <<<"$output"
	# So does a diagnostic, of a path given or made from a NAME.
	wine_run -1 "$(rp rp-servicedef)" show "$(winpath "$dir/none.servicedef")"
	[ "$output" = "rp-servicedef: $(winpath "$dir/none.servicedef"): No such file or directory" ]
	wine_run -1 "$(rp rp-servicedef)" show --dir "$(winpath "$dir")/" none
	[ "$output" = "rp-servicedef: $(winpath "$dir/none.servicedef"): No such file or directory" ]
	# And check's line for a directory ends with the separator.
	wine_run -1 "$(rp rp-servicedef)" check --dir "$(winpath "$dir/nowhere")"
	[ "$output" = "$(winpath "$dir/nowhere")\: does not exist" ]
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

# The definition file's own trust (rp_fs_read_trusted): Wine gives a file
# with no security descriptor of its own one made of its Unix mode, so
# chmod o+w is an ACE that lets Everyone (S-1-1-0) write.
@test "check, show by NAME: a definition others may write (its DACL) is exit 1, the reason said" {
	local dir w
	dir=$BATS_TEST_TMPDIR/defs
	mkdir -m 0700 "$dir"
	for w in a-ok open; do
		wine_run "$(rp rp-servicedef)" write --dir "$(winpath "$dir")" \
			--service "$w" --binary "$(winpath "$(rp echo-backend)")"
		[ "$status" -eq 0 ]
	done
	chmod 0644 "$dir/a-ok.servicedef"
	chmod 0666 "$dir/open.servicedef"
	wine_run "$(rp rp-servicedef)" check --dir "$(winpath "$dir")"
	[ "$status" -eq 1 ]
	[[ $output == *"a-ok.servicedef: ok"* ]]
	[[ $output == *"open.servicedef: writable by S-1-1-0 (its DACL allows it 0x"* ]]
	wine_run "$(rp rp-servicedef)" show open --dir "$(winpath "$dir")"
	[ "$status" -eq 1 ]
	[[ $output == *"open.servicedef: writable by S-1-1-0"* ]]
	chmod 0644 "$dir/open.servicedef"
	wine_run "$(rp rp-servicedef)" check --dir "$(winpath "$dir")"
	[ "$status" -eq 0 ]
}

# Wine 8 shows a Unix symbolic link as the file it leads to (no reparse
# point): listed in tests/win/wine-gaps.txt.
@test "check: a definition that is a symbolic link out of its directory is exit 1" {
	local dir
	dir=$BATS_TEST_TMPDIR/defs
	mkdir -m 0700 "$dir" "$BATS_TEST_TMPDIR/elsewhere"
	wine_run "$(rp rp-servicedef)" write \
		--dir "$(winpath "$BATS_TEST_TMPDIR/elsewhere")" \
		--service out --binary 'C:\x.exe'
	[ "$status" -eq 0 ]
	ln -s "$BATS_TEST_TMPDIR/elsewhere/out.servicedef" "$dir/out.servicedef"
	wine_run "$(rp rp-servicedef)" check --dir "$(winpath "$dir")"
	[ "$status" -eq 1 ]
	[[ $output == *"out.servicedef: a symbolic link leading out of its directory"* ]]
}

@test "check: a definition whose binary does not exist is flagged, exit 1; a real .exe passes" {
	local dir
	dir=$BATS_TEST_TMPDIR/bin
	mkdir -m 0700 "$dir"
	wine_run "$(rp rp-servicedef)" write --dir "$(winpath "$dir")" \
		--service gone --binary 'C:\nowhere\gone.exe'
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-servicedef)" check --dir "$(winpath "$dir")"
	[ "$status" -eq 1 ]
	[[ $output == *"does not exist"* ]]
	rm "$dir/gone.servicedef"
	wine_run "$(rp rp-servicedef)" write --dir "$(winpath "$dir")" \
		--service echo --binary "$(winpath "$(rp echo-backend)")"
	[ "$status" -eq 0 ]
	wine_run "$(rp rp-servicedef)" check --dir "$(winpath "$dir")"
	[ "$status" -eq 0 ]
}
