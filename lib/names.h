/*
 * names.h — service, instance and version names; the version floor and
 * allow-list; instance ids; socket path derivation (10-wire.md §5,
 * 20-broker.md "Where it listens").
 *
 * Everything here is pure computation on strings: the caller supplies the
 * environment, uid and machine id (see host.h for reading them).
 */
#ifndef RP_NAMES_H
#define RP_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define RP_NAME_MAX 64            /* service and instance names */
#define RP_VERSION_MAX 64         /* wanted_version in a Hello */
#define RP_SUN_PATH_MAX 108       /* sizeof(sockaddr_un.sun_path) */

/* 1 when s[0..len) is 1-64 bytes of [a-z0-9-], else 0. */
int rp_names_service_valid(const char *s, size_t len);
int rp_names_instance_valid(const char *s, size_t len);

/* 1 when s[0..len) is MAJOR.MINOR.PATCH (non-empty all-digit parts),
 * optionally "-" and a non-empty tail of [a-z0-9.], else 0.  No length cap
 * here: Hello applies RP_VERSION_MAX on top. */
int rp_names_version_valid(const char *s, size_t len);

enum rp_version_floor {
	RP_FLOOR_MEETS = 0,   /* wanted >= floor */
	RP_FLOOR_BELOW,       /* wanted < floor: blocks */
	RP_FLOOR_UNKNOWN,     /* a component does not fit u64: does not block */
};
/* Compare only the numeric MAJOR.MINOR.PATCH of two valid versions
 * (anything after the first "-" is ignored). */
enum rp_version_floor rp_names_version_floor(const char *wanted,
    const char *floor);

/* 1 when list is empty or contains wanted exactly, else 0. */
int rp_names_version_allowed(const char *wanted, const char *const *list,
    size_t n);

enum rp_isolation {
	RP_ISOLATION_PRIVATE = 0,   /* BrokerIsolation numbering */
	RP_ISOLATION_SHARED = 1,
	RP_ISOLATION_EXPLICIT = 2,
};

/* "private", "shared", "explicit" (as DUMP, LIST-INSTANCES and DIAGNOSE
 * name them); "unknown" for any other value. */
const char *rp_names_isolation_name(unsigned iso);

/* The instance id: "shared", "private:{svc}", "explicit:{name}" (name is
 * not looked at for the shared instance).  Returns the length, or -1 with
 * EINVAL (bad or NULL name, unknown iso) / ENAMETOOLONG (out too small).
 * This and the functions below never truncate: on failure out is "". */
int rp_names_instance_id(char *out, size_t outsz, enum rp_isolation iso,
    const char *name);

/* hash16: the first 8 bytes of BLAKE3("{uid}:{machine_id}") in lowercase
 * hex (16 characters + NUL).  uid in decimal; machine_id as given (the
 * caller trims it), NULL as "". */
void rp_names_user_hash(char out[17], uint32_t uid, const char *machine_id);

/* hash16 on Windows (70-windows.md): the first 8 bytes of
 * BLAKE3("windows-sid:" + the lowercase hex of the user's SID bytes). */
void rp_names_user_hash_sid(char out[17], const uint8_t *sid, size_t len);

/* The broker directory: "{xdg_runtime_dir}/running-process/broker" (its
 * trailing slashes dropped), or "/tmp/running-process-{uid}/broker" when
 * xdg_runtime_dir is NULL (unset).  Returns the length or -1 with
 * ENAMETOOLONG, or EINVAL when xdg_runtime_dir is set but not an
 * absolute path: empty or relative (where running-process v1 would use a
 * path relative to wherever the process runs; the XDG specification
 * calls such a value invalid.  Neither that nor /tmp, which would
 * silently be another directory than its: rp_names_xdg_fault says
 * what is wrong). */
int rp_names_broker_dir(char *out, size_t outsz, const char *xdg_runtime_dir,
    uint32_t uid);

/* What is wrong with XDG_RUNTIME_DIR's value v for rp_names_broker_dir,
 * as words to follow "XDG_RUNTIME_DIR " ("is set but empty", "is not an
 * absolute path"), or NULL when nothing is (unset, or absolute). */
const char *rp_names_xdg_fault(const char *v);

/* The default broker socket in dir: rpb-v1-{hash16}-shared.sock,
 * -svc-{service}.sock or -inst-{name}.sock (dir's trailing slashes
 * dropped).  Returns the length, or -1 with ENAMETOOLONG when the path
 * would not fit sun_path or out (never truncates), EINVAL for a bad name,
 * an empty or NULL dir, a hash16 that is not 16 lowercase hex digits. */
int rp_names_broker_socket(char *out, size_t outsz, const char *dir,
    const char *hash16, enum rp_isolation iso, const char *name);

/* The broker's named pipe on Windows: \\.\pipe\rpb-v1-{hash16}-shared,
 * -svc-{service} or -inst-{name}.  Errors as rp_names_broker_socket. */
int rp_names_broker_pipe(char *out, size_t outsz, const char *hash16,
    enum rp_isolation iso, const char *name);

/* A backend endpoint in dir: rpb-v1-{hash16}-be-{32 hex of rnd}.sock
 * (lowercase).  Same errors as above (EINVAL for a NULL rnd too). */
int rp_names_backend_endpoint(char *out, size_t outsz, const char *dir,
    const char *hash16, const uint8_t rnd[16]);

/* Its handoff endpoint (40-handoff.md, RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE):
 * the same with "-ho-" for "-be-", so it fits wherever the endpoint does. */
int rp_names_backend_handoff(char *out, size_t outsz, const char *dir,
    const char *hash16, const uint8_t rnd[16]);

/* 0 when path fits sun_path with its NUL, else -1 with ENAMETOOLONG. */
int rp_names_sun_path_fits(const char *path);

#endif
