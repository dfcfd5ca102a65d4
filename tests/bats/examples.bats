#!/usr/bin/env bats
# The service-manager examples: examples/systemd/ (a socket unit and a
# Type=notify service for the user's manager, and the environment.d
# snippet clients read) and examples/s6/rp-broker/ (an s6 service
# directory with a readiness fd).  The units are verified by
# systemd-analyze where it is installed and always read strictly
# (tests/bats/py/unitrun.py check), then run as a user's manager would run
# them (unitrun.py run); the s6 directory is run by s6-supervise itself.

load helper
load endpoint
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	# Socket paths must fit sun_path: a short runtime directory.
	SHORT=$(mktemp -d /tmp/rpex.XXXXXX)
	chmod 0700 "$SHORT"
	export XDG_RUNTIME_DIR=$SHORT XDG_STATE_HOME=$SHORT/state
	SD="$RP_ROOT/examples/systemd"
	SUP=
}

teardown() {
	# s6-supervise first: it would restart what rp_teardown stops.
	if [ -n "$SUP" ]; then
		s6-svc -xd "$SHORT/svc/rp-broker" 2>/dev/null || true
		timeout 20 tail -s 0.02 --pid="$SUP" -f /dev/null 2>/dev/null || kill -KILL "$SUP" 2>/dev/null || true
	fi
	rp_teardown
	rm -rf "$SHORT"
	rp_check_sanitizer_logs
}

unitrun() {
	/usr/bin/python3 "$RP_ROOT/tests/bats/py/unitrun.py" "$@"
}

# The units as installed here: ExecStart= names the built rp-broker.
local_units() {
	mkdir -p "$SHORT/units"
	cp "$SD/rp-broker.socket" "$SHORT/units/"
	sed "s|^ExecStart=/usr/local/bin/rp-broker|ExecStart=$RP_BUILD/bin/rp-broker|" \
		"$SD/rp-broker.service" >"$SHORT/units/rp-broker.service"
	grep -q "^ExecStart=$RP_BUILD/bin/rp-broker " "$SHORT/units/rp-broker.service"
}

# systemd-analyze verify as it would run on a machine with nothing but
# systemd installed: our units and systemd's own targets and slices (every
# unit ours depend on) and no others, no environment generators (the
# machine's packages add their own), the Documentation= pages checked
# below rather than with man(1) (man-db is no test dependency).  $1:
# system or user; the rest: systemd-analyze's arguments after verify.
sd_verify() {
	local mode=$1 f
	shift
	mkdir -p "$SHORT/sd-$mode" "$SHORT/sd-envgen"
	for f in $(dpkg-query -L systemd | grep -E "^(/usr)?/lib/systemd/$mode/[^/]+\.(target|slice)\$"); do
		ln -sf "$f" "$SHORT/sd-$mode/"
	done
	[ -e "$SHORT/sd-$mode/sockets.target" ]
	SYSTEMD_UNIT_PATH=$SHORT/units:$SHORT/sd-$mode \
	SYSTEMD_ENVIRONMENT_GENERATOR_PATH=$SHORT/sd-envgen \
		systemd-analyze $([ "$mode" = user ] && echo --user) verify --man=no "$@"
}

@test "systemd units: systemd-analyze verify finds nothing, for the system's manager and a user's" {
	command -v systemd-analyze >/dev/null ||
		skip "systemd-analyze is not installed (package systemd; scripts/deps); the strict reading below still runs"
	local_units
	cd "$SHORT/units"
	run --separate-stderr sd_verify system ./rp-broker.socket ./rp-broker.service
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || { echo "$stderr"; return 1; }
	run --separate-stderr sd_verify user ./rp-broker.socket ./rp-broker.service
	[ "$status" -eq 0 ] && [ -z "$stderr" ] || { echo "$stderr"; return 1; }
	# The check can fail: an unknown key is reported (systemd-analyze
	# says so on stderr but exits 0, hence the stderr test above), and so
	# is a dependency on a unit that does not exist.
	cp rp-broker.service good.service
	echo "Bogus=1" >>rp-broker.service
	run --separate-stderr sd_verify system ./rp-broker.socket ./rp-broker.service
	[[ "$stderr" == *"Unknown key"*"Bogus"* ]]
	sed 's/^Requires=rp-broker.socket$/Requires=no-such.socket/' good.service >rp-broker.service
	run --separate-stderr sd_verify system ./rp-broker.socket ./rp-broker.service
	[ "$status" -ne 0 ] && [[ "$stderr" == *"no-such.socket"* ]]
}

