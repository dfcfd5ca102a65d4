/*
 * Unit tests for host: boot and machine ids (the fallbacks through files
 * of our own), executables of live and deleted processes, start times
 * (a hostile comm included), errors for missing and foreign processes,
 * executable hashes from many threads at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blake3.h"
#include "buf.h"
#include "deadline.h"
#include "fs.h"
#include "host.h"
#include "io.h"
#include "t.h"

#define NOBODY 65534
/* Above PID_MAX_LIMIT (2^22): no process can have it. */
#define NO_PID 4194305u

static char *
path(const char *name)
{
	static char p[8][512];
	static int k;
	char *r = p[k++ % 8];

	snprintf(r, 512, "%s/%s", t_tmpdir(), name);
	return r;
}

static void
put(const char *name, const char *text)
{
	T_EQ(rp_fs_write_atomic(t_tmpdir(), name, text, strlen(text), 0600),
	    0);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void
test_boot_id(void)
{
	char id[64], again[64], small[36];
	int i, n;

	n = rp_host_boot_id(id, sizeof(id));
	T_EQ(n, 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			T_EQ(id[i], '-');
		else
			T_OK((id[i] >= '0' && id[i] <= '9') ||
			    (id[i] >= 'a' && id[i] <= 'f'));
	}
	T_EQ(rp_host_boot_id(again, sizeof(again)), 36);
	T_STR(id, again);
	errno = 0;
	T_EQ(rp_host_boot_id(small, sizeof(small)), -1);
	T_EQ(errno, ERANGE);
}

static void
test_machine_id_fallbacks(void)
{
	char out[128];
	const char *etc = path("etc"), *dbus = path("dbus"), *boot =
	    path("boot");

	put("etc", "  0123abcd\n");
	put("dbus", "dbusid\n");
	put("boot", "1b2c3d4e-0000-4000-8000-00000000abcd\n");
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), 8);
	T_STR(out, "0123abcd");
	/* Exactly fitting, and one byte short. */
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, 9), 8);
	errno = 0;
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, 8), -1);
	T_EQ(errno, ERANGE);
	/* A blank /etc/machine-id (first boot) falls through. */
	put("etc", " \n\n");
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), 6);
	T_STR(out, "dbusid");
	unlink(etc);
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), 6);
	T_STR(out, "dbusid");
	unlink(dbus);
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), 41);
	T_STR(out, "boot:1b2c3d4e-0000-4000-8000-00000000abcd");
	errno = 0;
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, 41), -1);
	T_EQ(errno, ERANGE);
	/* What is there but cannot be read is an error, never skipped (as
	 * running-process v1 has it): a directory... */
	T_EQ(mkdir(dbus, 0700), 0);
	errno = 0;
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), -1);
	T_EQ(errno, EISDIR);
	T_STR(out, dbus);
	/* ... with the path named only when it fits. */
	errno = 0;
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, 4), -1);
	T_EQ(errno, EISDIR);
	T_STR(out, "");
	T_EQ(rmdir(dbus), 0);
	/* Bytes that are not UTF-8 text, or a NUL. */
	put("etc", "ab\xff\n");
	errno = 0;
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), -1);
	T_EQ(errno, EILSEQ);
	T_STR(out, etc);
	T_EQ(rp_fs_write_atomic(t_tmpdir(), "etc", "ab\0cd", 5, 0600), 0);
	errno = 0;
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), -1);
	T_EQ(errno, EILSEQ);
	/* Unicode white space is trimmed as Rust's str::trim does (U+00A0,
	 * U+3000, U+2028, U+0085 here), and only at the ends. */
	put("etc", "\xc2\xa0\xe3\x80\x80 id\xc2\xa0x\t\xe2\x80\xa8\xc2\x85\n");
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), 5);
	T_STR(out, "id\xc2\xa0x");
	/* White space of Unicode's only: U+200B is not. */
	put("etc", "\xe2\x80\x8b");
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), 3);
	unlink(etc);
	/* No source left: ENOENT with nothing named, whatever the boot id
	 * file's trouble was. */
	unlink(boot);
	errno = 0;
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), -1);
	T_EQ(errno, ENOENT);
	T_STR(out, "");
	put("boot", "\n");
	errno = 0;
	T_EQ(rp_host_machine_id_from(etc, dbus, boot, out, sizeof(out)), -1);
	T_EQ(errno, ENOENT);
	T_STR(out, "");
}

