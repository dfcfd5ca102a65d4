#!/usr/bin/env bats
# rp-servicedef through the real binary: write, show and check; every exit
# status and usage error; the directory rules (mode, owner, symlink,
# creation); atomic replacement; and compatibility both ways with protoc,
# the reference protobuf implementation, on the running-process schema.

load helper
bats_require_minimum_version 1.5.0

setup() {
	rp_setup_dirs
	SD="$RP_BUILD/bin/rp-servicedef"
	D="$RUNNING_PROCESS_SERVICE_DEF_DIR"
}

teardown() {
	rp_teardown
}

# protoc on the project's schema: the independent encoder and decoder.
pdecode() {
	protoc --decode=running_process.broker.v1.ServiceDefinition \
		-I"$RP_ROOT/proto" -I/usr/include "$RP_ROOT/proto/rp_v1.proto" <"$1"
}

pencode() {
	protoc --encode=running_process.broker.v1.ServiceDefinition \
		-I"$RP_ROOT/proto" -I/usr/include "$RP_ROOT/proto/rp_v1.proto" >"$1"
}

# A value from a JSON document on stdin, by a Python expression over `d`.
jq_py() {
	/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))' "$1"
}

# The entries of a directory, hidden ones too, one per line.
entries() {
	ls -A "$1" | sort
}

# A usage error: exit 2, nothing on stdout, exactly one stderr line that
# starts with the program's name and contains $1, and no trace on disk
# (the definition directory was not created).
usage_fails() {
	local want=$1
	shift
	run --separate-stderr "$SD" "$@"
	if [ "$status" -ne 2 ] || [ -n "$output" ] ||
		[ "$(printf '%s\n' "$stderr" | wc -l)" -ne 1 ] ||
		[[ "$stderr" != "rp-servicedef: "* ]] ||
		[[ "$stderr" != *"$want"* ]] || [ -e "$D" ]; then
		printf 'args:' >&2
		printf ' [%s]' "$@" >&2
		printf '\nstatus %s, stdout [%s], stderr [%s], dir %s\n' \
			"$status" "$output" "$stderr" \
			"$([ -e "$D" ] && echo exists || echo absent)" >&2
		return 1
	fi
}

# -------------------------------------------------------------- usage

@test "--help starts with the man page SYNOPSIS, verbatim" {
	local syn
	syn=$(sed -n '/^# SYNOPSIS/,/^# DESCRIPTION/p' "$RP_ROOT/doc/rp-servicedef.1.scd" |
		sed -n '/^```$/,/^```$/p' | sed '1d;$d')
	[ "$(printf '%s\n' "$syn" | wc -l)" -eq 8 ]
	for args in --help -h "write --help" "show -h" "check --help" \
		"write --service x --help"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$SD" $args
		assert_success
		[ -z "$stderr" ]
		[ "$(printf '%s\n' "$output" | head -n 8)" = "$syn" ]
	done
	[ ! -e "$D" ]
}

@test "-V and --version print the name and version" {
	run --separate-stderr "$SD" -V
	assert_success
	assert_output --regexp '^rp-servicedef [0-9]+\.[0-9]+\.[0-9]+$'
	run --separate-stderr "$SD" --version
	assert_success
	assert_output --regexp '^rp-servicedef [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "usage: commands and options" {
	usage_fails "no command given"
	usage_fails "unknown command 'frobnicate'" frobnicate
	usage_fails "unknown option '--bogus'" --bogus
	usage_fails "unknown option '--bogus'" write --bogus
	usage_fails "unknown option '-x'" write -x
	usage_fails "unknown option '--nope'" show --nope=1 echo
	usage_fails "unknown option '--binary'" check --binary /bin/cat
	usage_fails "option '--json' takes no value" write --json=yes
	usage_fails "option '--help' takes no value" show --help=1
	usage_fails "option '--service' needs a value" write --binary /bin/cat --service
	usage_fails "option '--i' is ambiguous" write --service a --binary /b --i x
	usage_fails "needs --service" write
	usage_fails "needs --service" write --binary /bin/cat
	usage_fails "needs --binary" write --service echo
	usage_fails "--service given twice" write --service a --service b --binary /b
	usage_fails "--binary given twice" write --service a --binary /a --binary /b
	usage_fails "--dir given twice" write --service a --binary /b --dir "$D" --dir "$D"
	usage_fails "--dir given twice" check --dir "$D" --dir "$D"
	usage_fails "--dir is empty" write --service a --binary /b --dir ""
	usage_fails "--dir is empty" check --dir ""
	usage_fails "takes no arguments" write --service a --binary /b extra
	usage_fails "check takes no arguments" check extra
	usage_fails "show needs a FILE or a NAME" show
	usage_fails "show takes one" show a b
	usage_fails "'Echo' is not a service name" show Echo
	usage_fails "'x y' is not a service name" show "x y"
	usage_fails "--dir is for a NAME" show ./echo.servicedef --dir "$D"
}

