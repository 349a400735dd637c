/*
 * prctl: report and change the zone.* resource controls of running zones,
 * as on SmartOS.  Privileged values come from the zone's config, usage from
 * its kstats and cgroup, system values from the rctl table; changes are
 * sent to the zone's zoneadmd and last until the zone halts.
 * Exit status: 0 success, 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "config/rctl.h"
#include "config/store.h"
#include "kstat/kstat_store.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/paths.h"
#include "util/uuid.h"
#include "view/rctl_value.h"
#include "vm/ctl.h"
#include "vm/vm.h"

#define EXIT_USAGE 2

static void
usage(void)
{
	fprintf(stderr,
	    "Usage: prctl [-P] [-t basic|privileged|system] [-n name] "
	    "[-s|-r|-x] [-v value] [-e|-d action] [-i idtype] id...\n\n"
	    "  Report resource control values:\n"
	    "    prctl [-P] [-t basic|privileged|system] [-n name] "
	    "-i zone|zoneid id...\n"
	    "  Change a zone's privileged value until the zone halts:\n"
	    "    prctl [-t privileged] -n name [-s|-r] -v value "
	    "[-e|-d deny|none] -i zone|zoneid id...\n"
	    "    prctl [-t privileged] -n name -x -i zone|zoneid id...\n\n"
	    "  -P  space-separated output    -t  privilege of the values\n"
	    "  -n  resource control name     -s  set   -r  replace   "
	    "-x  delete\n"
	    "  -v  value, scaled (K M G T P E; powers of 1024 for bytes)\n"
	    "  -e/-d  enable/disable an action   -i  idtype of the ids\n");
	exit(EXIT_USAGE);
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, "prctl: %s\n", msg);
	usage();
	return EXIT_USAGE;
}

typedef struct prctl_opts {
	bool parseable;
	zk_rctl_priv priv;		/* ANY when -t is absent */
	const char *name;
	char op;			/* 's', 'r', 'x' or 0 */
	const char *value;
	char action_op;			/* 'e', 'd' or 0 */
	const char *action;
	const char *idtype;
} prctl_opts;

/* ---- options ------------------------------------------------------------- */

static const char *const unsupported_idtypes[] = {
	"process", "pid", "project", "projid", "task", "taskid",
};

static void
parse_args(int argc, char *argv[], prctl_opts *o)
{
	int opt, nops = 0;
	*o = (prctl_opts){ .priv = ZK_RCTL_PRIV_ANY, .idtype = "process" };
	opterr = 0;
	while ((opt = getopt(argc, argv, "+Pt:n:srxv:e:d:i:")) != -1) {
		switch (opt) {
		case 'P': o->parseable = true; break;
		case 't':
			if (zk_rctl_priv_parse(optarg, &o->priv) < 0) {
				fprintf(stderr, "prctl: unknown privilege %s\n",
				    optarg);
				usage();
			}
			break;
		case 'n': o->name = optarg; break;
		case 's': case 'r': case 'x':
			if (o->op != opt)
				nops++;
			o->op = (char)opt;
			break;
		case 'v': o->value = optarg; break;
		case 'e': case 'd':
			if (o->action_op != 0 && o->action_op != opt)
				usage_error("options -d and -e are exclusive");
			o->action_op = (char)opt;
			o->action = optarg;
			break;
		case 'i': o->idtype = optarg; break;
		default:
			if (optopt != 0 && strchr("tnvedi", optopt) != NULL)
				fprintf(stderr, "prctl: option -%c requires an "
				    "argument\n", optopt);
			else
				fprintf(stderr, "prctl: unknown option -%c\n",
				    optopt);
			usage();
		}
	}
	if (optind >= argc)
		usage_error("no arguments specified");
	if (nops > 1)
		usage_error("options -s, -r, and -x are exclusive");
	/* As on illumos: -v alone means -s. */
	if (o->value != NULL && o->op == 0 && o->action_op == 0)
		o->op = 's';
	if ((o->op != 0 || o->action_op != 0) && o->name == NULL)
		usage_error("-n is required with -s, -r, -x, -e, or -d");
	if (o->op == 'x' && o->action_op != 0)
		usage_error("options -e or -d not allowed with -x");
	if ((o->op == 's' || o->op == 'r') && o->value == NULL)
		usage_error(o->op == 's' ? "option -s requires use of option -v" :
		    "option -r requires use of option -v");
	if ((o->op != 0 || o->action_op != 0) && o->parseable)
		usage_error("-P not valid when manipulating resource control "
		    "values");
	if (strcmp(o->idtype, "zone") == 0 || strcmp(o->idtype, "zoneid") == 0)
		return;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(unsupported_idtypes); i++) {
		if (strcmp(o->idtype, unsupported_idtypes[i]) == 0) {
			fprintf(stderr, "prctl: idtype %s is not supported yet "
			    "(use -i zone or -i zoneid)\n", o->idtype);
			exit(1);
		}
	}
	fprintf(stderr, "prctl: unknown idtype %s\n", o->idtype);
	usage();
}

