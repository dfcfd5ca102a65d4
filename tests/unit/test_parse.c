/* Unit tests for parse: strict decimal numbers, hexadecimal, UTF-8 text
 * checked whole and in pieces split anywhere. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"
#include "t.h"

static void
test_u64_accepts_plain_decimal(void)
{
	uint64_t v = 7;

	T_EQ(rp_parse_u64("0", 0, 10, &v), 0);
	T_UEQ(v, 0);
	T_EQ(rp_parse_u64("10", 0, 10, &v), 0);
	T_UEQ(v, 10);
	T_EQ(rp_parse_u64("007", 0, 10, &v), 0);
	T_UEQ(v, 7);
	T_EQ(rp_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	T_UEQ(v, UINT64_MAX);
}

static void
test_u64_rejects_what_atoi_would_take(void)
{
	static const char *bad[] = { "", " 1", "1 ", "+1", "-1", "1a", "0x10",
		"1.0", "１", "1\n", "12abc", NULL };
	uint64_t v = 42;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		errno = 0;
		T_EQ(rp_parse_u64(bad[i], 0, UINT64_MAX, &v), -1);
		T_EQ(errno, EINVAL);
		T_UEQ(v, 42);
	}
	errno = 0;
	T_EQ(rp_parse_u64(NULL, 0, 1, &v), -1);
	T_EQ(errno, EINVAL);
}

static void
test_u64_range(void)
{
	uint64_t v = 42;

	errno = 0;
	T_EQ(rp_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
	T_EQ(errno, ERANGE);
	errno = 0;
	T_EQ(rp_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -1);
	T_EQ(errno, ERANGE);
	errno = 0;
	T_EQ(rp_parse_u64("11", 0, 10, &v), -1);
	T_EQ(errno, ERANGE);
	errno = 0;
	T_EQ(rp_parse_u64("0", 1, 10, &v), -1);
	T_EQ(errno, ERANGE);
	T_UEQ(v, 42);
}

static void
test_u32_and_int(void)
{
	uint32_t u = 1;
	int i = 1;

	T_EQ(rp_parse_u32("4294967295", 0, UINT32_MAX, &u), 0);
	T_UEQ(u, UINT32_MAX);
	errno = 0;
	T_EQ(rp_parse_u32("4294967296", 0, UINT32_MAX, &u), -1);
	T_EQ(errno, ERANGE);
	T_EQ(rp_parse_int("2147483647", 0, INT_MAX, &i), 0);
	T_EQ(i, INT_MAX);
	errno = 0;
	T_EQ(rp_parse_int("2147483648", 0, INT_MAX, &i), -1);
	T_EQ(errno, ERANGE);
	errno = 0;
	T_EQ(rp_parse_int("1", -1, 5, &i), -1);
	T_EQ(errno, EINVAL);
	T_EQ(i, INT_MAX);
}

static void
test_hex(void)
{
	static const uint8_t bytes[] = { 0x00, 0x9f, 0xa0, 0xff, 0x12 };
	uint8_t out[5], keep[5];
	char hex[11];

	rp_hex_encode(bytes, sizeof(bytes), hex);
	T_STR(hex, "009fa0ff12");
	rp_hex_encode(bytes, 0, hex);
	T_STR(hex, "");
	T_EQ(rp_hex_decode("009FA0ff12", 10, out, sizeof(out)), 0);
	T_MEM(out, bytes, sizeof(bytes));
	/* Exactly 2n digits, nothing else; out untouched on failure. */
	memcpy(keep, out, sizeof(out));
	errno = 0;
	T_EQ(rp_hex_decode("009fa0ff1", 9, out, sizeof(out)), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_hex_decode("009fa0ff123", 11, out, sizeof(out)), -1);
	T_EQ(rp_hex_decode("009fa0ff1g", 10, out, sizeof(out)), -1);
	T_EQ(rp_hex_decode(" 09fa0ff12", 10, out, sizeof(out)), -1);
	T_EQ(rp_hex_decode("0x9fa0ff12", 10, out, sizeof(out)), -1);
	T_EQ(rp_hex_decode(NULL, 0, out, 0), -1);
	T_MEM(out, keep, sizeof(out));
}

/* Every byte boundary of text splits it into two pieces; each split
 * must give the verdict of the whole. */
static int
utf8_split_agrees(const char *s, size_t n)
{
	struct rp_utf8 u;
	size_t i;
	int whole = rp_utf8_valid((const uint8_t *)s, n);

	for (i = 0; i <= n; i++) {
		memset(&u, 0, sizeof(u));
		(void)rp_utf8_feed(&u, (const uint8_t *)s, i);
		(void)rp_utf8_feed(&u, (const uint8_t *)s + i, n - i);
		if ((rp_utf8_end(&u) == 0) != whole)
			return 0;
	}
	return 1;
}

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		size_t n;
		int ok;
	} cases[] = {
		{ "", 0, 1 },
		{ "plain ascii", 11, 1 },
		{ "\xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", 16, 1 },
		{ "\xed\x9f\xbf\xee\x80\x80", 6, 1 },   /* around surrogates */
		{ "a\0b", 3, 0 },                         /* NUL */
		{ "\x80", 1, 0 },                         /* lone continuation */
		{ "\xc0\xaf", 2, 0 },                     /* overlong '/' */
		{ "\xc1\xbf", 2, 0 },
		{ "\xe0\x9f\xbf", 3, 0 },                 /* overlong */
		{ "\xed\xa0\x80", 3, 0 },                 /* U+D800 */
		{ "\xf0\x8f\xbf\xbf", 4, 0 },             /* overlong */
		{ "\xf4\x90\x80\x80", 4, 0 },             /* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
		{ "\xe2\x82", 2, 0 },                     /* cut short */
		{ "\xe2\x82x", 3, 0 },                    /* broken */
	};
	struct rp_utf8 u = { 0 };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_EQ(rp_utf8_valid((const uint8_t *)cases[i].s, cases[i].n),
		    cases[i].ok);
		T_OK(utf8_split_agrees(cases[i].s, cases[i].n));
	}
	/* A bad byte is sticky: what follows cannot make it good. */
	T_EQ(rp_utf8_feed(&u, (const uint8_t *)"\xff", 1), -1);
	T_EQ(rp_utf8_feed(&u, (const uint8_t *)"ok", 2), -1);
	T_EQ(rp_utf8_end(&u), -1);
	/* Fed one byte at a time. */
	memset(&u, 0, sizeof(u));
	for (i = 0; i < 4; i++)
		T_EQ(rp_utf8_feed(&u, (const uint8_t *)"\xf0\x9f\x98\x80" + i,
		    1), 0);
	T_EQ(rp_utf8_end(&u), 0);
}

int
main(void)
{
	T_RUN(test_u64_accepts_plain_decimal);
	T_RUN(test_u64_rejects_what_atoi_would_take);
	T_RUN(test_u64_range);
	T_RUN(test_u32_and_int);
	T_RUN(test_hex);
	T_RUN(test_utf8);
	return t_done();
}
