/*
 * admin.c — rp-probe admin VERB: one AdminRequest (payload_protocol
 * 0xAD01) to the broker; the reply's body printed as is (or the metrics
 * in the classic Prometheus text, or written to a file atomically), its
 * exit_code our exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

#define REPLY_MAX RP_FRAME_MAX   /* a DUMP may be large */

enum {
	OPT_JSON = 256, OPT_SERVICE, OPT_DRAIN, OPT_TIMEOUT, OPT_FORMAT,
	OPT_WAIT,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "drain-deadline", required_argument, NULL, OPT_DRAIN },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "wait-for-socket", no_argument, NULL, OPT_WAIT },
	{ NULL, 0, NULL, 0 },
};

/*
 * What --json means for each verb: status answers in text or JSON as
 * asked; these answer in JSON whatever is asked (--json is accepted and
 * changes nothing); healthz, readyz, metrics and shutdown answer in text
 * only, and --json with them is a usage error rather than ignored.
 */
static int
verb_json_only(uint32_t verb)
{
	switch (verb) {
	case RP__ADMIN_VERB__ADMIN_VERB_DUMP:
	case RP__ADMIN_VERB__ADMIN_VERB_LIST_INSTANCES:
	case RP__ADMIN_VERB__ADMIN_VERB_BACKEND_HEALTH:
	case RP__ADMIN_VERB__ADMIN_VERB_CONFIG:
	case RP__ADMIN_VERB__ADMIN_VERB_DIAGNOSE:
		return 1;
	default:
		return 0;
	}
}

static int
verb_text_only(uint32_t verb)
{
	return verb != RP__ADMIN_VERB__ADMIN_VERB_STATUS &&
	    !verb_json_only(verb);
}

/*
 * The body as it goes out: the metrics in the classic Prometheus text
 * when asked (from the OpenMetrics the broker sent), then, as every body,
 * its lines as they are and any other control character escaped.  0, or
 * the exit status after a diagnostic.
 */
static int
render(const char *body, int prometheus, struct rp_buf *text)
{
	struct rp_buf conv = { 0 };
	char why[256];
	int r;

	if (!prometheus)
		return cli_put_text(text, body, 1) != 0 ? probe_oom() : 0;
	if (rp_openmetrics_to_prometheus(body, strlen(body), &conv, why,
	    sizeof(why)) != 0) {
		rp_buf_free(&conv);
		if (errno != EINVAL)
			return probe_oom();
		cli_warn("admin: the metrics are not OpenMetrics text: %s",
		    why);
		return RP_EXIT_PROTOCOL;
	}
	r = rp_buf_append(&conv, "", 1) != 0 ||
	    cli_put_text(text, (const char *)conv.data, 1) != 0;
	rp_buf_free(&conv);
	return r ? probe_oom() : 0;
}

/* Replace FILE with text, atomically: a reader (node_exporter's textfile
 * collector) sees the old file or the new one, never half of one. */
static int
write_output(const char *file, const struct rp_buf *text)
{
	char dir[PATH_MAX];
	const char *name = strrchr(file, '/');

	name = name != NULL ? name + 1 : file;
	if (rp_fs_dirname(file, dir, sizeof(dir)) != 0 || *name == '\0' ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		cli_warn("admin: --output %s: not a file name", file);
		return RP_EXIT_USAGE;
	}
	if (rp_fs_write_atomic(dir, name, text->data, text->len, 0644) != 0) {
		cli_warn("admin: cannot write %s: %s", file, strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	return RP_EXIT_OK;
}

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
	const char *format = NULL, *output = NULL;
	int64_t timeout = ADMIN_TIMEOUT_MS, drain = -1, deadline;
	uint8_t *body;
	size_t len;
	uint32_t verb;
	int c, r, json = 0, wait = 0, prometheus = 0, fd, rc;

	while ((c = getopt_long(argc, argv, ":hs:o:", longopts, NULL)) != -1) {
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
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_WAIT:
			wait = 1;
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
	if (json && verb_text_only(verb))
		return cli_usage("admin: --json: %s answers in text only "
		    "(healthz, readyz, metrics and shutdown have no JSON form)",
		    argv[optind]);
	if (format != NULL && verb != RP__ADMIN_VERB__ADMIN_VERB_METRICS)
		return cli_usage("admin: --format is for metrics");
	if (format != NULL && strcmp(format, "prometheus") == 0)
		prometheus = 1;
	else if (format != NULL && strcmp(format, "openmetrics") != 0)
		return cli_usage("admin: --format: '%s' is neither openmetrics "
		    "nor prometheus", format);
	if (output != NULL && *output == '\0')
		return cli_usage("admin: --output: empty file name");
	if (service != NULL && !rp_names_service_valid(service,
	    strlen(service)))
		return cli_usage("admin: --service: '%s' is not a service "
		    "name", service);
	if ((rc = probe_broker_socket(socket_opt, path, sizeof(path))) != 0)
		return rc;

	q.verb = verb;
	q.json = json || verb_json_only(verb);
	q.service_name = (char *)(uintptr_t)(service ? service : "");
	q.drain_deadline_ms = drain > 0 ? (uint64_t)drain : 0;
	m.request_id = probe_request_id();
	if (rp_wire_frame_encode_msg(&out, &m, &q.base) != 0) {
		cli_warn("cannot encode the request: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	deadline = rp_deadline_in(timeout);
	fd = probe_connect_broker(path, wait, deadline);
	if (fd < 0) {
		rp_buf_free(&out);
		return rp_exit_from_errno(errno);
	}
	r = rp_io_write_full(fd, out.data, out.len, deadline);
	rp_buf_free(&out);
	if (r != 0 && !probe_send_broken(errno)) {
		rc = probe_send_failed(fd, path, "admin", errno);
		goto out;
	}
	if ((rc = probe_read_reply(fd, path, REPLY_MAX, deadline, "admin",
	    &body, &len)) != 0)
		goto out;
	f = rp_wire_frame_parse(body, len, RP_KIND_RESPONSE, RP_PP_ADMIN, 1,
	    m.request_id, &why);
	if (f == NULL && (rc = probe_broker_refused(body, len, "admin",
	    m.request_id, verb == RP__ADMIN_VERB__ADMIN_VERB_READYZ)) >= 0) {
		free(body);
		goto out;
	}
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
	if (rep->exit_code > 125) {
		/* Not a status a shell could tell from ours. */
		cli_warn("admin: malformed reply: exit_code %u",
		    (unsigned)rep->exit_code);
		rc = RP_EXIT_PROTOCOL;
	} else if (rep->exit_code != 0) {
		/* A failure's body is what the broker says about it: shown
		 * as it came, never converted, never put in --output. */
		rc = probe_flush(&text, cli_put_text(&text, rep->body, 1) != 0);
		if (rc == RP_EXIT_OK)
			rc = (int)rep->exit_code;
	} else if ((rc = render(rep->body, prometheus, &text)) == RP_EXIT_OK) {
		if (output != NULL) {
			rc = write_output(output, &text);
			rp_buf_free(&text);
		} else {
			rc = probe_flush(&text, 0);
		}
	}
	rp_buf_free(&text);
	rp_wire_free(rep);
out:
	rp_fd_close(&fd);
	return rc;
}
