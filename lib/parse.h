/*
 * parse.h — strict parsing of numbers given on command lines and in
 * environment variables, and hexadecimal both ways.
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

/* Parse s as a decimal u64 in [min, max].  Returns 0 with *out set, or -1
 * with errno EINVAL (not a plain decimal number, or NULL) or ERANGE
 * (outside [min, max], including values that do not fit 64 bits); *out
 * is untouched on failure. */
int rp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* The same for u32 and int destinations (max bounded by the type). */
int rp_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int rp_parse_int(const char *s, int min, int max, int *out);

/* n bytes as 2n lowercase hex digits and a NUL into out (2n + 1 bytes). */
void rp_hex_encode(const uint8_t *p, size_t n, char *out);

/* Exactly 2n hex digits (either case, nothing else) from s[0..len) into
 * out[0..n).  0, or -1 with errno EINVAL; out is written only on
 * success. */
int rp_hex_decode(const char *s, size_t len, uint8_t *out, size_t n);

#endif
