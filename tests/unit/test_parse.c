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

/* A field of a longer string: only its len bytes count. */
static void
test_u64_n(void)
{
	uint64_t v = 42;

	T_EQ(rp_parse_u64_n("123 456", 3, 0, UINT64_MAX, &v), 0);
	T_UEQ(v, 123);
	T_EQ(rp_parse_u64_n("4.5.6", 1, 0, 9, &v), 0);
	T_UEQ(v, 4);
	errno = 0;
	T_EQ(rp_parse_u64_n("123 456", 4, 0, UINT64_MAX, &v), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_parse_u64_n("123", 0, 0, UINT64_MAX, &v), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_parse_u64_n("184467440737095516160", 20, 0, UINT64_MAX, &v),
	    -1);
	T_EQ(errno, ERANGE);
	T_EQ(rp_parse_u64_n("184467440737095516160", 19, 0, UINT64_MAX, &v),
	    0);
	T_UEQ(v, UINT64_C(1844674407370955161));
	errno = 0;
	T_EQ(rp_parse_u64_n(NULL, 1, 0, 1, &v), -1);
	T_EQ(errno, EINVAL);
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
	/* Long ASCII is checked eight bytes at a time: a NUL, a stray
	 * byte, or a character, at every offset of every length up to 40
	 * (each offset within a word and across words, and the tail). */
	{
		uint8_t b[48];
		size_t len, at;
		int bad = 0;

		for (len = 1; len <= 40; len++) {
			memset(b, 'a', sizeof(b));
			if (!rp_utf8_valid(b, len))
				bad++;
			for (at = 0; at < len; at++) {
				memset(b, 'a', sizeof(b));
				b[at] = 0;
				bad += rp_utf8_valid(b, len) != 0;
				b[at] = 0x80;
				bad += rp_utf8_valid(b, len) != 0;
				b[at] = 0x7f;
				bad += rp_utf8_valid(b, len) != 1;
				if (at + 1 < len) {
					b[at] = 0xc3;
					b[at + 1] = 0xa9;
					bad += rp_utf8_valid(b, len) != 1;
					b[at + 1] = 'a';
					bad += rp_utf8_valid(b, len) != 0;
				}
			}
		}
		T_EQ(bad, 0);
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

/* One duration: its milliseconds, or -1 with errno. */
static long long
dur(const char *s, uint64_t bare_ms, uint64_t max)
{
	uint64_t v = 4242;

	if (rp_parse_duration_ms(s, bare_ms, 0, max, &v) != 0) {
		T_UEQ(v, 4242);         /* untouched on failure */
		return -1;
	}
	return (long long)v;
}

static void
test_duration_units(void)
{
	/* A bare number keeps the caller's meaning. */
	T_EQ(dur("500", 1, UINT64_MAX), 500);
	T_EQ(dur("2", 1000, UINT64_MAX), 2000);
	T_EQ(dur("0", 1000, UINT64_MAX), 0);
	T_EQ(dur("0.25", 1000, UINT64_MAX), 250);
	T_EQ(dur("2.5", 1000, UINT64_MAX), 2500);
	T_EQ(dur("1.0", 1, UINT64_MAX), 1);
	/* The units, whatever a bare number means. */
	T_EQ(dur("500ms", 1000, UINT64_MAX), 500);
	T_EQ(dur("2s", 1, UINT64_MAX), 2000);
	T_EQ(dur("1.5s", 1, UINT64_MAX), 1500);
	T_EQ(dur("0.001s", 1, UINT64_MAX), 1);
	T_EQ(dur("0.5m", 1, UINT64_MAX), 30000);
	T_EQ(dur("1m", 1, UINT64_MAX), 60000);
	T_EQ(dur("1h", 1, UINT64_MAX), 3600000);
	T_EQ(dur("24h", 1, UINT64_MAX), 86400000);
	T_EQ(dur("007s", 1, UINT64_MAX), 7000);
	T_EQ(dur("1.000000000s", 1, UINT64_MAX), 1000);
}

static void
test_duration_rejects(void)
{
	static const char *bad[] = { "", "s", "ms", ".5s", "1.", "1.s", "-1",
		"+1", " 1", "1 ", "5 s", "5S", "5Ms", "5sec", "5mss", "5us",
		"5d", "1s2", "0x10", "1e3", "1,5s", "1.5.0s", "１s",
		/* a part of a millisecond */
		"0.5ms", "1.5", "0.0001s",
		/* more than 9 decimals */
		"1.0000000000s", NULL };
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		errno = 0;
		T_EQ(dur(bad[i], 1, UINT64_MAX), -1);
		T_EQ(errno, EINVAL);
	}
	errno = 0;
	T_EQ(dur(NULL, 1, UINT64_MAX), -1);
	T_EQ(errno, EINVAL);
}

static void
test_duration_range(void)
{
	uint64_t v = 1;

	errno = 0;
	T_EQ(dur("86400001", 1, 86400000), -1);
	T_EQ(errno, ERANGE);
	errno = 0;
	T_EQ(dur("24.001h", 1, 86400000), -1);
	T_EQ(errno, ERANGE);
	T_EQ(dur("86400000", 1, 86400000), 86400000);
	/* Past 64 bits, in the digits or once scaled by the unit. */
	errno = 0;
	T_EQ(dur("18446744073709551616", 1, UINT64_MAX), -1);
	T_EQ(errno, ERANGE);
	errno = 0;
	T_EQ(dur("18446744073709551615s", 1, UINT64_MAX), -1);
	T_EQ(errno, ERANGE);
	errno = 0;
	T_EQ(dur("5124095576031h", 1, UINT64_MAX), -1);
	T_EQ(errno, ERANGE);
	errno = 0;
	T_EQ(dur("5124095576030.5h", 1, UINT64_MAX), -1);
	T_EQ(errno, ERANGE);
	T_EQ(rp_parse_duration_ms("18446744073709551615", 1, 0, UINT64_MAX,
	    &v), 0);
	T_UEQ(v, UINT64_MAX);
	T_EQ(rp_parse_duration_ms("5124095576030h", 1, 0, UINT64_MAX, &v), 0);
	T_UEQ(v, UINT64_C(5124095576030) * 3600000);
	T_EQ(rp_parse_duration_ms("5124095576030.4h", 1, 0, UINT64_MAX, &v),
	    0);
	T_UEQ(v, UINT64_C(5124095576030) * 3600000 + 1440000);
	v = 1;
	/* The lower bound. */
	errno = 0;
	T_EQ(rp_parse_duration_ms("0s", 1, 1, 10, &v), -1);
	T_EQ(errno, ERANGE);
	T_UEQ(v, 1);
	T_EQ(rp_parse_duration_ms("10ms", 1, 1, 10, &v), 0);
	T_UEQ(v, 10);
	/* No unit of zero milliseconds. */
	errno = 0;
	T_EQ(rp_parse_duration_ms("5", 0, 0, 10, &v), -1);
	T_EQ(errno, EINVAL);
}

/* Text repaired as a reader would: each maximal ill-formed subpart
 * becomes one U+FFFD. */
static void
repair(const char *s, size_t n, char *out)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	int k;

	while (i < n) {
		k = rp_utf8_char(p + i, n - i);
		if (k > 0) {
			memcpy(out, p + i, (size_t)k);
			out += k;
			i += (size_t)k;
		} else {
			memcpy(out, "\xef\xbf\xbd", 3);
			out += 3;
			i += (size_t)-k;
		}
	}
	*out = '\0';
}

