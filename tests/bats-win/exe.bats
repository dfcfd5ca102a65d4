#!/usr/bin/env bats
# The .exe files themselves: static (no DLL beyond Windows' own), built
# with the hardening the Makefile asks for, and runnable under Wine.

load helper

OBJDUMP=${OBJDUMP:-x86_64-w64-mingw32-objdump}

@test "every .exe needs no DLL beyond the system's" {
	local exe dll n=0 bad=
	for exe in $(win_exes); do
		n=$((n + 1))
		for dll in $("$OBJDUMP" -p "$exe" | sed -n 's/^\tDLL Name: //p'); do
			case ${dll,,} in
			kernel32.dll | advapi32.dll | msvcrt.dll | ntdll.dll | \
				user32.dll | ws2_32.dll | bcrypt.dll | shell32.dll | \
				ucrtbase.dll | api-ms-win-*.dll) ;;
			*) bad="$bad ${exe##*/}:$dll" ;;
			esac
		done
	done
	[ "$n" -gt 0 ]
	[ -z "$bad" ] || { echo "not a system DLL:$bad"; false; }
}

@test "every .exe is built for ASLR (high entropy) and DEP" {
	local exe flags
	for exe in $(win_exes); do
		flags=$("$OBJDUMP" -p "$exe")
		for f in HIGH_ENTROPY_VA DYNAMIC_BASE NX_COMPAT; do
			grep -qw "$f" <<<"$flags" || {
				echo "${exe##*/}: no $f"
				false
			}
		done
	done
}

@test "an .exe under Wine: its TAP and exit status reach bats" {
	wine_run "$RP_BUILD_WIN/tests/unit/test_parse.exe"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ok 1 - test_u64_accepts_plain_decimal" ]
	[[ ${lines[-1]} =~ ^1\.\.[0-9]+$ ]]
	[[ $output != *"not ok"* ]]
}
