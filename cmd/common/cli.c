/*
 * cli.c — the command-line conventions every rp program shares (cli.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include "cli.h"
#include "rp.h"

#define LINE_MAX_IN 4096           /* a formatted message, before escaping */
#define LINE_MAX_OUT 8192          /* the line as written */

size_t
cli_escape_at(const unsigned char *s, char esc[12])
{
	esc[0] = '\0';
	switch (s[0]) {
	case '\\':
		/* Where it separates a path's components (Windows), a
		 * backslash is in every path shown, and shown as it is. */
		if (!rp_fs_is_sep('\\'))
			memcpy(esc, "\\\\", 3);
		return 1;
	case '\n':
		memcpy(esc, "\\n", 3);
		return 1;
	case '\t':
		memcpy(esc, "\\t", 3);
		return 1;
	case '\r':
		memcpy(esc, "\\r", 3);
		return 1;
	default:
		break;
	}
	if (s[0] < 0x20 || s[0] == 0x7f) {
		snprintf(esc, 12, "\\x%02x", s[0]);
		return 1;
	}
	/* C1 controls (U+0080-U+009F) act on terminals as ESC sequences do. */
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
		snprintf(esc, 12, "\\x%02x\\x%02x", s[0], s[1]);
		return 2;
	}
	return 1;
}

int
cli_put_text(struct rp_buf *out, const char *s, int lines)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	char esc[12];
	size_t k;

	/* Runs of what is shown as it is go in one append each. */
	for (; *p != '\0'; p += k) {
		if (lines && (*p == '\n' || *p == '\t' || *p == '\\')) {
			k = 1;
			continue;
		}
		k = cli_escape_at(p, esc);
		if (esc[0] == '\0')
			continue;
		if (rp_buf_append(out, run, (size_t)(p - run)) != 0 ||
		    rp_buf_puts(out, esc) != 0)
			return -1;
		run = p + k;
	}
	return rp_buf_append(out, run, (size_t)(p - run)) != 0 ? -1 : 0;
}

/* All of buf to fd, through EINTR and short writes; errors are dropped
 * (there is nowhere left to report a failing stderr). */
static void
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * "<prog>: " + the message, its control characters escaped (a backslash
 * is left alone: text escaped already, such as a file name a program
 * quoted, is not escaped twice) + tail + "\n", in one write.
 */
static void emit(const char *tail, const char *fmt, va_list ap)
	CLI_PRINTF(2, 0);

static void (*warn_sink)(void *, const char *, size_t);
static void *warn_sink_arg;

static void
emit(const char *tail, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_IN], line[LINE_MAX_OUT], esc[12];
	const unsigned char *p = (const unsigned char *)msg;
	size_t len, el, k, room;
	int saved = errno, n, cut;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		n = snprintf(msg, sizeof(msg), "(unprintable message)");
	cut = (size_t)n >= sizeof(msg);
	len = (size_t)snprintf(line, sizeof(line), "%s: ", cli_prog);
	room = sizeof(line) - strlen(tail) - 5;   /* "...", "\n", '\0' */
	while (*p != '\0') {
		k = *p == '\\' ? (esc[0] = '\0', 1) : cli_escape_at(p, esc);
		el = esc[0] != '\0' ? strlen(esc) : k;
		if (len + el > room) {
			cut = 1;
			break;
		}
		memcpy(line + len, esc[0] != '\0' ? esc : (const char *)p, el);
		len += el;
		p += k;
	}
	if (cut) {
		memcpy(line + len, "...", 3);
		len += 3;
	}
	el = strlen(tail);
	memcpy(line + len, tail, el);
	len += el;
	line[len++] = '\n';
	if (warn_sink != NULL)
		warn_sink(warn_sink_arg, line, len);
	else
		write_all(STDERR_FILENO, line, len);
	errno = saved;
}

void
cli_warn_sink(void (*fn)(void *arg, const char *line, size_t len),
    void *arg)
{
	warn_sink = fn;
	warn_sink_arg = arg;
}