@test "usage: names, paths and versions the broker would refuse" {
	local long65 longv
	long65=$(printf 'a%.0s' $(seq 65))
	longv="1.0.0-$(printf 'a%.0s' $(seq 59))"
	usage_fails "--service 'Echo' is not 1-64 characters" write --service Echo --binary /b
	usage_fails "--service '' is not" write --service "" --binary /b
	usage_fails "--service 'a_b'" write --service a_b --binary /b
	usage_fails "--service '$long65'" write --service "$long65" --binary /b
	usage_fails "--service is not" write --service $'ec\nho' --binary /b
	usage_fails "--binary 'bin/cat' is not an absolute path" write --service a --binary bin/cat
	usage_fails "--binary './cat' is not an absolute path" write --service a --binary ./cat
	usage_fails "--binary is empty" write --service a --binary ""
	usage_fails "--binary contains a control character" write --service a --binary $'/bin/ca\nt'
	usage_fails "--binary is not UTF-8" write --service a --binary $'/opt/\xff/b'
	usage_fails "--per-version-dir 'v' is not an absolute path" write --service a --binary /b --per-version-dir v
	usage_fails "--min-version '1.0' is not a version" write --service a --binary /b --min-version 1.0
	usage_fails "--min-version 'v1.0.0' is not a version" write --service a --binary /b --min-version v1.0.0
	usage_fails "--min-version '1.0.0-RC1' is not a version" write --service a --binary /b --min-version 1.0.0-RC1
	usage_fails "--min-version '1.0.0-' is not a version" write --service a --binary /b --min-version 1.0.0-
	usage_fails "is longer than 64 bytes" write --service a --binary /b --min-version "$longv"
	usage_fails "--allow-version '1.x.0' is not a version" write --service a --binary /b --allow-version 1.0.0 --allow-version 1.x.0
	usage_fails "--allow-version '' is not a version" write --service a --binary /b --allow-version ""
}

@test "usage: an allow-list entirely below --min-version could never serve" {
	run --separate-stderr "$SD" write --service echo --binary /bin/true \
		--allow-version 1.0.0 --allow-version 1.9.9-rc1 --min-version 2.0.0
	[ "$status" -eq 2 ]
	[ "$stderr" = "rp-servicedef: every --allow-version is below --min-version 2.0.0: the definition could never serve (see --help)" ]
	[ ! -e "$D" ]
	# one version at or above the floor is enough
	run -0 "$SD" write --service echo --binary /bin/true \
		--allow-version 1.0.0 --allow-version 2.0.0 --min-version 2.0.0
	[ -f "$D/echo.servicedef" ]
}

@test "usage: isolation and instance go together" {
	usage_fails "--isolation explicit needs --instance NAME" write --service a --binary /b --isolation explicit
	usage_fails "--instance needs --isolation explicit" write --service a --binary /b --instance team
	usage_fails "--instance needs --isolation explicit" write --service a --binary /b --isolation shared --instance team
	usage_fails "--instance needs --isolation explicit" write --service a --binary /b --isolation private --instance team
	usage_fails "--isolation must be private, shared or explicit" write --service a --binary /b --isolation SHARED
	usage_fails "--instance 'Team' is not 1-64" write --service a --binary /b --isolation explicit --instance Team
	usage_fails "--isolation given twice" write --service a --binary /b --isolation shared --isolation private
}

@test "usage: labels" {
	local k129 v1025 args i
	k129=$(printf 'k%.0s' $(seq 129))
	v1025=$(printf 'v%.0s' $(seq 1025))
	usage_fails "--label 'team' is not KEY=VALUE" write --service a --binary /b --label team
	usage_fails "label key is empty" write --service a --binary /b --label =x
	usage_fails 'label key "a b" contains a space' write --service a --binary /b --label "a b=c"
	usage_fails "label key contains a control character" write --service a --binary /b --label $'a\tb=c'
	usage_fails 'has a value with a control character' write --service a --binary /b --label $'k=line\nbreak'
	usage_fails 'has a value with a control character' write --service a --binary /b --label $'k=\e[31mred'
	usage_fails 'has a value with a control character' write --service a --binary /b --label $'k=\xc2\x9b'
	usage_fails 'has a value that is not UTF-8' write --service a --binary /b --label $'k=\xff'
	usage_fails "label key is not UTF-8" write --service a --binary /b --label $'\xc0\xaf=v'
	usage_fails "is longer than 128 bytes" write --service a --binary /b --label "$k129=v"
	usage_fails "has a value longer than 1024 bytes" write --service a --binary /b --label "k=$v1025"
	usage_fails 'key "team" given twice' write --service a --binary /b --label team=a --label x=1 --label team=b
	args=()
	for i in $(seq 65); do
		args+=(--label "k$i=v")
	done
	usage_fails "more than 64 labels" write --service a --binary /b "${args[@]}"
	# 64 labels of 1024 bytes are each fine, but not together: more
	# than a broker reads.
	args=()
	for i in $(seq 64); do
		args+=(--label "k$i=${v1025:1}")
	done
	usage_fails "more than the 65536 a broker reads" write --service a --binary /b "${args[@]}"
}

@test "no directory to be found is a usage error" {
	run --separate-stderr env -u RUNNING_PROCESS_SERVICE_DEF_DIR \
		-u XDG_CONFIG_HOME -u HOME "$SD" write --service a --binary /b
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"no definition directory: give --dir"* ]]
	run --separate-stderr env -u RUNNING_PROCESS_SERVICE_DEF_DIR \
		-u XDG_CONFIG_HOME -u HOME "$SD" check
	[ "$status" -eq 2 ]
	run --separate-stderr env -u RUNNING_PROCESS_SERVICE_DEF_DIR \
		-u XDG_CONFIG_HOME -u HOME "$SD" show echo
	[ "$status" -eq 2 ]
}

# -------------------------------------------------------------- write

