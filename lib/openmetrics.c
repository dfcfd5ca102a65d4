/* openmetrics.c — OpenMetrics text into Prometheus text (openmetrics.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "openmetrics.h"

#define NAME_MAX_LEN 256        /* a metric name, as we keep it */

enum fam_type {
	T_NONE, T_COUNTER, T_GAUGE, T_HISTOGRAM, T_GAUGEHISTOGRAM,
	T_SUMMARY, T_INFO, T_STATESET, T_UNKNOWN,
};

static const struct {
	const char *om;           /* the OpenMetrics type */
	enum fam_type t;
	const char *suffix;       /* of the classic family name */
	const char *classic;      /* the classic type */
} types[] = {
	{ "counter", T_COUNTER, "_total", "counter" },
	{ "gauge", T_GAUGE, "", "gauge" },
	{ "histogram", T_HISTOGRAM, "", "histogram" },
	{ "gaugehistogram", T_GAUGEHISTOGRAM, "", "histogram" },
	{ "summary", T_SUMMARY, "", "summary" },
	{ "info", T_INFO, "_info", "gauge" },
	{ "stateset", T_STATESET, "", "gauge" },
	{ "unknown", T_UNKNOWN, "", "untyped" },
};

struct conv {
	struct rp_buf *out;
	char *why;
	size_t whysz;
	size_t lineno;
	char fam[NAME_MAX_LEN];   /* the family of the last TYPE line */
	enum fam_type type;
	const char *next, *end;   /* the lines after the current one */
};

static int
bad(struct conv *c, const char *what)
{
	rp_err_why(c->why, c->whysz, "line %zu: %s", c->lineno, what);
	errno = EINVAL;
	return -1;
}

static int
name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    ch == '_' || ch == ':';
}

static int
name_char(char ch)
{
	return name_start(ch) || (ch >= '0' && ch <= '9');
}

/* The length of the metric name at p[0..n), or 0 when there is none. */
static size_t
name_len(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || !name_start(p[0]))
		return 0;
	for (i = 1; i < n && name_char(p[i]); i++)
		;
	return i;
}

/* Does name[0..n) end with the suffix sfx? */
static int
ends_with(const char *name, size_t n, const char *sfx)
{
	size_t sl = strlen(sfx);

	return n >= sl && memcmp(name + n - sl, sfx, sl) == 0;
}

/* Is the sample name[0..n) the family's name plus sfx? */
static int
is_fam(const struct conv *c, const char *name, size_t n, const char *sfx)
{
	size_t fl = strlen(c->fam), sl = strlen(sfx);

	return c->type != T_NONE && n == fl + sl &&
	    memcmp(name, c->fam, fl) == 0 && memcmp(name + fl, sfx, sl) == 0;
}

/* The index in types[] of the OpenMetrics type "t[0..n)", or the size of
 * types[] when it is none. */
static size_t
type_index(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].om) == n && memcmp(types[i].om, t, n) == 0)
			break;
	return i;
}

/* The type (index in types[]) of family name: the last TYPE line's when
 * it is that family's, else one among the metadata lines that follow
 * (HELP, TYPE and UNIT of the family, in any order, before its samples);
 * the size of types[] when there is none. */
