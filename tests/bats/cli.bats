#!/usr/bin/env bats
# The command-line conventions every program shares (cmd/common/cli.c):
# getopt's failures as one exact usage line and exit 2, --version and
# --help (and what happens when stdout cannot take them), "--" ending our
# options even after an option whose value looks like one, and
# diagnostics that never pass control characters through to a terminal.

load helper
load endpoint
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
}

teardown() {
	rp_teardown
	rp_check_sanitizer_logs
}

# usage_is "MESSAGE" CMD...: exit 2, stdout empty, stderr exactly one line
# "<tool>: MESSAGE (see --help)".
usage_is() {
	local want=$1 tool=$2
	shift
	run --separate-stderr "$@"
	if [ "$status" -ne 2 ] || [ -n "$output" ] ||
		[ "$stderr" != "$tool: $want (see --help)" ]; then
		echo "$*: exit $status"
		echo "stdout: $output"
		echo "stderr: $stderr"
		echo "wanted: $tool: $want (see --help)"
		return 1
	fi
}

# Each program with one option that takes no value (FLAG), one that needs
# one (VALUE), a prefix of several options (AMBIG), and the words that
# come before options (a subcommand).
# tool|words|FLAG|VALUE|AMBIG
TOOLS=(
	"rp-broker||--handoff|--events|--handoff-"
	"rp-probe|hello|--adopt|--service|--c"
	"rp-handoff-send||--raw|--service|--t"
	"rp-handoff-recv||--raw|--timeout|--t"
	"rp-spawn-pty||--raise|--size|--t"
	"rp-servicedef|write|--json|--service|--i"
)

@test "getopt's failures: one usage line each, exit 2, for every program" {
	local row tool words flag value ambig
	for row in "${TOOLS[@]}"; do
		IFS='|' read -r tool words flag value ambig <<<"$row"
		# shellcheck disable=SC2086
		set -- $words
		usage_is "unknown option '--bogus'" "$tool" "$@" --bogus
		usage_is "unknown option '--bogus'" "$tool" "$@" --bogus=1
		usage_is "unknown option '-Z'" "$tool" "$@" -Z
		usage_is "option '$value' needs a value" "$tool" "$@" "$value"
		usage_is "option '$flag' takes no value" "$tool" "$@" "$flag=1"
		usage_is "option '$ambig' is ambiguous" "$tool" "$@" "$ambig" x
		# An unambiguous prefix names the whole option.
		usage_is "option '$value' needs a value" "$tool" "$@" \
			"${value%?}"
		usage_is "option '--help' takes no value" "$tool" "$@" --help=x
	done
	usage_is "option '-s' needs a value" rp-broker -s
	usage_is "option '-s' needs a value" rp-probe hello -s
}

@test "--version and --help; an unwritable stdout is exit 125, not a lie" {
	local tool
	for tool in rp-broker rp-probe rp-handoff-send rp-handoff-recv \
		rp-spawn-pty rp-servicedef; do
		run --separate-stderr "$tool" --version
		[ "$status" -eq 0 ] && [ "$output" = "$tool 0.1.0" ] &&
			[ -z "$stderr" ]
		run --separate-stderr "$tool" -V
		[ "$status" -eq 0 ] && [ "$output" = "$tool 0.1.0" ]
		run --separate-stderr "$tool" --help
		[ "$status" -eq 0 ] && [ "${lines[0]#"$tool "}" != "${lines[0]}" ]
		run --separate-stderr bash -c '"$1" --help >/dev/full' _ "$tool"
		[ "$status" -eq 125 ] ||
			{ echo "$tool --help >/dev/full: $status"; return 1; }
		[ "$stderr" = "$tool: cannot write standard output: No space left on device" ]
		run --separate-stderr bash -c '"$1" --version >/dev/full' _ "$tool"
		[ "$status" -eq 125 ]
		[ "$stderr" = "$tool: cannot write standard output: No space left on device" ]
	done
}

@test "control characters in a diagnostic are shown escaped, on one line" {
	local tool
	for tool in rp-broker rp-handoff-send rp-handoff-recv rp-spawn-pty; do
		run --separate-stderr "$tool" $'--a\e[31mb\nc\xc2\x9bd\\e'
		[ "$status" -eq 2 ]
		[ "$stderr" = "$tool: unknown option '--a\\x1b[31mb\\nc\\xc2\\x9bd\\e' (see --help)" ] ||
			{ echo "$tool: $stderr"; return 1; }
	done
	# A C1 control (U+009B, CSI) is escaped as its two UTF-8 bytes.
	run --separate-stderr rp-probe identity $'/no/such\xc2\x9b[2J'
	[ "$status" -eq 3 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *'/no/such\xc2\x9b[2J'* ]]
	[[ "$stderr" != *$'\xc2\x9b'* ]]
}

@test "a long diagnostic is cut, still one line" {
	local long
	long=$(printf 'x%.0s' $(seq 1 6000))
	run --separate-stderr rp-handoff-send "--$long"
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "rp-handoff-send: unknown option '--xxx"*"... (see --help)" ]]
	[ "${#stderr}" -le 8192 ]
}