@test "write creates the directory 0700 and the file 0600, prints the path" {
	[ ! -e "$D" ]
	run --separate-stderr "$SD" write --service echo --binary /usr/bin/cat \
		--min-version 1.0.0
	assert_success
	[ -z "$stderr" ]
	assert_output "$D/echo.servicedef"
	[ "$(stat -c '%a %u %F' "$D")" = "700 0 directory" ]
	[ "$(stat -c '%a %u %F' "$D/echo.servicedef")" = "600 0 regular file" ]
	# Only the file: no temporary left behind.
	[ "$(entries "$D")" = "echo.servicedef" ]
	# Missing parents are created 0700 too.
	[ "$(stat -c %a "$XDG_CONFIG_HOME/running-process")" = 700 ]
}

@test "write: the directory is --dir, else the variable, else XDG_CONFIG_HOME, else HOME" {
	run "$SD" write --service a --binary /b --dir "$T/flag/"
	assert_success
	assert_output "$T/flag/a.servicedef"
	run "$SD" write --service a --binary /b
	assert_output "$D/a.servicedef"
	run env -u RUNNING_PROCESS_SERVICE_DEF_DIR "$SD" write --service a \
		--binary /b
	assert_output "$XDG_CONFIG_HOME/running-process/services/a.servicedef"
	run env -u RUNNING_PROCESS_SERVICE_DEF_DIR XDG_CONFIG_HOME="$T/xdg" \
		"$SD" write --service a --binary /b
	assert_output "$T/xdg/running-process/services/a.servicedef"
	run env -u RUNNING_PROCESS_SERVICE_DEF_DIR -u XDG_CONFIG_HOME \
		HOME="$T/home" "$SD" write --service a --binary /b
	assert_output "$T/home/.config/running-process/services/a.servicedef"
	# An empty variable counts as unset.
	run env RUNNING_PROCESS_SERVICE_DEF_DIR= XDG_CONFIG_HOME= \
		HOME="$T/home2" "$SD" write --service a --binary /b
	assert_output "$T/home2/.config/running-process/services/a.servicedef"
	[ -f "$T/home2/.config/running-process/services/a.servicedef" ]
}

@test "write --json prints the path and the whole definition" {
	run --separate-stderr "$SD" write --json --service echo \
		--binary /usr/bin/cat --isolation explicit --instance team-a \
		--allow-version 1.0.0 --allow-version 1.2.0-rc.1 \
		--per-version-dir /opt/echo/v --label tier=dev --label owner=platform
	assert_success
	[ "$(printf '%s' "$output" | wc -l)" -eq 0 ]    # compact when piped
	[ "$(jq_py 'd["path"]' <<<"$output")" = "\"$D/echo.servicedef\"" ]
	[ "$(jq_py 'sorted(d)' <<<"$output")" = '["definition", "path"]' ]
	[ "$(jq_py 'd["definition"]' <<<"$output")" = \
'{"service_name": "echo", "binary_path": "/usr/bin/cat", "isolation": "explicit", "explicit_instance": "team-a", "per_version_binary_dir": "/opt/echo/v", "min_version": "", "version_allow_list": ["1.0.0", "1.2.0-rc.1"], "labels": {"owner": "platform", "tier": "dev"}}' ]
	# show --json prints the same document.
	run --separate-stderr "$SD" show --json echo
	assert_success
	[ "$(jq_py 'd' <<<"$output")" = "$(jq_py 'd' <<<"$(
		"$SD" write --json --service echo --binary /usr/bin/cat \
		--isolation explicit --instance team-a --allow-version 1.0.0 \
		--allow-version 1.2.0-rc.1 --per-version-dir /opt/echo/v \
		--label owner=platform --label tier=dev)")" ]
}

@test "--json is indented on a terminal, one line when piped; both parse" {
	"$SD" write --service echo --binary /usr/bin/cat --label a=1 >/dev/null
	# util-linux script gives the program a terminal as standard output.
	script -qec "$SD show --json echo" /dev/null | tr -d '\r' >"$T/tty.json"
	[ "$(wc -l <"$T/tty.json")" -gt 5 ]
	grep -q '^  "definition": {$' "$T/tty.json"
	"$SD" show --json echo >"$T/pipe.json"
	[ "$(wc -l <"$T/pipe.json")" -eq 1 ]
	[ "$(jq_py d <"$T/tty.json")" = "$(jq_py d <"$T/pipe.json")" ]
}

@test "long options may be abbreviated when unambiguous" {
	run --separate-stderr "$SD" write --serv echo --bin /usr/bin/cat --min 1.0.0 --al 1.0.0
	assert_success
	run "$SD" show echo
	assert_line "min_version: 1.0.0"
	assert_line "allow_version: 1.0.0"
}

@test "write replaces the file atomically: a new inode, the old one never half-written" {
	local ino1 ino2
	"$SD" write --service echo --binary /usr/bin/cat >/dev/null
	ino1=$(stat -c %i "$D/echo.servicedef")
	# A reader holding the old file keeps the old bytes: rename, not
	# truncate-and-write.
	exec 5<"$D/echo.servicedef"
	run "$SD" write --service echo --binary /usr/bin/tee
	assert_success
	ino2=$(stat -c %i "$D/echo.servicedef")
	[ "$ino1" != "$ino2" ]
	pdecode /dev/fd/5 >"$T/old.txt"
	exec 5<&-
	grep -qx 'binary_path: "/usr/bin/cat"' "$T/old.txt"
	pdecode "$D/echo.servicedef" | grep -qx 'binary_path: "/usr/bin/tee"'
	[ "$(entries "$D")" = "echo.servicedef" ]
}

