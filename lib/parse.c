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
