/* Unit tests for a backend's output on its way to the broker's log
 * (cmd/rp-broker/bout.c): lines come out whole however the reads cut
 * them; long lines are cut into pieces; backslashes (but on Windows),
 * control characters and what is not UTF-8 are escaped, UTF-8 cut by a
 * read is not; the token bucket lets the burst through, then drops whole
 * lines and counts their bytes, and refills with time; a flood is
 * skipped. */
#include <stdlib.h>
#include <string.h>

#include "bout.h"
#include "fs.h"
#include "t.h"

struct sink {
	char text[65536];
	size_t len;
	size_t lines;
};

/* Lines joined with '|' after each. */
static void
collect(void *arg, const char *line, size_t len)
{
	struct sink *s = arg;

	if (s->len + len + 1 > sizeof(s->text))
		return;
	memcpy(s->text + s->len, line, len);
	s->len += len;
	s->text[s->len++] = '|';
	s->text[s->len] = '\0';
	s->lines++;
}

static void
feed(struct bout *o, struct sink *s, const char *p, size_t n, int64_t now)
{
	bout_feed(o, (const uint8_t *)p, n, now, collect, s);
}

static void
test_lines_whole_across_reads(void)
{
	struct bout *o = malloc(sizeof(*o));
	struct sink *s = calloc(1, sizeof(*s));
	const char *in = "one\ntwo words\n\nthree";
	size_t i;

	T_OK(o != NULL && s != NULL);
	bout_init(o, 1000, 10000, 0, 0);
	for (i = 0; in[i] != '\0'; i++)
		feed(o, s, in + i, 1, 0);
	T_STR(s->text, "one|two words||");
	/* the last line comes at the end */
	bout_end(o, 0, collect, s);
	T_STR(s->text, "one|two words||three|");
	T_EQ(o->lines, 4);
	T_UEQ(o->dropped_total, 0);
	free(o);
	free(s);
}

static void
test_escapes(void)
{
	struct bout *o = malloc(sizeof(*o));
	struct sink *s = calloc(1, sizeof(*s));
	/* NUL, ESC, tab, backslash, DEL, a C1 control, a lone 0xff, an
	 * overlong '/', a CRLF end, a '\r' inside */
	static const char in[] = "a\0b\x1b[2J\tc\\d\x7f\xc2\x9b\xff"
	    "\xc0\xaf" "e\r\nf\rg\n";

	T_OK(o != NULL && s != NULL);
	bout_init(o, 1000, 10000, 0, 0);
	feed(o, s, in, sizeof(in) - 1, 0);
	/* A backslash is doubled, but where it separates a path's
	 * components (Windows): there it stays as it is. */
	if (rp_fs_is_sep('\\'))
		T_STR(s->text, "a\\x00b\\x1b[2J\\tc\\d\\x7f\\xc2\\x9b\\xff"
		    "\\xc0\\xafe|f\\rg|");
	else
		T_STR(s->text, "a\\x00b\\x1b[2J\\tc\\\\d\\x7f\\xc2\\x9b\\xff"
		    "\\xc0\\xafe|f\\rg|");
	free(o);
	free(s);
}

static void
test_utf8_cut_by_reads(void)
{
	struct bout *o = malloc(sizeof(*o));
	struct sink *s = calloc(1, sizeof(*s));
	/* é (2 bytes), € (3), 😀 (4), each cut at every place */
	static const char in[] = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n";
	size_t i;

	T_OK(o != NULL && s != NULL);
	bout_init(o, 1000, 10000, 0, 0);
	for (i = 0; i < sizeof(in) - 1; i++)
		feed(o, s, in + i, 1, 0);
	T_STR(s->text, "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80|");
	/* a character cut short by the end is escaped there */
	feed(o, s, "x\xe2\x82", 3, 0);
	bout_end(o, 0, collect, s);
	T_STR(s->text, "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80|x\\xe2\\x82|");
	/* a cut lead byte that turns out not to be one */
	feed(o, s, "\xe2", 1, 0);
	feed(o, s, "z\n", 2, 0);
	T_OK(strstr(s->text, "|\\xe2z|") != NULL);
	free(o);
	free(s);
}