@test "invalid input leaves an existing file exactly as it was" {
	"$SD" write --service echo --binary /usr/bin/cat --label a=1 >/dev/null
	cp -p "$D/echo.servicedef" "$T/before"
	usage_fails_existing() {
		run --separate-stderr "$SD" "$@"
		[ "$status" -eq 2 ]
		cmp "$D/echo.servicedef" "$T/before"
		[ "$(entries "$D")" = "echo.servicedef" ]
	}
	usage_fails_existing write --service echo --binary relative
	usage_fails_existing write --service echo --binary /b --min-version 1
	usage_fails_existing write --service echo --binary /b --label 'bad key=1'
	usage_fails_existing write --service echo --binary /b --isolation explicit
	usage_fails_existing write --service echo --binary /b --instance x
}

@test "write refuses a directory with group/other bits, and writes nothing (exit 1)" {
	"$SD" write --service echo --binary /usr/bin/cat >/dev/null
	cp "$D/echo.servicedef" "$T/before"
	chmod 0770 "$D"
	run --separate-stderr "$SD" write --service echo --binary /usr/bin/tee
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "rp-servicedef: not written: directory $D has mode 0770; group/other permissions must be off" ]
	cmp "$D/echo.servicedef" "$T/before"
	run "$SD" write --service other --binary /b
	[ "$status" -eq 1 ]
	[ ! -e "$D/other.servicedef" ]
	chmod 0705 "$D"
	run "$SD" write --service other --binary /b
	[ "$status" -eq 1 ]
	[ "$(entries "$D")" = "echo.servicedef" ]
	# The mode is not "fixed" behind the user's back.
	[ "$(stat -c %a "$D")" = 705 ]
}

@test "write refuses a directory owned by someone else, a symlink, a file" {
	mkdir -p "$D" "$T/real"
	chmod 0700 "$D" "$T/real"
	chown 65534:65534 "$D"
	run --separate-stderr "$SD" write --service echo --binary /b
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"directory $D is owned by uid 65534, not 0"* ]]
	[ -z "$(entries "$D")" ]
	run --separate-stderr "$SD" write --service echo --binary /b --dir "$T/link"
	[ "$status" -eq 0 ]      # (not there yet: created as a directory)
	ln -s "$T/real" "$T/sym"
	run --separate-stderr "$SD" write --service echo --binary /b --dir "$T/sym"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"directory $T/sym is a symlink"* ]]
	[ -z "$(entries "$T/real")" ]
	touch "$T/plain"
	run --separate-stderr "$SD" write --service echo --binary /b --dir "$T/plain"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not a directory"* ]]
}

@test "write: a failed write (the target is a directory) exits 1 and leaves no temporary" {
	mkdir -p "$D/echo.servicedef"
	chmod 0700 "$D"
	run --separate-stderr "$SD" write --service echo --binary /b
	[ "$status" -eq 1 ]
	[[ "$stderr" == "rp-servicedef: not written: $D/echo.servicedef: "* ]]
	[ "$(entries "$D")" = "echo.servicedef" ]
	[ -d "$D/echo.servicedef" ]
}

@test "write: labels are stored in key order, so the same options give the same bytes" {
	"$SD" write --service a --binary /b --label b=2 --label a=1 --label c= >/dev/null
	cp "$D/a.servicedef" "$T/one"
	"$SD" write --service a --binary /b --label c= --label a=1 --label b=2 >/dev/null
	cmp "$T/one" "$D/a.servicedef"
	run "$SD" show a
	assert_output --partial $'label: a=1\nlabel: b=2\nlabel: c='
}

@test "write: a standard output that cannot be written is exit 125" {
	run --separate-stderr bash -c '"$1" write --service echo --binary /b >/dev/full' _ "$SD"
	[ "$status" -eq 125 ]
	[[ "$stderr" == "rp-servicedef: cannot write standard output: "* ]]
	run --separate-stderr bash -c '"$1" show echo >/dev/full' _ "$SD"
	[ "$status" -eq 125 ]
}

# -------------------------------------------- compatibility with protoc

@test "protoc decodes what write wrote, field by field" {
	"$SD" write --service echo --binary /usr/bin/cat --min-version 1.0.0 \
		--allow-version 1.0.0 --allow-version 1.2.0-rc.1 \
		--isolation explicit --instance team-a \
		--per-version-dir /opt/echo/versions \
		--label tier=dev --label owner=platform \
		--label note='caf'$'\xc3\xa9'' = ok' >/dev/null
	run pdecode "$D/echo.servicedef"
	assert_success
	# protoc prints non-ASCII bytes as octal escapes.
	assert_output - <<'EOF'
service_name: "echo"
binary_path: "/usr/bin/cat"
isolation: BROKER_ISOLATION_EXPLICIT_INSTANCE
explicit_instance: "team-a"
per_version_binary_dir: "/opt/echo/versions"
min_version: "1.0.0"
version_allow_list: "1.0.0"
version_allow_list: "1.2.0-rc.1"
labels {
  key: "note"
  value: "caf\303\251 = ok"
}
labels {
  key: "owner"
  value: "platform"
}
labels {
  key: "tier"
  value: "dev"
}
EOF
}

