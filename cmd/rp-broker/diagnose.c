/*
 * diagnose.c — the DIAGNOSE admin verb: checks of the socket and its
 * directory, the definition directory and every definition in it (with
 * isolation that does not match this broker's instance as a warning), fd
 * usage and the limit, each backend, and whether Hellos are accepted;
 * each "ok", "warn" or "fail" with why.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "broker.h"

struct checks {
	struct rp_json *j;
	unsigned fails, warns;
};

static void
check(struct checks *ck, const char *name, const char *status,
    const char *detail)
{
	rp_json_obj(ck->j);
	rp_json_kstr(ck->j, "name", name);
	rp_json_kstr(ck->j, "status", status);
	rp_json_kstr(ck->j, "detail", detail);
	rp_json_obj_end(ck->j);
	if (strcmp(status, "fail") == 0)
		ck->fails++;
	else if (strcmp(status, "warn") == 0)
		ck->warns++;
}

static void
check_definitions(struct broker *b, struct checks *ck)
{
	size_t sl = strlen(RP_SERVICEDEF_SUFFIX), n;
	char path[PATH_MAX], why[512], name[128], detail[700];
	Rp__ServiceDefinition *d;
	struct dirent *de;
	unsigned count = 0;
	DIR *dir;

	dir = opendir(b->cfg.service_dir);
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		n = strlen(de->d_name);
		if (n <= sl || strcmp(de->d_name + n - sl,
		    RP_SERVICEDEF_SUFFIX) != 0)
			continue;
		if (count++ >= 256) {
			check(ck, "definitions", "warn",
			    "more than 256 definitions; the rest not checked");
			break;
		}
		rp_utf8_fmt(name, sizeof(name), "definition:%.*s",
		    (int)(n - sl), de->d_name);
		if (rp_fs_join(path, sizeof(path), b->cfg.service_dir,
		    de->d_name) < 0)
			continue;
		d = rp_servicedef_load_file(path, why, sizeof(why));
		if (d == NULL) {
			check(ck, name, "fail", why);
			continue;
		}
		if ((enum rp_isolation)d->isolation != b->cfg.iso ||
		    (b->cfg.iso != RP_ISOLATION_SHARED &&
		    strcmp(b->cfg.iso == RP_ISOLATION_EXPLICIT ?
		    d->explicit_instance : d->service_name,
		    b->cfg.instance_name) != 0)) {
			rp_utf8_fmt(detail, sizeof(detail), "valid, but its "
			    "isolation is %s%s%s while this broker is %s; it "
			    "is served here anyway",
			    rp_names_isolation_name((unsigned)d->isolation),
			    d->isolation == RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE ?
			    ":" : "", d->isolation ==
			    RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE ?
			    d->explicit_instance : "", b->cfg.instance_id);
			check(ck, name, "warn", detail);
		} else {
			rp_utf8_fmt(detail, sizeof(detail), "valid; binary %s",
			    d->binary_path);
			check(ck, name, "ok", detail);
		}
		rp_wire_free(d);
	}
	closedir(dir);
}

/* DIAGNOSE into out; returns the reply's exit code (1 when a check
 * fails), or -1 with errno when the body could not be built. */
