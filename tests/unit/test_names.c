/*
 * Unit tests for names: names, versions, floor, allow-list, instance ids,
 * the user hash (against the b3sum CLI) and the socket paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "t.h"

#define SV(s) rp_names_service_valid((s), strlen(s))
#define VV(s) rp_names_version_valid((s), strlen(s))

static void
test_service_names(void)
{
	char long65[66];

	T_EQ(SV("echo"), 1);
	T_EQ(SV("a"), 1);
	T_EQ(SV("my-svc-2"), 1);
	T_EQ(SV("0"), 1);
	T_EQ(SV(""), 0);
	T_EQ(SV("Echo"), 0);
	T_EQ(SV("ECHO"), 0);
	T_EQ(SV("a_b"), 0);
	T_EQ(SV("a.b"), 0);
	T_EQ(SV("a/b"), 0);
	T_EQ(SV("a b"), 0);
	T_EQ(SV("a;b"), 0);
	T_EQ(SV("é"), 0);
	T_EQ(rp_names_service_valid("ab\0c", 4), 0);
	T_EQ(rp_names_service_valid(NULL, 0), 0);
	memset(long65, 'a', 65);
	long65[65] = '\0';
	T_EQ(SV(long65), 0);
	long65[64] = '\0';
	T_EQ(SV(long65), 1);
	T_EQ(rp_names_instance_valid("team-1", 6), 1);
	T_EQ(rp_names_instance_valid("Team", 4), 0);
}

static void
test_versions(void)
{
	T_EQ(VV("1.0.0"), 1);
	T_EQ(VV("0.0.0"), 1);
	T_EQ(VV("10.20.30"), 1);
	T_EQ(VV("1.0.0-rc.1"), 1);
	T_EQ(VV("1.0.0-alpha"), 1);
	T_EQ(VV("1.0.0-0.3.7"), 1);
	T_EQ(VV("1.10.0-rc.1"), 1);
	T_EQ(VV("99999999999999999999999.0.0"), 1);
	/* The spec's rejections. */
	T_EQ(VV("1.0"), 0);
	T_EQ(VV("1.0.0.0"), 0);
	T_EQ(VV("v1.0.0"), 0);
	T_EQ(VV("1.0.0-"), 0);
	T_EQ(VV("1.0.0-ALPHA"), 0);
	T_EQ(VV("1.0.0+build"), 0);
	T_EQ(VV("1.0.0-rc+build"), 0);
	T_EQ(VV("1.0.0 "), 0);
	T_EQ(VV(" 1.0.0"), 0);
	T_EQ(VV("1.0.0;rm"), 0);
	T_EQ(VV("1.0.0-a/b"), 0);
	T_EQ(VV("1.0.0-$(x)"), 0);
	T_EQ(VV("1..0"), 0);
	T_EQ(VV(".1.0.0"), 0);
	T_EQ(VV("1.0.x"), 0);
	T_EQ(VV(""), 0);
	T_EQ(VV("-1.0.0"), 0);
	T_EQ(VV("1.0.0-a_b"), 0);
	T_EQ(rp_names_version_valid("1.0.0\0", 6), 0);
	T_EQ(rp_names_version_valid(NULL, 0), 0);
}

