/*
 * cli.h — what every rp program's command line shares: one-line
 * diagnostics on stderr, usage errors, getopt's failures put into words,
 * --help and --version, and where "--" ends a program's own options.
 *
 * Each program defines cli_prog, its name as it prefixes its messages:
 *
 *	const char cli_prog[] = "rp-probe";
 *
 * Diagnostics are written with one write(2) per line, so lines from
 * processes sharing a stderr (a broker and its backends) never cut into
 * each other, and control characters in them (a hostile peer's reason
 * string, a file name) are shown escaped, never sent to the terminal.
 */
#ifndef RP_CMD_CLI_H
#define RP_CMD_CLI_H

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cdefs.h"

/* C99 formats on every system (cdefs.h: MinGW's own stdio on Windows). */
#define CLI_PRINTF(f, a) RP_PRINTF(f, a)

extern const char cli_prog[];

/* "<prog>: <message>" on stderr. */
void cli_warn(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_vwarn(const char *fmt, va_list ap) CLI_PRINTF(1, 0);
/* Hand each whole line (with its '\n') of cli_warn, cli_usage... to fn
 * instead of writing it to stderr (a long-running program's non-blocking
 * log); NULL: stderr again. */
void cli_warn_sink(void (*fn)(void *arg, const char *line, size_t len),
    void *arg);

/* "<prog>: <message> (see --help)" on stderr; returns RP_EXIT_USAGE. */
int cli_usage(const char *fmt, ...) CLI_PRINTF(1, 2);
int cli_vusage(const char *fmt, va_list ap) CLI_PRINTF(1, 0);

/*
 * getopt_long's failure c (':' for a missing value, '?' otherwise; the
 * option string must start with ':' or "+:") as one usage line: a missing
 * value, a value given to an option that takes none, an unknown or an
 * ambiguous option.  Returns RP_EXIT_USAGE.
 */
int cli_getopt_error(int c, char **argv, const struct option *longopts);

/*
 * Strict option values (decimal, no sign or space): 0 with *out set, or
 * the exit status after a usage line "NAME: 'S' is not a number ..." (or
 * "... is not a duration ...").
 *
 * Durations are rp_parse_duration_ms's: a number with an optional unit,
 * "500ms", "2s", "1.5s", "1m", "1h"; a bare number counts in units of
 * bare_ms (1: milliseconds, 1000: seconds), the option's documented
 * meaning.  cli_opt_ms: milliseconds from 0 to a day (24h).
 * cli_opt_secs: a whole number of seconds (bare: seconds) in [min, max].
 */
int cli_opt_duration(const char *name, const char *s, uint64_t bare_ms,
    uint64_t min_ms, uint64_t max_ms, int64_t *out_ms);
int cli_opt_ms(const char *name, const char *s, int64_t *out);
int cli_opt_secs(const char *name, const char *s, uint64_t min, uint64_t max,
    uint64_t *out);
int cli_opt_u64(const char *name, const char *s, uint64_t min, uint64_t max,
    uint64_t *out);
int cli_opt_u32(const char *name, const char *s, uint32_t min, uint32_t max,
    uint32_t *out);

/*
 * Before an fd (or a terminal) goes to the listener at the other end of
 * sock: that process must run as our uid, as root, or as one of the n in
 * allow (the --allow-uid values; on Windows: the user of the pipe's
 * server process).
 * 0, or after a diagnostic naming what (the thing handed over), where
 * (the endpoint) and the peer's uid and pid, RP_EXIT_NO.
 */
int cli_check_receiver(int sock, const char *what, const char *where,
    const uint32_t *allow, size_t n);
/* One more --allow-uid value into allow[*n] (at most max): 0, or the exit
 * status after a usage line. */
int cli_allow_uid(const char *v, uint32_t *allow, size_t *n, size_t max);

/*
 * Table-driven options.  A program keeps one row per option and gives
 * getopt_long a longopts array (terminated by a zero row) in which row i
 * has val = its short letter, or CLI_OPT_ROW + i when it has none.
 * cli_shortopts writes the matching optstring (':' first, so a missing
 * value is told apart) into out, which holds 2 + 2 * rows bytes;
 * cli_opt_row gives the row of getopt_long's value c, or -1.
 */
#define CLI_OPT_ROW 256
void cli_shortopts(const struct option *longopts, char *out);
int cli_opt_row(const struct option *longopts, int c);

/*
 * Where "--" ends the program's own options: its index in argv, or argc
 * when there is none.  The value of an option that takes one is skipped,
 * so "--token-file --" names a file called "--".  shortopts and longopts
 * are those given to getopt_long.
 */
int cli_split(int argc, char **argv, const char *shortopts,
    const struct option *longopts);

/* Write text (usage and help) or "<prog> <version>" to stdout.  Returns
 * RP_EXIT_OK, or RP_EXIT_INTERNAL after a diagnostic when stdout cannot
 * be written. */
int cli_print(const char *text, const char *more);
int cli_version(void);
/* --new-token: a fresh handoff token, 32 hex digits and a newline. */
int cli_new_token(void);

/*
 * The handoff token(s) of a program: --token-file FILE (file; whitespace-
 * separated), else the nhex --token values (hex NULL: the program has
 * no --token), else RP_HANDOFF_TOKEN (the same), at most max of them and none twice, into toks.  0 with *n set, or
 * the exit status after a usage line (none given, both --token-file and
 * --token, not a token, too many, one twice).
 */
int cli_load_tokens(const char *file, char *const *hex, size_t nhex,
    uint8_t (*toks)[16], size_t max, size_t *n);

/*
 * How the character at s is shown in a diagnostic: its escape in esc
 * ("\\n", "\\x1b", a C1 control as two "\\xNN"), or esc empty when it is
 * shown as it is.  Returns how many bytes of s that covers.  A backslash
 * is doubled, so that escaped text reads back unambiguously, except
 * where it separates path components (Windows: rp_fs_is_sep), so that a
 * path reads as the system writes it there (JSON output is the exact
 * form).
 */
size_t cli_escape_at(const unsigned char *s, char esc[12]);

/* Append s to out escaped as cli_escape_at does, so that a value (a
 * peer's claim, a file's field) stays on its line and cannot drive the
 * terminal.  With lines, s is text of its own (an admin reply's body):
 * newlines and tabs are kept and backslashes left alone, only the other
 * control characters are escaped.  0, or -1 when out of memory. */
struct rp_buf;
int cli_put_text(struct rp_buf *out, const char *s, int lines);

/*
 * What names the default broker socket, as running-process v1 derives it
 * (20-broker.md): the broker directory for uid from $XDG_RUNTIME_DIR, and
 * the machine id (rp_host_machine_id).  0, or -1 (errno kept) after one
 * line on stderr saying which and why: XDG_RUNTIME_DIR set but empty, a
 * machine-id file that is there but cannot be read, no source at all.
 */
int cli_broker_dir(char *dir, size_t dirsz, uint32_t uid);
int cli_machine_id(char *out, size_t outsz);

#endif
