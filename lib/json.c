/*
 * json.c — a JSON writer into a buffer (see json.h).
 *
 * count[0] counts the top-level values (at most one per document);
 * count[d] belongs to the d-th open container: bit 7 says it is an object,
 * the low bits count its items (saturating, only "any yet?" matters).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "parse.h"

#define IS_OBJ 0x80
#define ITEMS 0x7f

void
rp_json_init(struct rp_json *j, struct rp_buf *out, int pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty != 0;
}

static void
fail(struct rp_json *j, int err)
{
	if (j->err == 0)
		j->err = err;
}

static void
put(struct rp_json *j, const void *p, size_t n)
{
	if (j->err == 0 && rp_buf_append(j->out, p, n) != 0)
		fail(j, errno ? errno : ENOMEM);
}

static void
put_char(struct rp_json *j, char c)
{
	put(j, &c, 1);
}

static void
newline_indent(struct rp_json *j, unsigned depth)
{
	static const char spaces[] = "                                ";
	unsigned n = depth * 2;

	put_char(j, '\n');
	while (n > 0) {
		unsigned k = n < sizeof(spaces) - 1 ? n :
		    (unsigned)sizeof(spaces) - 1;

		put(j, spaces, k);
		n -= k;
	}
}

static void
bump(struct rp_json *j)
{
	unsigned char *c = &j->count[j->depth];

	if ((*c & ITEMS) != ITEMS)
		(*c)++;
}

/* The separator before an array item or an object key. */
static void
separate(struct rp_json *j)
{
	if (j->count[j->depth] & ITEMS)
		put_char(j, ',');
	if (j->pretty)
		newline_indent(j, j->depth);
	bump(j);
}

/* Everything a value needs before it is written; 0 to go on. */
static int
begin_value(struct rp_json *j)
{
	if (j->err != 0)
		return -1;
	if (j->depth == 0) {
		/* One value per document. */
		if (j->count[0] != 0) {
			fail(j, EINVAL);
			return -1;
		}
		j->count[0] = 1;
		return 0;
	}
	if (j->count[j->depth] & IS_OBJ) {
		if (!j->after_key) {
			fail(j, EINVAL);
			return -1;
		}
		j->after_key = 0;
		return 0;
	}
	separate(j);
	return 0;
}

static void
put_string(struct rp_json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, run;

	put_char(j, '"');
	while (i < n && j->err == 0) {
		uint8_t c = p[i];
		char esc[6];
		int len;

		/* Copy the longest run that needs nothing done in one go. */
		for (run = i; run < n && p[run] >= 0x20 && p[run] < 0x7f &&
		    p[run] != '"' && p[run] != '\\'; run++)
			;
		if (run > i) {
			put(j, p + i, run - i);
			i = run;
			continue;
		}
		if (c >= 0x80) {
			len = rp_utf8_char(p + i, n - i);
			if (len > 0) {
				put(j, p + i, (size_t)len);
				i += (size_t)len;
			} else {
				put(j, "\xef\xbf\xbd", 3);
				i += (size_t)-len;
			}
			continue;
		}
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			/* Other controls, and DEL, which is legal JSON but
			 * no friend of a terminal. */
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0x0f];
			put(j, esc, 6);
			i++;
			continue;
		}
		put(j, esc, 2);
		i++;
	}
	put_char(j, '"');
}

static void
open_container(struct rp_json *j, char ch, unsigned char kind)
{
	if (begin_value(j) != 0)
		return;
	if (j->depth + 1 >= RP_JSON_MAX_DEPTH) {
		fail(j, EINVAL);
		return;
	}
	put_char(j, ch);
	j->depth++;
	j->count[j->depth] = kind;
}

static void
close_container(struct rp_json *j, char ch, unsigned char kind)
{
	if (j->err != 0)
		return;
	if (j->depth == 0 || (j->count[j->depth] & IS_OBJ) != kind ||
	    j->after_key) {
		fail(j, EINVAL);
		return;
	}
	if (j->pretty && (j->count[j->depth] & ITEMS))
		newline_indent(j, j->depth - 1);
	put_char(j, ch);
	j->count[j->depth] = 0;
	j->depth--;
}