/* A machine-id file another uid cannot read is EACCES for it, with the
 * file named: not a reason to fall through to the next source. */
static void
test_machine_id_unreadable(void)
{
	char dir[512], etc[600], dbus[600], boot[600];
	pid_t pid;
	int st;

	snprintf(dir, sizeof(dir), "%s/mid", t_tmpdir());
	T_EQ(mkdir(dir, 0755), 0);
	T_EQ(chmod(t_tmpdir(), 0755), 0);
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	snprintf(dbus, sizeof(dbus), "%s/dbus", dir);
	snprintf(boot, sizeof(boot), "%s/boot", dir);
	T_EQ(rp_fs_write_atomic(dir, "etc", "secret\n", 7, 0600), 0);
	T_EQ(rp_fs_write_atomic(dir, "dbus", "open\n", 5, 0644), 0);
	T_EQ(rp_fs_write_atomic(dir, "boot", "b\n", 2, 0644), 0);
	pid = fork();
	if (pid == 0) {
		char out[128];
		int bad = 0;

		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY,
		    NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(99);
		errno = 0;
		if (rp_host_machine_id_from(etc, dbus, boot, out,
		    sizeof(out)) != -1 || errno != EACCES)
			bad |= 1;
		if (strcmp(out, etc) != 0)
			bad |= 2;
		/* Behind a blank first source, the same for the second. */
		if (rp_host_machine_id_from("/nonexistent/x", etc, boot, out,
		    sizeof(out)) != -1 || errno != EACCES ||
		    strcmp(out, etc) != 0)
			bad |= 4;
		/* A readable second source is taken. */
		if (rp_host_machine_id_from("/nonexistent/x", dbus, boot, out,
		    sizeof(out)) != 4 || strcmp(out, "open") != 0)
			bad |= 8;
		_exit(bad);
	}
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
	T_EQ(chmod(t_tmpdir(), 0700), 0);
}

static void
test_machine_id_real(void)
{
	char out[128], line[128];
	FILE *f;
	size_t n;

	T_OK(rp_host_machine_id(out, sizeof(out)) > 0);
	/* Compared with a plain reading of the first source present. */
	f = fopen("/etc/machine-id", "re");
	if (f == NULL)
		f = fopen("/var/lib/dbus/machine-id", "re");
	if (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		n = strlen(line);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (n > 0)
			T_STR(out, line);
	} else {
		T_OK(strncmp(out, "boot:", 5) == 0);
	}
	if (f != NULL)
		fclose(f);
}

/*
 * Start prog (stdin from a pipe, so it waits) and return once it has
 * exec'd: the CLOEXEC write end of `ready` closes on exec.  *in is the
 * pipe to close to make it exit.  comm, when set, is applied first
 * (and the child then just waits instead of exec-ing).
 */
static pid_t
spawn(const char *prog, const char *comm, int *in)
{
	int ready[2], p[2], devnull;
	pid_t pid;
	char c;

	T_EQ(pipe2(ready, O_CLOEXEC), 0);
	T_EQ(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(p[1]);
		if (comm != NULL) {
			if (prctl(PR_SET_NAME, comm, 0, 0, 0) < 0)
				_exit(90);
			close(ready[1]);
			_exit(read(p[0], &c, 1) == 0 ? 0 : 91);
		}
		devnull = open("/dev/null", O_WRONLY);
		if (dup2(p[0], 0) < 0 || dup2(devnull, 1) < 0)
			_exit(92);
		execl(prog, prog, (char *)NULL);
		_exit(93);
	}
	close(ready[1]);
	close(p[0]);
	T_EQ(read(ready[0], &c, 1), 0);
	close(ready[0]);
	*in = p[1];
	return pid;
}

static void
reap(pid_t pid, int in)
{
	int st;

	close(in);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
}

