/* parse.c — strict decimal numbers (see parse.h). */
#include <errno.h>
#include <limits.h>
#include <stddef.h>

#include "parse.h"

int
rp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int over = 0;

	if (s == NULL || s[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	/* By hand rather than strtoull: it accepts leading spaces, a sign
	 * (and negates "-1" into UINT64_MAX) and a locale's digits. */
	for (i = 0; s[i] != '\0'; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9') {
			errno = EINVAL;
			return -1;
		}
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	if (over || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
rp_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (rp_parse_u64(s, min, max, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
rp_parse_int(const char *s, int min, int max, int *out)
{
	uint64_t v;

	/* Negative ranges are not what command lines here need. */
	if (min < 0 || max < min) {
		errno = EINVAL;
		return -1;
	}
	if (rp_parse_u64(s, (uint64_t)min, (uint64_t)max, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

void
rp_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
rp_hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (s == NULL || len != 2 * n)
		goto bad;
	for (i = 0; i < n; i++) {
		hi = hex_value((unsigned char)s[2 * i]);
		lo = hex_value((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
	}
	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(hex_value((unsigned char)s[2 * i]) << 4 |
		    hex_value((unsigned char)s[2 * i + 1]));
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* ------------------------------------------------------------- UTF-8 */

int
rp_utf8_feed(struct rp_utf8 *u, const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t c;

	for (i = 0; i < n && !u->bad; i++) {
		c = p[i];
		if (u->need > 0) {
			if (c < u->lo || c > u->hi)
				u->bad = 1;
			u->need--;
			u->lo = 0x80;
			u->hi = 0xbf;
			continue;
		}
		u->lo = 0x80;
		u->hi = 0xbf;
		if (c >= 0x01 && c <= 0x7f)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			u->need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			u->need = 2;
			if (c == 0xe0)
				u->lo = 0xa0;   /* no overlong forms */
			else if (c == 0xed)
				u->hi = 0x9f;   /* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			u->need = 3;
			if (c == 0xf0)
				u->lo = 0x90;
			else if (c == 0xf4)
				u->hi = 0x8f;   /* up to U+10FFFF */
		} else {
			u->bad = 1;             /* NUL, 80-c1, f5-ff */
		}
	}
	return u->bad ? -1 : 0;
}

int
rp_utf8_end(const struct rp_utf8 *u)
{
	return u->bad || u->need > 0 ? -1 : 0;
}

int
rp_utf8_valid(const uint8_t *p, size_t n)
{
	struct rp_utf8 u = { 0 };

	return rp_utf8_feed(&u, p, n) == 0 && rp_utf8_end(&u) == 0;
}