@test "protoc: isolation shared is written, private is the proto default (no bytes)" {
	"$SD" write --service a --binary /b >/dev/null
	run pdecode "$D/a.servicedef"
	assert_output $'service_name: "a"\nbinary_path: "/b"\nisolation: BROKER_ISOLATION_SHARED_BROKER'
	"$SD" write --service a --binary /b --isolation private >/dev/null
	run pdecode "$D/a.servicedef"
	assert_output $'service_name: "a"\nbinary_path: "/b"'
	run "$SD" show a
	assert_line "isolation: private"
}

@test "show and check read a definition encoded by protoc" {
	mkdir -p "$D" && chmod 0700 "$D"
	pencode "$D/echo.servicedef" <<'EOF'
service_name: "echo"
binary_path: "/usr/local/bin/echo-backend"
isolation: BROKER_ISOLATION_EXPLICIT_INSTANCE
explicit_instance: "team-a"
per_version_binary_dir: "/opt/echo/versions"
min_version: "1.0.0"
version_allow_list: "1.0.0"
version_allow_list: "2.0.0"
labels { key: "owner" value: "platform" }
labels { key: "a" value: "b=c" }
EOF
	run --separate-stderr "$SD" show echo
	assert_success
	assert_output - <<EOF
file: $D/echo.servicedef
service: echo
binary: /usr/local/bin/echo-backend
isolation: explicit
instance: team-a
per_version_dir: /opt/echo/versions
min_version: 1.0.0
allow_version: 1.0.0
allow_version: 2.0.0
label: a=b=c
label: owner=platform
EOF
	run "$SD" show --json "$D/echo.servicedef"
	assert_success
	[ "$(jq_py 'd["definition"]["labels"]' <<<"$output")" = '{"a": "b=c", "owner": "platform"}' ]
	[ "$(jq_py 'd["definition"]["isolation"]' <<<"$output")" = '"explicit"' ]
	# Read whole: the binary it names is looked at, and is not there.
	run "$SD" check
	[ "$status" -eq 1 ]
	assert_output "echo.servicedef: binary /usr/local/bin/echo-backend does not exist"
	# And a minimal one: proto3 defaults everywhere else.
	printf 'service_name: "m"\nbinary_path: "/m"\n' | pencode "$D/m.servicedef"
	run "$SD" show m
	assert_output $'file: '"$D"$'/m.servicedef\nservice: m\nbinary: /m\nisolation: private'
}

# --------------------------------------------------------------- show

@test "show: by NAME, by NAME.servicedef, by path" {
	"$SD" write --service echo --binary /usr/bin/cat >/dev/null
	local want
	want=$(printf 'file: %s\nservice: echo\nbinary: /usr/bin/cat\nisolation: shared' "$D/echo.servicedef")
	run --separate-stderr "$SD" show echo
	assert_success
	assert_output "$want"
	run "$SD" show echo.servicedef
	assert_output "$want"
	run "$SD" show "$D/echo.servicedef"
	assert_output "$want"
	cd "$D"
	run "$SD" show ./echo.servicedef
	assert_output "${want/$D\//./}"
	run "$SD" show --dir "$D" echo
	assert_output "$want"
	# Options after the argument are fine too.
	run "$SD" show echo --dir "$D/" --json
	assert_success
	[ "$(jq_py 'd["path"]' <<<"$output")" = "\"$D/echo.servicedef\"" ]
}

@test "show: missing, corrupt, misnamed, invalid and oversized files exit 1" {
	mkdir -p "$D" && chmod 0700 "$D"
	run --separate-stderr "$SD" show echo
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "rp-servicedef: $D/echo.servicedef: No such file or directory" ]
	run --separate-stderr "$SD" show "$T/nowhere/x.servicedef"
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $T/nowhere/x.servicedef: No such file or directory" ]
	printf '\xff\xff\xff' >"$D/junk.servicedef"
	run --separate-stderr "$SD" show junk
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $D/junk.servicedef: not a ServiceDefinition" ]
	printf 'service_name: "other"\nbinary_path: "/b"\n' | pencode "$D/echo.servicedef"
	run --separate-stderr "$SD" show echo
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $D/echo.servicedef: the file is named for \"echo\" but defines \"other\"" ]
	printf 'service_name: "rel"\nbinary_path: "bin/rel"\n' | pencode "$D/rel.servicedef"
	run --separate-stderr "$SD" show rel
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $D/rel.servicedef: binary_path \"bin/rel\" is not absolute" ]
	printf 'service_name: "x"\nbinary_path: "/b"\nisolation: BROKER_ISOLATION_EXPLICIT_INSTANCE\n' | pencode "$D/x.servicedef"
	run --separate-stderr "$SD" show x
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $D/x.servicedef: isolation is EXPLICIT_INSTANCE but explicit_instance is empty" ]
	"$SD" write --service echo --binary /b >/dev/null
	cp "$D/echo.servicedef" "$T/echo.bin"
	run --separate-stderr "$SD" show "$T/echo.bin"
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $T/echo.bin: not named <service>.servicedef" ]
	head -c 70000 /dev/zero >"$D/big.servicedef"
	run --separate-stderr "$SD" show big
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $D/big.servicedef: larger than 65536 bytes" ]
	mkdir "$D/dir.servicedef"
	run --separate-stderr "$SD" show dir
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $D/dir.servicedef: Is a directory" ]
}

