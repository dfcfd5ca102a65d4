/*
 * parse.h — strict parsing of numbers given on command lines and in
 * environment variables, hexadecimal both ways, and UTF-8 text checked a
 * piece at a time.
 *
 * Strict means: decimal digits only (no sign, no spaces, no "0x", no
 * trailing garbage), at least one digit, and a value inside the caller's
 * range.  Never atoi: "12abc", "", "-1" and "99999999999999999999" are all
 * errors, not 12, 0, a huge number or a wrapped one.
 */
#ifndef RP_PARSE_H
#define RP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "cdefs.h"

/* Parse s as a decimal u64 in [min, max].  Returns 0 with *out set, or -1
 * with errno EINVAL (not a plain decimal number, or NULL) or ERANGE
 * (outside [min, max], including values that do not fit 64 bits); *out
 * is untouched on failure. */
int rp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* The same for the len bytes at s, which need not end there (a field of a
 * line, a run of digits in a longer string). */
int rp_parse_u64_n(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out);

/* The same for u32 and int destinations (max bounded by the type). */
int rp_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int rp_parse_int(const char *s, int min, int max, int *out);

/*
 * A duration, into milliseconds: decimal digits, optionally a fraction
 * ("2.5"), then optionally one unit, "ms", "s", "m" or "h", with nothing
 * in between or after.  A bare number counts in units of bare_ms
 * milliseconds (1 where a bare number is milliseconds, 1000 where it is
 * seconds), so "500ms", "0.5s" and, with bare_ms 1, "500" are the same.
 * The result must be a whole number of milliseconds in [min_ms, max_ms].
 * Returns 0 with *out_ms set, or -1 with errno EINVAL (not a duration:
 * "", "1.", ".5", "5 s", "5S", "-1", "5sec", a part of a millisecond)
 * or ERANGE (outside the range, or too large to count); *out_ms is
 * untouched on failure.
 */
int rp_parse_duration_ms(const char *s, uint64_t bare_ms, uint64_t min_ms,
    uint64_t max_ms, uint64_t *out_ms);

/* n bytes as 2n lowercase hex digits and a NUL into out (2n + 1 bytes). */
void rp_hex_encode(const uint8_t *p, size_t n, char *out);

/* Exactly 2n hex digits (either case, nothing else) from s[0..len) into
 * out[0..n).  0, or -1 with errno EINVAL; out is written only on
 * success. */
int rp_hex_decode(const char *s, size_t len, uint8_t *out, size_t n);

/*
 * Text: UTF-8 as strict as Rust's str::from_utf8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF; what prost and protobuf-c++ accept in
 * a string field) and no NUL, which a C string cannot carry.  Checked a
 * piece at a time, so a sequence may be split anywhere: zero-initialise,
 * feed, then ask rp_utf8_end whether it ended on a character boundary.
 */
struct rp_utf8 {
	uint8_t need;      /* continuation bytes still expected */
	uint8_t lo, hi;    /* the range of the next one */
	uint8_t bad;       /* sticky */
};

/* 0 while the bytes fed so far begin valid text, -1 from the first bad
 * byte on. */
int rp_utf8_feed(struct rp_utf8 *u, const uint8_t *p, size_t n);
/* 0 when everything fed is valid text, whole characters only; else -1. */
int rp_utf8_end(const struct rp_utf8 *u);
/* 1 when p[0..n) is valid text, else 0. */
int rp_utf8_valid(const uint8_t *p, size_t n);

/*
 * The character at p[0..n), n >= 1, for a reader that repairs text: its
 * length (1 to 4; NUL is a character here) when it is well formed, else
 * minus the length of its maximal ill-formed subpart (1 to 3), which is
 * what one U+FFFD replaces (Unicode's recommended practice, that of
 * Rust's String::from_utf8_lossy and of Python's "replace").  "\xe2\x82"
 * cut short is one subpart; "\xed\xa0\x80" (a surrogate) three.
 */
int rp_utf8_char(const uint8_t *p, size_t n);

/* snprintf into dst[0..n) for messages, where a cut is fine: a cut never
 * leaves part of a character at the end.  Returns the length written. */
size_t rp_utf8_fmt(char *dst, size_t n, const char *f, ...)
	RP_PRINTF(3, 4);

#endif
