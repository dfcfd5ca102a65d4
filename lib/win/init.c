/*
 * init.c — common start-up for every rp program on Windows (see rp.h), and
 * the wide entry point that hands main() its arguments as UTF-8.
 */
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <sodium.h>
#include <stdlib.h>

#include "win.h"

#include "rp.h"

/* Which of 0, 1 and 2 rp_init found closed. */
static int closed_at_start[3];

unsigned long
rp_fork_generation(void)
{
	return 0;
}

int
rp_init_closed(int fd)
{
	return fd >= 0 && fd <= 2 && closed_at_start[fd];
}

int
rp_init(void)
{
	int fd, i;

	/* A closed 0, 1 or 2 would be reused by the next descriptor made,
	 * and a diagnostic could land in a pipe. */
	for (;;) {
		fd = _open("NUL", _O_RDWR | _O_BINARY | _O_NOINHERIT);
		if (fd < 0)
			return -1;
		if (fd > 2) {
			_close(fd);
			break;
		}
		closed_at_start[fd] = 1;
	}
	/* Bytes, not text: no CRLF made of what we write, no ^Z end. */
	for (i = 0; i <= 2; i++)
		(void)_setmode(i, _O_BINARY);
	/* No dialog box for a missing DLL or a crash, ours or a child's
	 * (children inherit the mode): a failure is an exit status. */
	SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX |
	    SEM_NOOPENFILEERRORBOX);
	if (sodium_init() < 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}
