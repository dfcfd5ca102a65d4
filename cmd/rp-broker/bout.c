/*
 * bout.c — a backend's output as whole, escaped, budgeted lines (see
 * bout.h).
 */
#include <stdio.h>
#include <string.h>

#include "bout.h"
#include "rp.h"

void
bout_init(struct bout *o, uint64_t rate, uint64_t burst, size_t overhead,
    int64_t now_ms)
{
	memset(o, 0, sizeof(*o));
	o->overhead = overhead;
	o->rate = rate;
	o->burst = burst;
	o->milli = burst * 1000;
	o->refill_ms = now_ms;
}

static void
refill(struct bout *o, int64_t now)
{
	uint64_t cap = o->burst * 1000, dt;

	if (now <= o->refill_ms)
		return;
	dt = (uint64_t)(now - o->refill_ms);
	o->refill_ms = now;
	if (o->rate == 0 || o->milli >= cap)
		return;
	if (dt > (cap - o->milli) / o->rate)
		o->milli = cap;
	else
		o->milli += dt * o->rate;
}

/* The line made so far is complete (or as long as a line may be): out,
 * when the bucket pays for it (its text, a newline and the log's
 * overhead), else dropped. */
static void
finish(struct bout *o, int64_t now, bout_emit_fn emit, void *arg)
{
	uint64_t cost = ((uint64_t)o->len + 1 + o->overhead) * 1000;

	refill(o, now);
	if (o->milli >= cost) {
		o->milli -= cost;
		o->lines++;
		emit(arg, o->line, o->len);
	} else {
		o->dropped += o->raw;
		o->dropped_total += o->raw;
	}
	o->len = 0;
	o->raw = 0;
	o->cr = 0;
}

/* Text tl bytes long for raw bytes of output. */
static void
put(struct bout *o, const char *t, size_t tl, size_t raw, int64_t now,
    bout_emit_fn emit, void *arg)
{
	if (o->len + tl > BOUT_LINE_MAX)
		finish(o, now, emit, arg);
	memcpy(o->line + o->len, t, tl);
	o->len += tl;
	o->raw += raw;
	o->cr = 0;
}

static void
put_hex(struct bout *o, const uint8_t *p, size_t n, int64_t now,
    bout_emit_fn emit, void *arg)
{
	char esc[5];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		put(o, esc, 4, 1, now, emit, arg);
	}
}

/* One character at p (avail bytes there): the bytes it took, or 0 when
 * it may go on past avail (a UTF-8 sequence cut by the read; not when
 * final). */
static size_t
one_char(struct bout *o, const uint8_t *p, size_t avail, int final,
    int64_t now, bout_emit_fn emit, void *arg)
{
	uint8_t c = p[0];
	int r;

	switch (c) {
	case '\n':
		if (o->cr != 0)
			o->len = o->cr - 1;     /* "\r\n": the "\r" goes */
		o->raw++;
		finish(o, now, emit, arg);
		return 1;
	case '\r':
		put(o, "\\r", 2, 1, now, emit, arg);
		o->cr = o->len - 2 + 1;
		return 1;
	case '\t':
		put(o, "\\t", 2, 1, now, emit, arg);
		return 1;
	case '\\':
		/* Windows: a path's separator, shown as it is (cli.h). */
		if (rp_fs_is_sep('\\'))
			put(o, "\\", 1, 1, now, emit, arg);
		else
			put(o, "\\\\", 2, 1, now, emit, arg);
		return 1;
	default:
		break;
	}
	if (c < 0x20 || c == 0x7f) {
		put_hex(o, p, 1, now, emit, arg);
		return 1;
	}
	if (c < 0x80) {
		put(o, (const char *)p, 1, 1, now, emit, arg);
		return 1;
	}
	r = rp_utf8_char(p, avail);
	if (r == 2 && c == 0xc2 && p[1] <= 0x9f) {
		/* C1 controls act on terminals as ESC sequences do. */
		put_hex(o, p, 2, now, emit, arg);
		return 2;
	}
	if (r > 0) {
		put(o, (const char *)p, (size_t)r, (size_t)r, now, emit, arg);
		return (size_t)r;
	}
	/* Ill-formed: unless it is the start of a character the next read
	 * may complete (a lead byte and what fits after it, to the end). */
	if (!final && c >= 0xc2 && c <= 0xf4 && (size_t)-r == avail &&
	    avail < 4)
		return 0;
	put_hex(o, p, (size_t)-r, now, emit, arg);
	return (size_t)-r;
}

/* Shown as it is: printable ASCII but the backslash. */
static int
plain(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

void
bout_feed(struct bout *o, const uint8_t *p, size_t n, int64_t now_ms,
    bout_emit_fn emit, void *arg)
{
	size_t i = 0, k, run, want;
	const uint8_t *nl;

	if (o->ncarry > 0) {
		uint8_t tmp[8];
		size_t c0 = o->ncarry, take, avail, pos = 0;

		take = n < sizeof(tmp) - c0 ? n : sizeof(tmp) - c0;
		memcpy(tmp, o->carry, c0);
		memcpy(tmp + c0, p, take);
		avail = c0 + take;
		o->ncarry = 0;
		while (pos < c0) {
			k = one_char(o, tmp + pos, avail - pos, 0, now_ms,
			    emit, arg);
			if (k == 0) {
				/* Still cut: all of p was taken. */
				memcpy(o->carry, tmp + pos, avail - pos);
				o->ncarry = avail - pos;
				return;
			}
			pos += k;
		}
		i = pos - c0;
	}
	while (i < n) {
		if (o->skip == 0 && o->len == 0 && o->raw == 0) {
			/* A new line: one the bucket cannot pay for even if
			 * empty is skipped without being looked at. */
			refill(o, now_ms);
			if (o->milli < 2000)
				o->skip = 1;
		}
		if (o->skip != 0) {
			want = n - i;
			if (want > BOUT_LINE_MAX - (o->skip - 1))
				want = BOUT_LINE_MAX - (size_t)(o->skip - 1);
			nl = memchr(p + i, '\n', want);
			k = nl != NULL ? (size_t)(nl - (p + i)) + 1 : want;
			o->dropped += k;
			o->dropped_total += k;
			o->skip += k;
			i += k;
			/* At its end, or as long as a line may be: the next
			 * piece is judged afresh. */
			if (nl != NULL || o->skip - 1 >= BOUT_LINE_MAX)
				o->skip = 0;
			continue;
		}
		for (run = 0; i + run < n && run < BOUT_LINE_MAX - o->len &&
		    plain(p[i + run]); run++)
			;
		if (run > 0) {
			memcpy(o->line + o->len, p + i, run);
			o->len += run;
			o->raw += run;
			o->cr = 0;
			i += run;
			continue;
		}
		k = one_char(o, p + i, n - i, 0, now_ms, emit, arg);
		if (k == 0) {
			memcpy(o->carry, p + i, n - i);
			o->ncarry = n - i;
			return;
		}
		i += k;
	}
}

void
bout_end(struct bout *o, int64_t now_ms, bout_emit_fn emit, void *arg)
{
	size_t pos = 0, k;

	while (pos < o->ncarry) {
		k = one_char(o, o->carry + pos, o->ncarry - pos, 1, now_ms,
		    emit, arg);
		pos += k;
	}
	o->ncarry = 0;
	o->skip = 0;
	if (o->len > 0 || o->raw > 0)
		finish(o, now_ms, emit, arg);
}

uint64_t
bout_take_dropped(struct bout *o)
{
	uint64_t n = o->dropped;

	o->dropped = 0;
	return n;
}