/* ---- finding the zone ------------------------------------------------------ */

typedef struct zone_ref {
	char uuid[ZK_UUID_LEN + 1];
	int zoneid;
	json_t *cfg;
} zone_ref;

static bool
parse_zoneid(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

/* The configured zone running with this zoneid, into uuid; -ENOENT if none. */
static int
uuid_of_zoneid(const zk_paths *p, int zoneid, char *uuid, zk_error *err)
{
	char **uuids = NULL;
	size_t n = 0;
	int r = zk_store_list(p, &uuids, &n, err);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n && r == -ENOENT; i++) {
		zk_zone_status st;
		zk_error ignored = { 0 };
		if (zk_vm_status(p, uuids[i], &st, &ignored) == 0 &&
		    st.running && st.zoneid == zoneid) {
			snprintf(uuid, ZK_UUID_LEN + 1, "%s", uuids[i]);
			r = 0;
		}
	}
	zk_strv_free(uuids, n);
	return r;
}

/*
 * Privileged values in force may differ from the config after an earlier
 * prctl; zoneadmd knows them.  Without an answer the config is shown.
 */
static void
overlay_live_values(const zk_paths *p, zone_ref *z)
{
	_cleanup_json_ json_t *live = NULL;
	if (zk_vm_live_rctls(p, z->uuid, &live, NULL) < 0)
		return;
	size_t n;
	const zk_rctl *rows = zk_rctl_table(&n);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(live, rows[i].property);
		if (v != NULL)
			json_object_set(z->cfg, rows[i].property, v);
		else
			json_object_del(z->cfg, rows[i].property);
	}
}

/*
 * A running zone by name (its uuid) or zoneid.  As illumos's zone_get_id(),
 * -i zone falls back to a numeric id.  Any failure is printed here, on one
 * line, as "prctl: <id>: ...".
 */
static int
find_zone(const zk_paths *p, const char *idtype, const char *id, zone_ref *z)
{
	zk_error err = { 0 };
	int zoneid, r;
	z->cfg = NULL;
	if (strcmp(idtype, "zone") == 0 && zk_uuid_valid(id)) {
		snprintf(z->uuid, sizeof(z->uuid), "%s", id);
	} else if (parse_zoneid(id, &zoneid)) {
		r = uuid_of_zoneid(p, zoneid, z->uuid, &err);
		if (r == -ENOENT)
			goto no_such_zone;
		if (r < 0)
			goto fail;
	} else {
		if (strcmp(idtype, "zoneid") == 0) {
			fprintf(stderr, "prctl: invalid zoneid %s\n", id);
			return -EINVAL;
		}
		goto no_such_zone;
	}
	r = zk_store_load(p, z->uuid, &z->cfg, &err);
	if (r == -ZK_ENOZONE)
		goto no_such_zone;
	if (r < 0)
		goto fail;
	zk_zone_status st;
	r = zk_vm_status(p, z->uuid, &st, &err);
	if (r < 0)
		goto fail;
	if (!st.running) {
		fprintf(stderr, "prctl: %s: No such zone (not running)\n", id);
		r = -ESRCH;
		goto out;
	}
	z->zoneid = st.zoneid;
	overlay_live_values(p, z);
	return 0;
no_such_zone:
	fprintf(stderr, "prctl: %s: No such zone\n", id);
	r = -ENOENT;
	goto out;
fail:
	fprintf(stderr, "prctl: %s: %s\n", id, err.msg);
out:
	json_decref(z->cfg);
	z->cfg = NULL;
	return r;
}

/* ---- report -------------------------------------------------------------- */

typedef struct usage_src {
	zk_kstat *ks;
	size_t nks;
	bool have_pids;
	uint64_t npids;
} usage_src;