@test "systemd units: every man page Documentation= names is one we build" {
	local d n
	d=$(grep -h '^Documentation=' "$SD/rp-broker.service" "$SD/rp-broker.socket")
	[ -n "$d" ]
	for n in $(echo "$d" | sed 's/^Documentation=//' | tr ' ' '\n' | sort -u); do
		[[ "$n" =~ ^man:([a-z-]+)\(([1-8])\)$ ]] || { echo "not a man page: $n"; return 1; }
		[ -f "$RP_BUILD/doc/${BASH_REMATCH[1]}.${BASH_REMATCH[2]}" ] || { echo "no page: $n"; return 1; }
	done
}

@test "systemd units: every key is a documented one, of its documented form" {
	run unitrun check "$SD/rp-broker.socket" "$SD/rp-broker.service"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	grep -qx "Type=notify" "$SD/rp-broker.service"
	grep -qx "KillMode=mixed" "$SD/rp-broker.service"
	grep -qx "NoNewPrivileges=yes" "$SD/rp-broker.service"
	# The reading is strict: what it refuses.
	local bad=$SHORT/bad.service
	for line in "Bogus=1" "Type=simple" "KillMode=everything" "UMask=777x" \
		"NoNewPrivileges=maybe" "ExecStart=rp-broker" "TimeoutStopSec=soon"; do
		grep -v "^${line%%=*}=" "$SD/rp-broker.service" >"$bad"
		echo "$line" >>"$bad"
		run unitrun check "$bad"
		[ "$status" -eq 1 ] || { echo "accepted: $line"; return 1; }
	done
	cp "$SD/rp-broker.service" "$bad"
	echo "NoNewPrivileges=yes" >>"$bad"
	run unitrun check "$bad"
	assert_output --partial "NoNewPrivileges given twice"
}

@test "systemd units: socket activation, READY=1, clients through environment.d, reload, a clean stop" {
	rp-servicedef write --service echo --binary "$RP_ROOT/examples/echo-backend" >/dev/null
	mkfifo "$SHORT/ready"
	# Python itself in the background (not a function's subshell), so
	# that $! is the manager's pid.
	/usr/bin/python3 "$RP_ROOT/tests/bats/py/unitrun.py" run \
		--socket "$SD/rp-broker.socket" --service "$SD/rp-broker.service" \
		--bin-dir "$RP_BUILD/bin" --ready "$SHORT/ready" --out "$SHORT/notify" \
		3>&- 2>"$T/unitrun.err" &
	local mgr=$! line pid sock
	RP_BG_PIDS+=("$mgr")
	read -r -t 20 line <"$SHORT/ready" || { cat "$T/unitrun.err" "$SHORT/notify"; return 1; }
	[[ "$line" == "ready "* ]] || { cat "$SHORT/notify"; return 1; }
	pid=${line#ready }
	RP_BG_PIDS+=("$pid")
	sock=$XDG_RUNTIME_DIR/rp-broker/broker.sock
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/rp-broker")" = 700 ]
	[ "$(stat -c %a "$sock")" = 600 ]
	grep -qx "READY=1" "$SHORT/notify"
	# The broker serves the socket it was given.
	run -0 rp-probe admin -s "$sock" readyz
	run -0 rp-probe admin -s "$sock" config
	[ "$(echo "$output" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["socket"]["source"])')" = socket-activation ]
	# A client of the session finds it through environment.d's line.
	local envline
	envline=$(grep -v '^#' "$SD/rp-broker.conf")
	envline=${envline/\$\{XDG_RUNTIME_DIR\}/$XDG_RUNTIME_DIR}
	run -0 env "$envline" rp-probe hello --service echo --version 1.0.0
	[[ "$output" == "$XDG_RUNTIME_DIR/rp-broker/rpb-v1-"*"-be-"*".sock" ]]
	# Its events go to the state directory; ExecReload (SIGHUP) reopens
	# the file after rotation.
	local ev=$XDG_STATE_HOME/rp-broker/events.jsonl
	grep -q '"kind":"HELLO_ACCEPTED"' "$ev"
	mv "$ev" "$ev.1"
	kill -HUP "$mgr"
	run -0 rp-probe admin -s "$sock" readyz      # still serving
	local i
	for i in $(seq 1 100); do
		rp-probe hello -s "$sock" --service echo --version 1.0.0 >/dev/null
		[ -s "$ev" ] && break
	done
	grep -q '"kind":"HELLO_ACCEPTED"' "$ev"
	kill -0 "$pid"
	# Stop: KillMode=mixed, SIGTERM to the broker alone; it drains,
	# stops its backend, says STOPPING=1 and exits 0; the socket is the
	# manager's and stays.
	kill -TERM "$mgr"
	wait "$mgr"
	grep -qx "STOPPING=1" "$SHORT/notify"
	grep -qx "exit 0" "$SHORT/notify" || { cat "$SHORT/notify"; return 1; }
	! grep -q "SIGKILL" "$SHORT/notify"
	[ -S "$sock" ]
	! kill -0 "$pid" 2>/dev/null
}