void
cli_vwarn(const char *fmt, va_list ap)
{
	emit("", fmt, ap);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

int
cli_vusage(const char *fmt, va_list ap)
{
	emit(" (see --help)", fmt, ap);
	return RP_EXIT_USAGE;
}

int
cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(" (see --help)", fmt, ap);
	va_end(ap);
	return RP_EXIT_USAGE;
}

/*
 * The long option "--name" (up to any '=') stands for: an exact match, or
 * the only option it is a prefix of.  NULL when there is none; *ambiguous
 * set when it is a prefix of several.
 */
static const struct option *
long_match(const char *arg, const struct option *opts, int *ambiguous)
{
	const struct option *hit = NULL;
	const char *eq = strchr(arg, '=');
	size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	int hits = 0;

	*ambiguous = 0;
	for (; opts->name != NULL; opts++) {
		if (strncmp(opts->name, arg, n) != 0)
			continue;
		if (opts->name[n] == '\0')
			return opts;
		hit = opts;
		hits++;
	}
	if (hits > 1) {
		*ambiguous = 1;
		return NULL;
	}
	return hit;
}

/* The letters of shortopts, past getopt's leading mode characters. */
static const char *
short_letters(const char *shortopts)
{
	while (*shortopts == '+' || *shortopts == '-' || *shortopts == ':')
		shortopts++;
	return shortopts;
}

int
cli_getopt_error(int c, char **argv, const struct option *longopts)
{
	const char *arg = argv[optind - 1], *eq;
	const struct option *lo;
	int n, amb;

	/* Was it the long option just consumed?  getopt_long sets optopt to
	 * 0 for an unknown (or ambiguous) one, else to the option's val,
	 * which may be a letter, as --help's is; a letter that is not the
	 * val of the word just consumed is a short option's. */
	if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
		eq = strchr(arg, '=');
		n = eq != NULL ? (int)(eq - arg) : (int)strlen(arg);
		lo = long_match(arg + 2, longopts, &amb);
		if (optopt == 0 && amb)
			return cli_usage("option '%.*s' is ambiguous", n, arg);
		if (optopt == 0)
			return cli_usage("unknown option '%.*s'", n, arg);
		if (lo != NULL && lo->val == optopt && c == ':')
			return cli_usage("option '--%s' needs a value",
			    lo->name);
		if (lo != NULL && lo->val == optopt)
			return cli_usage("option '--%s' takes no value",
			    lo->name);
	}
	if (optopt > ' ' && optopt < 0x7f) {
		if (c == ':')
			return cli_usage("option '-%c' needs a value", optopt);
		return cli_usage("unknown option '-%c'", optopt);
	}
	return cli_usage("unknown option");
}

