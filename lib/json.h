/*
 * json.h — a JSON writer into a buffer (RFC 8259).  Strings are escaped;
 * bytes that are not valid UTF-8 become U+FFFD, so the output always
 * parses, whatever a peer sent.  Commas are placed automatically.
 *
 * Strings: '"', '\\' and the controls are escaped (\n, \t... or \u00XX;
 * DEL as \u007f); every maximal ill-formed UTF-8 subpart (Unicode's
 * "replacement of maximal subparts", as Python's errors="replace") becomes
 * one U+FFFD: overlongs, surrogates, truncated sequences, bytes C0, C1 and
 * F5-FF.
 *
 * Misuse sets the sticky error EINVAL and nothing more is written: a key
 * outside an object or twice in a row, a value in an object without its
 * key, a mismatched or extra close, a second top-level value, a NULL key,
 * containers nested RP_JSON_MAX_DEPTH deep (31 levels are fine).  The
 * pretty form puts each item on its own line, indented two spaces per
 * level, with ": " after keys; empty containers stay "{}" and "[]".
 */
#ifndef RP_JSON_H
#define RP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define RP_JSON_MAX_DEPTH 32

struct rp_json {
	struct rp_buf *out;
	int pretty;          /* indent with two spaces */
	int err;             /* sticky: first errno (ENOMEM, EINVAL misuse) */
	unsigned depth;
	unsigned char count[RP_JSON_MAX_DEPTH]; /* items so far, saturating */
	unsigned char after_key;
};

void rp_json_init(struct rp_json *j, struct rp_buf *out, int pretty);
void rp_json_obj(struct rp_json *j);
void rp_json_obj_end(struct rp_json *j);
void rp_json_arr(struct rp_json *j);
void rp_json_arr_end(struct rp_json *j);
void rp_json_key(struct rp_json *j, const char *key);
void rp_json_str(struct rp_json *j, const char *s);      /* NULL -> null */
void rp_json_strn(struct rp_json *j, const char *s, size_t n); /* NULL -> null */
void rp_json_u64(struct rp_json *j, uint64_t v);
void rp_json_i64(struct rp_json *j, int64_t v);
void rp_json_double(struct rp_json *j, double v);        /* %.17g; NaN -> null */
void rp_json_bool(struct rp_json *j, int v);
void rp_json_null(struct rp_json *j);
void rp_json_hex(struct rp_json *j, const uint8_t *p, size_t n); /* "a0b1.." */
/* Finish: appends a newline.  0, or -1 with the sticky errno (including
 * EINVAL when objects/arrays are unbalanced, a key has no value, or no
 * value was written).  After a 0 the writer takes the next document, so
 * one writer can produce JSON Lines. */
int rp_json_finish(struct rp_json *j);

/* key + value shorthands */
void rp_json_kstr(struct rp_json *j, const char *k, const char *v);
void rp_json_ku64(struct rp_json *j, const char *k, uint64_t v);
void rp_json_kbool(struct rp_json *j, const char *k, int v);

#endif