void
rp_json_obj(struct rp_json *j)
{
	open_container(j, '{', IS_OBJ);
}

void
rp_json_obj_end(struct rp_json *j)
{
	close_container(j, '}', IS_OBJ);
}

void
rp_json_arr(struct rp_json *j)
{
	open_container(j, '[', 0);
}

void
rp_json_arr_end(struct rp_json *j)
{
	close_container(j, ']', 0);
}

void
rp_json_key(struct rp_json *j, const char *key)
{
	if (j->err != 0)
		return;
	if (key == NULL || j->depth == 0 ||
	    !(j->count[j->depth] & IS_OBJ) || j->after_key) {
		fail(j, EINVAL);
		return;
	}
	separate(j);
	put_string(j, key, strlen(key));
	put(j, ": ", j->pretty ? 2 : 1);
	j->after_key = 1;
}

void
rp_json_strn(struct rp_json *j, const char *s, size_t n)
{
	if (begin_value(j) != 0)
		return;
	if (s == NULL)
		put(j, "null", 4);
	else
		put_string(j, s, n);
}

void
rp_json_str(struct rp_json *j, const char *s)
{
	rp_json_strn(j, s, s == NULL ? 0 : strlen(s));
}

static void
put_number(struct rp_json *j, const char *text, int n)
{
	if (begin_value(j) != 0)
		return;
	if (n < 0) {
		fail(j, EINVAL);
		return;
	}
	put(j, text, (size_t)n);
}

void
rp_json_u64(struct rp_json *j, uint64_t v)
{
	char b[24];

	put_number(j, b, snprintf(b, sizeof(b), "%" PRIu64, v));
}

void
rp_json_i64(struct rp_json *j, int64_t v)
{
	char b[24];

	put_number(j, b, snprintf(b, sizeof(b), "%" PRId64, v));
}

void
rp_json_double(struct rp_json *j, double v)
{
	char b[40], out[40];
	size_t i, o = 0;
	int n;

	if (!isfinite(v)) {
		rp_json_null(j);
		return;
	}
	n = snprintf(b, sizeof(b), "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(b)) {
		put_number(j, b, -1);
		return;
	}
	/* A caller's setlocale() may have made the radix "," (or several
	 * bytes): whatever is not a digit, sign or exponent is the radix. */
	for (i = 0; i < (size_t)n; i++) {
		char c = b[i];

		if ((c >= '0' && c <= '9') || c == '-' || c == '+' ||
		    c == 'e' || c == 'E')
			out[o++] = c;
		else if (o == 0 || out[o - 1] != '.')
			out[o++] = '.';
	}
	put_number(j, out, (int)o);
}

void
rp_json_bool(struct rp_json *j, int v)
{
	if (begin_value(j) != 0)
		return;
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void
rp_json_null(struct rp_json *j)
{
	if (begin_value(j) != 0)
		return;
	put(j, "null", 4);
}

void
rp_json_hex(struct rp_json *j, const uint8_t *p, size_t n)
{
	char b[65];
	size_t i, k;

	if (begin_value(j) != 0)
		return;
	if (p == NULL && n > 0) {
		fail(j, EINVAL);
		return;
	}
	put_char(j, '"');
	for (i = 0; i < n; i += k) {
		k = n - i < 32 ? n - i : 32;
		rp_hex_encode(p + i, k, b);
		put(j, b, 2 * k);
	}
	put_char(j, '"');
}

int
rp_json_finish(struct rp_json *j)
{
	if (j->err == 0 && (j->depth != 0 || j->after_key || j->count[0] == 0))
		fail(j, EINVAL);
	put_char(j, '\n');
	if (j->err != 0) {
		errno = j->err;
		return -1;
	}
	/* Ready for the next document (one per line). */
	j->count[0] = 0;
	return 0;
}

void
rp_json_kstr(struct rp_json *j, const char *k, const char *v)
{
	rp_json_key(j, k);
	rp_json_str(j, v);
}

void
rp_json_ku64(struct rp_json *j, const char *k, uint64_t v)
{
	rp_json_key(j, k);
	rp_json_u64(j, v);
}

void
rp_json_kbool(struct rp_json *j, const char *k, int v)
{
	rp_json_key(j, k);
	rp_json_bool(j, v);
}