@test "show by NAME refuses a directory the broker would refuse; by path it reads" {
	"$SD" write --service echo --binary /usr/bin/cat >/dev/null
	chmod 0750 "$D"
	run --separate-stderr "$SD" show echo
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: directory $D has mode 0750; group/other permissions must be off (a broker refuses every definition in it)" ]
	run --separate-stderr "$SD" show "$D/echo.servicedef"
	assert_success
	assert_line "binary: /usr/bin/cat"
	chmod 0700 "$D"
	chown 65534 "$D"
	run --separate-stderr "$SD" show echo
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is owned by uid 65534, not 0 (a broker refuses every definition in it)" ]]
	run --separate-stderr "$SD" show --dir "$T/none" echo
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: directory $T/none does not exist" ]
}

@test "show keeps every fact on one line: control characters and backslashes are escaped" {
	mkdir -p "$D" && chmod 0700 "$D"
	pencode "$D/odd.servicedef" <<'EOF'
service_name: "odd"
binary_path: "/opt/a\\b/c\td"
labels { key: "k" value: "line1\nline2\r\033[31m" }
labels { key: "nel" value: "x\302\205y" }
EOF
	run --separate-stderr "$SD" show odd
	assert_success
	assert_output - <<EOF
file: $D/odd.servicedef
service: odd
binary: /opt/a\\\\b/c\\td
isolation: private
label: k=line1\\nline2\\r\\x1b[31m
label: nel=x\\xc2\\x85y
EOF
	# JSON carries the real characters.
	run "$SD" show --json odd
	[ "$(jq_py 'd["definition"]["labels"]["k"] == "line1\nline2\r\x1b[31m"' <<<"$output")" = true ]
	[ "$(jq_py 'd["definition"]["binary_path"]' <<<"$output")" = '"/opt/a\\b/c\td"' ]
}

@test "show: a label key given twice in a file shows once, with the last value" {
	mkdir -p "$D" && chmod 0700 "$D"
	# Two messages concatenated are one message with both map entries on
	# the wire; a reader keeps the last value for the key.
	printf 'service_name: "dup"\nbinary_path: "/b"\nlabels { key: "k" value: "first" }\n' | pencode "$T/a"
	printf 'labels { key: "k" value: "last" }\nlabels { key: "j" value: "1" }\n' | pencode "$T/b"
	cat "$T/a" "$T/b" >"$D/dup.servicedef"
	[ "$(pdecode "$D/dup.servicedef" | grep -c 'key: "k"')" -eq 2 ]
	run "$SD" show dup
	assert_success
	assert_output --partial $'label: j=1\nlabel: k=last'
	refute_output --partial first
	run "$SD" show --json dup
	[ "$(jq_py 'd["definition"]["labels"]' <<<"$output")" = '{"j": "1", "k": "last"}' ]
}

# -------------------------------------------------------------- check

@test "check: an empty directory is fine (exit 0, no output)" {
	mkdir -p "$D" && chmod 0700 "$D"
	run --separate-stderr "$SD" check
	assert_success
	[ -z "$output" ] && [ -z "$stderr" ]
	run --separate-stderr "$SD" check --json
	assert_success
	[ "$(jq_py 'd' <<<"$output")" = "{\"dir\": \"$D\", \"dir_ok\": true, \"dir_reason\": null, \"ok\": true, \"files\": []}" ]
}

@test "check: a missing directory is exit 1 with one clear line" {
	run --separate-stderr "$SD" check --dir "$T/absent"
	[ "$status" -eq 1 ]
	assert_output "$T/absent/: does not exist"
	[ ! -e "$T/absent" ]     # check never creates it
	run --separate-stderr "$SD" check --json --dir "$T/absent"
	[ "$status" -eq 1 ]
	[ "$(jq_py '[d["dir_ok"], d["dir_reason"], d["ok"], d["files"]]' <<<"$output")" = '[false, "does not exist", false, []]' ]
}

@test "check: every file gets a line, in name order; any bad one is exit 1" {
	"$SD" write --service echo --binary /usr/bin/cat >/dev/null
	"$SD" write --service b-ok --binary /usr/bin/tee >/dev/null
	printf 'junk' >"$D/corrupt.servicedef"
	cp "$D/echo.servicedef" "$D/misnamed.servicedef"
	cp "$D/echo.servicedef" "$D/Echo.servicedef"
	printf 'service_name: "rel"\nbinary_path: "rel/bin"\n' | pencode "$D/rel.servicedef"
	mkdir "$D/adir.servicedef"
	ln -s "$T/nowhere" "$D/dangling.servicedef"
	# Not definitions: other names, dot files (temporaries look like
	# these), the bare suffix.
	printf 'junk' >"$D/README"
	printf 'junk' >"$D/.hidden.servicedef"
	printf 'junk' >"$D/.echo.servicedef.0123456789abcdef01234567"
	printf 'junk' >"$D/.servicedef"
	run --separate-stderr "$SD" check
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	assert_output - <<EOF
Echo.servicedef: the file is named for "Echo" but defines "echo"
adir.servicedef: Is a directory
b-ok.servicedef: ok
corrupt.servicedef: not a ServiceDefinition
dangling.servicedef: No such file or directory
echo.servicedef: ok
misnamed.servicedef: the file is named for "misnamed" but defines "echo"
rel.servicedef: binary_path "rel/bin" is not absolute
EOF
	run "$SD" check --json
	[ "$status" -eq 1 ]
	[ "$(jq_py '[d["dir_ok"], d["ok"], len(d["files"])]' <<<"$output")" = '[true, false, 8]' ]
	[ "$(jq_py 'd["files"][2]' <<<"$output")" = '{"file": "b-ok.servicedef", "service": "b-ok", "ok": true, "reason": null}' ]
	[ "$(jq_py 'd["files"][3]' <<<"$output")" = '{"file": "corrupt.servicedef", "service": "corrupt", "ok": false, "reason": "not a ServiceDefinition"}' ]
	[ "$(jq_py '[f["service"] for f in d["files"] if f["ok"]]' <<<"$output")" = '["b-ok", "echo"]' ]
	# Fixed, it passes.
	rm -r "$D/corrupt.servicedef" "$D/misnamed.servicedef" "$D/Echo.servicedef" \
		"$D/rel.servicedef" "$D/adir.servicedef" "$D/dangling.servicedef"
	run "$SD" check
	assert_success
	assert_output $'b-ok.servicedef: ok\necho.servicedef: ok'
}

@test "check: a binary that is missing, not a file or not executable is exit 1" {
	mkdir -p "$T/bin"
	printf '#!/bin/sh\n' >"$T/bin/runs" && chmod 0755 "$T/bin/runs"
	printf '#!/bin/sh\n' >"$T/bin/noexec" && chmod 0644 "$T/bin/noexec"
	ln -s runs "$T/bin/link"
	ln -s nowhere "$T/bin/dangling"
	printf 'x' >"$T/bin/file"
	"$SD" write --service a-ok --binary "$T/bin/runs" >/dev/null
	"$SD" write --service b-link --binary "$T/bin/link" >/dev/null
	"$SD" write --service c-missing --binary "$T/bin/absent" >/dev/null
	"$SD" write --service d-dangling --binary "$T/bin/dangling" >/dev/null
	"$SD" write --service e-dir --binary "$T/bin" >/dev/null
	"$SD" write --service f-noexec --binary "$T/bin/noexec" >/dev/null
	"$SD" write --service g-notdir --binary "$T/bin/file/x" >/dev/null
	run --separate-stderr "$SD" check
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	assert_output - <<EOF
a-ok.servicedef: ok
b-link.servicedef: ok
c-missing.servicedef: binary $T/bin/absent does not exist
d-dangling.servicedef: binary $T/bin/dangling does not exist
e-dir.servicedef: binary $T/bin is not a regular file
f-noexec.servicedef: binary $T/bin/noexec is not executable
g-notdir.servicedef: binary $T/bin/file/x cannot be examined: Not a directory
EOF
	run "$SD" check --json
	[ "$status" -eq 1 ]
	[ "$(jq_py 'd["files"][5]' <<<"$output")" = "{\"file\": \"f-noexec.servicedef\", \"service\": \"f-noexec\", \"ok\": false, \"reason\": \"binary $T/bin/noexec is not executable\"}" ]
	# Fixed, it passes.
	rm "$D"/[c-g]-*.servicedef
	run "$SD" check
	assert_success
	assert_output $'a-ok.servicedef: ok\nb-link.servicedef: ok'
}

@test "check: a binary another user may not execute is flagged for that user" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to uid 65534"
	SHARED=$(rp_shared_dir)
	mkdir -m 0700 "$SHARED/defs"
	printf '#!/bin/sh\n' >"$SHARED/owner-only" && chmod 0700 "$SHARED/owner-only"
	"$SD" write --service own --binary "$SHARED/owner-only" --dir "$SHARED/defs" >/dev/null
	chown -R 65534:65534 "$SHARED/defs"
	# Root may run it (a bit of x is set); uid 65534 may not.
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SD" check --dir "$SHARED/defs"
	[ "$status" -eq 1 ]
	assert_output "own.servicedef: binary $SHARED/owner-only is not executable"
}

@test "check: a directory that cannot be examined says why, in the system's words" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to uid 65534"
	SHARED=$(rp_shared_dir)
	mkdir -m 0700 "$SHARED/closed"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SD" check --dir "$SHARED/closed/services"
	[ "$status" -eq 1 ]
	assert_output "$SHARED/closed/services/: cannot be examined: Permission denied"
}

