/*
 * identity.c — rp-probe identity: the 0xB232 nonce probe of an endpoint
 * and every kernel cross-check of 30-identity.md (lib rp_probe), plus the
 * caller's expectations.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

enum {
	OPT_TIMEOUT = 256, OPT_JSON, OPT_EXPECT_PID, OPT_EXPECT_EXE,
	OPT_EXPECT_HASH, OPT_EXPECT_NS, OPT_ALLOW_UID,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "expect-pid", required_argument, NULL, OPT_EXPECT_PID },
	{ "expect-exe", required_argument, NULL, OPT_EXPECT_EXE },
	{ "expect-hash", required_argument, NULL, OPT_EXPECT_HASH },
	{ "expect-namespace", required_argument, NULL, OPT_EXPECT_NS },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
	{ NULL, 0, NULL, 0 },
};

/*
 * rp_probe compares the claimed ipc_endpoint.path with ENDPOINT as
 * strings.  A claim that is an absolute path to the very socket file we
 * dialled, spelled another way (ENDPOINT relative, or either through a
 * symbolically linked directory), names the same endpoint: that mismatch
 * is taken back here, and the one check after it, the namespace, made.
 */
static enum rp_probe_status
same_endpoint(const char *endpoint, const struct rp_probe_expect *exp,
    struct rp_probe_report *rep)
{
	const struct rp_identity *id = &rep->id;

	if (rep->status != RP_PROBE_MISMATCH ||
	    strcmp(rep->field, "ipc_endpoint") != 0 ||
	    strcmp(id->endpoint, endpoint) == 0 || id->endpoint[0] != '/' ||
	    !rp_fs_same_file(id->endpoint, endpoint))
		return rep->status;
	if (exp->namespace_id != NULL &&
	    strcmp(exp->namespace_id, id->namespace_id) != 0) {
		snprintf(rep->detail, sizeof(rep->detail),
		    "namespace %s, expected %s", id->namespace_id,
		    exp->namespace_id);
		return rep->status;
	}
	rep->status = RP_PROBE_OK;
	rep->field = NULL;
	snprintf(rep->detail, sizeof(rep->detail), "verified");
	return rep->status;
}

static void
identity_json(struct rp_json *j, const struct rp_probe_report *rep)
{
	const struct rp_identity *id = &rep->id;
	char h[65];

	rp_hex_encode(id->exe_hash, id->exe_hash_len, h);
	rp_json_ku64(j, "pid", id->pid);
	rp_json_kstr(j, "exe_path", id->exe_path);
	rp_json_kstr(j, "exe_hash", h);
	rp_json_kstr(j, "exe_hash_algorithm", id->hash_algorithm);
	rp_json_kstr(j, "boot_id", id->boot_id);
	rp_json_kstr(j, "namespace", id->namespace_id);
	rp_json_kstr(j, "endpoint", id->endpoint);
	rp_json_ku64(j, "started_at_unix_ms", id->started_at_unix_ms);
	if (id->has_idle_timeout)
		rp_json_ku64(j, "idle_timeout_secs", id->idle_timeout_secs);
	rp_json_ku64(j, "peer_uid", rep->peer.uid);
	rp_json_ku64(j, "peer_pid", rep->peer.pid);
}

/* One "key: value" line per fact; the claimed strings escaped (the peer
 * chose them). */
static int
print_plain(const struct rp_probe_report *rep)
{
	const struct rp_identity *id = &rep->id;
	struct rp_buf out = { 0 };
	char h[65];
	int e;

	rp_hex_encode(id->exe_hash, id->exe_hash_len, h);
	e = rp_buf_printf(&out, "pid: %u\nexe_path: ", (unsigned)id->pid);
	e |= cli_put_text(&out, id->exe_path, 0);
	e |= rp_buf_printf(&out, "\nexe_hash: %s\nexe_hash_algorithm: ", h);
	e |= cli_put_text(&out, id->hash_algorithm, 0);
	e |= rp_buf_puts(&out, "\nboot_id: ");
	e |= cli_put_text(&out, id->boot_id, 0);
	e |= rp_buf_puts(&out, "\nnamespace: ");
	e |= cli_put_text(&out, id->namespace_id, 0);
	e |= rp_buf_puts(&out, "\nendpoint: ");
	e |= cli_put_text(&out, id->endpoint, 0);
	e |= rp_buf_printf(&out, "\nstarted_at_unix_ms: %llu\n",
	    (unsigned long long)id->started_at_unix_ms);
	if (id->has_idle_timeout)
		e |= rp_buf_printf(&out, "idle_timeout_secs: %u\n",
		    (unsigned)id->idle_timeout_secs);
	e |= rp_buf_printf(&out, "peer_uid: %u\n", (unsigned)rep->peer.uid);
	return probe_flush(&out, e != 0);
}