int
admin_diagnose(struct broker *b, struct rp_buf *out)
{
	struct checks ck = { 0 };
	char dir[PATH_MAX], why[256], detail[700];
	struct rp_json j;
	struct bkey *k;
	int n;

	rp_json_init(&j, out, 0);
	ck.j = &j;
	admin_json_head(b, &j, "diagnose");
	rp_json_key(&j, "checks");
	rp_json_arr(&j);

	if (b->cfg.socket_src == CONFIG_SRC_ACTIVATION) {
		check(&ck, "socket", "ok", "socket activation: fd 3");
	} else if (!b->have_listener) {
		check(&ck, "socket", "warn", "not listening (draining)");
	} else if (!rp_sock_listener_intact(&b->lst)) {
		rp_utf8_fmt(detail, sizeof(detail),
		    "%s is gone or was replaced; "
		    "clients cannot reach this broker",
		    b->lst.path);
		check(&ck, "socket", "fail", detail);
	} else {
		rp_utf8_fmt(detail, sizeof(detail), "%s", b->lst.path);
		check(&ck, "socket", "ok", detail);
	}
	if (rp_sock_namespace(dir, sizeof(dir)) > 0) {
		/* A named pipe (Windows) is in no directory: its DACL is
		 * its own (who may connect is judged by SID). */
		rp_utf8_fmt(detail, sizeof(detail), "%s: a named pipe, in no "
		    "directory", dir);
		check(&ck, "socket_dir", "ok", detail);
	} else if (rp_fs_dirname(b->cfg.socket, dir, sizeof(dir)) == 0 &&
	    b->cfg.socket_src != CONFIG_SRC_ACTIVATION) {
		if (rp_fs_check_dir(dir, RP_DIR_PRIVATE, why, sizeof(why)) < 0) {
			rp_utf8_fmt(detail, sizeof(detail), "%s %s", dir, why);
			check(&ck, "socket_dir", "fail", detail);
		} else {
			check(&ck, "socket_dir", "ok", dir);
		}
	}
	if (b->cfg.service_dir[0] == '\0') {
		check(&ck, "service_dir", "warn", "no directory: neither -d, "
		    "$RUNNING_PROCESS_SERVICE_DEF_DIR, $XDG_CONFIG_HOME nor "
		    "$HOME is set");
	} else if (rp_fs_check_dir(b->cfg.service_dir, RP_DIR_PRIVATE, why,
	    sizeof(why)) < 0) {
		rp_utf8_fmt(detail, sizeof(detail), "%s %s", b->cfg.service_dir,
		    why);
		check(&ck, "service_dir", errno == ENOENT ? "warn" : "fail",
		    detail);
	} else {
		check(&ck, "service_dir", "ok", b->cfg.service_dir);
		check_definitions(b, &ck);
	}
	n = rp_fd_count();
	rp_utf8_fmt(detail, sizeof(detail),
	    "%d of %llu file descriptors open%s", n,
	    (unsigned long long)b->nofile_soft,
	    b->demoted ? "; accept ran out of fds (not ready)" : "");
	check(&ck, "fd_usage", b->demoted || broker_fd_pressure(b) ? "fail" :
	    (n >= 0 && (uint64_t)n * 10 >= b->nofile_soft * 8) ? "warn" : "ok",
	    detail);
	rp_utf8_fmt(detail, sizeof(detail),
	    "soft RLIMIT_NOFILE %llu (hard %llu) "
	    "for --max-clients %u",
	    (unsigned long long)b->nofile_soft,
	    (unsigned long long)b->nofile_hard, b->cfg.max_clients);
	check(&ck, "rlimit_nofile", b->nofile_soft <
	    (uint64_t)b->cfg.max_clients + BROKER_FD_SLACK ? "warn" : "ok",
	    detail);
	for (k = b->keys; k != NULL; k = k->next) {
		rp_utf8_fmt(why, sizeof(why), "backend:%s@%s", k->service,
		    k->version);
		rp_utf8_fmt(detail, sizeof(detail), "%s; %s%s",
		    bkey_state_name(k),
		    k->last_probe_detail[0] ? "last probe: " : "no probe yet",
		    k->last_probe_detail);
		/* A stopped backend is refused to every Hello until it is
		 * continued: that service fails. */
		check(&ck, why, (k->kind == BKEY_STATIC && !bkey_healthy(k)) ||
		    (k->stopped != 0 && k->pid > 0) ? "fail" :
		    k->kind == BKEY_SPAWNED && k->last_probe_ok == 0 &&
		    k->state != BKEY_LIVE ? "warn" : "ok", detail);
	}
	check(&ck, "accepting_hello", broker_accepting(b) ? "ok" : "warn",
	    broker_accepting(b) ? "accepting Hellos" :
	    "draining: not accepting");
	rp_json_arr_end(&j);
	rp_json_kstr(&j, "status", ck.fails ? "fail" : ck.warns ? "warn" :
	    "ok");
	rp_json_obj_end(&j);
	if (rp_json_finish(&j) != 0)
		return -1;
	return ck.fails ? 1 : 0;
}

