/* names.c — service, instance and version names (10-wire.md §5). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "names.h"

static int
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int
rp_names_service_valid(const char *s, size_t len)
{
	size_t i;

	/* Uppercase is rejected, never lowered: it would collide on
	 * case-insensitive file systems. */
	if (s == NULL || len == 0 || len > RP_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!name_char((unsigned char)s[i]))
			return 0;
	return 1;
}

int
rp_names_instance_valid(const char *s, size_t len)
{
	return rp_names_service_valid(s, len);
}

/* Length of a run of digits at s[0..len), 0 if none. */
static size_t
digits(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

int
rp_names_version_valid(const char *s, size_t len)
{
	size_t i = 0, n;
	int part;

	if (s == NULL)
		return 0;
	for (part = 0; part < 3; part++) {
		n = digits(s + i, len - i);
		if (n == 0)
			return 0;
		i += n;
		if (part < 2) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i == len)
		return 1;
	if (s[i] != '-' || i + 1 == len)
		return 0;
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.'))
			return 0;
	}
	return 1;
}

/* Parse the numeric MAJOR.MINOR.PATCH of a valid version; -1 when a
 * component does not fit in u64. */
static int
version_parts(const char *s, uint64_t v[3])
{
	int part;

	for (part = 0; part < 3; part++) {
		v[part] = 0;
		while (*s >= '0' && *s <= '9') {
			uint64_t d = (uint64_t)(*s - '0');

			if (v[part] > (UINT64_MAX - d) / 10)
				return -1;
			v[part] = v[part] * 10 + d;
			s++;
		}
		if (part < 2)
			s++;	/* the '.' */
	}
	return 0;
}

enum rp_version_floor
rp_names_version_floor(const char *wanted, const char *floor)
{
	uint64_t w[3], f[3];
	int i;

	if (version_parts(wanted, w) != 0 || version_parts(floor, f) != 0)
		return RP_FLOOR_UNKNOWN;
	for (i = 0; i < 3; i++) {
		if (w[i] != f[i])
			return w[i] < f[i] ? RP_FLOOR_BELOW : RP_FLOOR_MEETS;
	}
	return RP_FLOOR_MEETS;
}

int
rp_names_version_allowed(const char *wanted, const char *const *list,
    size_t n)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (list[i] != NULL && strcmp(list[i], wanted) == 0)
			return 1;
	return 0;
}

int
rp_names_sun_path_fits(const char *path)
{
	if (strlen(path) >= RP_SUN_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