@test "s6: s6-supervise runs the service directory; readiness on fd 3; s6-svc -d stops it cleanly" {
	command -v s6-supervise >/dev/null || { echo "s6 is not installed (package s6; scripts/deps)"; return 1; }
	rp-servicedef write --service echo --binary "$RP_ROOT/examples/echo-backend" >/dev/null
	mkdir "$SHORT/svc"
	cp -r "$RP_ROOT/examples/s6/rp-broker" "$SHORT/svc/"
	# Its environment: an env directory, as the run script reads it.
	mkdir "$SHORT/svc/rp-broker/env"
	printf '%s' "$XDG_RUNTIME_DIR" >"$SHORT/svc/rp-broker/env/XDG_RUNTIME_DIR"
	printf '%s' "$RUNNING_PROCESS_SERVICE_DEF_DIR" >"$SHORT/svc/rp-broker/env/RUNNING_PROCESS_SERVICE_DEF_DIR"
	s6-supervise "$SHORT/svc/rp-broker" 3>&- >"$T/s6.out" 2>&1 &
	SUP=$!
	RP_BG_PIDS+=("$SUP")
	# Up and ready: the broker wrote its newline on fd 3.
	run s6-svwait -U -t 20000 "$SHORT/svc/rp-broker"
	[ "$status" -eq 0 ] || { cat "$T/s6.out"; return 1; }
	run -0 s6-svstat -o up,ready,pid "$SHORT/svc/rp-broker"
	[[ "$output" == "true true "* ]]
	local pid=${output##* }
	[ "$(readlink "/proc/$pid/exe")" = "$RP_BUILD/bin/rp-broker" ]
	run -0 rp-probe admin readyz
	assert_output ready
	run -0 rp-probe hello --service echo --version 1.0.0
	# Down: SIGTERM, a drain, exit 0, the socket removed.
	local sock
	sock=$(ls "$XDG_RUNTIME_DIR"/running-process/broker/rpb-v1-*-shared.sock)
	s6-svc -d "$SHORT/svc/rp-broker"
	run s6-svwait -D -t 20000 "$SHORT/svc/rp-broker"
	[ "$status" -eq 0 ]
	run -0 s6-svstat -o up,exitcode "$SHORT/svc/rp-broker"
	assert_output "false 0"
	[ ! -e "$sock" ]
	grep -q "rp-broker: SIGTERM; draining" "$T/s6.out"
}
