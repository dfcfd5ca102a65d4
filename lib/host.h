/*
 * host.h — facts about this machine and its processes.
 * (Implemented in lib/posix/host.c, from /proc and /etc, and
 * lib/posix/exe_hash.c; lib/win/host.c from the registry and the process
 * APIs; lib/host.c the part that only reads files.)
 */
#ifndef RP_HOST_H
#define RP_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"

/* The machine id as running-process v1 reads it: /etc/machine-id, else
 * /var/lib/dbus/machine-id, else "boot:{boot_id}", each trimmed of
 * Unicode white space.  Only a file that is missing or blank falls
 * through to the next source; one that is there but cannot be read
 * (EACCES, EIO, a directory...) or is not text (EILSEQ: not UTF-8, or a
 * NUL) is an error, and out then holds that file's path (when it fits).
 * Returns the length, or -1 with errno: that file's error, ERANGE when
 * the id does not fit out, ENOENT (out "") when no file has one and
 * there is no boot id either.  Windows: the MachineGuid registry value. */
int rp_host_machine_id(char *out, size_t outsz);
/* The same with the three files named (tests use other paths). */
int rp_host_machine_id_from(const char *etc_path, const char *dbus_path,
    const char *boot_id_path, char *out, size_t outsz);

/* A small file (at most 4 KiB) read as running-process v1 reads it
 * (Rust's read_to_string, then trim): UTF-8 (else EILSEQ; a NUL is
 * EILSEQ too), Unicode white space trimmed at both ends, into out.  Its
 * length, or -1 with errno: the file's own, ENODATA when nothing but
 * white space is left, ERANGE when it does not fit out. */
int rp_host_read_trimmed(const char *path, char *out, size_t outsz);

/* /proc/sys/kernel/random/boot_id, trimmed.  Length or -1 (ENODATA when
 * blank, ERANGE when it does not fit).  Windows: "windows-boot-{N}" from
 * the BootId registry value, or "" (length 0) when the system does not
 * keep one (Wine): a boot id nobody can check. */
int rp_host_boot_id(char *out, size_t outsz);

/* The executable of a process (/proc/<pid>/exe resolved; pid 0 = self).
 * A deleted executable keeps the kernel's " (deleted)" suffix so it never
 * matches a live path.  Length or -1 with errno (ESRCH, EACCES...). */
int rp_host_exe_path(uint32_t pid, char *out, size_t outsz);

/* Open the executable of a process for reading (pid 0 = self), through
 * /proc/<pid>/exe so that the file hashed is the one running even when the
 * path was replaced.  Returns an fd (close-on-exec) or -1. */
int rp_host_exe_open(uint32_t pid);

/* BLAKE3 of the executable a process runs (pid 0 = self), read through
 * rp_host_exe_open.  Remembered process-wide for the file's identity
 * (device, inode, size, change and modification times; the last 8 files):
 * hashing the same binary again costs one fstat, and a changed file is
 * hashed afresh.  Safe to call from any thread (the memory is locked).
 * 0 or -1 with errno. */
int rp_host_exe_hash(uint32_t pid, uint8_t out[32]);

/* When a process started, in Unix-epoch milliseconds (from its start time
 * in /proc/<pid>/stat and the boot time, btime of /proc/stat: exact to
 * the second, like ps(1), and stable for the life of the process).
 * pid 0 = self.  0 or -1 with errno (ESRCH, EPROTO for an unparsable
 * file). */
int rp_host_process_start_ms(uint32_t pid, uint64_t *out);

/* Our process id. */
uint32_t rp_host_pid(void);

/* Our effective uid (uid_t on POSIX; Windows: our SID's RID). */
uint32_t rp_host_euid(void);

/* hash16 of 20-broker.md for the user we run as, into out: on Unix
 * rp_names_user_hash of our euid and machine_id (as rp_host_machine_id
 * read it); on Windows rp_names_user_hash_sid of our token's SID
 * (machine_id unused).  0, or -1 with errno. */
int rp_host_user_hash(char out[17], const char *machine_id);
/* The per-user default broker endpoint of 20-broker.md for iso (name
 * for the service or instance; NULL for shared): on Unix the socket in
 * the broker directory ($XDG_RUNTIME_DIR, else /tmp/running-process-UID)
 * named with hash16 of "{uid}:{machine-id}"; on Windows the named pipe
 * \\.\pipe\rpb-v1-... with hash16 of our SID (70-windows.md).  Length,
 * or -1 with errno. */
int rp_host_broker_endpoint(char *out, size_t outsz, enum rp_isolation iso,
    const char *name);

#endif
