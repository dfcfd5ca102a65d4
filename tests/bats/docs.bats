#!/usr/bin/env bats
# The manual pages, all of them: mandoc finds nothing wrong beyond the
# paragraph macros scdoc always emits, and no scdoc markup is left over
# as literal text in the rendered page (as "10+_N_" once was, where scdoc
# does not open an underline after a "+").

load helper

@test "every man page passes mandoc -Tlint" {
	local scd page out n=0
	for scd in "$RP_ROOT"/doc/*.scd; do
		page="$RP_BUILD/doc/$(basename "$scd" .scd)"
		[ -f "$page" ] || { echo "not built: $page"; return 1; }
		out=$(mandoc -Tlint -Wwarning "$page" 2>&1 |
			grep -v 'skipping paragraph macro' || true)
		[ -z "$out" ] || { echo "$out"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -ge 6 ]
}

@test "no scdoc markup shows as literal text in a rendered page" {
	local scd page out
	for scd in "$RP_ROOT"/doc/*.scd; do
		page="$RP_BUILD/doc/$(basename "$scd" .scd)"
		out=$(mandoc -Tascii "$page" | sed "s/.\x08//g" |
			grep -n -E '(^|[^A-Za-z0-9])_[A-Za-z][A-Za-z0-9-]*_([^A-Za-z0-9]|$)|\*[A-Za-z][A-Za-z-]*\*' ||
			true)
		[ -z "$out" ] || { echo "$page: $out"; return 1; }
	done
}

@test "the check itself: it sees leftover markup" {
	# What scdoc leaves behind when an underline does not open.
	printf 'x(1)\n\n# NAME\n\nx - y\n\n# EXIT STATUS\n\n*10*+_N_\n\tz\n' |
		scdoc >"$BATS_TEST_TMPDIR/x.1"
	run bash -c 'mandoc -Tascii "$1" | sed "s/.\\x08//g" | grep -c -E "(^|[^A-Za-z0-9])_[A-Za-z][A-Za-z0-9-]*_([^A-Za-z0-9]|$)"' _ "$BATS_TEST_TMPDIR/x.1"
	[ "$output" = 1 ]
}
