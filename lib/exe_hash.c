/*
 * exe_hash.c — BLAKE3 of the executable a process runs, remembered by the
 * identity of the file (see host.h): the same for every platform, which
 * says what identifies a file's contents (rp_fs_file_id).
 */
#include <stdatomic.h>
#include <string.h>

#include "blake3.h"
#include "fs.h"
#include "host.h"
#include "io.h"

/*
 * Re-probing the same backend does not hash its binary again, and a
 * changed file never reuses a stale hash.  The table is process-wide; a
 * spin lock guards it, held only to compare or copy a few entries, and
 * the hashing runs outside it, so a large binary holds up no other thread
 * (two that hash the same file at once both store the same result, which
 * is harmless).
 */
struct memo {
	struct rp_file_id id;
	uint8_t hash[32];
	int valid;
};

#define NMEMO 8

static struct memo memo[NMEMO];
static unsigned memo_next;
static atomic_flag memo_lock = ATOMIC_FLAG_INIT;

static void
memo_enter(void)
{
	while (atomic_flag_test_and_set_explicit(&memo_lock,
	    memory_order_acquire))
		;
}

static void
memo_leave(void)
{
	atomic_flag_clear_explicit(&memo_lock, memory_order_release);
}

int
rp_host_exe_hash(uint32_t pid, uint8_t out[32])
{
	struct rp_file_id id;
	unsigned i;
	int fd, hit = 0, r;

	if ((fd = rp_host_exe_open(pid)) < 0)
		return -1;
	if (rp_fs_file_id(fd, &id) != 0) {
		rp_fd_close(&fd);
		return -1;
	}
	memo_enter();
	for (i = 0; i < NMEMO && !hit; i++) {
		if (memo[i].valid &&
		    memcmp(&memo[i].id, &id, sizeof(id)) == 0) {
			memcpy(out, memo[i].hash, 32);
			hit = 1;
		}
	}
	memo_leave();
	if (hit) {
		rp_fd_close(&fd);
		return 0;
	}
	r = rp_blake3_fd(fd, out);
	rp_fd_close(&fd);
	if (r != 0)
		return -1;
	memo_enter();
	i = memo_next++ % NMEMO;
	memo[i].id = id;
	memcpy(memo[i].hash, out, 32);
	memo[i].valid = 1;
	memo_leave();
	return 0;
}