static size_t
type_of(const struct conv *c, const char *name)
{
	const char *p = c->next, *nl;
	size_t n, fl = strlen(name);

	if (c->type != T_NONE && strcmp(c->fam, name) == 0)
		for (n = 0; n < sizeof(types) / sizeof(types[0]); n++)
			if (types[n].t == c->type)
				return n;
	while (p < c->end) {
		nl = memchr(p, '\n', (size_t)(c->end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(c->end - p);
		if (n < 7 + fl + 1 || (memcmp(p, "# TYPE ", 7) != 0 &&
		    memcmp(p, "# HELP ", 7) != 0 &&
		    memcmp(p, "# UNIT ", 7) != 0) ||
		    memcmp(p + 7, name, fl) != 0 || p[7 + fl] != ' ')
			break;
		if (memcmp(p, "# TYPE ", 7) == 0)
			return type_index(p + 8 + fl, n - 8 - fl);
		p += n + (nl != NULL);
	}
	return sizeof(types) / sizeof(types[0]);
}

/* "# TYPE name type" or "# HELP name text" (p past "# TYPE "). */
static int
meta_line(struct conv *c, const char *kw, const char *p, size_t n)
{
	char name[NAME_MAX_LEN];
	const char *sfx = "", *rest;
	size_t nl = name_len(p, n), rl, i, k;
	int r;

	if (nl == 0 || nl >= sizeof(name) || (nl < n && p[nl] != ' '))
		return bad(c, "not a metric name");
	memcpy(name, p, nl);
	name[nl] = '\0';
	rest = nl < n ? p + nl + 1 : p + nl;
	rl = nl < n ? n - nl - 1 : 0;
	if (strcmp(kw, "TYPE") == 0) {
		i = type_index(rest, rl);
		if (i == sizeof(types) / sizeof(types[0]))
			return bad(c, "not a metric type");
		memcpy(c->fam, name, nl + 1);
		c->type = types[i].t;
		/* A counter family named with its suffix already (not
		 * OpenMetrics, but seen) keeps its name. */
		if (!ends_with(name, nl, types[i].suffix))
			sfx = types[i].suffix;
		return rp_buf_printf(c->out, "# TYPE %s%s %s\n", name, sfx,
		    types[i].classic);
	}
	/* HELP goes under the family's classic name, whichever of HELP and
	 * TYPE comes first (OpenMetrics allows either order). */
	k = type_of(c, name);
	if (k < sizeof(types) / sizeof(types[0]) &&
	    !ends_with(name, nl, types[k].suffix))
		sfx = types[k].suffix;
	r = rp_buf_printf(c->out, "# HELP %s%s", name, sfx);
	if (rl > 0)
		r |= rp_buf_puts(c->out, " ");
	/* \" is an OpenMetrics escape; the classic HELP knows \\ and \n. */
	for (i = 0; i < rl; i = k) {
		if (rest[i] == '\\' && i + 1 < rl) {
			r |= rest[i + 1] == '"' ? rp_buf_puts(c->out, "\"") :
			    rp_buf_append(c->out, rest + i, 2);
			k = i + 2;
			continue;
		}
		for (k = i; k < rl && rest[k] != '\\'; k++)
			;
		if (k == i)
			k = i + 1;
		r |= rp_buf_append(c->out, rest + i, k - i);
	}
	return r | rp_buf_puts(c->out, "\n");
}

/* "12.5" seconds (any form strtod takes) as whole milliseconds. */
static int
timestamp_ms(const char *p, size_t n, long long *ms)
{
	char buf[64], *end;
	double v;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (end != buf + n || errno != 0 || !(v > -9.2e15 && v < 9.2e15))
		return -1;
	v *= 1000.0;
	*ms = (long long)(v < 0 ? v - 0.5 : v + 0.5);
	return 0;
}

static int
sample_line(struct conv *c, const char *p, size_t n)
{
	const char *sfx = NULL, *rest, *hash, *sp;
	size_t nl = name_len(p, n), i, base = nl, rl, vl;
	long long ms;
	int in_q = 0, r;

	if (nl == 0)
		return bad(c, "not a metric name");
	/* The label set, quoted values and their escapes included. */
	i = nl;
	if (i < n && p[i] == '{') {
		for (i++; i < n; i++) {
			if (in_q && p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_q = !in_q;
			else if (!in_q && p[i] == '}')
				break;
		}
		if (i >= n)
			return bad(c, "unterminated label set");
		i++;
	}
	if (i >= n || p[i] != ' ')
		return bad(c, "no value after the metric");
	/* What this sample is called in the classic format. */
	switch (c->type) {
	case T_COUNTER:
	case T_HISTOGRAM:
	case T_SUMMARY:
	case T_GAUGEHISTOGRAM:
		if (is_fam(c, p, nl, "_created"))
			return 0;       /* no creation times there */
		if (c->type == T_GAUGEHISTOGRAM && is_fam(c, p, nl, "_gcount"))
			base = nl - 7, sfx = "_count";
		else if (c->type == T_GAUGEHISTOGRAM &&
		    is_fam(c, p, nl, "_gsum"))
			base = nl - 5, sfx = "_sum";
		break;
	default:
		break;
	}
	/* " value [timestamp] [# exemplar]": the exemplar goes. */
	rest = p + i + 1;
	rl = n - i - 1;
	hash = NULL;
	for (sp = rest; sp + 2 < rest + rl; sp++)
		if (sp[0] == ' ' && sp[1] == '#' && sp[2] == ' ') {
			hash = sp;
			break;
		}
	if (hash != NULL)
		rl = (size_t)(hash - rest);
	for (vl = 0; vl < rl && rest[vl] != ' '; vl++)
		;
	if (vl == 0)
		return bad(c, "no value after the metric");
	r = rp_buf_append(c->out, p, base);
	if (sfx != NULL)
		r |= rp_buf_puts(c->out, sfx);
	r |= rp_buf_append(c->out, p + nl, i - nl + 1 + vl);
	if (vl < rl) {
		if (timestamp_ms(rest + vl + 1, rl - vl - 1, &ms) != 0)
			return r != 0 ? -1 : bad(c, "not a timestamp");
		r |= rp_buf_printf(c->out, " %lld", ms);
	}
	return r | rp_buf_puts(c->out, "\n");
}

static int
line(struct conv *c, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (p[0] != '#')
		return sample_line(c, p, n);
	if (n >= 7 && memcmp(p, "# TYPE ", 7) == 0)
		return meta_line(c, "TYPE", p + 7, n - 7);
	if (n >= 7 && memcmp(p, "# HELP ", 7) == 0)
		return meta_line(c, "HELP", p + 7, n - 7);
	if (n >= 7 && memcmp(p, "# UNIT ", 7) == 0)
		return 0;
	/* Any other comment is a comment in both. */
	return rp_buf_append(c->out, p, n) | rp_buf_puts(c->out, "\n");
}

int
rp_openmetrics_to_prometheus(const char *text, size_t len,
    struct rp_buf *out, char *why, size_t whysz)
{
	struct conv c;
	const char *p = text, *end = text + len, *nl;
	size_t start = out->len, n;
	int eof = 0;

	memset(&c, 0, sizeof(c));
	c.out = out;
	c.why = why;
	c.whysz = whysz;
	rp_err_why(why, whysz, "%s", "");
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		c.lineno++;
		c.next = p + n + (nl != NULL);
		c.end = end;
		if (eof) {
			bad(&c, "text after # EOF");
			goto fail;
		}
		if (n == 5 && memcmp(p, "# EOF", 5) == 0) {
			eof = 1;
		} else if (memchr(p, '\0', n) != NULL) {
			bad(&c, "a NUL byte");
			goto fail;
		} else if (line(&c, p, n) != 0) {
			if (errno != EINVAL)
				errno = ENOMEM;
			goto fail;
		}
		p += n + (nl != NULL);
	}
	return 0;
fail:
	out->len = start;
	return -1;
}
