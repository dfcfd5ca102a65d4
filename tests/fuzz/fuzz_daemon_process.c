/*
 * fuzz_daemon_process — bounded decoding of the identity a backend proves
 * (DaemonProcess, with its nested Endpoint and the `optional`
 * idle_timeout_secs).  A counting wrapper around the budget allocator
 * checks, independently of it, that no decode asks for more than
 * rp_wire_budget(len) bytes in all; a message that decodes must re-encode
 * to a canonical form that decodes to the same thing.
 *
 * Input: one DaemonProcess encoding.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire.h"

struct counter {
	ProtobufCAllocator base;
	ProtobufCAllocator inner;
	size_t asked, given;
};

static void *
count_alloc(void *data, size_t size)
{
	struct counter *c = data;
	void *p = c->inner.alloc(c->inner.allocator_data, size);

	c->asked += size;
	if (p != NULL)
		c->given += size;
	return p;
}

static void
count_free(void *data, void *p)
{
	struct counter *c = data;

	c->inner.free(c->inner.allocator_data, p);
}

/* Decode under `budget` with the counter watching. */
static Rp__DaemonProcess *
decode(const uint8_t *data, size_t size, size_t budget, int *err)
{
	struct rp_wire_alloc a;
	struct counter c;
	Rp__DaemonProcess *m;

	rp_wire_alloc_init(&a, budget);
	memset(&c, 0, sizeof(c));
	c.inner = a.base;
	c.base.alloc = count_alloc;
	c.base.free = count_free;
	c.base.allocator_data = &c;
	a.base = c.base;
	errno = 0;
	m = rp_wire_unpack_with(&rp__daemon_process__descriptor, data, size,
	    &a);
	*err = errno;
	CHECK(c.given <= budget);
	CHECK(a.total == c.given);
	CHECK(m != NULL || *err == EPROTO || *err == EMSGSIZE);
	CHECK((*err == EMSGSIZE) == (m == NULL && a.over));
	return m;
}

static void
same(const Rp__DaemonProcess *a, const Rp__DaemonProcess *b)
{
	CHECK(a->pid == b->pid);
	CHECK(strcmp(a->exe_path, b->exe_path) == 0);
	CHECK(a->started_at_unix_ms == b->started_at_unix_ms);
	CHECK(strcmp(a->boot_id, b->boot_id) == 0);
	CHECK(a->_idle_timeout_secs_case == b->_idle_timeout_secs_case);
	if (a->_idle_timeout_secs_case ==
	    RP__DAEMON_PROCESS___IDLE_TIMEOUT_SECS_IDLE_TIMEOUT_SECS)
		CHECK(a->idle_timeout_secs == b->idle_timeout_secs);
	CHECK(strcmp(a->exe_hash_algorithm, b->exe_hash_algorithm) == 0);
	CHECK(a->exe_hash.len == b->exe_hash.len);
	CHECK(a->exe_hash.len == 0 ||
	    memcmp(a->exe_hash.data, b->exe_hash.data, a->exe_hash.len) == 0);
	CHECK((a->ipc_endpoint == NULL) == (b->ipc_endpoint == NULL));
	if (a->ipc_endpoint != NULL) {
		CHECK(strcmp(a->ipc_endpoint->namespace_id,
		    b->ipc_endpoint->namespace_id) == 0);
		CHECK(strcmp(a->ipc_endpoint->path, b->ipc_endpoint->path) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_buf once = { 0 }, twice = { 0 };
	Rp__DaemonProcess *m, *m2, *plain;
	int err, err2;

	m = decode(data, size, rp_wire_budget(size), &err);
	/* The plain entry point decides the same way. */
	errno = 0;
	plain = rp_wire_unpack(&rp__daemon_process__descriptor, data, size);
	CHECK((plain == NULL) == (m == NULL));
	if (plain == NULL)
		CHECK(errno == err);
	rp_wire_free(plain);
	if (m == NULL)
		return 0;
	/* The canonical form is no costlier than what it came from. */
	CHECK(rp_wire_pack(&once, &m->base) == 0);
	m2 = decode(once.data, once.len, rp_wire_budget(size), &err2);
	CHECK(m2 != NULL);
	same(m, m2);
	CHECK(rp_wire_pack(&twice, &m2->base) == 0);
	CHECK(once.len == twice.len &&
	    (once.len == 0 || memcmp(once.data, twice.data, once.len) == 0));
	rp_wire_free(m2);
	rp_wire_free(m);
	rp_buf_free(&once);
	rp_buf_free(&twice);
	return 0;
}
