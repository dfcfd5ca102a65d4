/*
 * fuzz_names — the name and version validators and the version floor
 * against reference checks written here from 10-wire.md §5, in a
 * different way on purpose (split at '-', then at '.'; compare numbers as
 * digit strings instead of parsing them).
 *
 * Input: [split][bytes...]; the bytes are cut in two at split (mod len),
 * and each half, and the whole, are checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "names.h"

static int
ref_service(const uint8_t *s, size_t n)
{
	size_t i;

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-", s[i]) ==
		    NULL || s[i] == '\0')
			return 0;
	return 1;
}

static int
all_in(const uint8_t *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

static int
ref_version(const uint8_t *s, size_t n)
{
	const uint8_t *dash = memchr(s, '-', n);
	size_t core = dash != NULL ? (size_t)(dash - s) : n, i, start = 0;
	int parts = 0;

	if (dash != NULL && (core + 1 == n ||
	    !all_in(dash + 1, n - core - 1, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789.")))
		return 0;
	for (i = 0; i <= core; i++) {
		if (i == core || s[i] == '.') {
			if (i == start ||
			    !all_in(s + start, i - start, "0123456789"))
				return 0;
			parts++;
			start = i + 1;
		}
	}
	return parts == 3;
}

/* The numeric part k (0..2) of a valid version, leading zeros dropped. */
static void
part(const char *v, int k, const char **p, size_t *len)
{
	const char *s = v, *e;

	while (k-- > 0)
		s = strchr(s, '.') + 1;
	e = s;
	while (*e >= '0' && *e <= '9')
		e++;
	while (s + 1 < e && *s == '0')
		s++;
	*p = s;
	*len = (size_t)(e - s);
}

/* Does a digit string (no leading zeros) fit in u64? */
static int
fits(const char *p, size_t len)
{
	static const char max[] = "18446744073709551615";

	return len < 20 || (len == 20 && memcmp(p, max, 20) <= 0);
}

static enum rp_version_floor
ref_floor(const char *w, const char *f)
{
	const char *wp, *fp;
	size_t wl, fl;
	int k, c;

	for (k = 0; k < 3; k++) {
		part(w, k, &wp, &wl);
		part(f, k, &fp, &fl);
		if (!fits(wp, wl) || !fits(fp, fl))
			return RP_FLOOR_UNKNOWN;
	}
	for (k = 0; k < 3; k++) {
		part(w, k, &wp, &wl);
		part(f, k, &fp, &fl);
		if (wl != fl)
			return wl < fl ? RP_FLOOR_BELOW : RP_FLOOR_MEETS;
		c = memcmp(wp, fp, wl);
		if (c != 0)
			return c < 0 ? RP_FLOOR_BELOW : RP_FLOOR_MEETS;
	}
	return RP_FLOOR_MEETS;
}

/* A NUL-terminated copy. */
static char *
dup0(const uint8_t *s, size_t n)
{
	char *p = malloc(n + 1);

	CHECK(p != NULL);
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void
one(const uint8_t *s, size_t n)
{
	int v = rp_names_version_valid((const char *)s, n);

	CHECK(rp_names_service_valid((const char *)s, n) == ref_service(s, n));
	CHECK(rp_names_instance_valid((const char *)s, n) ==
	    ref_service(s, n));
	CHECK(v == ref_version(s, n));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *a, *b;
	size_t an, bn;
	char *sa, *sb;

	if (size < 1)
		return 0;
	an = size > 1 ? data[0] % size : 0;
	a = data + 1;
	if (an > size - 1)
		an = size - 1;
	b = a + an;
	bn = size - 1 - an;
	one(a, an);
	one(b, bn);
	one(a, size - 1);
	sa = dup0(a, an);
	sb = dup0(b, bn);
	if (ref_version(a, an) && ref_version(b, bn) && memchr(a, 0, an) ==
	    NULL && memchr(b, 0, bn) == NULL) {
		const char *list[] = { sa, "1.0.0" };

		CHECK(rp_names_version_floor(sa, sb) == ref_floor(sa, sb));
		CHECK(rp_names_version_floor(sb, sa) == ref_floor(sb, sa));
		CHECK(rp_names_version_floor(sa, sa) == RP_FLOOR_MEETS ||
		    ref_floor(sa, sa) == RP_FLOOR_UNKNOWN);
		/* The allow-list is an exact string match. */
		CHECK(rp_names_version_allowed(sb, list, 2) ==
		    (strcmp(sa, sb) == 0 || strcmp(sb, "1.0.0") == 0));
		CHECK(rp_names_version_allowed(sb, NULL, 0) == 1);
	}
	free(sa);
	free(sb);
	return 0;
}
