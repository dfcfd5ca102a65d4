/* buf.c — a growable byte buffer (see buf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int
rp_buf_reserve(struct rp_buf *b, size_t extra)
{
	size_t need, ncap;
	uint8_t *nd;

	/* +1 keeps room for the terminator after the contents. */
	if (extra > SIZE_MAX - b->len - 1) {
		errno = ENOMEM;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	nd = realloc(b->data, ncap);
	if (nd == NULL)
		return -1;
	b->data = nd;
	b->cap = ncap;
	return 0;
}

int
rp_buf_append(struct rp_buf *b, const void *p, size_t n)
{
	if (rp_buf_reserve(b, n) != 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
rp_buf_puts(struct rp_buf *b, const char *s)
{
	return rp_buf_append(b, s, strlen(s));
}

int
rp_buf_vprintf(struct rp_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if (rp_buf_reserve(b, (size_t)n) != 0)
		return -1;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
rp_buf_printf(struct rp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rp_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
rp_buf_clear(struct rp_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
rp_buf_free(struct rp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *
rp_buf_take(struct rp_buf *b, size_t *len)
{
	uint8_t *d = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

const char *
rp_buf_str(const struct rp_buf *b)
{
	return b->len ? (const char *)b->data : "";
}
