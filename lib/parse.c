/* parse.c — strict decimal numbers, durations, hexadecimal, UTF-8 (see
 * parse.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

int
rp_parse_u64_n(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int over = 0;

	if (s == NULL || len == 0) {
		errno = EINVAL;
		return -1;
	}
	/* By hand rather than strtoull: it accepts leading spaces, a sign
	 * (and negates "-1" into UINT64_MAX) and a locale's digits. */
	for (i = 0; i < len; i++) {
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
rp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	return rp_parse_u64_n(s, strlen(s), min, max, out);
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
rp_parse_duration_ms(const char *s, uint64_t bare_ms, uint64_t min_ms,
    uint64_t max_ms, uint64_t *out_ms)
{
	/* At most 9 decimals: a nanosecond, finer than any unit here can
	 * turn into whole milliseconds; and 10^9 times an hour's 3600000
	 * still fits 64 bits. */
	uint64_t whole = 0, frac = 0, pow10 = 1, unit, v;
	const char *p = s;
	int over = 0, nwhole = 0, nfrac = 0;

	if (s == NULL || bare_ms == 0) {
		errno = EINVAL;
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++, nwhole++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			over = 1;
		else
			whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (nwhole == 0) {
		errno = EINVAL;
		return -1;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++) {
			if (nfrac == 9) {
				errno = EINVAL;
				return -1;
			}
			frac = frac * 10 + (uint64_t)(*p - '0');
			pow10 *= 10;
		}
		if (nfrac == 0) {
			errno = EINVAL;
			return -1;
		}
	}
	if (*p == '\0')
		unit = bare_ms;
	else if (strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "s") == 0)
		unit = 1000;
	else if (strcmp(p, "m") == 0)
		unit = 60000;
	else if (strcmp(p, "h") == 0)
		unit = 3600000;
	else {
		errno = EINVAL;
		return -1;
	}
	/* The fraction must come to whole milliseconds: "1.5" of a
	 * millisecond is no duration we can wait. */
	if (unit > UINT64_MAX / pow10 || (frac * unit) % pow10 != 0) {
		errno = EINVAL;
		return -1;
	}
	if (over || whole > (UINT64_MAX - frac * unit / pow10) / unit) {
		errno = ERANGE;
		return -1;
	}
	v = whole * unit + frac * unit / pow10;
	if (v < min_ms || v > max_ms) {
		errno = ERANGE;
		return -1;
	}
	*out_ms = v;
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
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	uint64_t w;
	size_t i = 0;
	int k;

	while (i < n) {
		/* ASCII but NUL, the common case: eight bytes at a time while
		 * none has its high bit set and none is 0 (the classic
		 * zero-byte test: (w - ones) & ~w & highs is 0 exactly when
		 * no byte of w is 0), then a byte at a time. */
		while (n - i >= 8) {
			memcpy(&w, p + i, 8);
			if (((w | ((w - ones) & ~w)) & highs) != 0)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if ((unsigned)p[i] - 1u < 0x7fu) {
			i++;
			continue;
		}
		if (p[i] == 0 || (k = rp_utf8_char(p + i, n - i)) < 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

int
rp_utf8_char(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	int need, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return -1;
	if (c < 0xe0) {
		need = 1;
	} else if (c < 0xf0) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return -1;
	}
	/* The maximal subpart ends at the first byte that cannot continue
	 * the sequence: the ranges of the second byte are what rule out
	 * overlongs, surrogates and code points past U+10FFFF. */
	for (i = 1; i <= need; i++) {
		if ((size_t)i >= n || p[i] < lo || p[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

size_t
rp_utf8_fmt(char *dst, size_t n, const char *f, ...)
{
	va_list ap;
	size_t len, j, start;
	unsigned char lead;
	int r;

	if (n == 0)
		return 0;
	va_start(ap, f);
	r = vsnprintf(dst, n, f, ap);
	va_end(ap);
	if (r < 0) {
		dst[0] = '\0';
		return 0;
	}
	if ((size_t)r < n)
		return (size_t)r;
	/* Cut to n - 1 bytes.  The last character begins at most three
	 * continuation bytes back; when it is the well-begun start of a
	 * character that the cut went through, it goes too. */
	len = n - 1;
	for (j = len; j > 0 && len - j < 3 &&
	    ((unsigned char)dst[j - 1] & 0xc0) == 0x80; j--)
		;
	if (j > 0) {
		start = j - 1;
		lead = (unsigned char)dst[start];
		if (lead >= 0xc2 && lead <= 0xf4 &&
		    rp_utf8_char((const uint8_t *)dst + start, len - start) ==
		    -(int)(len - start))
			len = start;
	}
	dst[len] = '\0';
	return len;
}
