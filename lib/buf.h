/*
 * buf.h — a growable byte buffer.
 *
 * A zeroed struct rp_buf is an empty buffer. Appends either succeed whole
 * or fail with ENOMEM and leave the contents unchanged. data is always
 * NUL-terminated one past len when len > 0 so text can be used as a string.
 */
#ifndef RP_BUF_H
#define RP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cdefs.h"

struct rp_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Make room for at least `extra` more bytes (plus the terminator). */
int rp_buf_reserve(struct rp_buf *b, size_t extra);
int rp_buf_append(struct rp_buf *b, const void *p, size_t n);
int rp_buf_puts(struct rp_buf *b, const char *s);
int rp_buf_printf(struct rp_buf *b, const char *fmt, ...)
	RP_PRINTF(2, 3);
int rp_buf_vprintf(struct rp_buf *b, const char *fmt, va_list ap)
	RP_PRINTF(2, 0);
/* Forget the contents, keep the allocation. */
void rp_buf_clear(struct rp_buf *b);
/* Release the allocation; the buffer is empty and reusable afterwards. */
void rp_buf_free(struct rp_buf *b);
/* Hand the allocation to the caller (who frees it); the buffer is empty. */
uint8_t *rp_buf_take(struct rp_buf *b, size_t *len);
/* "" when empty, else the NUL-terminated contents. */
const char *rp_buf_str(const struct rp_buf *b);

#endif