static void
test_floor(void)
{
	T_EQ(rp_names_version_floor("1.0.0", "1.0.0"), RP_FLOOR_MEETS);
	T_EQ(rp_names_version_floor("1.0.1", "1.0.0"), RP_FLOOR_MEETS);
	T_EQ(rp_names_version_floor("0.9.9", "1.0.0"), RP_FLOOR_BELOW);
	T_EQ(rp_names_version_floor("1.9.0", "1.10.0"), RP_FLOOR_BELOW);
	T_EQ(rp_names_version_floor("1.10.0", "1.9.0"), RP_FLOOR_MEETS);
	T_EQ(rp_names_version_floor("2.0.0", "1.99.99"), RP_FLOOR_MEETS);
	T_EQ(rp_names_version_floor("1.2.2", "1.2.3"), RP_FLOOR_BELOW);
	/* What follows '-' is ignored. */
	T_EQ(rp_names_version_floor("1.10.0-rc.1", "1.10.0"), RP_FLOOR_MEETS);
	T_EQ(rp_names_version_floor("1.10.0", "1.10.0-rc.1"), RP_FLOOR_MEETS);
	T_EQ(rp_names_version_floor("1.9.9-z", "1.10.0"), RP_FLOOR_BELOW);
	/* u64 limits: the max fits, one more is unknown and never blocks. */
	T_EQ(rp_names_version_floor("18446744073709551615.0.0", "1.0.0"),
	    RP_FLOOR_MEETS);
	T_EQ(rp_names_version_floor("18446744073709551616.0.0", "1.0.0"),
	    RP_FLOOR_UNKNOWN);
	T_EQ(rp_names_version_floor("0.0.1", "0.18446744073709551616.0"),
	    RP_FLOOR_UNKNOWN);
	T_EQ(rp_names_version_floor("1.0.0", "1.0.99999999999999999999"),
	    RP_FLOOR_UNKNOWN);
}

static void
test_allow_list(void)
{
	const char *list[] = { "1.0.0", "1.2.0-rc.1" };

	T_EQ(rp_names_version_allowed("1.0.0", list, 2), 1);
	T_EQ(rp_names_version_allowed("1.2.0-rc.1", list, 2), 1);
	/* Exact string match only. */
	T_EQ(rp_names_version_allowed("1.2.0", list, 2), 0);
	T_EQ(rp_names_version_allowed("1.0.00", list, 2), 0);
	T_EQ(rp_names_version_allowed("anything", NULL, 0), 1);
}

static void
test_sun_path(void)
{
	char p[200];

	memset(p, 'x', sizeof(p));
	p[107] = '\0';
	T_EQ(rp_names_sun_path_fits(p), 0);
	p[107] = 'x';
	p[108] = '\0';
	T_EQ(rp_names_sun_path_fits(p), -1);
}

/* The isolation names, in BrokerIsolation numbering. */
static void
test_isolation_name(void)
{
	T_STR(rp_names_isolation_name(RP_ISOLATION_PRIVATE), "private");
	T_STR(rp_names_isolation_name(RP_ISOLATION_SHARED), "shared");
	T_STR(rp_names_isolation_name(RP_ISOLATION_EXPLICIT), "explicit");
	T_STR(rp_names_isolation_name(3), "unknown");
	T_STR(rp_names_isolation_name(~0u), "unknown");
}

