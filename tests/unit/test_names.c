/* Unit tests for names: names, versions, floor, allow-list. */
#include <string.h>

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

int
main(void)
{
	T_RUN(test_service_names);
	T_RUN(test_versions);
	T_RUN(test_floor);
	T_RUN(test_allow_list);
	T_RUN(test_sun_path);
	return t_done();
}