#define R "\xef\xbf\xbd"

/* The expected strings are Python's bytes.decode("utf-8", "replace"),
 * which follows the same practice as Rust's String::from_utf8_lossy. */
static void
test_utf8_char(void)
{
	static const struct {
		const char *s;
		size_t n;
		const char *want;
	} cases[] = {
		{ "a\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", 13,
		    "a" R R R "b" R "c" R R "d" },     /* Unicode's example */
		{ "/home/\xff\xfe/x: \xe2\x82", 13, "/home/" R R "/x: " R },
		{ "\xed\xa0\x80", 3, R R R },          /* surrogate */
		{ "\xf4\x90\x80\x80", 4, R R R R },     /* past U+10FFFF */
		{ "\xc0\xaf", 2, R R },                /* overlong */
		{ "\xe0\x80\xaf", 3, R R R },
		{ "\xf0\x9f\x98", 3, R },               /* cut short */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },
		{ "\xe2\x82\xe2\x82\xac", 5, R "\xe2\x82\xac" },
		{ "a\0b", 3, "a" },                    /* NUL is a character */
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		repair(cases[i].s, cases[i].n, out);
		T_STR(out, cases[i].want);
	}
	T_EQ(rp_utf8_char((const uint8_t *)"\0", 1), 1);
	T_EQ(rp_utf8_char((const uint8_t *)"\xc3\xa9", 2), 2);
	T_EQ(rp_utf8_char((const uint8_t *)"\xc3\xa9", 1), -1);
	T_EQ(rp_utf8_char((const uint8_t *)"\xf0\x9f\x98\x80", 3), -3);
}

