#!/usr/bin/env bats
# make install: the programs, the man pages, librp.a and its public
# headers, rp.pc and the bash completion land under DESTDIR/PREFIX, and a
# C program builds against the installed library alone, through
# pkg-config too, and works (a client's-eye view of librp); make
# uninstall takes exactly that away again.

load helper

setup() {
	rp_setup_dirs
	SHORT=
}

teardown() {
	rp_teardown
	[ -z "$SHORT" ] || rm -rf "$SHORT"
}

@test "make install, then a C program against the installed librp" {
	local D=$T/dest san=
	run make -s -C "$RP_ROOT" B="$RP_BUILD" DESTDIR="$D" PREFIX=/usr install
	assert_success
	for p in rp-broker rp-probe rp-handoff-send rp-handoff-recv rp-spawn-pty rp-servicedef; do
		[ -x "$D/usr/bin/$p" ]
		[ -f "$D/usr/share/man/man1/$p.1" ]
		run "$D/usr/bin/$p" --version
		assert_output --regexp "^$p [0-9]+\.[0-9]+\.[0-9]+$"
	done
	[ -f "$D/usr/lib/librp.a" ]
	[ -f "$D/usr/include/rp/rp.h" ]
	[ -f "$D/usr/include/rp/rp_v1.pb-c.h" ]
	# Internal headers stay internal.
	[ ! -e "$D/usr/include/rp/blake3_impl.h" ]

	cat >"$T/client.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <rp/rp.h>

int
main(void)
{
	struct rp_buf b = { 0 };
	uint8_t nonce[RP_PROBE_NONCE_LEN], h[32];
	int i;

	if (rp_init() != 0)
		return 1;
	if (!rp_names_service_valid("echo", 4) || rp_names_service_valid("Echo", 4))
		return 2;
	if (rp_probe_request(nonce, &b) != 0 || b.data[0] != RP_FRAME_VERSION)
		return 3;
	rp_blake3("abc", 3, h);
	for (i = 0; i < 32; i++)
		printf("%02x", h[i]);
	printf("\n");
	rp_buf_free(&b);
	return 0;
}
C
	case $RP_BUILD in *san*) san=-fsanitize=address,undefined ;; esac
	run cc -std=c17 $san -I"$D/usr/include" -o "$T/client" "$T/client.c" \
		-L"$D/usr/lib" -lrp -lprotobuf-c -lsodium
	assert_success
	run "$T/client"
	assert_success
	assert_output "$(printf abc | b3sum --no-names)"
}

# What make install put under prefix $1 (DESTDIR empty): every file and
# symbolic link, one a line, relative, sorted.
installed_files() {
	(cd "$1" && find . \( -type f -o -type l \) | sort)
}

@test "rp.pc: a client built with pkg-config against the installed tree negotiates with a real broker" {
	local P=$T/prefix san=
	run make -s -C "$RP_ROOT" B="$RP_BUILD" PREFIX="$P" install
	assert_success
	[ -f "$P/lib/pkgconfig/rp.pc" ]
	export PKG_CONFIG_PATH=$P/lib/pkgconfig
	run pkg-config --modversion rp
	assert_output 0.1.0
	# librp is a static library: its private dependency (libsodium)
	# comes with --static; protobuf-c, whose types the headers use,
	# always.
	run pkg-config --libs rp
	assert_output --regexp "^-L$P/lib -lrp -lprotobuf-c *\$"
	run pkg-config --static --libs rp
	assert_output --regexp "^-L$P/lib -lrp -lprotobuf-c -lsodium( -pthread)? *\$"
	run pkg-config --cflags rp
	assert_output --regexp "^-I$P/include *\$"

	# A client of the public API alone: connect to the broker, one Hello,
	# its reply.  It prints the backend endpoint, or "refused CODE".
	cat >"$T/hello.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rp/rp.h>

int
main(int argc, char **argv)
{
	Rp__Hello h = RP__HELLO__INIT;
	struct rp_frame_meta m = { .kind = RP_KIND_REQUEST,
	    .protocol = RP_PP_CONTROL, .request_id = 42 };
	struct rp_buf out = { 0 };
	Rp__HelloReply *rep;
	Rp__Frame *f;
	const char *why = NULL;
	int64_t deadline = rp_deadline_in(10000);
	uint8_t *body = NULL;
	size_t len = 0;
	int fd, rc = 1;

	if (argc != 4 || rp_init() != 0)
		return 2;
	h.client_min_protocol = h.client_max_protocol = RP_PROTOCOL_VERSION;
	h.service_name = argv[2];
	h.wanted_version = argv[3];
	h.client_version = (char *)"";
	h.request_id = (char *)"0123456789abcdef0123456789abcdef";
	h.peer_pid = (uint32_t)getpid();
	if ((fd = rp_sock_connect(argv[1], 0, deadline)) < 0 ||
	    rp_wire_frame_encode_msg(&out, &m, &h.base) != 0 ||
	    rp_io_write_full(fd, out.data, out.len, deadline) != 0 ||
	    rp_frame_read(fd, RP_FRAME_HELLO_MAX, deadline, &body, &len) !=
	    RP_FRAME_OK)
		return 3;
	f = rp_wire_frame_parse(body, len, RP_KIND_RESPONSE, RP_PP_CONTROL, 1,
	    42, &why);
	if (f == NULL)
		return 4;
	rep = rp_wire_unpack(&rp__hello_reply__descriptor, f->payload.data,
	    f->payload.len);
	if (rep != NULL && rep->result_case == RP__HELLO_REPLY__RESULT_NEGOTIATED) {
		printf("%s\n", rep->negotiated->backend_pipe);
		rc = 0;
	} else if (rep != NULL && rep->result_case == RP__HELLO_REPLY__RESULT_REFUSED) {
		printf("refused %s\n", rp_wire_error_code_name(rep->refused->code));
		rc = 0;
	}
	rp_wire_free(rep);
	rp_wire_free(f);
	free(body);
	rp_buf_free(&out);
	close(fd);
	return rc;
}
C
	case $RP_BUILD in *san*) san=-fsanitize=address,undefined ;; esac
	# Without pkg-config's --static the link fails as it used to (the
	# trap rp.pc is for); with it, it links.
	run sh -c 'cc -std=c17 $1 $(pkg-config --cflags rp) -o "$2" "$3" $(pkg-config --libs rp)' _ "$san" "$T/hello" "$T/hello.c"
	assert_failure
	assert_output --partial "sodium"
	run sh -c 'cc -std=c17 $1 $(pkg-config --cflags rp) -o "$2" "$3" $(pkg-config --static --libs rp)' _ "$san" "$T/hello" "$T/hello.c"
	assert_success

	# The installed broker, a service, and the client negotiating.
	"$P/bin/rp-servicedef" write --service echo --binary "$RP_ROOT/examples/echo-backend" \
		--min-version 1.0.0 >/dev/null
	SHORT=$(mktemp -d /tmp/rpi.XXXXXX)
	rp_start broker "$P/bin/rp-broker" -s "$SHORT/b.sock" --ready-fd 3
	run "$T/hello" "$SHORT/b.sock" echo 1.0.0
	assert_success
	assert_output --regexp "^$SHORT/rpb-v1-[0-9a-f]{16}-be-[0-9a-f]{32}\.sock\$"
	run "$T/hello" "$SHORT/b.sock" echo 0.9.0
	assert_success
	assert_output "refused VERSION_BLOCKED"
}