static void
test_long_line_cut(void)
{
	struct bout *o = malloc(sizeof(*o));
	struct sink *s = calloc(1, sizeof(*s));
	char *in = malloc(3000);

	T_OK(o != NULL && s != NULL && in != NULL);
	memset(in, 'x', 2999);
	in[2999] = '\n';
	bout_init(o, 1000000, 1000000, 0, 0);
	feed(o, s, in, 3000, 0);
	T_EQ(s->lines, 3);
	T_EQ(strchr(s->text, '|') - s->text, BOUT_LINE_MAX);
	T_EQ(s->len, 2999 + 3);
	/* escapes are never split across pieces */
	memset(in, 0x01, 2999);
	s->len = 0;
	s->lines = 0;
	feed(o, s, in, 3000, 0);
	T_EQ(s->lines, 12);            /* 256 escapes of 4 bytes a piece */
	T_EQ(s->len, 2999 * 4 + 12);
	free(in);
	free(o);
	free(s);
}

static void
test_bucket(void)
{
	struct bout *o = malloc(sizeof(*o));
	struct sink *s = calloc(1, sizeof(*s));
	int i;

	T_OK(o != NULL && s != NULL);
	/* 10 bytes a second, 40 at once: "1234567\n" costs 8 */
	bout_init(o, 10, 40, 0, 1000);
	for (i = 0; i < 10; i++)
		feed(o, s, "1234567\n", 8, 1000);
	T_EQ(s->lines, 5);
	T_UEQ(o->dropped_total, 40);
	T_UEQ(bout_take_dropped(o), 40);
	T_UEQ(bout_take_dropped(o), 0);
	/* 0.8 s later: one more line's worth */
	feed(o, s, "1234567\n", 8, 1800);
	feed(o, s, "1234567\n", 8, 1800);
	T_EQ(s->lines, 6);
	T_UEQ(o->dropped_total, 48);
	/* a long time later the bucket is full again, never more */
	for (i = 0; i < 10; i++)
		feed(o, s, "1234567\n", 8, 1000000000);
	T_EQ(s->lines, 11);
	T_UEQ(o->dropped_total, 88);
	free(o);
	free(s);
}

/* A flood over the budget: every byte counted as dropped, the lines that
 * the bucket pays for come out whole. */
static void
test_flood(void)
{
	struct bout *o = malloc(sizeof(*o));
	struct sink *s = calloc(1, sizeof(*s));
	char *in = malloc(1 << 20);
	uint64_t out = 0;
	size_t i;
	int64_t t;

	T_OK(o != NULL && s != NULL && in != NULL);
	for (i = 0; i < (1u << 20); i++)
		in[i] = i % 100 == 99 ? '\n' : (char)('a' + i % 26);
	bout_init(o, 1000, 2000, 0, 0);
	for (t = 0; t < 10; t++) {
		s->len = 0;
		feed(o, s, in, 1u << 20, t * 100);
		out += s->len;
	}
	/* 2000 at once and 1000 a second: 2900 bytes of lines, each 99
	 * bytes of text and a '|' for its newline */
	T_OK(out <= 2900);
	T_OK(out >= 2000);
	T_UEQ(o->dropped_total + out, 10u << 20);
	/* a line without end is skipped a piece at a time, and once the
	 * bucket has refilled, what follows gets through again */
	memset(in, 'y', 1u << 20);
	s->len = 0;
	feed(o, s, in, 1u << 20, 2000);
	feed(o, s, "\nafter\n", 7, 100000);
	T_OK(strstr(s->text, "after|") != NULL);
	free(in);
	free(o);
	free(s);
}

/* Empty lines are not free: each costs what the log writes for it. */
static void
test_overhead(void)
{
	struct bout *o = malloc(sizeof(*o));
	struct sink *s = calloc(1, sizeof(*s));
	char in[1000];

	T_OK(o != NULL && s != NULL);
	memset(in, '\n', sizeof(in));
	bout_init(o, 1000, 2000, 31, 0);
	feed(o, s, in, sizeof(in), 0);
	/* 2000 bytes of budget at 32 a line (31 and the newline) */
	T_EQ(o->lines, 62);
	T_UEQ(o->dropped_total, 1000 - 62);
	/* without the overhead every one of them would have passed */
	bout_init(o, 1000, 2000, 0, 0);
	feed(o, s, in, sizeof(in), 0);
	T_EQ(o->lines, 1000);
	free(o);
	free(s);
}

int
main(void)
{
	T_RUN(test_lines_whole_across_reads);
	T_RUN(test_escapes);
	T_RUN(test_utf8_cut_by_reads);
	T_RUN(test_long_line_cut);
	T_RUN(test_bucket);
	T_RUN(test_flood);
	T_RUN(test_overhead);
	return t_done();
}
