#!/usr/bin/env bats
# make install: the programs, the man pages, librp.a and its public
# headers land under DESTDIR/PREFIX, and a C program builds against the
# installed library alone and works (a client's-eye view of librp).

load helper

setup() {
	rp_setup_dirs
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