@test "'--' ends our options, even after an option whose value is '--'" {
	# The value of --token-file is the file named "--", not the end of
	# the options: the program after the real "--" is what runs.
	cd "$T"
	rp-handoff-recv --new-token >./--
	run --separate-stderr rp-handoff-recv --token-file -- --timeout 1 \
		"$T/h.sock" -- true
	[ "$status" -eq 4 ]
	[ "$stderr" = "rp-handoff-recv: no transfer arrived before the deadline" ]
	# A short option's value is skipped the same way: -s -- is the socket
	# "--", and "nothing after --" is not what is reported.
	run --separate-stderr rp-probe hello -s -- --service echo --version 1.0.0 \
		--timeout 100 -- true
	[ "$status" -eq 3 ]
	[[ "$stderr" == "rp-probe: "*"--"* ]]
	usage_is "nothing after --" rp-handoff-recv "$T/h.sock" --
}

@test "option values: one wording for durations and numbers everywhere" {
	local ms="is not a duration from 0 to 24h (a number of milliseconds, or one with a unit: 500ms, 2s, 1m, 1h)"
	local secs="(a number of seconds, or one with a unit: 500ms, 2s, 1m, 1h)"
	usage_is "--timeout: '5x' $ms" rp-probe identity --timeout 5x /x.sock
	usage_is "--timeout: '5 s' $ms" rp-probe identity --timeout '5 s' /x.sock
	usage_is "--timeout: '-1' $ms" rp-handoff-send --timeout -1 /x.sock
	usage_is "--timeout: '86400001' $ms" rp-handoff-recv --timeout 86400001 /x.sock
	usage_is "--timeout: '24.5h' $ms" rp-handoff-recv --timeout 24.5h /x.sock
	usage_is "--timeout: '0.5ms' $ms" rp-handoff-recv --timeout 0.5ms /x.sock
	usage_is "--probe-window: '1.5' $ms" rp-handoff-recv --serve /x.sock --echo \
		--probe-window 1.5
	usage_is "--handoff-timeout: ' 5' $ms" rp-probe hello --handoff-timeout ' 5' \
		--service echo --version 1.0.0
	usage_is "--drain-deadline: '1d' $ms" rp-probe admin --drain-deadline 1d shutdown
	usage_is "--keepalive: '4294967296' is not a duration from 0 to 4294967295s $secs" \
		rp-probe hello --keepalive 4294967296 --service echo --version 1.0.0
	usage_is "--keepalive: '1500ms' is not a whole number of seconds" \
		rp-probe hello --keepalive 1500ms --service echo --version 1.0.0
	usage_is "--timeout: '2x' is not a duration from 0 to 1000000000s $secs" \
		rp-spawn-pty --timeout 2x true
	usage_is "--kill-after: '.5' is not a duration from 0 to 1000000000s $secs" \
		rp-spawn-pty --kill-after .5 true
	usage_is "--count: '0' is not a number from 1 to 1024" \
		rp-handoff-recv --count 0 /x.sock
	usage_is "--max-clients: 'x' is not a number from 1 to 1000000" \
		rp-broker --max-clients x
}

@test "durations: a unit suffix means what it says; a bare number keeps its unit" {
	local BS="$T/broker.sock"
	# milliseconds bare, and with a unit: what goes on the wire.
	for arg in 2500 2500ms 2.5s; do
		mkfifo "$T/ready"
		rpwire serve-hello "$BS" "$T/ready" admin 0,0 >"$T/broker.out" &
		RP_BG_PIDS+=("$!")
		rp_wait_fifo "$T/ready"
		rm "$T/ready"
		run -0 rp-probe admin -s "$BS" --drain-deadline "$arg" shutdown
		wait "$!"
		grep -qx "admin.drain_deadline_ms: 2500" "$T/broker.out" ||
			{ echo "$arg:"; cat "$T/broker.out"; return 1; }
	done
	# seconds bare, and with a unit.
	for arg in 120 120s 2m 120000ms; do
		mkfifo "$T/ready"
		rpwire serve-hello "$BS" "$T/ready" negotiated >"$T/broker.out" &
		RP_BG_PIDS+=("$!")
		rp_wait_fifo "$T/ready"
		rm "$T/ready"
		run -0 rp-probe hello -s "$BS" --service echo --version 1.0.0 \
			--keepalive "$arg"
		wait "$!"
		grep -qx "hello.client_keepalive_secs: 120" "$T/broker.out" ||
			{ echo "$arg:"; cat "$T/broker.out"; return 1; }
	done
	# rp-spawn-pty's --timeout is seconds bare: 0.3 and 300ms are the
	# same deadline, and so is 0.005m; each ends the program (124).
	for arg in 0.3 300ms 0.005m; do
		run timeout -s KILL 20 rp-spawn-pty --timeout "$arg" --kill-after 1s \
			--exit-record "$T/r.json" -- sleep 30
		[ "$status" -eq 124 ] || { echo "$arg: $status"; return 1; }
		grep -q '"timed_out":true' "$T/r.json"
	done
	# A deadline with a unit is a deadline: a second is not a second of
	# milliseconds (1 ms) nor a thousand seconds.
	mkfifo "$T/ready"
	rpwire serve-hello "$BS" "$T/ready" silence >/dev/null &
	RP_BG_PIDS+=("$!")
	rp_wait_fifo "$T/ready"
	local t0 t1
	t0=$(date +%s%N)
	run rp-probe admin -s "$BS" --timeout 1s status
	t1=$(date +%s%N)
	[ "$status" -eq 4 ]
	[ $(((t1 - t0) / 1000000)) -ge 900 ] && [ $(((t1 - t0) / 1000000)) -lt 10000 ]
}