static void
test_instance_id(void)
{
	char out[128], n64[65];

	T_EQ(rp_names_instance_id(out, sizeof(out), RP_ISOLATION_SHARED, NULL),
	    6);
	T_STR(out, "shared");
	/* The name does not matter for the shared instance. */
	T_EQ(rp_names_instance_id(out, sizeof(out), RP_ISOLATION_SHARED,
	    "Bad Name"), 6);
	T_STR(out, "shared");
	T_EQ(rp_names_instance_id(out, sizeof(out), RP_ISOLATION_PRIVATE,
	    "echo"), 12);
	T_STR(out, "private:echo");
	T_EQ(rp_names_instance_id(out, sizeof(out), RP_ISOLATION_EXPLICIT,
	    "team-1"), 15);
	T_STR(out, "explicit:team-1");
	memset(n64, 'z', 64);
	n64[64] = '\0';
	T_EQ(rp_names_instance_id(out, sizeof(out), RP_ISOLATION_EXPLICIT,
	    n64), 73);
	T_OK(strncmp(out, "explicit:zzz", 12) == 0);

	/* Exactly enough room, then one byte short. */
	T_EQ(rp_names_instance_id(out, 13, RP_ISOLATION_PRIVATE, "echo"), 12);
	T_STR(out, "private:echo");
	errno = 0;
	T_EQ(rp_names_instance_id(out, 12, RP_ISOLATION_PRIVATE, "echo"), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_STR(out, "");
	errno = 0;
	T_EQ(rp_names_instance_id(out, 6, RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, ENAMETOOLONG);
	errno = 0;
	T_EQ(rp_names_instance_id(NULL, 0, RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, ENAMETOOLONG);

	/* Bad names and isolations. */
	static const char *bad[] = { "", "Echo", "a/b", "a:b", "../x", " x" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		T_EQ(rp_names_instance_id(out, sizeof(out),
		    RP_ISOLATION_PRIVATE, bad[i]), -1);
		T_EQ(errno, EINVAL);
		errno = 0;
		T_EQ(rp_names_instance_id(out, sizeof(out),
		    RP_ISOLATION_EXPLICIT, bad[i]), -1);
		T_EQ(errno, EINVAL);
	}
	errno = 0;
	T_EQ(rp_names_instance_id(out, sizeof(out), RP_ISOLATION_PRIVATE,
	    NULL), -1);
	T_EQ(errno, EINVAL);
	{
		char n65[66];

		memset(n65, 'a', 65);
		n65[65] = '\0';
		errno = 0;
		T_EQ(rp_names_instance_id(out, sizeof(out),
		    RP_ISOLATION_EXPLICIT, n65), -1);
		T_EQ(errno, EINVAL);
	}
	errno = 0;
	T_EQ(rp_names_instance_id(out, sizeof(out), (enum rp_isolation)3,
	    "x"), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_instance_id(out, sizeof(out), (enum rp_isolation)-1,
	    "x"), -1);
	T_EQ(errno, EINVAL);
}

/* The first 16 hex digits of b3sum over exactly these bytes. */
static void
b3sum16(const void *data, size_t n, char out[17])
{
	char path[512], cmd[700], line[256];
	FILE *p;
	int fd;

	snprintf(path, sizeof(path), "%s/b3in", t_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	T_OK(fd >= 0);
	T_EQ(write(fd, data, n), (ssize_t)n);
	close(fd);
	snprintf(cmd, sizeof(cmd), "b3sum --no-names %s", path);
	p = popen(cmd, "r");
	T_OK(p != NULL);
	line[0] = '\0';
	if (p != NULL) {
		if (fgets(line, sizeof(line), p) == NULL)
			line[0] = '\0';
		T_EQ(pclose(p), 0);
	}
	T_EQ(strlen(line), 65);	/* 64 hex digits and a newline */
	memcpy(out, line, 16);
	out[16] = '\0';
}

static void
check_user_hash(uint32_t uid, const char *machine_id)
{
	char got[17], want[17], *in;
	size_t n = strlen(machine_id) + 16;

	in = malloc(n);
	T_OK(in != NULL);
	n = (size_t)snprintf(in, n, "%u:%s", (unsigned)uid, machine_id);
	b3sum16(in, n, want);
	memset(got, 'X', sizeof(got));
	rp_names_user_hash(got, uid, machine_id);
	T_STR(got, want);
	free(in);
}

static void
test_user_hash(void)
{
	char got[17], mid[3000];
	size_t i;

	/* A fixed point, so that a b3sum that changed would be noticed:
	 * printf '0:abc' | b3sum */
	rp_names_user_hash(got, 0, "abc");
	T_STR(got, "e8b43515673df4d1");
	check_user_hash(0, "abc");
	check_user_hash(0, "");
	check_user_hash(1000, "4c4c4544003510528030b4c04f4b4d32");
	check_user_hash(65534, "boot:6f8c8a4e-1d9a-4b8e-9a0e-2c1f3e5d7b90");
	check_user_hash(UINT32_MAX, "0123456789abcdef0123456789abcdef");
	check_user_hash(1, "quote ' \" $(x) `y` \\ and spaces");
	/* Longer than one BLAKE3 chunk (1024 bytes), and several. */
	for (i = 0; i < sizeof(mid) - 1; i++)
		mid[i] = (char)('a' + i % 26);
	mid[sizeof(mid) - 1] = '\0';
	check_user_hash(42, mid);
	mid[2046] = '\0';	/* "42:" + 2046 = 2049: two chunks and a byte */
	check_user_hash(42, mid);
	mid[1021] = '\0';	/* exactly one chunk */
	check_user_hash(42, mid);
	mid[1020] = '\0';
	check_user_hash(42, mid);
	/* NULL is the empty machine id. */
	rp_names_user_hash(got, 7, NULL);
	{
		char want[17];

		rp_names_user_hash(want, 7, "");
		T_STR(got, want);
	}
	/* Different inputs, different hashes. */
	{
		char a[17], b[17];

		rp_names_user_hash(a, 1, "23");
		rp_names_user_hash(b, 12, "3");
		T_OK(strcmp(a, b) != 0);
	}
}

static void
test_broker_dir(void)
{
	char out[256];

	T_EQ(rp_names_broker_dir(out, sizeof(out), "/run/user/1000", 1000),
	    37);
	T_STR(out, "/run/user/1000/running-process/broker");
	T_EQ(rp_names_broker_dir(out, sizeof(out), "/run/user/1000/", 1000),
	    37);
	T_STR(out, "/run/user/1000/running-process/broker");
	T_EQ(rp_names_broker_dir(out, sizeof(out), "/run/user/1000//", 5), 37);
	T_STR(out, "/run/user/1000/running-process/broker");
	T_EQ(rp_names_broker_dir(out, sizeof(out), "/", 5), 23);
	T_STR(out, "/running-process/broker");
	T_EQ(rp_names_broker_dir(out, sizeof(out), NULL, 1000), 32);
	T_STR(out, "/tmp/running-process-1000/broker");
	/* Set but empty: neither the relative path running-process v1
	 * would use nor another directory than its. */
	errno = 0;
	T_EQ(rp_names_broker_dir(out, sizeof(out), "", 0), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_names_broker_dir(out, sizeof(out), "run/user/0", 0), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_names_broker_dir(out, sizeof(out), "./x", 0), -1);
	T_EQ(errno, EINVAL);
	T_STR(rp_names_xdg_fault(""), "is set but empty");
	T_STR(rp_names_xdg_fault("x"), "is not an absolute path");
	T_EQ(rp_names_xdg_fault("/x") == NULL, 1);
	T_EQ(rp_names_xdg_fault(NULL) == NULL, 1);
	T_EQ(errno, EINVAL);
	T_STR(out, "");
	T_EQ(rp_names_broker_dir(out, sizeof(out), NULL, 0), 29);
	T_STR(out, "/tmp/running-process-0/broker");
	T_EQ(rp_names_broker_dir(out, sizeof(out), NULL, UINT32_MAX), 38);
	T_STR(out, "/tmp/running-process-4294967295/broker");
	/* Never truncated. */
	T_EQ(rp_names_broker_dir(out, 38, "/run/user/1000", 1000), 37);
	errno = 0;
	T_EQ(rp_names_broker_dir(out, 37, "/run/user/1000", 1000), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_STR(out, "");
	errno = 0;
	T_EQ(rp_names_broker_dir(out, 10, NULL, 1000), -1);
	T_EQ(errno, ENAMETOOLONG);
	errno = 0;
	T_EQ(rp_names_broker_dir(NULL, 0, NULL, 1000), -1);
	T_EQ(errno, ENAMETOOLONG);
}

#define H16 "0123456789abcdef"

static void
test_broker_socket(void)
{
	char out[256], dir[200], want[256];
	size_t i;

	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b", H16,
	    RP_ISOLATION_SHARED, NULL), 42);
	T_STR(out, "/run/b/rpb-v1-0123456789abcdef-shared.sock");
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b/", H16,
	    RP_ISOLATION_SHARED, "ignored"), 42);
	T_STR(out, "/run/b/rpb-v1-0123456789abcdef-shared.sock");
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b", H16,
	    RP_ISOLATION_PRIVATE, "echo"), 44);
	T_STR(out, "/run/b/rpb-v1-0123456789abcdef-svc-echo.sock");
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b", H16,
	    RP_ISOLATION_EXPLICIT, "team-1"), 47);
	T_STR(out, "/run/b/rpb-v1-0123456789abcdef-inst-team-1.sock");
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/", H16,
	    RP_ISOLATION_SHARED, NULL), 36);
	T_STR(out, "/rpb-v1-0123456789abcdef-shared.sock");
	/* A relative directory is the caller's business. */
	T_EQ(rp_names_broker_socket(out, sizeof(out), ".", H16,
	    RP_ISOLATION_SHARED, NULL), 37);
	T_STR(out, "./rpb-v1-0123456789abcdef-shared.sock");

	/* EINVAL: bad hash16, names, isolation, dir. */
	static const char *badh[] = { "", "0123456789abcde", H16 "0",
		"0123456789ABCDEF", "0123456789abcdeg", "0123456789abcd/f" };
	for (i = 0; i < sizeof(badh) / sizeof(badh[0]); i++) {
		strcpy(out, "junk");
		errno = 0;
		T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b",
		    badh[i], RP_ISOLATION_SHARED, NULL), -1);
		T_EQ(errno, EINVAL);
		T_STR(out, "");
	}
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b", NULL,
	    RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b", H16,
	    RP_ISOLATION_PRIVATE, "../../etc"), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b", H16,
	    RP_ISOLATION_EXPLICIT, "A"), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b", H16,
	    RP_ISOLATION_EXPLICIT, NULL), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), "/run/b", H16,
	    (enum rp_isolation)7, "x"), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), "", H16,
	    RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), NULL, H16,
	    RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, EINVAL);

	/* sun_path: 107 bytes fit, 108 do not, whatever room out has.  The
	 * shared leaf is 35 bytes, so a 71-byte dir makes 107. */
	memset(dir, 'd', sizeof(dir));
	dir[0] = '/';
	dir[71] = '\0';
	T_EQ(rp_names_broker_socket(out, sizeof(out), dir, H16,
	    RP_ISOLATION_SHARED, NULL), 107);
	snprintf(want, sizeof(want), "%s/rpb-v1-" H16 "-shared.sock", dir);
	T_STR(out, want);
	T_EQ(rp_names_sun_path_fits(out), 0);
	/* A trailing slash does not count. */
	dir[71] = '/';
	dir[72] = '\0';
	T_EQ(rp_names_broker_socket(out, sizeof(out), dir, H16,
	    RP_ISOLATION_SHARED, NULL), 107);
	T_STR(out, want);
	dir[71] = 'd';
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), dir, H16,
	    RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_STR(out, "");
	dir[150] = '\0';
	errno = 0;
	T_EQ(rp_names_broker_socket(out, sizeof(out), dir, H16,
	    RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, ENAMETOOLONG);
	/* The longest service name needs a short dir: leaf 97 bytes. */
	{
		char n64[65];

		memset(n64, 's', 64);
		n64[64] = '\0';
		dir[9] = '\0';
		T_EQ(rp_names_broker_socket(out, sizeof(out), dir, H16,
		    RP_ISOLATION_PRIVATE, n64), 107);
		dir[9] = 'd';
		dir[10] = '\0';
		errno = 0;
		T_EQ(rp_names_broker_socket(out, sizeof(out), dir, H16,
		    RP_ISOLATION_PRIVATE, n64), -1);
		T_EQ(errno, ENAMETOOLONG);
		errno = 0;
		T_EQ(rp_names_broker_socket(out, sizeof(out), dir, H16,
		    RP_ISOLATION_EXPLICIT, n64), -1);
		T_EQ(errno, ENAMETOOLONG);
	}
	/* Fits sun_path but not out. */
	T_EQ(rp_names_broker_socket(out, 43, "/run/b", H16,
	    RP_ISOLATION_SHARED, NULL), 42);
	errno = 0;
	T_EQ(rp_names_broker_socket(out, 42, "/run/b", H16,
	    RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_STR(out, "");
	errno = 0;
	T_EQ(rp_names_broker_socket(NULL, 0, "/run/b", H16,
	    RP_ISOLATION_SHARED, NULL), -1);
	T_EQ(errno, ENAMETOOLONG);
}

static void
test_backend_endpoint(void)
{
	static const uint8_t rnd[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
		0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	char out[256], dir[200];

	T_EQ(rp_names_backend_endpoint(out, sizeof(out), "/run/b", H16, rnd),
	    71);
	T_STR(out, "/run/b/rpb-v1-0123456789abcdef-be-"
	    "00112233445566778899aabbccddeeff.sock");
	/* Its handoff endpoint: "-ho-" for "-be-", the same length. */
	T_EQ(rp_names_backend_handoff(out, sizeof(out), "/run/b", H16, rnd),
	    71);
	T_STR(out, "/run/b/rpb-v1-0123456789abcdef-ho-"
	    "00112233445566778899aabbccddeeff.sock");
	T_EQ(rp_names_backend_handoff(out, sizeof(out), "/run/b", "x", rnd),
	    -1);
	errno = 0;
	T_EQ(rp_names_backend_endpoint(out, sizeof(out), "/run/b", H16, NULL),
	    -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_backend_endpoint(out, sizeof(out), "/run/b", "x", rnd),
	    -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_backend_endpoint(out, sizeof(out), "", H16, rnd), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_names_backend_endpoint(out, sizeof(out), NULL, H16, rnd), -1);
	T_EQ(errno, EINVAL);
	/* The leaf is 64 bytes: a 42-byte dir makes 107. */
	memset(dir, 'd', sizeof(dir));
	dir[0] = '/';
	dir[42] = '\0';
	T_EQ(rp_names_backend_endpoint(out, sizeof(out), dir, H16, rnd), 107);
	dir[42] = 'd';
	dir[43] = '\0';
	errno = 0;
	T_EQ(rp_names_backend_endpoint(out, sizeof(out), dir, H16, rnd), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_STR(out, "");
	errno = 0;
	T_EQ(rp_names_backend_endpoint(out, 71, "/run/b", H16, rnd), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_EQ(rp_names_backend_endpoint(out, 72, "/run/b", H16, rnd), 71);
}

/* The pieces together, as the broker uses them. */
static void
test_default_socket_path(void)
{
	static const char prefix[] =
	    "/run/user/1000/running-process/broker/rpb-v1-";
	char dir[128], h[17], sock[128], want[128];

	T_EQ(rp_names_broker_dir(dir, sizeof(dir), "/run/user/1000", 1000), 37);
	rp_names_user_hash(h, 1000, "0123456789abcdef0123456789abcdef");
	snprintf(want, sizeof(want), "%s%s-shared.sock", prefix, h);
	T_EQ(rp_names_broker_socket(sock, sizeof(sock), dir, h,
	    RP_ISOLATION_SHARED, NULL), (int)strlen(want));
	T_STR(sock, want);
	b3sum16("1000:0123456789abcdef0123456789abcdef", 37, want);
	T_STR(h, want);
}

int
main(void)
{
	T_RUN(test_service_names);
	T_RUN(test_versions);
	T_RUN(test_floor);
	T_RUN(test_allow_list);
	T_RUN(test_sun_path);
	T_RUN(test_isolation_name);
	T_RUN(test_instance_id);
	T_RUN(test_user_hash);
	T_RUN(test_broker_dir);
	T_RUN(test_broker_socket);
	T_RUN(test_backend_endpoint);
	T_RUN(test_default_socket_path);
	return t_done();
}
