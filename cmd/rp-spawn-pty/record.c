/*
 * record.c — the --exit-record document: one JSON object, written whole
 * (a reader never sees half of it), in the fields of 50-pty.md:
 *
 *   {"pid":1234,"exit_code":137,"signal":"SIGKILL","timed_out":false,
 *    "duration_ms":12,"bytes_in":0,"bytes_out":5,"size":"80x24"}
 *
 * exit_code is the status rp-spawn-pty exits with (the child's code,
 * 128 + N, 124, 126/127, or 125); pid is null when no child ran.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "deadline.h"
#include "fs.h"
#include "json.h"
#include "spawn_pty.h"

int
spawn_pty_write_record(const struct session *s, int status)
{
	const char *path = s->o->exit_record, *name;
	char dir[4096], sig[16], size[16];
	struct rp_buf b = { 0 };
	struct rp_json j;
	int64_t dur;
	int r;

	rp_json_init(&j, &b, 0);
	rp_json_obj(&j);
	rp_json_key(&j, "pid");
	if (s->pid > 0)
		rp_json_i64(&j, s->pid);
	else
		rp_json_null(&j);
	rp_json_key(&j, "exit_code");
	rp_json_i64(&j, status);
	rp_json_key(&j, "signal");
	if (s->ended && s->st.signo != 0)
		rp_json_str(&j, rp_spawn_signame(s->st.signo, sig));
	else
		rp_json_null(&j);
	rp_json_kbool(&j, "timed_out", s->timed_out);
	dur = s->t_start > 0 && s->t_end >= s->t_start ?
	    s->t_end - s->t_start : 0;
	rp_json_ku64(&j, "duration_ms", (uint64_t)dur);
	rp_json_ku64(&j, "bytes_in", s->bytes_in);
	rp_json_ku64(&j, "bytes_out", s->bytes_out);
	snprintf(size, sizeof(size), "%ux%u", (unsigned)s->size.cols,
	    (unsigned)s->size.rows);
	rp_json_kstr(&j, "size", size);
	rp_json_obj_end(&j);
	if (rp_json_finish(&j) != 0) {
		rp_buf_free(&b);
		return -1;
	}
	name = rp_fs_basename(path);
	if (rp_fs_dirname(path, dir, sizeof(dir)) != 0 || *name == '\0') {
		rp_buf_free(&b);
		errno = EINVAL;
		return -1;
	}
	r = rp_fs_write_atomic(dir, name, b.data, b.len, 0644);
	rp_buf_free(&b);
	return r;
}
