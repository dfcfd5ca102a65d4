/* err.c — errno and refusal codes to the toolkit's exit statuses, and the
 * reasons that go with a failure. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int
rp_exit_from_errno(int err)
{
	switch (err) {
	case 0:
		return RP_EXIT_OK;
	case ETIMEDOUT:
		return RP_EXIT_DEADLINE;
	case EPROTO:
	case EMSGSIZE:
	case EBADMSG:
	case ECONNRESET:
	case EPIPE:
		return RP_EXIT_PROTOCOL;
	case ENOENT:
	case ECONNREFUSED:
	case EACCES:
	case EPERM:
	case ENOTSOCK:
	case ENOTDIR:
	case EHOSTUNREACH:
	case ENAMETOOLONG:
	case EADDRINUSE:
	case EPROTOTYPE:
		return RP_EXIT_UNREACHABLE;
	default:
		return RP_EXIT_INTERNAL;
	}
}

int
rp_exit_from_refusal(uint32_t code)
{
	/* ErrorCode 0 (UNSPECIFIED) is still a refusal: 10. */
	if (code > 9)
		return RP_EXIT_PROTOCOL;
	return RP_EXIT_REFUSED + (int)code;
}

int
rp_exit_from_exec_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return RP_EXIT_NOTFOUND;
	default:
		return RP_EXIT_NOEXEC;
	}
}

void
rp_err_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (why == NULL || whysz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	errno = saved;
}
