/*
 * fuzz_token_hex — rp_token_from_hex accepts exactly what an independent
 * reference check accepts, decodes to the same bytes, and writes nothing
 * when it refuses.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "token.h"

/* Written differently on purpose: strchr() for the whitespace set, the C
 * library's isxdigit() and sscanf() for the digits. */
static int
ref_is_space(uint8_t c)
{
	return c != '\0' && strchr(" \t\n\v\f\r", c) != NULL;
}

static int
ref_parse(const uint8_t *p, size_t n, uint8_t out[RP_TOKEN_LEN])
{
	size_t b = 0, e = n, i;

	while (b < n && ref_is_space(p[b]))
		b++;
	while (e > b && ref_is_space(p[e - 1]))
		e--;
	if (e - b != RP_TOKEN_HEX_LEN)
		return -1;
	for (i = b; i < e; i++)
		if (p[i] > 0x7f || !isxdigit(p[i]))
			return -1;
	for (i = 0; i < RP_TOKEN_LEN; i++) {
		char two[3] = { (char)p[b + 2 * i], (char)p[b + 2 * i + 1], 0 };
		unsigned v;

		if (sscanf(two, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t want[RP_TOKEN_LEN], got[RP_TOKEN_LEN], keep[RP_TOKEN_LEN];
	char hex[RP_TOKEN_HEX_LEN + 1], *copy;
	int r, rr;

	/* A private copy, exactly size bytes long, so that any read past the
	 * end is caught by ASan. */
	copy = calloc(size ? size : 1, 1);
	if (copy == NULL)
		return 0;
	if (size)
		memcpy(copy, data, size);
	memset(keep, 0xa5, sizeof(keep));
	memcpy(got, keep, sizeof(got));
	errno = 0;
	r = rp_token_from_hex(copy, size, got);
	rr = ref_parse(data, size, want);
	if (r != rr)
		abort();
	if (r == 0) {
		if (memcmp(got, want, RP_TOKEN_LEN) != 0)
			abort();
		/* The canonical form parses back to the same token. */
		rp_token_to_hex(got, hex);
		if (rp_token_from_hex(hex, RP_TOKEN_HEX_LEN, want) != 0 ||
		    memcmp(got, want, RP_TOKEN_LEN) != 0)
			abort();
	} else {
		if (r != -1 || errno != EINVAL ||
		    memcmp(got, keep, RP_TOKEN_LEN) != 0)
			abort();
	}
	free(copy);
	return 0;
}
