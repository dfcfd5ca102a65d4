/*
 * servicedef.h — service definitions: where they live, loading with the
 * directory trust check, validation, atomic writes (20-broker.md
 * "Services and backends", 60-servicedef.md).  A .servicedef file is
 * exactly the bytes of a ServiceDefinition message.
 */
#ifndef RP_SERVICEDEF_H
#define RP_SERVICEDEF_H

#include <stddef.h>

#include "wire.h"

#define RP_SERVICEDEF_MAX (64u * 1024u)   /* largest file we read */
#define RP_SERVICEDEF_SUFFIX ".servicedef"

/* The directory: flag_dir, else env_dir, else
 * {xdg_config_home}/running-process/services, else
 * {home}/.config/running-process/services (NULL or "" = unset).
 * Length, or -1 with ENOENT (nothing to derive it from) / ENAMETOOLONG. */
int rp_servicedef_dir(char *out, size_t outsz, const char *flag_dir,
    const char *env_dir, const char *xdg_config_home, const char *home);

/* dir/{service}.servicedef (trailing slashes of dir dropped, so "d/"
 * gives "d/x.servicedef").  Length or -1 (EINVAL, ENAMETOOLONG). */
int rp_servicedef_path(char *out, size_t outsz, const char *dir,
    const char *service);

/* Everything the broker checks: service_name valid (and equal to stem when
 * stem is not NULL), binary_path non-empty and absolute,
 * per_version_binary_dir absolute when set, min_version and each
 * allow-list entry valid versions, isolation consistent with
 * explicit_instance (set and valid exactly for EXPLICIT_INSTANCE).  And
 * what decoding checks: every string (paths, label keys and values) is
 * UTF-8, so a definition that passes can be encoded and read back.
 * Label contents are otherwise free (see rp_servicedef_label_check).
 * 0, or -1 with EINVAL and why. */
int rp_servicedef_validate(const Rp__ServiceDefinition *d, const char *stem,
    char *why, size_t whysz);

/* Load and validate the definition of service from dir, after checking the
 * directory (no group/other bits, owned by us).  Returns it (free with
 * rp_wire_free) or NULL with errno ENOENT (no such definition) or another
 * errno with why: about the directory, "directory DIR has mode 0770; ...";
 * about the file, as rp_servicedef_load_file says it. */
Rp__ServiceDefinition *rp_servicedef_load(const char *dir,
    const char *service, char *why, size_t whysz);

/* Load a definition file by path as the broker does, the directory check
 * aside: the file must be one the broker may trust (rp_fs_read_trusted:
 * owned by our euid or root, not writable by group or others, a symbolic
 * link only to a file inside its own directory), named after the service
 * it defines (the stem is checked against service_name), and valid.  As
 * _load; why never names the file: it reads after it, "PATH: why" ("not a
 * ServiceDefinition", "larger than 65536 bytes", "No such file or
 * directory", "writable by group or others (mode 0666)", a validation
 * reason), so that each caller puts the name in front once, or not at
 * all.  errno EPERM: a file not to be trusted; ENOMEM: out of memory. */
Rp__ServiceDefinition *rp_servicedef_load_file(const char *path,
    char *why, size_t whysz);

/* As _load_file without the trust rule (whoever owns the file, wherever a
 * link leads): to look at a file, not to act on it. */
Rp__ServiceDefinition *rp_servicedef_decode_file(const char *path,
    char *why, size_t whysz);

/* Validate, encode, create dir 0700 if missing (checked as private), and
 * replace dir/{name}.servicedef atomically.  The path written goes to
 * path_out.  0, or -1 with errno and why; nothing is written on failure.
 * errno EINVAL: the definition is invalid; EFBIG: it encodes to more than
 * RP_SERVICEDEF_MAX bytes (no reader would load it); otherwise the error
 * of the directory check or the write. */
int rp_servicedef_write(const char *dir, const Rp__ServiceDefinition *d,
    char *path_out, size_t path_outsz, char *why, size_t whysz);

/*
 * Labels: the broker carries them but never looks at them, so a definition
 * with any UTF-8 labels is valid.  These are the rules for labels we
 * write, so that each one shows as one unambiguous "key=value" line:
 * key 1-RP_SERVICEDEF_LABEL_KEY_MAX bytes without '=', spaces or control
 * characters; value 0-RP_SERVICEDEF_LABEL_VALUE_MAX bytes without control
 * characters; both UTF-8.  Control characters are C0, DEL and C1
 * (U+0080-U+009F).  At most RP_SERVICEDEF_LABELS_MAX per definition.
 */
#define RP_SERVICEDEF_LABELS_MAX 64u
#define RP_SERVICEDEF_LABEL_KEY_MAX 128u
#define RP_SERVICEDEF_LABEL_VALUE_MAX 1024u

/* 0, or -1 with EINVAL and why ("label key ... contains '='"). */
int rp_servicedef_label_check(const char *key, const char *value,
    char *why, size_t whysz);

/* The binary to run for version: with per_version_binary_dir,
 * {dir}/{version}/{basename of binary_path} when that exists and its real
 * path stays inside dir; else binary_path.  0, or -1 with errno and why. */
int rp_servicedef_binary(const Rp__ServiceDefinition *d, const char *version,
    char *out, size_t outsz, char *why, size_t whysz);

#endif
