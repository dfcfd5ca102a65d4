#!/usr/bin/env bats
# rp-broker's service definitions between Hellos (issue 16): watched for
# changes instead of checked on every Hello.  Each change is seen by the
# next Hello, wherever the watch has to look for it; and while nothing
# changes, a Hello costs no stat, lstat or geteuid (traced with strace).

load broker
bats_require_minimum_version 1.5.0

# code REASON — the Hello in $output was refused with this reason, or
# negotiated ("negotiated").
said() {
	local got
	got=$(echo "$output" | jf 'd["result"] if d["result"] == "negotiated" else d["reason"]')
	[ "$got" = "$1" ] || { echo "got: $got"; echo "want: $1"; return 1; }
}

BELOW="wanted_version is below min_version"
NOTFOUND="service definition was not found"

@test "a definition added after a Hello found none is found by the next" {
	start_broker
	run -0 hello --service late
	said "$NOTFOUND"
	def late serve --min-version 9.0.0
	run -0 hello --service late
	said "$BELOW"
	rm "$DEFS/late.servicedef"
	run -0 hello --service late
	said "$NOTFOUND"
}

@test "a definition behind a link into a subdirectory: written in place, chmod'ed, chown'ed, each seen by the next Hello" {
	mkdir -m 0700 "$DEFS/v2" "$T/new"
	bw servicedef --dir "$DEFS/v2" --service echo --binary "$BK/serve.sh" --min-version 9.0.0 >/dev/null
	bw servicedef --dir "$T/new" --service echo --binary "$BK/serve.sh" --min-version 1.0.0 >/dev/null
	ln -s v2/echo.servicedef "$DEFS/echo.servicedef"
	start_broker
	run -0 hello --version 1.0.0
	said "$BELOW"
	run -0 hello --version 1.0.0
	said "$BELOW"
	# the same size, rewritten in place within the same second: only a
	# watch on the file itself sees it (the directory's does not)
	cp "$T/new/echo.servicedef" "$DEFS/v2/echo.servicedef"
	run -0 hello --version 1.0.0
	said negotiated
	chmod 0666 "$DEFS/v2/echo.servicedef"
	run -0 hello --version 1.0.0
	said "service definition could not be loaded: writable by group or others (mode 0666)"
	chmod 0600 "$DEFS/v2/echo.servicedef"
	run -0 hello --version 1.0.0
	said negotiated
	chown 65534 "$DEFS/v2/echo.servicedef"
	run -0 hello --version 1.0.0
	said "service definition could not be loaded: owned by uid 65534, not root"
}

@test "the definition directory chmod'ed, or replaced by another, is seen by the next Hello" {
	def echo serve --min-version 9.0.0
	start_broker
	run -0 hello
	said "$BELOW"
	chmod 0750 "$DEFS"
	run -0 hello
	said "service definition could not be loaded: directory $DEFS has mode 0750; group/other permissions must be off"
	chmod 0700 "$DEFS"
	run -0 hello
	said "$BELOW"
	# moved away and a new one put in its place: the watch was on the
	# old one
	mv "$DEFS" "$DEFS.old"
	mkdir -m 0700 "$DEFS"
	def echo serve --min-version 1.0.0
	run -0 hello --version 1.0.0
	said negotiated
	rm -r "$DEFS"
	mv "$DEFS.old" "$DEFS"
	run -0 hello --version 1.0.0
	said "$BELOW"
}

# strace attached to the broker: $T/tr, the calls in $1.
strace_on() {
	strace -qq -o "$T/tr" -e trace="$1" -p "$BPID" 2>"$T/strace.err" &
	STRACE=$!
	RP_BG_PIDS+=("$STRACE")
	wait_for traced
}
traced() {
	[ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$BPID/status")" != 0 ]
}
strace_off() {
	kill -INT "$STRACE"
	wait "$STRACE" || true
}

untraced() {
	[ "$(awk '/^TracerPid:/ { print $2 }' /proc/self/status)" = 0 ]
}

@test "while nothing changes, a Hello checks no file: no stat, lstat or geteuid" {
	untraced || skip "this test is traced already (strace cannot trace it again)"
	def echo serve --min-version 9.0.0
	start_broker
	run -0 hello
	said "$BELOW"
	strace_on 'stat,lstat,newfstatat,statx,fstat,geteuid,openat'
	local i
	for i in 1 2 3 4; do
		run -0 hello
		said "$BELOW"
	done
	strace_off
	cat "$T/tr"
	[ ! -s "$T/tr" ]
	# a change costs the checks once, on the next Hello
	chmod 0600 "$DEFS/echo.servicedef"
	strace_on 'newfstatat,lstat,stat,statx,geteuid'
	run -0 hello
	said "$BELOW"
	strace_off
	cat "$T/tr"
	run grep -c "\"$DEFS/echo.servicedef\"" "$T/tr"
	[ "$output" = 1 ]
	strace_on 'newfstatat,lstat,stat,statx,geteuid'
	run -0 hello
	said "$BELOW"
	strace_off
	[ ! -s "$T/tr" ]
}