@test "--new-token: 32 hex digits, fresh each time; an unwritable stdout is 125" {
	local tool a b
	for tool in rp-handoff-send rp-handoff-recv; do
		a=$("$tool" --new-token)
		b=$("$tool" --new-token)
		[[ "$a" =~ ^[0-9a-f]{32}$ ]] && [[ "$b" =~ ^[0-9a-f]{32}$ ]]
		[ "$a" != "$b" ]
		run --separate-stderr bash -c '"$1" --new-token >/dev/full' _ "$tool"
		[ "$status" -eq 125 ]
		[ "$stderr" = "$tool: cannot write standard output: No space left on device" ]
	done
}

@test "handoff tokens: one loader, one wording, for send, recv and spawn-pty" {
	local tok=0123456789abcdef0123456789abcdef
	usage_is "no token: give --token-file F, RP_HANDOFF_TOKEN or --token HEX" \
		rp-handoff-send /x.sock
	usage_is "no token: give --token-file F, RP_HANDOFF_TOKEN or --token HEX" \
		rp-handoff-recv /x.sock
	echo "$tok" >"$T/tok"
	usage_is "--token-file and --token exclude each other" \
		rp-handoff-send --token-file "$T/tok" --token "$tok" /x.sock
	usage_is "--token-file and --token exclude each other" \
		rp-handoff-recv --token-file "$T/tok" --token "$tok" /x.sock
	usage_is "--token: 'xyz' is not a token (32 hex digits)" \
		rp-handoff-send --token xyz /x.sock
	usage_is "--token-file /dev/null: not a token (32 hex digits)" \
		rp-handoff-recv --token-file /dev/null /x.sock
	printf '%s\n%s\n' "$tok" "$tok" >"$T/two"
	usage_is "the same token is given twice" \
		rp-handoff-recv --count 2 --token-file "$T/two" /x.sock
	usage_is "--token-file $T/two: too many tokens" \
		rp-handoff-send --token-file "$T/two" /x.sock
	RP_HANDOFF_TOKEN=nope usage_is "RP_HANDOFF_TOKEN: not a token (32 hex digits)" \
		rp-handoff-send /x.sock
	# rp-spawn-pty reads its token before it sets anything up: a bad one
	# runs nothing and creates nothing.
	usage_is "--token-file /dev/null: not a token (32 hex digits)" \
		rp-spawn-pty --master-to /x.sock --token-file /dev/null \
		--exit-record "$T/r.json" -- touch "$T/ran"
	RP_HANDOFF_TOKEN= usage_is "no token: give --token-file F or RP_HANDOFF_TOKEN" \
		rp-spawn-pty --master-to /x.sock -- touch "$T/ran"
	[ ! -e "$T/ran" ] && [ ! -e "$T/r.json" ]
}

@test "rp-handoff-recv: an option of the other mode is refused naming that mode's options" {
	local tok=0123456789abcdef0123456789abcdef
	usage_is "--token-file, --token, --count, --fd and --raw are not for --serve" \
		rp-handoff-recv --serve "$T/e.sock" --echo --count 2
	usage_is "--token-file, --token, --count, --fd and --raw are not for --serve" \
		rp-handoff-recv --raw --serve "$T/e.sock" --echo
	usage_is "--handoff, --max-conns, --namespace, --probe-window, --broker-uid, --handoff-event and --echo are only for --serve" \
		rp-handoff-recv --token "$tok" --echo /x.sock
	usage_is "--handoff, --max-conns, --namespace, --probe-window, --broker-uid, --handoff-event and --echo are only for --serve" \
		rp-handoff-recv --token "$tok" --broker-uid 0 /x.sock
	usage_is "--new-token takes nothing else" \
		rp-handoff-recv --new-token --timeout 5
	usage_is "at most 16 --allow-uid" rp-handoff-recv --token "$tok" \
		$(printf -- '--allow-uid %d ' $(seq 1 17)) /x.sock
	[ ! -e "$T/e.sock" ]
}

@test "--ready-fd that is not open: one usage line, from both daemons" {
	usage_is "--ready-fd 77: Bad file descriptor" \
		rp-broker -s "$T/b.sock" --ready-fd 77
	usage_is "--ready-fd 77: Bad file descriptor" \
		rp-handoff-recv --serve "$T/e.sock" --echo --ready-fd 77
}
