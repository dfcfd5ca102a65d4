#!/usr/bin/env bats
# completions/rp.bash, driven as bash drives it: COMP_WORDS and COMP_CWORD
# set, the function called, COMPREPLY read.  What it offers is checked
# against the programs themselves (their --help, their SYNOPSIS, the
# verbs rp-probe knows), so an option added to a program and not to the
# completion fails here.

load helper

setup() {
	rp_setup_dirs
	COMP="$RP_ROOT/completions/rp.bash"
}

# comp WORD... — complete the last WORD (may be "") of the command line
# WORD...; the candidates, one a line, sorted, in $output.
comp() {
	run bash -c '
		source "$1" || exit 9
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_rp_complete 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}" | sort -u | sed "/^$/d"' _ "$COMP" "$@"
	[ "$status" -eq 0 ] || { echo "completion failed: $status"; return 1; }
}

# The long and short options a text mentions, one a line, sorted.
options_in() {
	grep -oE -- '(^|[[ |(])--?[a-zA-Z][a-zA-Z-]*' | sed -E 's/^[[ |(]//' | sort -u
}

# The SYNOPSIS lines of "PROG SUB" in PROG's --help.
synopsis_of() {
	"$1" --help | awk -v p="$1 $2" '
		index($0, p " ") == 1 || $0 == p { on = 1; print; next }
		on && /^ / { print; next }
		{ on = 0 }'
}

@test "every program registers the completion" {
	run bash -c 'source "$1" && complete -p rp-broker rp-probe rp-handoff-send rp-handoff-recv rp-spawn-pty rp-servicedef' _ "$COMP"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
	assert_line "complete -F _rp_complete rp-probe"
}

@test "options: exactly those of each program's --help" {
	local t want
	for t in rp-broker rp-handoff-send rp-handoff-recv rp-spawn-pty; do
		want=$("$t" --help | options_in)
		comp "$t" -
		[ "$output" = "$want" ] || {
			echo "$t:"
			diff <(echo "$want") <(echo "$output")
			return 1
		}
	done
}

@test "options: rp-probe's and rp-servicedef's by subcommand, as their SYNOPSIS has them" {
	local t s want
	for t in "rp-probe identity" "rp-probe hello" "rp-probe admin" "rp-probe doctor" \
		"rp-servicedef write" "rp-servicedef show" "rp-servicedef check"; do
		set -- $t
		# Each subcommand takes -h/--help too, which its SYNOPSIS leaves
		# to the last line.
		want=$( (synopsis_of "$1" "$2"; echo "-h --help"
			# A short option's long name, as the man page pairs them
			# ("*-s*, *--socket* _SOCKET_").
			for s in $(synopsis_of "$1" "$2" | options_in | grep -E '^-[a-zA-Z]$'); do
				sed -nE "s/^\*$s\*, \*(--[a-z-]+)\*.*/ \1/p" "$RP_ROOT/doc/$1.1.scd"
			done) | options_in)
		comp "$1" "$2" -
		[ "$output" = "$want" ] || {
			echo "$t:"
			diff <(echo "$want") <(echo "$output")
			return 1
		}
	done
	comp rp-probe hello --ad
	assert_output --adopt
}

@test "subcommands, and rp-probe's admin verbs as rp-probe knows them" {
	comp rp-probe ""
	assert_output "$(printf '%s\n' --help --version -V -h admin doctor hello identity | sort)"
	comp rp-servicedef ""
	assert_output "$(printf '%s\n' --help --version -V -h check show write | sort)"
	comp rp-probe d
	assert_output doctor
	local verbs
	verbs=$(rp-probe admin nosuchverb 2>&1 | sed -E 's/.*one of (.*) \(see --help\)$/\1/' |
		tr -d ',' | tr ' ' '\n' | sort)
	[ "$(echo "$verbs" | wc -l)" -eq 10 ]
	comp rp-probe admin ""
	[ "$output" = "$verbs" ]
	# After options and their values too; after the verb, nothing.
	comp rp-probe admin -s /x.sock --timeout 5s --json r
	assert_output readyz
	comp rp-probe admin metrics ""
	assert_output ""
}

@test "option values: the few words some take, service names, files, directories" {
	comp rp-probe admin --format ""
	assert_output $'openmetrics\nprometheus'
	comp rp-servicedef write --isolation ""
	assert_output $'explicit\nprivate\nshared'
	comp rp-broker --handoff-event b
	assert_output $'backend\nbroker'
	comp rp-handoff-recv --serve x --handoff-event ""
	assert_output $'backend\nbroker'
	# Service names from the definition directory the broker reads.
	rp-servicedef write --service echo --binary /bin/cat >/dev/null
	rp-servicedef write --service echo-team --binary /bin/cat >/dev/null
	rp-servicedef write --service other --binary /bin/cat >/dev/null
	comp rp-probe hello --service ec
	assert_output $'echo\necho-team'
	comp rp-probe admin --service ""
	assert_output $'echo\necho-team\nother'
	comp rp-servicedef show o
	assert_output other
	comp rp-broker --private e
	assert_output $'echo\necho-team'
	# ... found through XDG_CONFIG_HOME as the broker does, too.
	run bash -c 'unset RUNNING_PROCESS_SERVICE_DEF_DIR; source "$1"; COMP_WORDS=(rp-probe hello --service "")
		COMP_CWORD=3; _rp_complete 2>/dev/null; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMP"
	assert_output $'echo\necho-team\nother'
	# Files and directories.
	mkdir "$T/d" "$T/d/dir1"
	touch "$T/file1" "$T/d/file2"
	comp rp-broker --events "$T/fi"
	assert_output "$T/file1"
	comp rp-probe admin -o "$T/f"
	assert_output "$T/file1"
	comp rp-broker -d "$T/d/"
	assert_output "$T/d/dir1"
	comp rp-servicedef show "$T/fi"
	assert_output "$T/file1"
	# A value with nothing to offer offers nothing.
	comp rp-probe hello --timeout ""
	assert_output ""
}

@test "the program to run: after -- (and rp-spawn-pty's PROG), commands, then its arguments" {
	comp rp-probe hello --service echo --version 1.0.0 -- rp-spawn-p
	assert_output rp-spawn-pty
	comp rp-handoff-recv "$T/h.sock" -- rp-servicede
	assert_output rp-servicedef
	comp rp-spawn-pty --size 80x24 rp-handoff-s
	assert_output rp-handoff-send
	touch "$T/arg1"
	comp rp-spawn-pty -- cat "$T/ar"
	assert_output "$T/arg1"
	comp rp-spawn-pty cat "$T/ar"
	assert_output "$T/arg1"
	# An option of PROG's is not ours to complete.
	comp rp-probe hello --service e --version 1 -- ls --ad
	assert_output ""
}
