/*
 * admin.c — rp-probe admin VERB: one AdminRequest (payload_protocol
 * 0xAD01) to the broker; the reply's body printed as is, its exit_code
 * our exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

#define REPLY_MAX RP_FRAME_MAX   /* a DUMP may be large */

enum { OPT_JSON = 256, OPT_SERVICE, OPT_DRAIN, OPT_TIMEOUT };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "drain-deadline", required_argument, NULL, OPT_DRAIN },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static int
unknown_verb(const char *v)
{
	char list[256] = "";
	size_t i;

	for (i = 0; rp_wire_admin_verbs[i] != NULL; i++) {
		if (i > 0)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, rp_wire_admin_verbs[i],
		    sizeof(list) - strlen(list) - 1);
	}
	return cli_usage("admin: unknown verb '%s'; one of %s", v, list);
}

int
probe_admin(int argc, char **argv)
{
	Rp__AdminRequest q = RP__ADMIN_REQUEST__INIT;
	Rp__AdminReply *rep = NULL;
	Rp__Frame *f;
	struct rp_frame_meta m = {
		.kind = RP_KIND_REQUEST,
		.protocol = RP_PP_ADMIN,
	};
	struct rp_buf out = { 0 }, text = { 0 };
	char path[RP_SUN_PATH_MAX];
	const char *socket_opt = NULL, *service = NULL, *why = NULL;
	int64_t timeout = ADMIN_TIMEOUT_MS, drain = -1, deadline;
	uint8_t *body;
	size_t len;
	uint32_t verb;
	int c, r, json = 0, fd, rc;

	while ((c = getopt_long(argc, argv, ":hs:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return probe_help();
		case 's':
			socket_opt = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_SERVICE:
			service = optarg;
			break;
		case OPT_DRAIN:
			if ((r = cli_opt_ms("--drain-deadline", optarg,
			    &drain)) != 0)
				return r;
			break;
		case OPT_TIMEOUT:
			if ((r = cli_opt_ms("--timeout", optarg,
			    &timeout)) != 0)
				return r;
			break;
		default:
			return cli_getopt_error(c, argv, longopts);
		}
	}
	if (optind != argc - 1)
		return cli_usage(optind == argc ? "admin: no VERB given" :
		    "admin: one VERB only");
	if (rp_wire_admin_verb_from_cli(argv[optind], &verb) != 0)
		return unknown_verb(argv[optind]);
	if (drain >= 0 && verb != RP__ADMIN_VERB__ADMIN_VERB_SHUTDOWN)
		return cli_usage("admin: --drain-deadline is for shutdown");
	if (service != NULL && !rp_names_service_valid(service,
	    strlen(service)))
		return cli_usage("admin: --service: '%s' is not a service "
		    "name", service);
	if ((rc = probe_broker_socket(socket_opt, path, sizeof(path))) != 0)
		return rc;

	q.verb = verb;
	q.json = json;
	q.service_name = (char *)(uintptr_t)(service ? service : "");
	q.drain_deadline_ms = drain > 0 ? (uint64_t)drain : 0;
	m.request_id = probe_request_id();
	if (rp_wire_frame_encode_msg(&out, &m, &q.base) != 0) {
		cli_warn("cannot encode the request: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	deadline = rp_deadline_in(timeout);
	fd = rp_sock_connect(path, 0, deadline);
	if (fd < 0) {
		cli_warn("cannot connect to the broker at %s: %s", path,
		    strerror(errno));
		rp_buf_free(&out);
		return rp_exit_from_errno(errno);
	}
	r = rp_io_write_full(fd, out.data, out.len, deadline);
	rp_buf_free(&out);
	if (r != 0) {
		cli_warn("cannot send the request: %s", strerror(errno));
		rc = rp_exit_from_errno(errno);
		goto out;
	}
	if ((rc = probe_read_reply(fd, REPLY_MAX, deadline, "admin", &body,
	    &len)) != 0)
		goto out;
	f = rp_wire_frame_parse(body, len, RP_KIND_RESPONSE, RP_PP_ADMIN, 1,
	    m.request_id, &why);
	free(body);
	if (f != NULL) {
		rep = rp_wire_unpack(&rp__admin_reply__descriptor,
		    f->payload.data, f->payload.len);
		if (rep == NULL)
			why = "the payload is not an AdminReply";
		rp_wire_free(f);
	}
	if (rep == NULL) {
		cli_warn("admin: malformed reply: %s", why ? why : "bad frame");
		rc = RP_EXIT_PROTOCOL;
		goto out;
	}
	/* The body is the broker's text: its lines as they are, any other
	 * control character escaped. */
	rc = probe_flush(&text, cli_put_text(&text, rep->body, 1) != 0);
	if (rc == RP_EXIT_OK && rep->exit_code > 125) {
		/* Not a status a shell could tell from ours. */
		cli_warn("admin: malformed reply: exit_code %u",
		    (unsigned)rep->exit_code);
		rc = RP_EXIT_PROTOCOL;
	} else if (rc == RP_EXIT_OK) {
		rc = (int)rep->exit_code;
	}
	rp_wire_free(rep);
out:
	rp_fd_close(&fd);
	return rc;
}
