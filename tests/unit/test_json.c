/*
 * Unit tests for json: exact output, misuse, the sticky error, and every
 * generated document checked by an independent parser (Python's json, in
 * strict mode, after a strict UTF-8 decode).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "t.h"

#define PYTHON "/usr/bin/python3"

/*
 * The checker.  "canon" prints the document back in a canonical compact
 * ASCII form; "pairs" checks a list of [string, hex] pairs: each string
 * must equal the hex bytes decoded with errors="replace".  Any parse error
 * (invalid UTF-8 in the file, raw controls in strings, NaN, trailing
 * garbage) makes it exit non-zero.
 */
static const char checker[] =
    "import json, sys\n"
    "def bad(c):\n"
    "    raise ValueError('constant ' + c)\n"
    "data = open(sys.argv[2], 'rb').read()\n"
    "text = data.decode('utf-8')\n"
    "assert text.endswith('\\n'), 'no final newline'\n"
    "obj = json.loads(text, parse_constant=bad)\n"
    "if sys.argv[1] == 'canon':\n"
    "    sys.stdout.write(json.dumps(obj, separators=(',', ':')))\n"
    "else:\n"
    "    n = 0\n"
    "    for s, h in obj:\n"
    "        want = bytes.fromhex(h).decode('utf-8', 'replace')\n"
    "        if s != want:\n"
    "            print('mismatch', h, ascii(s), ascii(want))\n"
    "            sys.exit(1)\n"
    "        n += 1\n"
    "    sys.stdout.write('ok %d' % n)\n";

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		t_fail(__FILE__, __LINE__, "write %s", path);
		exit(1);
	}
	close(fd);
}

