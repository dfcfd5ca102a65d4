/*
 * servicedef_tool.h — what the parts of rp-servicedef share: main.c
 * (dispatch, diagnostics, the directory), write.c, show.c (also how
 * things are printed) and check.c, one command each.
 */
#ifndef RP_SERVICEDEF_TOOL_H
#define RP_SERVICEDEF_TOOL_H

#include <getopt.h>
#include <stddef.h>

#include "cli.h"
#include "rp.h"

/* "out of memory"; returns RP_EXIT_INTERNAL. */
int sd_oom(void);
/* Usage and help on stdout; exit status. */
int sd_help(void);
/* The options of show and check, --dir DIR and --json: -1 to go on (optind
 * at the first operand), else the exit status (--help, a usage error). */
int sd_read_opts(int argc, char **argv, const char **dirflag, int *json);
/* Write out to stdout in one go and free it; rc, or RP_EXIT_INTERNAL when
 * standard output cannot be written. */
int sd_flush(struct rp_buf *out, int rc);
/* --dir (flag, may be NULL), else the environment; 0 or an exit status
 * after saying why. */
int sd_resolve_dir(const char *flag, char *out, size_t outsz);

/* s escaped as sd_put_text does and cut to about 200 bytes, for a
 * diagnostic; one of four static buffers, reused in turn. */
const char *sd_shown(const char *s);
/* {"path": path, "definition": {...}}, pretty when pretty. */
int sd_json_definition(struct rp_buf *out, const char *path,
    const Rp__ServiceDefinition *d, int pretty);
/* "file: path", then one "key: value" line per fact. */
int sd_plain_definition(struct rp_buf *out, const char *path,
    const Rp__ServiceDefinition *d);
/* JSON is pretty on a terminal, compact when piped. */
int sd_json_pretty(void);

/* The commands; argv[0] is the command's name, optind is 1. */
int sd_cmd_write(int argc, char **argv);
int sd_cmd_show(int argc, char **argv);
int sd_cmd_check(int argc, char **argv);

#endif