/* A message cut to fit never ends in part of a character. */
static void
test_utf8_fmt(void)
{
	char buf[8];

	T_EQ(rp_utf8_fmt(buf, sizeof(buf), "%s", "abc"), 3);
	T_STR(buf, "abc");
	T_EQ(rp_utf8_fmt(buf, sizeof(buf), "%s", "abcdefghij"), 7);
	T_STR(buf, "abcdefg");
	/* "abcde" and a 3-byte character: 8 bytes, one too many. */
	T_EQ(rp_utf8_fmt(buf, sizeof(buf), "abcde%s", "\xe2\x82\xac"), 5);
	T_STR(buf, "abcde");
	T_EQ(rp_utf8_fmt(buf, sizeof(buf), "abcd%s", "\xe2\x82\xac!"), 7);
	T_STR(buf, "abcd\xe2\x82\xac");
	T_EQ(rp_utf8_fmt(buf, sizeof(buf), "abcdef%s", "\xc3\xa9"), 6);
	T_STR(buf, "abcdef");
	T_EQ(rp_utf8_fmt(buf, sizeof(buf), "abc%s", "\xf0\x9f\x98\x80\xf0"),
	    7);
	T_STR(buf, "abc\xf0\x9f\x98\x80");
	T_EQ(rp_utf8_fmt(buf, sizeof(buf), "abcd%s", "\xf0\x9f\x98\x80"), 4);
	T_STR(buf, "abcd");
	/* Bytes that are no character's start are the input's own: kept. */
	T_EQ(rp_utf8_fmt(buf, sizeof(buf), "abcdef%s", "\xff\xff"), 7);
	T_STR(buf, "abcdef\xff");
	T_EQ(rp_utf8_fmt(buf, 1, "%s", "x"), 0);
	T_STR(buf, "");
	T_EQ(rp_utf8_fmt(buf, 0, "%s", "x"), 0);
}

int
main(void)
{
	T_RUN(test_u64_accepts_plain_decimal);
	T_RUN(test_u64_rejects_what_atoi_would_take);
	T_RUN(test_u64_range);
	T_RUN(test_u64_n);
	T_RUN(test_u32_and_int);
	T_RUN(test_duration_units);
	T_RUN(test_duration_rejects);
	T_RUN(test_duration_range);
	T_RUN(test_hex);
	T_RUN(test_utf8);
	T_RUN(test_utf8_char);
	T_RUN(test_utf8_fmt);
	return t_done();
}
