/*
 * strerror.c — the C runtime's strerror knows only its own error numbers
 * (below 43); MinGW's <errno.h> adds the POSIX ones librp uses (ETIMEDOUT,
 * EPROTO, ECONNRESET, EADDRINUSE ...), which msvcrt.dll calls "Unknown
 * error".  This strerror, linked in before the runtime's, names those as
 * glibc does and hands the rest to the runtime's table, so that a
 * diagnostic reads the same on every system.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>


static const struct {
	int err;
	const char *text;
} posix[] = {
	{ EADDRINUSE, "Address already in use" },
	{ EADDRNOTAVAIL, "Cannot assign requested address" },
	{ EAFNOSUPPORT, "Address family not supported by protocol" },
	{ EALREADY, "Operation already in progress" },
	{ EBADMSG, "Bad message" },
	{ ECANCELED, "Operation canceled" },
	{ ECONNABORTED, "Software caused connection abort" },
	{ ECONNREFUSED, "Connection refused" },
	{ ECONNRESET, "Connection reset by peer" },
	{ EDESTADDRREQ, "Destination address required" },
	{ EHOSTUNREACH, "No route to host" },
	{ EIDRM, "Identifier removed" },
	{ EINPROGRESS, "Operation now in progress" },
	{ EISCONN, "Transport endpoint is already connected" },
	{ ELOOP, "Too many levels of symbolic links" },
	{ EMSGSIZE, "Message too long" },
	{ ENETDOWN, "Network is down" },
	{ ENETRESET, "Network dropped connection on reset" },
	{ ENETUNREACH, "Network is unreachable" },
	{ ENOBUFS, "No buffer space available" },
	{ ENODATA, "No data available" },
	{ ENOLINK, "Link has been severed" },
	{ ENOMSG, "No message of desired type" },
	{ ENOPROTOOPT, "Protocol not available" },
	{ ENOSR, "Out of streams resources" },
	{ ENOSTR, "Device not a stream" },
	{ ENOTCONN, "Transport endpoint is not connected" },
	{ ENOTRECOVERABLE, "State not recoverable" },
	{ ENOTSOCK, "Socket operation on non-socket" },
	{ ENOTSUP, "Operation not supported" },
	{ EOPNOTSUPP, "Operation not supported on transport endpoint" },
	{ EOVERFLOW, "Value too large for defined data type" },
	{ EOWNERDEAD, "Owner died" },
	{ EPROTO, "Protocol error" },
	{ EPROTONOSUPPORT, "Protocol not supported" },
	{ EPROTOTYPE, "Protocol wrong type for socket" },
	{ ETIME, "Timer expired" },
	{ ETIMEDOUT, "Connection timed out" },
	{ ETXTBSY, "Text file busy" },
	{ EWOULDBLOCK, "Resource temporarily unavailable" },
};

char *
strerror(int err)
{
	size_t i;

	for (i = 0; i < sizeof(posix) / sizeof(posix[0]); i++)
		if (posix[i].err == err)
			return (char *)posix[i].text;
	if (err >= 0 && err < _sys_nerr)
		return _sys_errlist[err];
	return (char *)"Unknown error";
}