static void
test_exe_path(void)
{
	char out[4096], want[4096];
	struct stat a, b;
	int in, n;
	pid_t pid;

	n = rp_host_exe_path(0, out, sizeof(out));
	T_OK(n > 0);
	T_EQ((int)strlen(out), n);
	T_OK(out[0] == '/');
	T_OK(ends_with(out, "/test_host"));
	T_EQ(stat(out, &a), 0);
	T_EQ(stat("/proc/self/exe", &b), 0);
	T_UEQ(a.st_ino, b.st_ino);
	/* Our own pid, given explicitly, names the same file. */
	T_EQ(rp_host_exe_path((uint32_t)getpid(), want, sizeof(want)), n);
	T_STR(want, out);
	errno = 0;
	T_EQ(rp_host_exe_path(0, out, (size_t)n), -1);
	T_EQ(errno, ENAMETOOLONG);

	/* A child running another program. */
	T_OK(realpath("/usr/bin/cat", want) != NULL);
	pid = spawn("/usr/bin/cat", NULL, &in);
	T_EQ(rp_host_exe_path((uint32_t)pid, out, sizeof(out)),
	    (int)strlen(want));
	T_STR(out, want);
	reap(pid, in);
}

static void
test_exe_deleted(void)
{
	struct rp_buf orig = { 0 }, seen = { 0 };
	char out[4096], want[600];
	int in, fd;
	pid_t pid;
	ssize_t n;

	T_EQ(rp_fs_read_file("/usr/bin/cat", 1 << 24, &orig), 0);
	T_EQ(rp_fs_write_atomic(t_tmpdir(), "mycat", orig.data, orig.len,
	    0755), 0);
	pid = spawn(path("mycat"), NULL, &in);
	T_EQ(rp_host_exe_path((uint32_t)pid, out, sizeof(out)),
	    (int)strlen(path("mycat")));
	T_EQ(unlink(path("mycat")), 0);
	/* Deleted: the suffix stays, so it can never match a live path. */
	snprintf(want, sizeof(want), "%s (deleted)", path("mycat"));
	T_EQ(rp_host_exe_path((uint32_t)pid, out, sizeof(out)),
	    (int)strlen(want));
	T_STR(out, want);
	/* ...and the running file can still be opened and read whole. */
	fd = rp_host_exe_open((uint32_t)pid);
	T_OK(fd >= 0);
	T_OK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	T_EQ(rp_buf_reserve(&seen, orig.len + 1), 0);
	n = rp_io_read_full(fd, seen.data, orig.len + 1, rp_deadline_in(5000));
	T_EQ(n, (ssize_t)orig.len);
	T_MEM(seen.data, orig.data, orig.len);
	close(fd);
	reap(pid, in);
	rp_buf_free(&orig);
	rp_buf_free(&seen);
}

static void
test_exe_open_self(void)
{
	char magic[4];
	int fd = rp_host_exe_open(0);

	T_OK(fd >= 0);
	T_OK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	T_EQ(read(fd, magic, 4), 4);
	T_MEM(magic, "\177ELF", 4);
	close(fd);
}

/*
 * rp_host_exe_hash from many threads at once, over more executables than
 * it remembers: copies of cat, each with trailing bytes of its own (so a
 * hash of its own), each running.  Every answer must be the hash of that
 * process's file, however the threads interleave and evict.
 */
#define NEXE 12
#define NTHREAD 8

struct hash_job {
	pid_t pid[NEXE];
	uint8_t want[NEXE][32];
	int first;
};

static void *
hash_worker(void *arg)
{
	struct hash_job *j = arg;
	uint8_t got[32];
	intptr_t bad = 0;
	int round, k, e;

	for (round = 0; round < 30; round++) {
		for (k = 0; k < NEXE; k++) {
			e = (j->first + k + round) % NEXE;
			if (rp_host_exe_hash((uint32_t)j->pid[e], got) != 0 ||
			    memcmp(got, j->want[e], 32) != 0)
				bad++;
		}
	}
	return (void *)bad;
}

