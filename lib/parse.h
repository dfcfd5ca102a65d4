/*
 * parse.h — strict parsing of numbers given on command lines and in
 * environment variables.
 *
 * Strict means: decimal digits only (no sign, no spaces, no "0x", no
 * trailing garbage), at least one digit, and a value inside the caller's
 * range.  Never atoi: "12abc", "", "-1" and "99999999999999999999" are all
 * errors, not 12, 0, a huge number or a wrapped one.
 */
#ifndef RP_PARSE_H
#define RP_PARSE_H

#include <stdint.h>

/* Parse s as a decimal u64 in [min, max].  Returns 0 with *out set, or -1
 * with errno EINVAL (not a plain decimal number, or NULL) or ERANGE
 * (outside [min, max], including values that do not fit 64 bits); *out
 * is untouched on failure. */
int rp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* The same for u32 and int destinations (max bounded by the type). */
int rp_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int rp_parse_int(const char *s, int min, int max, int *out);

#endif
