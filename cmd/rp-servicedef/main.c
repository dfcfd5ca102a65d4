/*
 * rp-servicedef — write, show and check service-definition files: the
 * binary ServiceDefinition messages a broker (ours or running-process's)
 * loads from its definition directory, so that nobody has to hand-encode
 * protobuf.  write validates as the broker does and replaces the file
 * atomically; show decodes one file; check is the pre-flight for a whole
 * directory.
 *
 * Exit: 0 done; 1 a definite "no" (refused directory, missing, corrupt or
 * invalid file, check found a problem, the write failed); 2 usage (bad
 * option or value, including any value the broker would refuse); 125 we
 * failed ourselves (out of memory, standard output unwritable).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp.h"
#include "servicedef_tool.h"

const char cli_prog[] = "rp-servicedef";

/* Identical to the SYNOPSIS of doc/rp-servicedef.1.scd (a test checks). */
static const char usage_text[] =
    "rp-servicedef write --service NAME --binary ABS_PATH [--min-version V]\n"
    "                    [--allow-version V]...\n"
    "                    [--isolation private|shared|explicit] [--instance NAME]\n"
    "                    [--per-version-dir ABS_DIR] [--label KEY=VALUE]...\n"
    "                    [--dir DIR] [--json]\n"
    "rp-servicedef show  [--json] FILE|NAME [--dir DIR]\n"
    "rp-servicedef check [--json] [--dir DIR]\n"
    "rp-servicedef -h | --help | -V | --version\n";

static const char help_text[] =
    "\n"
    "Write, show and check service definitions (NAME.servicedef files).\n"
    "\n"
    "  write              validate and atomically replace DIR/NAME.servicedef\n"
    "  show               print one definition (a path with a '/', or a NAME)\n"
    "  check              check DIR, every *.servicedef in it and their binaries\n"
    "\n"
    "  --service NAME     1-64 characters of [a-z0-9-]\n"
    "  --binary ABS_PATH  the backend program (absolute)\n"
    "  --min-version V    refuse Hellos for versions below V\n"
    "  --allow-version V  accept only the listed versions (repeatable)\n"
    "  --isolation I      private, shared (the default) or explicit\n"
    "  --instance NAME    the instance, with --isolation explicit\n"
    "  --per-version-dir ABS_DIR  binaries per version: ABS_DIR/V/<basename>\n"
    "  --label KEY=VALUE  a label (repeatable, up to 64)\n"
    "  --dir DIR          the definition directory (default:\n"
    "                     $RUNNING_PROCESS_SERVICE_DEF_DIR, else\n"
    "                     $XDG_CONFIG_HOME/running-process/services, else\n"
    "                     ~/.config/running-process/services)\n"
    "  --json             one JSON document on standard output\n"
    "  -h, --help         this text\n"
    "  -V, --version      the version\n"
    "\n"
    "Exit: 0 ok; 1 refused, missing or invalid; 2 usage; 125 internal.\n";

/* Everything a command prints goes through one buffer and out in one go
 * at the end, so a failure never leaves half a document behind and a
 * failed write to standard output is noticed (exit 125), not lost. */
int
sd_flush(struct rp_buf *out, int rc)
{
	if (out->len > 0 &&
	    (fwrite(out->data, 1, out->len, stdout) != out->len ||
	    fflush(stdout) != 0)) {
		cli_warn("cannot write standard output: %s", strerror(errno));
		rc = RP_EXIT_INTERNAL;
	}
	rp_buf_free(out);
	return rc;
}

int
sd_help(void)
{
	return cli_print(usage_text, help_text);
}

int
sd_oom(void)
{
	cli_warn("out of memory");
	return RP_EXIT_INTERNAL;
}

/* The directory: --dir, else the environment
 * (rp_servicedef_default_dir).  0, or an exit status after saying why. */
int
sd_resolve_dir(const char *flag, char *out, size_t outsz)
{
	if (flag != NULL && flag[0] == '\0')
		return cli_usage("--dir is empty");
	if (rp_servicedef_default_dir(out, outsz, flag) < 0) {
		if (errno == ENOENT)
			return cli_usage("no definition directory: give "
			    "--dir, or set RUNNING_PROCESS_SERVICE_DEF_DIR, "
			    "XDG_CONFIG_HOME or HOME");
		return cli_usage("the definition directory name is too "
		    "long");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (rp_init() != 0) {
		cli_warn("cannot start: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	if (argc < 2)
		return cli_usage("no command given (write, show or "
		    "check)");
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0)
		return sd_help();
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0)
		return cli_version();
	/* Each command parses its own options from argv[1] on, so that
	 * "write" is its argv[0]. */
	opterr = 0;
	optind = 1;
	if (strcmp(cmd, "write") == 0)
		return sd_cmd_write(argc - 1, argv + 1);
	if (strcmp(cmd, "show") == 0)
		return sd_cmd_show(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return sd_cmd_check(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return cli_usage("unknown option '%s' (the command "
		    "comes first: write, show or check)", cmd);
	return cli_usage("unknown command '%s' (write, show or check)",
	    cmd);
}
