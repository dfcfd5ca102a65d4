/* Unit tests for err, deadline, buf and the joining of paths (fs.h),
 * on every platform with its own separator. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "deadline.h"
#include "err.h"
#include "fs.h"
#include "t.h"

static void
test_exit_table(void)
{
	T_EQ(rp_exit_from_errno(0), 0);
	T_EQ(rp_exit_from_errno(ETIMEDOUT), 4);
	T_EQ(rp_exit_from_errno(ENOENT), 3);
	T_EQ(rp_exit_from_errno(ECONNREFUSED), 3);
	T_EQ(rp_exit_from_errno(EACCES), 3);
	T_EQ(rp_exit_from_errno(EPROTO), 5);
	T_EQ(rp_exit_from_errno(EMSGSIZE), 5);
	T_EQ(rp_exit_from_errno(ENOMEM), 125);
	T_EQ(rp_exit_from_refusal(1), 11);
	T_EQ(rp_exit_from_refusal(9), 19);
	T_EQ(rp_exit_from_refusal(0), 10);
	T_EQ(rp_exit_from_refusal(10), 5);
	T_EQ(rp_exit_from_exec_errno(ENOENT), 127);
	T_EQ(rp_exit_from_exec_errno(EACCES), 126);
	T_EQ(rp_exit_from_exec_errno(ENOEXEC), 126);
}

/* The optional (why, whysz) pair: filled and cut to fit, or left alone. */
static void
test_err_why(void)
{
	char why[16];

	memset(why, 'x', sizeof(why));
	rp_err_why(why, sizeof(why), "uid %d, not %d", 1000, 0);
	T_STR(why, "uid 1000, not 0");
	/* Cut to fit, and still a string. */
	rp_err_why(why, 6, "has mode %04o", 0755U);
	T_STR(why, "has m");
	rp_err_why(why, sizeof(why), "%s", "");
	T_STR(why, "");
	/* whysz 0 writes nothing at all; a NULL why is allowed. */
	memset(why, 'x', sizeof(why));
	rp_err_why(why, 0, "%s", "ignored");
	T_EQ(why[0], 'x');
	rp_err_why(NULL, 0, "%s", "ignored");
	rp_err_why(NULL, sizeof(why), "%s", "ignored");
	/* errno is the caller's still, to report after. */
	errno = EACCES;
	rp_err_why(why, sizeof(why), "%s", strerror(ENOSPC));
	T_EQ(errno, EACCES);
}

static void
test_deadline(void)
{
	int64_t d = rp_deadline_in(1000);

	T_OK(d > rp_now_ms());
	T_OK(rp_deadline_poll_ms(d) <= 1000);
	T_OK(rp_deadline_poll_ms(d) > 900);
	T_EQ(rp_deadline_passed(d), 0);
	T_EQ(rp_deadline_in(-1), RP_DEADLINE_NEVER);
	T_EQ(rp_deadline_poll_ms(RP_DEADLINE_NEVER), -1);
	T_EQ(rp_deadline_passed(RP_DEADLINE_NEVER), 0);
	T_EQ(rp_deadline_in(INT64_MAX - 5), RP_DEADLINE_NEVER);
	T_EQ(rp_deadline_poll_ms(rp_now_ms() - 5), 0);
	T_EQ(rp_deadline_passed(rp_now_ms() - 1), 1);
	T_EQ(rp_deadline_poll_ms(rp_now_ms() + (int64_t)INT_MAX * 4), INT_MAX);
	T_OK(rp_wall_ms() > INT64_C(1700000000000));
}

static void
test_buf(void)
{
	struct rp_buf b = { 0 };
	uint8_t *p;
	size_t n;
	int i;

	T_STR(rp_buf_str(&b), "");
	T_EQ(rp_buf_puts(&b, "ab"), 0);
	T_EQ(rp_buf_printf(&b, "%d-%s", 42, "x"), 0);
	T_STR(rp_buf_str(&b), "ab42-x");
	T_EQ(b.len, 6);
	for (i = 0; i < 10000; i++)
		T_EQ(rp_buf_append(&b, "z", 1), 0);
	T_EQ(b.len, 10006);
	T_EQ(b.data[b.len], 0);
	rp_buf_clear(&b);
	T_EQ(b.len, 0);
	T_STR(rp_buf_str(&b), "");
	rp_buf_puts(&b, "keep");
	p = rp_buf_take(&b, &n);
	T_EQ(n, 4);
	T_OK(memcmp(p, "keep", 4) == 0);
	T_OK(b.data == NULL && b.len == 0);
	free(p);
	errno = 0;
	T_EQ(rp_buf_reserve(&b, SIZE_MAX), -1);
	T_EQ(errno, ENOMEM);
	rp_buf_free(&b);
}

static void
test_fs_join(void)
{
	char out[16], want[16];
	const char sep = rp_fs_sep();

	T_OK(rp_fs_is_sep(sep));
	/* One separator, the platform's, however the directory ends. */
	snprintf(want, sizeof(want), "d%cx.sd", sep);
	T_EQ(rp_fs_join(out, sizeof(out), "d", "x.sd"), 6);
	T_STR(out, want);
	T_EQ(rp_fs_join(out, sizeof(out), "d//", "x.sd"), 6);
	T_STR(out, want);
	/* The root keeps its one. */
	snprintf(want, sizeof(want), "%cx", sep);
	T_EQ(rp_fs_join(out, sizeof(out), "/", "x"), 2);
	T_STR(out, want);
	/* Exactly full, then one byte short. */
	T_EQ(rp_fs_join(out, 7, "d", "x.sd"), 6);
	errno = 0;
	T_EQ(rp_fs_join(out, 6, "d", "x.sd"), -1);
	T_EQ(errno, ENAMETOOLONG);
	if (sep == '\\') {
		/* Windows: a drive's root, and a directory spelt with '/'
		 * (as Windows takes it) joined with '\\'. */
		T_EQ(rp_fs_join(out, sizeof(out), "C:\\", "x"), 4);
		T_STR(out, "C:\\x");
		T_EQ(rp_fs_join(out, sizeof(out), "C:/d/", "x"), 6);
		T_STR(out, "C:/d\\x");
	} else {
		T_EQ(sep, '/');
	}
}

int
main(void)
{
	T_RUN(test_exit_table);
	T_RUN(test_err_why);
	T_RUN(test_deadline);
	T_RUN(test_buf);
	T_RUN(test_fs_join);
	return t_done();
}
