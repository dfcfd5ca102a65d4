/*
 * names.c — service, instance and version names (10-wire.md §5); instance
 * ids and the socket names derived from them (20-broker.md "Where it
 * listens", "Spawned backends").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "blake3.h"
#include "cdefs.h"
#include "names.h"
#include "parse.h"

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
	size_t n;
	int part;

	for (part = 0; part < 3; part++) {
		n = digits(s, strlen(s));
		if (rp_parse_u64_n(s, n, 0, UINT64_MAX, &v[part]) != 0)
			return -1;
		s += n;
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

/* Format into out, refusing (with out emptied) rather than truncating. */
static int
emit(char *out, size_t outsz, const char *fmt, ...)
	RP_PRINTF(3, 4);

static int
emit(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (out == NULL || outsz == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	va_start(ap, fmt);
	n = vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outsz) {
		out[0] = '\0';
		errno = n < 0 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	return n;
}

static int
name_ok(enum rp_isolation iso, const char *name)
{
	if (name == NULL)
		return 0;
	if (iso == RP_ISOLATION_PRIVATE)
		return rp_names_service_valid(name, strlen(name));
	return rp_names_instance_valid(name, strlen(name));
}

const char *
rp_names_isolation_name(unsigned iso)
{
	static const char *const names[] = { "private", "shared", "explicit" };

	return iso < sizeof(names) / sizeof(names[0]) ? names[iso] : "unknown";
}

int
rp_names_instance_id(char *out, size_t outsz, enum rp_isolation iso,
    const char *name)
{
	switch (iso) {
	case RP_ISOLATION_SHARED:
		return emit(out, outsz, "%s", rp_names_isolation_name(iso));
	case RP_ISOLATION_PRIVATE:
	case RP_ISOLATION_EXPLICIT:
		if (!name_ok(iso, name))
			break;
		return emit(out, outsz, "%s:%s", rp_names_isolation_name(iso),
		    name);
	}
	errno = EINVAL;
	return -1;
}

void
rp_names_user_hash(char out[17], uint32_t uid, const char *machine_id)
{
	struct rp_blake3 h;
	uint8_t digest[8];
	char u[16];
	int n;

	/* Fed in pieces: a machine id has no length limit we could trust. */
	n = snprintf(u, sizeof(u), "%u:", (unsigned)uid);
	rp_blake3_init(&h);
	rp_blake3_update(&h, u, (size_t)n);
	if (machine_id != NULL)
		rp_blake3_update(&h, machine_id, strlen(machine_id));
	/* The first 8 bytes of the output are those of the 32-byte digest. */
	rp_blake3_final(&h, digest, sizeof(digest));
	rp_hex_encode(digest, sizeof(digest), out);
}

void
rp_names_user_hash_sid(char out[17], const uint8_t *sid, size_t len)
{
	static const char pre[] = "windows-sid:";
	struct rp_blake3 h;
	uint8_t digest[8];
	char hex[3];
	size_t i;

	rp_blake3_init(&h);
	rp_blake3_update(&h, pre, sizeof(pre) - 1);
	for (i = 0; i < len; i++) {
		rp_hex_encode(sid + i, 1, hex);
		rp_blake3_update(&h, hex, 2);
	}
	rp_blake3_final(&h, digest, sizeof(digest));
	rp_hex_encode(digest, sizeof(digest), out);
}

/* dir without its trailing slashes ("/" stays "/"). */
static size_t
dir_len(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return n;
}

const char *
rp_names_xdg_fault(const char *v)
{
	if (v == NULL || v[0] == '/')
		return NULL;
	return v[0] == '\0' ? "is set but empty" : "is not an absolute path";
}

int
rp_names_broker_dir(char *out, size_t outsz, const char *xdg_runtime_dir,
    uint32_t uid)
{
	/* Set but empty or relative: running-process v1 would join it and
	 * the name, a path relative to wherever the process happens to run;
	 * the /tmp fallback would be another directory than its.  Neither:
	 * the caller says so. */
	if (rp_names_xdg_fault(xdg_runtime_dir) != NULL) {
		if (out != NULL && outsz > 0)
			out[0] = '\0';
		errno = EINVAL;
		return -1;
	}
	if (xdg_runtime_dir != NULL) {
		size_t n = dir_len(xdg_runtime_dir);

		if (n == 1)
			n = 0;	/* "/" + "/running-process" */
		if (n > (size_t)INT32_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return emit(out, outsz, "%.*s/running-process/broker", (int)n,
		    xdg_runtime_dir);
	}
	return emit(out, outsz, "/tmp/running-process-%u/broker",
	    (unsigned)uid);
}

static int
hash16_ok(const char *h)
{
	int i;

	if (h == NULL)
		return 0;
	for (i = 0; i < 16; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return h[16] == '\0';
}

/* dir + "/" + leaf, which must fit sun_path as well as out. */
static int
socket_path(char *out, size_t outsz, const char *dir, const char *leaf)
{
	char path[RP_SUN_PATH_MAX];
	size_t n;
	int len;

	n = dir_len(dir);
	if (n == 1 && dir[0] == '/')
		n = 0;
	if (n >= sizeof(path)) {
		if (out != NULL && outsz > 0)
			out[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Built in a sun_path-sized buffer first: a path that does not fit
	 * there is refused whatever room out has. */
	if ((len = emit(path, sizeof(path), "%.*s/%s", (int)n, dir,
	    leaf)) < 0) {
		if (out != NULL && outsz > 0)
			out[0] = '\0';
		return -1;
	}
	return emit(out, outsz, "%s", path);
}

int
rp_names_broker_socket(char *out, size_t outsz, const char *dir,
    const char *hash16, enum rp_isolation iso, const char *name)
{
	char leaf[RP_SUN_PATH_MAX];
	int n;

	if (dir == NULL || dir[0] == '\0' || !hash16_ok(hash16))
		goto inval;
	switch (iso) {
	case RP_ISOLATION_SHARED:
		n = emit(leaf, sizeof(leaf), "rpb-v1-%s-shared.sock", hash16);
		break;
	case RP_ISOLATION_PRIVATE:
	case RP_ISOLATION_EXPLICIT:
		if (!name_ok(iso, name))
			goto inval;
		n = emit(leaf, sizeof(leaf), "rpb-v1-%s-%s-%s.sock", hash16,
		    iso == RP_ISOLATION_PRIVATE ? "svc" : "inst", name);
		break;
	default:
		goto inval;
	}
	if (n < 0) {
		if (out != NULL && outsz > 0)
			out[0] = '\0';
		return -1;
	}
	return socket_path(out, outsz, dir, leaf);
inval:
	if (out != NULL && outsz > 0)
		out[0] = '\0';
	errno = EINVAL;
	return -1;
}

/* rpb-v1-{hash16}-{kind}-{32 hex of rnd}.sock in dir. */
static int
backend_name(char *out, size_t outsz, const char *dir, const char *hash16,
    const uint8_t rnd[16], const char *kind)
{
	char leaf[RP_SUN_PATH_MAX], r[33];

	if (dir == NULL || dir[0] == '\0' || !hash16_ok(hash16) ||
	    rnd == NULL) {
		if (out != NULL && outsz > 0)
			out[0] = '\0';
		errno = EINVAL;
		return -1;
	}
	rp_hex_encode(rnd, 16, r);
	if (emit(leaf, sizeof(leaf), "rpb-v1-%s-%s-%s.sock", hash16, kind,
	    r) < 0)
		return -1;
	return socket_path(out, outsz, dir, leaf);
}

int
rp_names_backend_endpoint(char *out, size_t outsz, const char *dir,
    const char *hash16, const uint8_t rnd[16])
{
	return backend_name(out, outsz, dir, hash16, rnd, "be");
}

int
rp_names_backend_handoff(char *out, size_t outsz, const char *dir,
    const char *hash16, const uint8_t rnd[16])
{
	return backend_name(out, outsz, dir, hash16, rnd, "ho");
}

int
rp_names_broker_pipe(char *out, size_t outsz, const char *hash16,
    enum rp_isolation iso, const char *name)
{
	if (!hash16_ok(hash16))
		goto inval;
	switch (iso) {
	case RP_ISOLATION_SHARED:
		return emit(out, outsz, "\\\\.\\pipe\\rpb-v1-%s-shared",
		    hash16);
	case RP_ISOLATION_PRIVATE:
	case RP_ISOLATION_EXPLICIT:
		if (!name_ok(iso, name))
			goto inval;
		return emit(out, outsz, "\\\\.\\pipe\\rpb-v1-%s-%s-%s",
		    hash16, iso == RP_ISOLATION_PRIVATE ? "svc" : "inst", name);
	default:
		break;
	}
inval:
	if (out != NULL && outsz > 0)
		out[0] = '\0';
	errno = EINVAL;
	return -1;
}