static void
test_exe_hash_threads(void)
{
	struct rp_buf orig = { 0 }, copy = { 0 };
	struct hash_job job[NTHREAD];
	pthread_t th[NTHREAD];
	uint8_t self[32], want[32];
	char name[32];
	int in[NEXE], i, k;
	void *bad;

	T_EQ(rp_host_exe_hash(0, self), 0);
	T_EQ(rp_blake3_file("/proc/self/exe", want), 0);
	T_MEM(self, want, 32);
	errno = 0;
	T_EQ(rp_host_exe_hash(NO_PID, self), -1);
	T_EQ(errno, ESRCH);

	T_EQ(rp_fs_read_file("/usr/bin/cat", 1 << 24, &orig), 0);
	for (k = 0; k < NEXE; k++) {
		copy.len = 0;
		T_EQ(rp_buf_append(&copy, orig.data, orig.len), 0);
		for (i = 0; i <= k; i++)
			T_EQ(rp_buf_append(&copy, "x", 1), 0);
		snprintf(name, sizeof(name), "cat%d", k);
		T_EQ(rp_fs_write_atomic(t_tmpdir(), name, copy.data, copy.len,
		    0755), 0);
		rp_blake3(copy.data, copy.len, job[0].want[k]);
		job[0].pid[k] = spawn(path(name), NULL, &in[k]);
	}
	for (i = 0; i < NTHREAD; i++) {
		job[i] = job[0];
		job[i].first = i;
		T_EQ(pthread_create(&th[i], NULL, hash_worker, &job[i]), 0);
	}
	for (i = 0; i < NTHREAD; i++) {
		T_EQ(pthread_join(th[i], &bad), 0);
		T_EQ((intptr_t)bad, 0);
	}
	for (k = 0; k < NEXE; k++)
		reap(job[0].pid[k], in[k]);
	rp_buf_free(&orig);
	rp_buf_free(&copy);
}

static void
test_start_time(void)
{
	uint64_t self, child, init;
	int64_t now;
	int in;
	pid_t pid;

	T_EQ(rp_host_process_start_ms(0, &self), 0);
	/* A comm made to fool a parser that stops at the first ')'. */
	pid = spawn(NULL, "a) 1 2 3 4 5 6", &in);
	{
		char comm[64] = "";
		FILE *f;

		snprintf(comm, sizeof(comm), "/proc/%d/comm", (int)pid);
		f = fopen(comm, "re");
		T_OK(f != NULL);
		if (f != NULL) {
			T_OK(fgets(comm, sizeof(comm), f) != NULL);
			fclose(f);
		}
		T_STR(comm, "a) 1 2 3 4 5 6\n");
	}
	now = rp_wall_ms();
	T_EQ(rp_host_process_start_ms((uint32_t)pid, &child), 0);
	/* btime is whole seconds: allow for it, and for slow machines. */
	T_OK((int64_t)child <= now + 1000);
	T_OK((int64_t)child >= now - 3000);
	T_OK(child >= self);
	T_OK(child - self < 5000);
	reap(pid, in);

	T_EQ(rp_host_process_start_ms(1, &init), 0);
	T_OK(init <= self);
	T_OK(init > UINT64_C(1000000000000));   /* after 2001 */
	/* Stable: asking again gives the same answer. */
	{
		uint64_t again;

		T_EQ(rp_host_process_start_ms(1, &again), 0);
		T_UEQ(again, init);
	}
}

static void
test_missing_process(void)
{
	char out[256];
	uint64_t ms = 7;

	errno = 0;
	T_EQ(rp_host_exe_path(NO_PID, out, sizeof(out)), -1);
	T_EQ(errno, ESRCH);
	errno = 0;
	T_EQ(rp_host_exe_open(NO_PID), -1);
	T_EQ(errno, ESRCH);
	errno = 0;
	T_EQ(rp_host_process_start_ms(NO_PID, &ms), -1);
	T_EQ(errno, ESRCH);
	T_UEQ(ms, 7);
}

/* As another uid, a root process's executable is not ours to see. */
static void
test_foreign_process(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char out[256];
		uint64_t ms;
		int bad = 0;

		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY,
		    NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(99);
		if (rp_host_euid() != NOBODY)
			bad |= 1;
		if (rp_host_exe_path(1, out, sizeof(out)) != -1 ||
		    errno != EACCES)
			bad |= 2;
		if (rp_host_exe_open(1) != -1 || errno != EACCES)
			bad |= 4;
		/* The start time is public. */
		if (rp_host_process_start_ms(1, &ms) != 0)
			bad |= 8;
		if (rp_host_exe_path(0, out, sizeof(out)) <= 0)
			bad |= 16;
		_exit(bad);
	}
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
	T_UEQ(rp_host_euid(), geteuid());
}

int
main(void)
{
	T_RUN(test_boot_id);
	T_RUN(test_machine_id_fallbacks);
	T_RUN(test_machine_id_unreadable);
	T_RUN(test_machine_id_real);
	T_RUN(test_exe_path);
	T_RUN(test_exe_deleted);
	T_RUN(test_exe_open_self);
	T_RUN(test_exe_hash_threads);
	T_RUN(test_start_time);
	T_RUN(test_missing_process);
	T_RUN(test_foreign_process);
	return t_done();
}
