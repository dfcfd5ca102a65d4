# bash completion for the rp toolkit: rp-broker, rp-probe, rp-handoff-send,
# rp-handoff-recv, rp-spawn-pty and rp-servicedef.
#
# Installed as share/bash-completion/completions/<program> for each of
# them (bash-completion loads it when one is first completed), or source
# it by hand.  It needs nothing from bash-completion itself.
#
# Completed: every program's options (by subcommand for rp-probe and
# rp-servicedef), the subcommands, rp-probe's admin verbs, the values of
# options that take one of a few words (--format, --isolation,
# --handoff-event), service names from the service-definition directory
# (as the broker finds it: $RUNNING_PROCESS_SERVICE_DEF_DIR, else
# $XDG_CONFIG_HOME or ~/.config, /running-process/services), files and
# directories where an option names one, and after "--" the program to
# run and its own arguments.

# Options of each program (or subcommand); a trailing "=" is not used:
# values are separate words, as the man pages write them.
_rp_opts_broker='-s --socket -d --service-dir -b --backend --instance --private
--allow-uid --hello-timeout --rate-limit --spawn-budget --spawn-timeout
--spawn-waiters --max-backends --backend-output-rate --backend-output-burst
--max-unread --max-unread-total --probe-interval --probe-timeout --max-clients --drain-timeout
--events --ready-fd --handoff --handoff-event --handoff-timeout
--backend-handoff -h --help -V --version'
_rp_opts_probe_identity='--timeout --json --expect-pid --expect-exe
--expect-hash --expect-namespace --allow-uid -h --help'
_rp_opts_probe_hello='-q --quiet -s --socket --wait-for-socket --service
--version --client-version --keepalive --adopt --handoff-timeout
--early-request --json --timeout --connect -h --help'
_rp_opts_probe_admin='-s --socket --wait-for-socket --json --service
--drain-deadline --format -o --output --timeout -h --help'
_rp_opts_probe_doctor='-s --socket -d --service-dir --json --timeout -h --help'
_rp_opts_send='--fd --token-file --token --service --timeout --raw --no-wait
--wait-for-socket --new-token --allow-uid -h --help -V --version'
_rp_opts_recv='--token-file --token --timeout --count --fd --raw --allow-uid
--ready-fd --serve --handoff --max-conns --namespace --probe-window
--broker-uid --handoff-event --echo --new-token -h --help -V --version'
_rp_opts_pty='--size --timeout --kill-after --exit-record --transcript --raise
--no-stdin --master-to --token-file --allow-uid -h --help -V --version'
_rp_opts_sd_write='--service --binary --min-version --allow-version
--isolation --instance --per-version-dir --label --dir --json -h --help'
_rp_opts_sd_show='--json --dir -h --help'
_rp_opts_sd_check='--json --dir -h --help'

_rp_admin_verbs='status dump list-instances healthz readyz backend-health
config diagnose metrics shutdown'

# Options that take a value, and what the value is: file, dir, cmd, a
# list of words, or nothing to complete ("-").
_rp_value_kind() {
	case $1 in
	-s | --socket | --events | --token-file | --exit-record | --transcript | \
		--early-request | \
		-o | --output | --binary | --expect-exe | --master-to | --serve | \
		--handoff)
		# (--handoff takes a value only in rp-handoff-recv.)
		echo file ;;
	-d | --service-dir | --dir | --per-version-dir) echo dir ;;
	--format) echo 'words openmetrics prometheus' ;;
	--isolation) echo 'words private shared explicit' ;;
	--handoff-event) echo 'words backend broker' ;;
	--service | --private) echo service ;;
	-b | --backend | --instance | --allow-uid | --hello-timeout | \
		--rate-limit | --spawn-budget | --spawn-timeout | --spawn-waiters | --max-backends | \
		--backend-output-rate | --backend-output-burst | --max-unread | --max-unread-total | \
		--probe-interval | --probe-timeout | --max-clients | \
		--drain-timeout | --ready-fd | --handoff-timeout | \
		--backend-handoff | --timeout | --expect-pid | --expect-hash | \
		--expect-namespace | --version | --client-version | --keepalive | \
		--drain-deadline | --fd | --token | --count | --max-conns | \
		--namespace | --probe-window | --broker-uid | --size | \
		--kill-after | --min-version | --allow-version | --label)
		echo - ;;
	*) return 1 ;;
	esac
}

# The service names defined in the directory the broker reads.
_rp_services() {
	local dir=${RUNNING_PROCESS_SERVICE_DEF_DIR:-}
	local f
	if [ -z "$dir" ]; then
		if [ -n "${XDG_CONFIG_HOME:-}" ]; then
			dir=$XDG_CONFIG_HOME/running-process/services
		else
			dir=${HOME:-}/.config/running-process/services
		fi
	fi
	for f in "$dir"/*.servicedef; do
		[ -e "$f" ] || continue
		f=${f##*/}
		printf '%s\n' "${f%.servicedef}"
	done
}