int
probe_identity(int argc, char **argv)
{
	struct rp_probe_expect exp = { 0 };
	struct rp_probe_report *rep;
	struct rp_json j;
	struct rp_buf out = { 0 };
	uint32_t uids[MAX_ALLOW_UIDS];
	uint8_t want_hash[32];
	int64_t timeout = IDENTITY_TIMEOUT_MS;
	uint64_t v;
	const char *endpoint;
	int c, r, json = 0, rc;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return probe_help();
		case OPT_TIMEOUT:
			if ((r = cli_opt_ms("--timeout", optarg,
			    &timeout)) != 0)
				return r;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_EXPECT_PID:
			if (rp_parse_u64(optarg, 1, INT_MAX, &v) != 0)
				return cli_usage("--expect-pid: '%s' is not a "
				    "pid", optarg);
			exp.pid = (uint32_t)v;
			break;
		case OPT_EXPECT_EXE:
			exp.exe_path = optarg;
			break;
		case OPT_EXPECT_HASH:
			if (rp_hex_decode(optarg, strlen(optarg), want_hash,
			    sizeof(want_hash)) != 0)
				return cli_usage("--expect-hash: not 64 hex "
				    "digits (a BLAKE3 hash)");
			exp.exe_hash = want_hash;
			break;
		case OPT_EXPECT_NS:
			exp.namespace_id = optarg;
			break;
		case OPT_ALLOW_UID:
			if (exp.n_allowed_uids == MAX_ALLOW_UIDS)
				return cli_usage("at most %d --allow-uid",
				    MAX_ALLOW_UIDS);
			if (rp_parse_u64(optarg, 0, UINT32_MAX - 1, &v) != 0)
				return cli_usage("--allow-uid: '%s' is not a "
				    "uid", optarg);
			uids[exp.n_allowed_uids++] = (uint32_t)v;
			break;
		default:
			return cli_getopt_error(c, argv, longopts);
		}
	}
	if (optind != argc - 1)
		return cli_usage(optind == argc ? "identity: no ENDPOINT "
		    "given" : "identity: one ENDPOINT only");
	endpoint = argv[optind];
	if (*endpoint == '\0' || rp_names_sun_path_fits(endpoint) != 0)
		return cli_usage("identity: ENDPOINT must be a socket path "
		    "of 1 to %d bytes", RP_SUN_PATH_MAX - 1);
	exp.allowed_uids = uids;

	rep = malloc(sizeof(*rep));
	if (rep == NULL) {
		cli_warn("out of memory");
		return RP_EXIT_INTERNAL;
	}
	(void)rp_probe(endpoint, &exp, rp_deadline_in(timeout), rep);
	switch (same_endpoint(endpoint, &exp, rep)) {
	case RP_PROBE_OK:
		rc = RP_EXIT_OK;
		/* A check the system could not make (no boot id) is said. */
		if (strcmp(rep->detail, "verified") != 0)
			cli_warn("%s", rep->detail);
		break;
	case RP_PROBE_MISMATCH:
		cli_warn("identity mismatch: %s: %s", rep->field,
		    rep->detail);
		rc = RP_EXIT_NO;
		break;
	case RP_PROBE_UNREACHABLE:
		cli_warn("cannot reach %s: %s", endpoint, rep->detail);
		rc = RP_EXIT_UNREACHABLE;
		break;
	case RP_PROBE_TIMEOUT:
		cli_warn("%s: %s", endpoint, rep->detail);
		rc = RP_EXIT_DEADLINE;
		break;
	case RP_PROBE_MALFORMED:
		cli_warn("%s: %s", endpoint, rep->detail);
		rc = RP_EXIT_PROTOCOL;
		break;
	default:
		cli_warn("%s: %s", endpoint, rep->detail);
		rc = RP_EXIT_INTERNAL;
		break;
	}
	/* What was verified goes to stdout; with --json, a mismatch too
	 * (what was claimed, and which field failed). */
	if (json && (rc == RP_EXIT_OK || rc == RP_EXIT_NO)) {
		probe_json_begin(&j, &out);
		rp_json_obj(&j);
		rp_json_kbool(&j, "verified", rc == RP_EXIT_OK);
		if (rc == RP_EXIT_NO) {
			rp_json_kstr(&j, "mismatch", rep->field);
			rp_json_kstr(&j, "detail", rep->detail);
		}
		identity_json(&j, rep);
		rp_json_obj_end(&j);
		r = probe_json_end(&j, &out);
		if (r != RP_EXIT_OK)
			rc = r;
	} else if (rc == RP_EXIT_OK) {
		rc = print_plain(rep);
	}
	free(rep);
	return rc;
}