int
cli_opt_u64(const char *name, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	if (rp_parse_u64(s, min, max, out) != 0)
		return cli_usage("%s: '%s' is not a number from %llu to %llu",
		    name, s, (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int
cli_opt_u32(const char *name, const char *s, uint32_t min, uint32_t max,
    uint32_t *out)
{
	uint64_t v;
	int r;

	if ((r = cli_opt_u64(name, s, min, max, &v)) != 0)
		return r;
	*out = (uint32_t)v;
	return 0;
}

/* A duration in its largest whole unit: "0", "250ms", "5s", "24h". */
static void
show_duration(uint64_t ms, char *out, size_t outsz)
{
	if (ms != 0 && ms % 3600000 == 0)
		snprintf(out, outsz, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(out, outsz, "%llum", (unsigned long long)(ms / 60000));
	else if (ms != 0 && ms % 1000 == 0)
		snprintf(out, outsz, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(out, outsz, "%llu%s", (unsigned long long)ms,
		    ms != 0 ? "ms" : "");
}

int
cli_opt_duration(const char *name, const char *s, uint64_t bare_ms,
    uint64_t min_ms, uint64_t max_ms, int64_t *out_ms)
{
	char lo[32], hi[32];
	uint64_t v;

	if (max_ms > INT64_MAX)
		max_ms = INT64_MAX;
	if (rp_parse_duration_ms(s, bare_ms, min_ms, max_ms, &v) != 0) {
		show_duration(min_ms, lo, sizeof(lo));
		show_duration(max_ms, hi, sizeof(hi));
		return cli_usage("%s: '%s' is not a duration from %s to %s "
		    "(a number of %s, or one with a unit: 500ms, 2s, 1m, 1h)",
		    name, s, lo, hi, bare_ms == 1000 ? "seconds" :
		    "milliseconds");
	}
	*out_ms = (int64_t)v;
	return 0;
}

int
cli_opt_ms(const char *name, const char *s, int64_t *out)
{
	/* A day is far more than any wait here needs. */
	return cli_opt_duration(name, s, 1, 0, 86400000, out);
}

int
cli_opt_secs(const char *name, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	int64_t ms = 0;
	int r;

	if (max > UINT64_MAX / 1000)
		max = UINT64_MAX / 1000;
	if ((r = cli_opt_duration(name, s, 1000, min * 1000, max * 1000,
	    &ms)) != 0)
		return r;
	if (ms % 1000 != 0)
		return cli_usage("%s: '%s' is not a whole number of seconds",
		    name, s);
	*out = (uint64_t)ms / 1000;
	return 0;
}

int
cli_check_receiver(int sock, const char *what, const char *where,
    const uint32_t *allow, size_t n)
{
	struct rp_peercred peer;

	if (rp_sock_peercred(sock, &peer) != 0) {
		cli_warn("refused to hand %s to %s: who listens there cannot "
		    "be told: %s", what, where, strerror(errno));
		return RP_EXIT_NO;
	}
	/* Root reads every process's fds anyway: nothing to keep from it. */
	if (peer.uid == 0 ||
	    rp_identity_uid_allowed(peer.uid, rp_host_euid(), allow, n))
		return 0;
	cli_warn("refused to hand %s to %s: its listener runs as uid %u "
	    "(pid %u), not as ours or root's (--allow-uid %u trusts it)", what, where,
	    (unsigned)peer.uid, (unsigned)peer.pid, (unsigned)peer.uid);
	return RP_EXIT_NO;
}

int
cli_allow_uid(const char *v, uint32_t *allow, size_t *n, size_t max)
{
	uint32_t uid;
	int r;

	if (*n == max)
		return cli_usage("at most %zu --allow-uid", max);
	if ((r = cli_opt_u32("--allow-uid", v, 0, UINT32_MAX - 1, &uid)) == 0)
		allow[(*n)++] = uid;
	return r;
}

void
cli_shortopts(const struct option *longopts, char *out)
{
	const struct option *o;

	*out++ = ':';
	for (o = longopts; o->name != NULL; o++) {
		if (o->val >= CLI_OPT_ROW)
			continue;
		*out++ = (char)o->val;
		if (o->has_arg != no_argument)
			*out++ = ':';
	}
	*out = '\0';
}

int
cli_opt_row(const struct option *longopts, int c)
{
	int i;

	for (i = 0; longopts[i].name != NULL; i++)
		if (longopts[i].val == c)
			return i;
	return -1;
}

int
cli_split(int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	const struct option *lo;
	const char *letters = short_letters(shortopts), *p, *s;
	int i, amb;

	for (i = 1; i < argc; i++) {
		s = argv[i];
		if (strcmp(s, "--") == 0)
			return i;
		if (s[0] != '-' || s[1] == '\0')
			continue;
		if (s[1] == '-') {
			if (strchr(s, '=') != NULL)
				continue;
			lo = long_match(s + 2, longopts, &amb);
			if (lo != NULL && lo->has_arg == required_argument)
				i++;
			continue;
		}
		/* A cluster of letters: the first that takes a value takes
		 * the rest of the word, or the next word. */
		for (s++; *s != '\0'; s++) {
			p = strchr(letters, *s);
			if (p == NULL || *s == ':' || p[1] != ':')
				continue;
			if (p[2] != ':' && s[1] == '\0')
				i++;
			break;
		}
	}
	return argc;
}

int
cli_print(const char *text, const char *more)
{
	if (fputs(text, stdout) == EOF ||
	    (more != NULL && fputs(more, stdout) == EOF) ||
	    fflush(stdout) != 0) {
		cli_warn("cannot write standard output: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	return RP_EXIT_OK;
}

int
cli_version(void)
{
	if (printf("%s %s\n", cli_prog, RP_VERSION) < 0 ||
	    fflush(stdout) != 0) {
		cli_warn("cannot write standard output: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	return RP_EXIT_OK;
}

int
cli_new_token(void)
{
	uint8_t tok[RP_TOKEN_LEN];
	char hex[RP_TOKEN_HEX_LEN + 2];
	int r;

	rp_token_generate(tok);
	rp_token_to_hex(tok, hex);
	sodium_memzero(tok, sizeof(tok));
	memcpy(hex + RP_TOKEN_HEX_LEN, "\n", 2);
	r = cli_print(hex, NULL);
	sodium_memzero(hex, sizeof(hex));
	return r;
}

int
cli_load_tokens(const char *file, char *const *hex, size_t nhex,
    uint8_t (*toks)[RP_TOKEN_LEN], size_t max, size_t *n)
{
	const char *env = getenv("RP_HANDOFF_TOKEN");
	size_t i, j;
	int got;

	*n = 0;
	if (file != NULL && nhex > 0)
		return cli_usage("--token-file and --token exclude each "
		    "other");
	if (nhex > max)
		return cli_usage("at most %zu --token", max);
	if (file != NULL) {
		got = rp_token_read_list(file, toks, max);
		if (got < 0)
			return cli_usage("--token-file %s: %s", file,
			    errno == EINVAL ? "not a token (32 hex digits)" :
			    errno == E2BIG ? "too many tokens" :
			    strerror(errno));
	} else if (nhex > 0) {
		for (i = 0; i < nhex; i++)
			if (rp_token_from_hex(hex[i], strlen(hex[i]),
			    toks[i]) != 0)
				return cli_usage("--token: '%s' is not a "
				    "token (32 hex digits)", hex[i]);
		got = (int)nhex;
	} else if (env != NULL && *env != '\0') {
		got = rp_token_parse_list(env, strlen(env), toks, max);
		if (got < 0)
			return cli_usage("RP_HANDOFF_TOKEN: %s",
			    errno == E2BIG ? "too many tokens" :
			    "not a token (32 hex digits)");
	} else if (hex == NULL) {
		return cli_usage("no token: give --token-file F or "
		    "RP_HANDOFF_TOKEN");
	} else {
		return cli_usage("no token: give --token-file F, "
		    "RP_HANDOFF_TOKEN or --token HEX");
	}
	for (i = 0; i < (size_t)got; i++)
		for (j = 0; j < i; j++)
			if (rp_token_equal(toks[i], toks[j]))
				return cli_usage("the same token is given "
				    "twice");
	*n = (size_t)got;
	return 0;
}

int
cli_broker_dir(char *dir, size_t dirsz, uint32_t uid)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int err;

	if (rp_names_broker_dir(dir, dirsz, xdg, uid) >= 0)
		return 0;
	err = errno;
	if (err == EINVAL && rp_names_xdg_fault(xdg) != NULL)
		cli_warn("XDG_RUNTIME_DIR %s: set it to the runtime directory "
		    "(absolute), or unset it for /tmp/running-process-%u",
		    rp_names_xdg_fault(xdg), (unsigned)uid);
	else
		cli_warn("cannot name the broker directory under %s: %s",
		    xdg != NULL ? "$XDG_RUNTIME_DIR" : "/tmp", strerror(err));
	errno = err;
	return -1;
}

int
cli_machine_id(char *out, size_t outsz)
{
	int err;

	if (rp_host_machine_id(out, outsz) >= 0)
		return 0;
	err = errno;
	if (out[0] == '\0')
		cli_warn("cannot read the machine id: no /etc/machine-id or "
		    "/var/lib/dbus/machine-id, and no boot id");
	else if (err == ERANGE)
		cli_warn("cannot read the machine id: %s holds more than %zu "
		    "bytes", out, outsz - 1);
	else if (err == EILSEQ)
		cli_warn("cannot read the machine id: %s is not text (not "
		    "UTF-8, or a NUL byte)", out);
	else
		cli_warn("cannot read the machine id: %s: %s", out,
		    strerror(err));
	errno = err;
	return -1;
}