/* Run the checker on doc; its stdout into out.  Returns its exit status. */
static int
python_check(const char *mode, const struct rp_buf *doc, char *out,
    size_t outsz)
{
	char script[512], file[512], cmd[1400];
	size_t n = 0, r;
	FILE *p;
	int st;

	snprintf(script, sizeof(script), "%s/check.py", t_tmpdir());
	snprintf(file, sizeof(file), "%s/doc.json", t_tmpdir());
	write_file(script, checker, sizeof(checker) - 1);
	write_file(file, doc->data, doc->len);
	/* stderr too: a traceback shows up in the failure message. */
	snprintf(cmd, sizeof(cmd), "%s %s %s %s 2>&1", PYTHON, script, mode,
	    file);
	p = popen(cmd, "r");
	T_OK(p != NULL);
	if (p == NULL)
		return -1;
	while (n + 1 < outsz && (r = fread(out + n, 1, outsz - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	st = pclose(p);
	return st;
}

/* The document must parse, and read back as canon. */
static void
expect_canon(const struct rp_buf *doc, const char *canon)
{
	char out[8192];

	T_EQ(python_check("canon", doc, out, sizeof(out)), 0);
	T_STR(out, canon);
}

/* The checker itself refuses what is not strict JSON in UTF-8, so that a
 * pass from it means something. */
static void
test_checker_is_strict(void)
{
	static const char *const bad[] = {
		"\"\xff\"\n",      /* invalid UTF-8 */
		"\"\xed\xa0\x80\"\n",
		"\"\x01\"\n",      /* raw control in a string */
		"\"a\nb\"\n",
		"[1,]\n",
		"{\"a\" 1}\n",
		"NaN\n",
		"[Infinity]\n",
		"1",               /* no final newline */
		"1 2\n",
		"\n",
	};
	struct rp_buf b = { 0 };
	char out[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rp_buf_clear(&b);
		T_EQ(rp_buf_puts(&b, bad[i]), 0);
		if (python_check("canon", &b, out, sizeof(out)) == 0)
			t_fail(__FILE__, __LINE__, "checker took case %zu", i);
	}
	rp_buf_clear(&b);
	T_EQ(rp_buf_puts(&b, "[\"a\",\"YQ\"]\n"), 0);
	T_OK(python_check("pairs", &b, out, sizeof(out)) != 0);
	rp_buf_clear(&b);
	T_EQ(rp_buf_puts(&b, "[[\"a\",\"62\"]]\n"), 0);
	T_OK(python_check("pairs", &b, out, sizeof(out)) != 0);
	rp_buf_clear(&b);
	T_EQ(rp_buf_puts(&b, "[[\"\\ufffd\",\"ff\"]]\n"), 0);
	T_EQ(python_check("pairs", &b, out, sizeof(out)), 0);
	T_STR(out, "ok 1");
	rp_buf_free(&b);
}

static void
test_compact_exact(void)
{
	struct rp_buf b = { 0 };
	struct rp_json j;

	rp_json_init(&j, &b, 0);
	rp_json_obj(&j);
	rp_json_ku64(&j, "a", 1);
	rp_json_key(&j, "b");
	rp_json_arr(&j);
	rp_json_bool(&j, 1);
	rp_json_bool(&j, 0);
	rp_json_null(&j);
	rp_json_str(&j, NULL);
	rp_json_arr_end(&j);
	rp_json_key(&j, "c");
	rp_json_obj(&j);
	rp_json_obj_end(&j);
	rp_json_key(&j, "d");
	rp_json_arr(&j);
	rp_json_arr_end(&j);
	rp_json_kstr(&j, "e", "x");
	rp_json_kbool(&j, "f", 42);
	rp_json_key(&j, "g");
	rp_json_i64(&j, INT64_MIN);
	rp_json_key(&j, "h");
	rp_json_u64(&j, UINT64_MAX);
	rp_json_key(&j, "i");
	rp_json_hex(&j, (const uint8_t *)"\x00\xff\x10\xab", 4);
	rp_json_key(&j, "j");
	rp_json_strn(&j, "abc", 2);
	rp_json_obj_end(&j);
	T_EQ(rp_json_finish(&j), 0);
	T_STR(rp_buf_str(&b),
	    "{\"a\":1,\"b\":[true,false,null,null],\"c\":{},\"d\":[],"
	    "\"e\":\"x\",\"f\":true,\"g\":-9223372036854775808,"
	    "\"h\":18446744073709551615,\"i\":\"00ff10ab\",\"j\":\"ab\"}\n");
	expect_canon(&b,
	    "{\"a\":1,\"b\":[true,false,null,null],\"c\":{},\"d\":[],"
	    "\"e\":\"x\",\"f\":true,\"g\":-9223372036854775808,"
	    "\"h\":18446744073709551615,\"i\":\"00ff10ab\",\"j\":\"ab\"}");
	rp_buf_free(&b);
}

static void
test_pretty_exact(void)
{
	struct rp_buf b = { 0 };
	struct rp_json j;

	rp_json_init(&j, &b, 1);
	rp_json_obj(&j);
	rp_json_ku64(&j, "a", 1);
	rp_json_key(&j, "b");
	rp_json_arr(&j);
	rp_json_u64(&j, 1);
	rp_json_arr(&j);
	rp_json_arr_end(&j);
	rp_json_obj(&j);
	rp_json_kstr(&j, "k", "v");
	rp_json_obj_end(&j);
	rp_json_arr_end(&j);
	rp_json_key(&j, "c");
	rp_json_obj(&j);
	rp_json_obj_end(&j);
	rp_json_obj_end(&j);
	T_EQ(rp_json_finish(&j), 0);
	T_STR(rp_buf_str(&b),
	    "{\n"
	    "  \"a\": 1,\n"
	    "  \"b\": [\n"
	    "    1,\n"
	    "    [],\n"
	    "    {\n"
	    "      \"k\": \"v\"\n"
	    "    }\n"
	    "  ],\n"
	    "  \"c\": {}\n"
	    "}\n");
	expect_canon(&b, "{\"a\":1,\"b\":[1,[],{\"k\":\"v\"}],\"c\":{}}");
	rp_buf_free(&b);
}

static void
test_scalars_at_top(void)
{
	struct rp_buf b = { 0 };
	struct rp_json j;

	/* One writer, several documents: JSON Lines. */
	rp_json_init(&j, &b, 0);
	rp_json_u64(&j, 0);
	T_EQ(rp_json_finish(&j), 0);
	rp_json_str(&j, "s");
	T_EQ(rp_json_finish(&j), 0);
	rp_json_null(&j);
	T_EQ(rp_json_finish(&j), 0);
	rp_json_obj(&j);
	rp_json_obj_end(&j);
	T_EQ(rp_json_finish(&j), 0);
	T_STR(rp_buf_str(&b), "0\n\"s\"\nnull\n{}\n");
	rp_buf_free(&b);
}

static void
test_escapes_exact(void)
{
	struct rp_buf b = { 0 };
	struct rp_json j;
	char all[32];
	int i;

	rp_json_init(&j, &b, 0);
	rp_json_arr(&j);
	rp_json_str(&j, "q\"b\\s/");
	rp_json_str(&j, "\b\f\n\r\t");
	for (i = 0; i < 31; i++)
		all[i] = (char)(i + 1);
	rp_json_strn(&j, all, 31);
	rp_json_strn(&j, "\0x\x7f", 3);
	rp_json_str(&j, "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	rp_json_arr_end(&j);
	T_EQ(rp_json_finish(&j), 0);
	T_STR(rp_buf_str(&b),
	    "[\"q\\\"b\\\\s/\",\"\\b\\f\\n\\r\\t\","
	    "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n"
	    "\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014"
	    "\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
	    "\\u001e\\u001f\","
	    "\"\\u0000x\\u007f\","
	    "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]\n");
	expect_canon(&b,
	    "[\"q\\\"b\\\\s/\",\"\\b\\f\\n\\r\\t\","
	    "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n"
	    "\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014"
	    "\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
	    "\\u001e\\u001f\","
	    "\"\\u0000x\\u007f\","
	    "\"h\\u00e9 \\u20ac \\ud83d\\ude00\"]");
	rp_buf_free(&b);
}

/* The exact replacement for ill-formed input, byte for byte. */
static void
expect_str(const char *in, size_t n, const char *want)
{
	struct rp_buf b = { 0 };
	struct rp_json j;

	rp_json_init(&j, &b, 0);
	rp_json_strn(&j, in, n);
	T_EQ(rp_json_finish(&j), 0);
	T_STR(rp_buf_str(&b), want);
	rp_buf_free(&b);
}

#define R "\xef\xbf\xbd"

static void
test_invalid_utf8_exact(void)
{
	expect_str("\x80", 1, "\"" R "\"\n");
	expect_str("\xbf" "a", 2, "\"" R "a\"\n");
	expect_str("\xc0\xaf", 2, "\"" R R "\"\n");            /* overlong / */
	expect_str("\xc1\xbf", 2, "\"" R R "\"\n");
	expect_str("\xe0\x80\xaf", 3, "\"" R R R "\"\n");      /* overlong */
	expect_str("\xe0\x9f\xbf", 3, "\"" R R R "\"\n");
	expect_str("\xe0\xa0\x80", 3, "\"\xe0\xa0\x80\"\n");   /* U+0800 */
	expect_str("\xed\xa0\x80", 3, "\"" R R R "\"\n");      /* surrogate */
	expect_str("\xed\xbf\xbf", 3, "\"" R R R "\"\n");
	expect_str("\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"\n");   /* U+D7FF */
	expect_str("\xf0\x80\x80\x80", 4, "\"" R R R R "\"\n");
	expect_str("\xf0\x90\x80\x80", 4, "\"\xf0\x90\x80\x80\"\n");
	expect_str("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"\n");
	expect_str("\xf4\x90\x80\x80", 4, "\"" R R R R "\"\n"); /* > 10FFFF */
	expect_str("\xf5\x80", 2, "\"" R R "\"\n");
	expect_str("\xff\xfe", 2, "\"" R R "\"\n");
	/* Truncated: one U+FFFD for the whole maximal prefix. */
	expect_str("\xe2\x82", 2, "\"" R "\"\n");
	expect_str("\xe2\x82" "x", 3, "\"" R "x\"\n");
	expect_str("\xf0\x9f\x98", 3, "\"" R "\"\n");
	expect_str("\xf0\x9f\x98\"", 4, "\"" R "\\\"\"\n");
	expect_str("\xc3", 1, "\"" R "\"\n");
	expect_str("a\xc3\xc3\xa9", 4, "\"a" R "\xc3\xa9\"\n");
	expect_str("\xe2\x82\xe2\x82\xac", 5, "\"" R "\xe2\x82\xac\"\n");
}

/* Strings with the hex of their bytes, checked pairwise by Python. */
static void
check_pairs(const char *const *s, const size_t *n, size_t count, int pretty)
{
	struct rp_buf b = { 0 };
	struct rp_json j;
	char out[256], want[32];
	size_t i;

	rp_json_init(&j, &b, pretty);
	rp_json_arr(&j);
	for (i = 0; i < count; i++) {
		rp_json_arr(&j);
		rp_json_strn(&j, s[i], n[i]);
		rp_json_hex(&j, (const uint8_t *)s[i], n[i]);
		rp_json_arr_end(&j);
	}
	rp_json_arr_end(&j);
	T_EQ(rp_json_finish(&j), 0);
	T_EQ(python_check("pairs", &b, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "ok %zu", count);
	T_STR(out, want);
	rp_buf_free(&b);
}

static void
test_hostile_strings(void)
{
	enum { NRAND = 400 };
	static const char *const fixed[] = {
		"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80\xed\xb0\x80",
		"\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80",
		"\xe2\x82", "\xf0\x9f\x98", "\xc3", "\xfe\xff", "\"\\\"\\",
		"\xe2\x80\xa8\xe2\x80\xa9", "\xef\xbb\xbf", "\xef\xbf\xbe",
	};
	const char *s[NRAND + 64];
	size_t n[NRAND + 64], k = 0, i, m;
	char all[256], *r[NRAND];
	uint32_t x = 2463534242u;

	/* Every byte value, in one string and one by one. */
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	s[k] = all;
	n[k++] = 256;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		s[k] = fixed[i];
		n[k++] = strlen(fixed[i]);
	}
	/* Random bytes, biased to the UTF-8 lead and continuation ranges so
	 * that near-valid sequences are common. */
	for (i = 0; i < NRAND; i++) {
		size_t len = 1 + i % 40;

		r[i] = malloc(len);
		T_OK(r[i] != NULL);
		for (m = 0; m < len; m++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			switch (x % 4) {
			case 0:
				r[i][m] = (char)(x >> 8);
				break;
			case 1:
				r[i][m] = (char)(0x80 | ((x >> 8) & 0x3f));
				break;
			case 2:
				r[i][m] = (char)(0xc0 | ((x >> 8) & 0x3f));
				break;
			default:
				r[i][m] = (char)((x >> 8) & 0x7f);
				break;
			}
		}
		s[k] = r[i];
		n[k++] = len;
	}
	check_pairs(s, n, k, 0);
	check_pairs(s, n, k, 1);
	for (i = 0; i < NRAND; i++)
		free(r[i]);
}

/* Every one- and two-byte string: 65536 + 256 strings, in one document. */
static void
test_all_short_strings(void)
{
	static char bytes[65536 * 2 + 256];
	static const char *s[65536 + 256];
	static size_t n[65536 + 256];
	size_t i, k = 0;

	for (i = 0; i < 256; i++) {
		bytes[i] = (char)i;
		s[k] = &bytes[i];
		n[k++] = 1;
	}
	for (i = 0; i < 65536; i++) {
		char *p = &bytes[256 + 2 * i];

		p[0] = (char)(i >> 8);
		p[1] = (char)i;
		s[k] = p;
		n[k++] = 2;
	}
	check_pairs(s, n, k, 0);
}

static void
test_hostile_keys(void)
{
	struct rp_buf b = { 0 };
	struct rp_json j;

	rp_json_init(&j, &b, 0);
	rp_json_obj(&j);
	rp_json_kstr(&j, "\"k\\\n\x01\xff\xed\xa0\x80", "v");
	rp_json_obj_end(&j);
	T_EQ(rp_json_finish(&j), 0);
	expect_canon(&b, "{\"\\\"k\\\\\\n\\u0001\\ufffd\\ufffd\\ufffd\\ufffd\":"
	    "\"v\"}");
	rp_buf_free(&b);
}

static void
nest(struct rp_json *j, int levels, int obj)
{
	int i;

	for (i = 0; i < levels; i++) {
		if (obj && i % 2) {
			rp_json_obj(j);
			rp_json_key(j, "k");
		} else {
			rp_json_arr(j);
		}
	}
	rp_json_u64(j, 7);
	for (i = levels - 1; i >= 0; i--) {
		if (obj && i % 2)
			rp_json_obj_end(j);
		else
			rp_json_arr_end(j);
	}
}

static void
test_depth(void)
{
	struct rp_buf b = { 0 };
	struct rp_json j;
	char want[512];
	int i, k = 0;

	/* 31 levels: fine, and Python reads the same structure. */
	rp_json_init(&j, &b, 0);
	nest(&j, RP_JSON_MAX_DEPTH - 1, 1);
	T_EQ(rp_json_finish(&j), 0);
	for (i = 0; i < RP_JSON_MAX_DEPTH - 1; i++)
		k += snprintf(want + k, sizeof(want) - (size_t)k, "%s",
		    i % 2 ? "{\"k\":" : "[");
	k += snprintf(want + k, sizeof(want) - (size_t)k, "7");
	for (i = RP_JSON_MAX_DEPTH - 2; i >= 0; i--)
		k += snprintf(want + k, sizeof(want) - (size_t)k, "%s",
		    i % 2 ? "}" : "]");
	expect_canon(&b, want);
	rp_buf_clear(&b);
	rp_json_init(&j, &b, 1);
	nest(&j, RP_JSON_MAX_DEPTH - 1, 1);
	T_EQ(rp_json_finish(&j), 0);
	expect_canon(&b, want);

	/* One more is refused, and the refusal sticks. */
	rp_buf_clear(&b);
	rp_json_init(&j, &b, 0);
	nest(&j, RP_JSON_MAX_DEPTH, 0);
	errno = 0;
	T_EQ(rp_json_finish(&j), -1);
	T_EQ(errno, EINVAL);
	T_EQ(j.err, EINVAL);
	/* Nothing was written past the last level that fit. */
	T_EQ(b.len, RP_JSON_MAX_DEPTH - 1);
	rp_buf_clear(&b);
	rp_json_init(&j, &b, 0);
	nest(&j, 1000, 1);
	T_EQ(rp_json_finish(&j), -1);
	T_EQ(errno, EINVAL);
	rp_buf_free(&b);
}

static void
test_many_items(void)
{
	struct rp_buf b = { 0 };
	struct rp_json j;
	char out[8192], want[8192];
	int i, k = 0;

	/* More items than the saturating counter counts. */
	rp_json_init(&j, &b, 0);
	rp_json_arr(&j);
	k += snprintf(want + k, sizeof(want) - (size_t)k, "[");
	for (i = 0; i < 600; i++) {
		rp_json_u64(&j, (uint64_t)i);
		k += snprintf(want + k, sizeof(want) - (size_t)k, "%s%d",
		    i ? "," : "", i);
	}
	rp_json_arr_end(&j);
	snprintf(want + k, sizeof(want) - (size_t)k, "]");
	T_EQ(rp_json_finish(&j), 0);
	T_EQ(python_check("canon", &b, out, sizeof(out)), 0);
	T_STR(out, want);
	rp_buf_free(&b);
}

static void
test_doubles(void)
{
	static const struct {
		double v;
		const char *text;   /* what we write */
		const char *py;     /* what Python reads back */
	} cases[] = {
		{ 0.0, "0", "0" },
		{ 1.0, "1", "1" },
		{ -1.5, "-1.5", "-1.5" },
		{ 0.1, "0.10000000000000001", "0.1" },
		{ 1.0 / 3.0, "0.33333333333333331", "0.3333333333333333" },
		{ 1e300, "1.0000000000000001e+300", "1e+300" },
		{ 5e-324, "4.9406564584124654e-324", "5e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308",
		    "1.7976931348623157e+308" },
		{ 123456789012345678.0, "1.2345678901234568e+17",
		    "1.2345678901234568e+17" },
	};
	struct rp_buf b = { 0 };
	struct rp_json j;
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rp_buf_clear(&b);
		rp_json_init(&j, &b, 0);
		rp_json_double(&j, cases[i].v);
		T_EQ(rp_json_finish(&j), 0);
		snprintf(want, sizeof(want), "%s\n", cases[i].text);
		T_STR(rp_buf_str(&b), want);
		/* Python reads back the very same double. */
		expect_canon(&b, cases[i].py);
	}
	rp_buf_clear(&b);
	rp_json_init(&j, &b, 0);
	rp_json_arr(&j);
	rp_json_double(&j, NAN);
	rp_json_double(&j, INFINITY);
	rp_json_double(&j, -INFINITY);
	rp_json_double(&j, -0.0);
	rp_json_arr_end(&j);
	T_EQ(rp_json_finish(&j), 0);
	T_STR(rp_buf_str(&b), "[null,null,null,-0]\n");
	/* "-0" is an integer to Python: 0. */
	expect_canon(&b, "[null,null,null,0]");
	rp_buf_free(&b);
}

static void
test_hex_values(void)
{
	struct rp_buf b = { 0 };
	struct rp_json j;
	uint8_t big[100];
	char want[256];
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	rp_json_init(&j, &b, 0);
	rp_json_arr(&j);
	rp_json_hex(&j, NULL, 0);
	rp_json_hex(&j, big, sizeof(big));
	rp_json_arr_end(&j);
	T_EQ(rp_json_finish(&j), 0);
	want[0] = '\0';
	strcat(want, "[\"\",\"");
	for (i = 0; i < sizeof(big); i++)
		snprintf(want + strlen(want), 3, "%02x", big[i]);
	strcat(want, "\"]\n");
	T_STR(rp_buf_str(&b), want);
	rp_buf_clear(&b);
	rp_json_init(&j, &b, 0);
	rp_json_hex(&j, NULL, 3);
	T_EQ(rp_json_finish(&j), -1);
	T_EQ(errno, EINVAL);
	rp_buf_free(&b);
}

/* Run a little script of writer calls: O/o open/close an object, A/a an
 * array, k a key "a", K a NULL key, 1 the number 1, s the string "b". */
static void
play(struct rp_json *j, const char *ops)
{
	for (; *ops; ops++) {
		switch (*ops) {
		case 'O':
			rp_json_obj(j);
			break;
		case 'o':
			rp_json_obj_end(j);
			break;
		case 'A':
			rp_json_arr(j);
			break;
		case 'a':
			rp_json_arr_end(j);
			break;
		case 'k':
			rp_json_key(j, "a");
			break;
		case 'K':
			rp_json_key(j, NULL);
			break;
		case '1':
			rp_json_u64(j, 1);
			break;
		case 's':
			rp_json_str(j, "b");
			break;
		default:
			t_fail(__FILE__, __LINE__, "bad op %c", *ops);
		}
	}
}

static void
test_misuse(void)
{
	static const struct {
		const char *ops;
		const char *written;   /* the output before the fault */
		int at_finish;         /* only finish can tell */
	} cases[] = {
		{ "11", "1", 0 },            /* two top-level values */
		{ "Oo1", "{}", 0 },
		{ "OoO", "{}", 0 },
		{ "k", "", 0 },              /* key at top level */
		{ "Ak", "[", 0 },            /* key in an array */
		{ "O1", "{", 0 },            /* value without key */
		{ "Ok1s", "{\"a\":1", 0 },
		{ "Okk", "{\"a\":", 0 },    /* two keys */
		{ "OK", "{", 0 },            /* NULL key */
		{ "Oa", "{", 0 },            /* mismatched close */
		{ "Ao", "[", 0 },
		{ "OkAo", "{\"a\":[", 0 },
		{ "o", "", 0 },              /* close at top level */
		{ "a", "", 0 },
		{ "Aaa", "[]", 0 },          /* extra close */
		{ "Oko", "{\"a\":", 0 },    /* close after a key */
		{ "", "", 1 },               /* nothing written */
		{ "Oks", "{\"a\":\"b\"", 1 }, /* left open */
		{ "AAa", "[[]", 1 },
		{ "Ok", "{\"a\":", 1 },     /* key without value */
	};
	struct rp_buf b = { 0 };
	struct rp_json j;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rp_buf_clear(&b);
		rp_json_init(&j, &b, 0);
		play(&j, cases[i].ops);
		if (cases[i].at_finish) {
			T_EQ(j.err, 0);
		} else {
			if (j.err != EINVAL)
				t_fail(__FILE__, __LINE__, "\"%s\" allowed",
				    cases[i].ops);
			/* Sticky: what would be fine now writes nothing. */
			play(&j, "1aoAOks");
		}
		errno = 0;
		if (rp_json_finish(&j) != -1 || errno != EINVAL)
			t_fail(__FILE__, __LINE__, "\"%s\" not refused",
			    cases[i].ops);
		T_STR(rp_buf_str(&b), cases[i].written);
		/* Still refused. */
		errno = 0;
		T_EQ(rp_json_finish(&j), -1);
		T_EQ(errno, EINVAL);
		T_STR(rp_buf_str(&b), cases[i].written);
	}
	rp_buf_free(&b);
}

static void
test_enomem_sticky(void)
{
	static uint8_t mem[8];
	struct rp_buf b;
	struct rp_json j;

	/* A buffer that can take no more bytes: every append is ENOMEM. */
	b.data = mem;
	b.len = SIZE_MAX - 1;
	b.cap = SIZE_MAX;
	rp_json_init(&j, &b, 0);
	rp_json_arr(&j);
	T_EQ(j.err, ENOMEM);
	/* The first error is kept, misuse after it does not replace it. */
	rp_json_obj_end(&j);
	rp_json_key(&j, "x");
	errno = 0;
	T_EQ(rp_json_finish(&j), -1);
	T_EQ(errno, ENOMEM);
	T_EQ(b.len, SIZE_MAX - 1);
}

int
main(void)
{
	T_RUN(test_checker_is_strict);
	T_RUN(test_compact_exact);
	T_RUN(test_pretty_exact);
	T_RUN(test_scalars_at_top);
	T_RUN(test_escapes_exact);
	T_RUN(test_invalid_utf8_exact);
	T_RUN(test_hostile_strings);
	T_RUN(test_all_short_strings);
	T_RUN(test_hostile_keys);
	T_RUN(test_depth);
	T_RUN(test_many_items);
	T_RUN(test_doubles);
	T_RUN(test_hex_values);
	T_RUN(test_misuse);
	T_RUN(test_enomem_sticky);
	return t_done();
}