@test "check: group/other bits on the directory are exit 1; the files are still listed" {
	"$SD" write --service echo --binary /usr/bin/cat >/dev/null
	chmod g+w "$D"
	run --separate-stderr "$SD" check
	[ "$status" -eq 1 ]
	assert_output $D$'/: has mode 0720; group/other permissions must be off\necho.servicedef: ok'
	run "$SD" check --json
	[ "$status" -eq 1 ]
	[ "$(jq_py '[d["dir"], d["dir_ok"], d["dir_reason"], d["ok"], d["files"][0]["ok"]]' <<<"$output")" = \
		"[\"$D\", false, \"has mode 0720; group/other permissions must be off\", false, true]" ]
	chmod 0701 "$D"
	run "$SD" check
	[ "$status" -eq 1 ]
	assert_line --index 0 "$D/: has mode 0701; group/other permissions must be off"
	chmod 0700 "$D"
	run "$SD" check
	assert_success
}

@test "check: a directory owned by uid 65534 or a symlink is exit 1" {
	"$SD" write --service echo --binary /usr/bin/cat >/dev/null
	chown 65534:65534 "$D"
	run --separate-stderr "$SD" check
	[ "$status" -eq 1 ]
	assert_output $D$'/: is owned by uid 65534, not 0\necho.servicedef: ok'
	chown 0:0 "$D"
	ln -s "$D" "$T/link"
	run --separate-stderr "$SD" check --dir "$T/link/"
	[ "$status" -eq 1 ]
	assert_output "$T/link/: is a symlink"$'\necho.servicedef: ok'
	touch "$T/file"
	run --separate-stderr "$SD" check --dir "$T/file"
	[ "$status" -eq 1 ]
	assert_output "$T/file/: is not a directory"
}