static bool
kstat_u64(const usage_src *u, const char *module, const char *name_prefix,
    int zoneid, const char *stat, uint64_t *out)
{
	for (size_t i = 0; i < u->nks; i++) {
		const zk_kstat *k = &u->ks[i];
		if (k->instance != zoneid || strcmp(k->module, module) != 0 ||
		    strncmp(k->name, name_prefix, strlen(name_prefix)) != 0)
			continue;
		for (size_t j = 0; j < k->nvalues; j++) {
			const zk_kstat_value *v = &k->values[j];
			if (strcmp(v->name, stat) != 0)
				continue;
			if (v->type == ZK_KSTAT_UINT64)
				*out = v->v.u64;
			else if (v->type == ZK_KSTAT_INT64 && v->v.i64 >= 0)
				*out = (uint64_t)v->v.i64;
			else
				return false;
			return true;
		}
	}
	return false;
}

/* Where each rctl's usage comes from, as SmartOS reports it. */
static bool
usage_of(const zk_rctl *r, const zone_ref *z, const usage_src *u,
    uint64_t *out)
{
	static const struct {
		const char *rctl, *module, *name, *stat;
	} from_kstat[] = {
		{ "zone.max-physical-memory", "memory_cap", "", "rss" },
		{ "zone.max-swap", "memory_cap", "", "swap" },
		{ "zone.cpu-cap", "caps", "cpucaps_zone_", "usage" },
		{ "zone.cpu-baseline", "caps", "cpucaps_zone_", "baseline" },
		{ "zone.cpu-burst-time", "caps", "cpucaps_zone_", "bursting_sec" },
	};
	for (size_t i = 0; i < ZK_ARRAY_SIZE(from_kstat); i++)
		if (strcmp(r->name, from_kstat[i].rctl) == 0)
			return kstat_u64(u, from_kstat[i].module,
			    from_kstat[i].name, z->zoneid, from_kstat[i].stat, out);
	if (strcmp(r->name, "zone.max-lwps") == 0) {
		*out = u->npids;
		return u->have_pids;
	}
	if (strcmp(r->name, "zone.cpu-shares") == 0) {
		/* The default zonekit applies when the property is absent. */
		long long shares = zk_json_int(z->cfg, "cpu_shares", 100);
		*out = shares < 0 ? 0 : (uint64_t)shares;
		return true;
	}
	if (strcmp(r->name, "zone.zfs-io-priority") == 0 ||
	    strcmp(r->name, "zone.max-locked-memory") == 0)
		return zk_rctl_config_value(r, z->cfg, out);
	return false;
}

/* Usage figures are best effort: a zone whose kstats or cgroup cannot be
 * read still has its values reported, without those usage lines. */
static void
gather_usage(const zk_paths *p, const zone_ref *z, const char *id,
    usage_src *u)
{
	zk_error err = { 0 };
	char dir[PATH_MAX];
	*u = (usage_src){ 0 };
	if (zk_kstat_read_dir(zk_kstat_dir(p->rundir, dir), &u->ks, &u->nks,
	    &err) < 0)
		fprintf(stderr, "prctl: %s: warning: %s\n", id, err.msg);
	_cleanup_cgroup_ zk_cgroup *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	if (zk_cgroup_open(p->cgroup_root, p->cgroup_parent, z->uuid, &cg,
	    &err) == 0 && zk_cgroup_pids(cg, &pids, &n, &err) == 0) {
		u->have_pids = true;
		u->npids = n;
	}
}

static int
report_zone(const zk_paths *p, const prctl_opts *o, const char *id)
{
	zone_ref z;
	if (find_zone(p, o->idtype, id, &z) < 0)
		return 1;
	_cleanup_json_ json_t *cfg = z.cfg;
	usage_src u;
	gather_usage(p, &z, id, &u);

	size_t n;
	const zk_rctl *table = zk_rctl_table(&n);
	_cleanup_free_ zk_rctl_report_row *rows = calloc(n, sizeof(*rows));
	if (rows == NULL) {
		zk_kstat_free(u.ks, u.nks);
		fprintf(stderr, "prctl: out of memory\n");
		return 1;
	}
	size_t nrows = 0;
	for (size_t i = 0; i < n; i++) {
		const zk_rctl *r = &table[i];
		if (o->name != NULL && strcmp(o->name, r->name) != 0)
			continue;
		zk_rctl_report_row *row = &rows[nrows++];
		row->rctl = r;
		row->has_usage = usage_of(r, &z, &u, &row->usage);
		row->has_privileged = zk_rctl_config_value(r, cfg,
		    &row->privileged);
	}
	zk_kstat_free(u.ks, u.nks);
	zk_rctl_report rep = {
		.zoneid = z.zoneid, .zonename = z.uuid,
		.parseable = o->parseable, .only = o->priv,
		.rows = rows, .nrows = nrows,
	};
	_cleanup_free_ char *text = zk_rctl_report_render(&rep);
	if (text == NULL) {
		fprintf(stderr, "prctl: out of memory\n");
		return 1;
	}
	fputs(text, stdout);
	return 0;
}