# COMPREPLY from words (one a line or space-separated) matching cur.
_rp_reply_words() {
	local IFS=$' \t\n'
	# shellcheck disable=SC2207
	COMPREPLY=($(compgen -W "$1" -- "$2"))
}

_rp_reply_files() {
	local IFS=$'\n'
	# shellcheck disable=SC2207
	COMPREPLY=($(compgen -f -- "$1"))
	compopt -o filenames 2>/dev/null || true
}

_rp_reply_dirs() {
	local IFS=$'\n'
	# shellcheck disable=SC2207
	COMPREPLY=($(compgen -d -- "$1"))
	compopt -o filenames 2>/dev/null || true
}

_rp_complete() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' prog=${COMP_WORDS[0]##*/}
	local i w sub='' opts kind dashdash=0 nonopt=0
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	# The words before the cursor: a subcommand, a "--" after which a
	# program and its arguments follow, and the operands so far.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [ "$w" = -- ]; then
			dashdash=$i
			break
		fi
		case $prog:$w in
		rp-probe:identity | rp-probe:hello | rp-probe:admin | \
			rp-probe:doctor | rp-servicedef:write | rp-servicedef:show | \
			rp-servicedef:check)
			if [ -z "$sub" ]; then
				sub=$w
				continue
			fi ;;
		esac
		case $w in
		-*) _rp_value_kind "$w" >/dev/null && [ "$prog:$w" != rp-broker:--handoff ] && i=$((i + 1)) ;;
		*) nonopt=$((nonopt + 1)) ;;
		esac
	done

	# After "--": the program to run, then whatever it takes.
	if [ "$dashdash" -gt 0 ]; then
		if [ $((dashdash + 1)) -eq "$COMP_CWORD" ]; then
			local IFS=$'\n'
			# shellcheck disable=SC2207
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			_rp_reply_files "$cur"
		fi
		return 0
	fi

	# The value of the option before the cursor.
	if [[ $prev == -* ]] && ! { [ "$prog" = rp-broker ] && [ "$prev" = --handoff ]; } &&
		kind=$(_rp_value_kind "$prev"); then
		case $kind in
		file) _rp_reply_files "$cur" ;;
		dir) _rp_reply_dirs "$cur" ;;
		service) _rp_reply_words "$(_rp_services)" "$cur" ;;
		words\ *) _rp_reply_words "${kind#words }" "$cur" ;;
		esac
		return 0
	fi

	case $prog in
	rp-broker) opts=$_rp_opts_broker ;;
	rp-handoff-send) opts=$_rp_opts_send ;;
	rp-handoff-recv) opts=$_rp_opts_recv ;;
	rp-spawn-pty) opts=$_rp_opts_pty ;;
	rp-probe)
		case $sub in
		'')
			_rp_reply_words 'identity hello admin doctor -h --help -V --version' "$cur"
			return 0 ;;
		identity) opts=$_rp_opts_probe_identity ;;
		hello) opts=$_rp_opts_probe_hello ;;
		admin) opts=$_rp_opts_probe_admin ;;
		doctor) opts=$_rp_opts_probe_doctor ;;
		esac ;;
	rp-servicedef)
		case $sub in
		'')
			_rp_reply_words 'write show check -h --help -V --version' "$cur"
			return 0 ;;
		write) opts=$_rp_opts_sd_write ;;
		show) opts=$_rp_opts_sd_show ;;
		check) opts=$_rp_opts_sd_check ;;
		esac ;;
	*) return 0 ;;
	esac

	if [[ $cur == -* ]]; then
		_rp_reply_words "$opts" "$cur"
		return 0
	fi
	# Operands.
	case $prog:$sub in
	rp-probe:admin)
		[ "$nonopt" -eq 0 ] && _rp_reply_words "$_rp_admin_verbs" "$cur" ;;
	rp-probe:identity | rp-handoff-send: | rp-handoff-recv:)
		_rp_reply_files "$cur" ;;
	rp-servicedef:show)
		# A service NAME, or a FILE (a path with a '/').
		if [[ $cur == */* ]]; then
			_rp_reply_files "$cur"
		else
			_rp_reply_words "$(_rp_services)" "$cur"
		fi ;;
	rp-spawn-pty:)
		# PROG ends the options (as after "--"), then its arguments.
		if [ "$nonopt" -eq 0 ]; then
			local IFS=$'\n'
			# shellcheck disable=SC2207
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			_rp_reply_files "$cur"
		fi ;;
	esac
	return 0
}

complete -F _rp_complete rp-broker rp-probe rp-handoff-send rp-handoff-recv \
	rp-spawn-pty rp-servicedef