@test "check, show by NAME: a file the broker would not trust (another owner, group/other write, a link out of the directory) is exit 1" {
	local w out
	for w in a-ok theirs open group readable; do
		"$SD" write --service "$w" --binary /usr/bin/cat >/dev/null
	done
	chown 65534 "$D/theirs.servicedef"
	chmod 0666 "$D/open.servicedef"
	chmod 0620 "$D/group.servicedef"
	chmod 0644 "$D/readable.servicedef"        # others may read it
	mkdir -m 0700 "$T/elsewhere"
	"$SD" write --dir "$T/elsewhere" --service out --binary /usr/bin/cat >/dev/null
	ln -s "$T/elsewhere/out.servicedef" "$D/out.servicedef"
	ln -s ../../../elsewhere/out.servicedef "$D/dotdot.servicedef"
	[ -e "$D/dotdot.servicedef" ]
	# a link that stays inside the directory is followed
	"$SD" write --dir "$D/versions" --service within --binary /usr/bin/cat >/dev/null
	ln -s versions/within.servicedef "$D/within.servicedef"
	out=$(realpath "$T/elsewhere/out.servicedef")
	run --separate-stderr "$SD" check
	[ "$status" -eq 1 ]
	assert_output - <<EOF
a-ok.servicedef: ok
dotdot.servicedef: a symbolic link leading out of its directory, to $out
group.servicedef: writable by group or others (mode 0620)
open.servicedef: writable by group or others (mode 0666)
out.servicedef: a symbolic link leading out of its directory, to $out
readable.servicedef: ok
theirs.servicedef: owned by uid 65534, not root
within.servicedef: ok
EOF
	run --separate-stderr "$SD" show theirs
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $D/theirs.servicedef: owned by uid 65534, not root" ]
	run --separate-stderr "$SD" show out
	[ "$status" -eq 1 ]
	[ "$stderr" = "rp-servicedef: $D/out.servicedef: a symbolic link leading out of its directory, to $out" ]
	run --separate-stderr "$SD" show within
	assert_success
	# a path is only looked at, as for the directory
	run --separate-stderr "$SD" show "$D/theirs.servicedef"
	assert_success
	assert_line "service: theirs"
	run --separate-stderr "$SD" show "$D/out.servicedef"
	assert_success
	# fixed, it passes
	chown 0 "$D/theirs.servicedef"
	chmod 0600 "$D/open.servicedef" "$D/group.servicedef"
	rm "$D/out.servicedef" "$D/dotdot.servicedef"
	run "$SD" check
	assert_success
}

@test "another user: its own definitions and root's are trusted, a third uid's is not" {
	SHARED=$(rp_shared_dir)
	mkdir -m 0700 "$SHARED/defs"
	chown 65534:65534 "$SHARED/defs"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SD" write --dir "$SHARED/defs" --service mine --binary /usr/bin/cat >/dev/null
	"$SD" write --service roots --binary /usr/bin/cat >/dev/null
	"$SD" write --service third --binary /usr/bin/cat >/dev/null
	cp "$D/roots.servicedef" "$D/third.servicedef" "$SHARED/defs/"
	chmod 0644 "$SHARED/defs/roots.servicedef" "$SHARED/defs/third.servicedef"
	chown 65533 "$SHARED/defs/third.servicedef"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SD" check --dir "$SHARED/defs"
	[ "$status" -eq 1 ]
	assert_output - <<EOF
mine.servicedef: ok
roots.servicedef: ok
third.servicedef: owned by uid 65533, not 65534 or root
EOF
}

@test "another user: its own directory is fine, root's is refused" {
	SHARED=$(rp_shared_dir)
	mkdir -m 0700 "$SHARED/root-owned"
	as_nobody() {
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			env -u RUNNING_PROCESS_SERVICE_DEF_DIR -u XDG_CONFIG_HOME \
			HOME="$SHARED/home" "$SD" "$@"
	}
	mkdir -m 0755 "$SHARED/home" && chown 65534:65534 "$SHARED/home"
	run --separate-stderr as_nobody write --service echo --binary /usr/bin/cat
	assert_success
	assert_output "$SHARED/home/.config/running-process/services/echo.servicedef"
	[ "$(stat -c '%u %a' "$SHARED/home/.config/running-process/services")" = "65534 700" ]
	[ "$(stat -c '%u %a' "$output")" = "65534 600" ]
	run --separate-stderr as_nobody check
	assert_success
	assert_output "echo.servicedef: ok"
	run --separate-stderr as_nobody check --dir "$SHARED/root-owned"
	[ "$status" -eq 1 ]
	assert_output "$SHARED/root-owned/: is owned by uid 0, not 65534"
	run --separate-stderr as_nobody write --service echo --binary /b --dir "$SHARED/root-owned"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is owned by uid 0, not 65534" ]]
}