/* ---- modify ----------------------------------------------------------------- */

/*
 * zone.* rctls carry the one action their table row names; -e of that
 * action, or -d of an action they do not take, changes nothing.  What
 * would change it is refused: deny is always on for a deny rctl and never
 * available on the others.
 */
static int
check_action(const prctl_opts *o, const zk_rctl *r)
{
	if (o->action_op == 0)
		return 0;
	if (strcmp(o->action, "deny") != 0 && strcmp(o->action, "none") != 0) {
		fprintf(stderr, "prctl: action %s is not supported on rctl %s "
		    "(only deny or none)\n", o->action, r->name);
		return -EINVAL;
	}
	bool is_deny = strcmp(r->action, "deny") == 0;
	bool wants_deny = strcmp(o->action, "deny") == 0;
	if (o->action_op == 'e' && wants_deny != is_deny) {
		fprintf(stderr, "prctl: rctl %s does not allow action %s "
		    "(its action is %s)\n", r->name, o->action, r->action);
		return -EINVAL;
	}
	if (o->action_op == 'd' && wants_deny && is_deny) {
		fprintf(stderr, "prctl: cannot disable action deny on rctl %s\n",
		    r->name);
		return -EINVAL;
	}
	return 0;
}

static int
modify_zone(const zk_paths *p, const prctl_opts *o, const char *request,
    const char *id)
{
	zone_ref z;
	if (find_zone(p, o->idtype, id, &z) < 0)
		return 1;
	json_decref(z.cfg);
	if (request == NULL)
		return 0;
	zk_error err = { 0 };
	zk_ctl_request req;
	if (zk_ctl_parse_request(request, &req, &err) < 0 ||
	    zk_ctl_call(p, z.uuid, &req, NULL, &err) < 0) {
		fprintf(stderr, "prctl: %s: %s\n", id, err.msg);
		return 1;
	}
	return 0;
}

/* Validate the change once, then build the request zoneadmd gets. */
static int
build_request(const prctl_opts *o, char *req, size_t len)
{
	const zk_rctl *r = zk_rctl_find(o->name);
	if (r == NULL) {
		fprintf(stderr, "prctl: unknown resource control %s\n", o->name);
		return -ENOENT;
	}
	if (o->priv == ZK_RCTL_PRIV_SYSTEM) {
		fprintf(stderr, "prctl: cannot modify system values\n");
		return -EPERM;
	}
	if (o->priv == ZK_RCTL_PRIV_BASIC) {
		fprintf(stderr, "prctl: basic values not allowed on rctl %s\n",
		    r->name);
		return -EINVAL;
	}
	uint64_t v = 0;
	zk_error err = { 0 };
	if (o->value != NULL && (zk_rctl_parse_value(r, o->value, &v, &err) < 0 ||
	    zk_rctl_check_settable(r, v, o->value, &err) < 0)) {
		fprintf(stderr, "prctl: %s\n", err.msg);
		return -EINVAL;
	}
	if (check_action(o, r) < 0)
		return -EINVAL;
	if (o->op == 'x')
		snprintf(req, len, "rctl delete %s", r->name);
	else if (o->op == 's' || o->op == 'r')
		snprintf(req, len, "rctl set %s %" PRIu64, r->name, v);
	else
		req[0] = '\0';
	return 0;
}

int
main(int argc, char *argv[])
{
	prctl_opts o;
	parse_args(argc, argv, &o);
	zk_paths p;
	zk_error err = { 0 };
	if (zk_paths_from_env(&p, &err) < 0) {
		fprintf(stderr, "prctl: %s\n", err.msg);
		return 1;
	}
	bool modify = o.op != 0 || o.action_op != 0;
	char request[256];
	if (modify && build_request(&o, request, sizeof(request)) < 0)
		return 1;
	if (!modify && o.name != NULL && zk_rctl_find(o.name) == NULL) {
		fprintf(stderr, "prctl: unknown resource control %s\n", o.name);
		return 1;
	}
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		int r = modify ? modify_zone(&p, &o, request[0] ? request : NULL,
		    argv[i]) : report_zone(&p, &o, argv[i]);
		if (r != 0)
			rc = 1;
	}
	return rc;
}