@test "make uninstall removes exactly what make install put there" {
	local P=$T/prefix before after
	mkdir -p "$P/bin" "$P/lib/pkgconfig" "$P/include" "$P/share/man/man1"
	# Foreign files next to ours, and one in our include directory.
	touch "$P/bin/other-tool" "$P/lib/libother.a" "$P/lib/pkgconfig/other.pc" \
		"$P/share/man/man1/other.1"
	before=$(installed_files "$P")
	run make -s -C "$RP_ROOT" B="$RP_BUILD" PREFIX="$P" install
	assert_success
	after=$(installed_files "$P")
	# Install added files (programs, library, headers, pages, rp.pc,
	# completions) and changed none of the others.
	[ "$(comm -23 <(echo "$before") <(echo "$after"))" = "" ]
	[ "$(comm -13 <(echo "$before") <(echo "$after") | wc -l)" -gt 40 ]
	run make -s -C "$RP_ROOT" B="$RP_BUILD" PREFIX="$P" uninstall
	assert_success
	[ "$(installed_files "$P")" = "$before" ]
	[ ! -e "$P/include/rp" ]
	# Our include directory stays when something else is in it, and a
	# second uninstall finds nothing to do and does not fail.
	make -s -C "$RP_ROOT" B="$RP_BUILD" PREFIX="$P" install
	touch "$P/include/rp/foreign.h"
	run make -s -C "$RP_ROOT" B="$RP_BUILD" PREFIX="$P" uninstall
	assert_success
	[ "$(ls "$P/include/rp")" = foreign.h ]
	run make -s -C "$RP_ROOT" B="$RP_BUILD" PREFIX="$P" uninstall
	assert_success
	# DESTDIR is honoured both ways.
	run make -s -C "$RP_ROOT" B="$RP_BUILD" DESTDIR="$T/stage" PREFIX=/usr install
	assert_success
	[ -x "$T/stage/usr/bin/rp-probe" ]
	grep -qx "prefix=/usr" "$T/stage/usr/lib/pkgconfig/rp.pc"
	run make -s -C "$RP_ROOT" B="$RP_BUILD" DESTDIR="$T/stage" PREFIX=/usr uninstall
	assert_success
	[ -z "$(installed_files "$T/stage")" ]
}

@test "the installed completion is found the way bash-completion looks for it" {
	local P=$T/prefix t
	make -s -C "$RP_ROOT" B="$RP_BUILD" PREFIX="$P" install
	for t in rp-broker rp-probe rp-handoff-send rp-handoff-recv rp-spawn-pty rp-servicedef; do
		# bash-completion sources completions/<the command's name>.
		run bash -c 'source "$1/share/bash-completion/completions/$2" &&
			COMP_WORDS=("$2" --vers) COMP_CWORD=1 && _rp_complete &&
			echo "${COMPREPLY[*]}"' _ "$P" "$t"
		assert_success
		assert_output --version
	done
}
