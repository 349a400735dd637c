#include "vm/zone_rctls.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "config/store.h"
#include "kstat/kstat_store.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/uuid.h"
#include "vm/ctl.h"
#include "vm/vm.h"


/* ---- finding the zone ------------------------------------------------------ */

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

/* The configured zone running with this zoneid, into uuid; -ENOENT if none
 * (find_uuid turns that into ZK_ENOZONE). */
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
			snprintf(uuid, ZK_UUID_BUFSZ, "%s", uuids[i]);
			r = 0;
		}
	}
	zk_strv_free(uuids, n);
	return r;
}

static int
find_uuid(const zk_paths *p, bool by_zoneid, const char *id, char *uuid,
    zk_error *err)
{
	int zoneid;
	if (!by_zoneid && zk_uuid_valid(id)) {
		snprintf(uuid, ZK_UUID_BUFSZ, "%s", id);
		return 0;
	}
	if (parse_zoneid(id, &zoneid)) {
		int r = uuid_of_zoneid(p, zoneid, uuid, err);
		if (r == -ENOENT)
			return zk_fail(err, ZK_ENOZONE, "%s: No such zone", id);
		return r < 0 ? zk_error_prefix(err, "%s", id) : 0;
	}
	if (by_zoneid)
		return zk_fail(err, EINVAL, "invalid zoneid %s", id);
	return zk_fail(err, ZK_ENOZONE, "%s: No such zone", id);
}

/*
 * Privileged values in force may differ from the config after an earlier
 * prctl; zoneadmd knows them.  Without an answer the config is shown.
 */
static void
overlay_live_values(const zk_paths *p, zk_zone_rctls *z)
{
	_cleanup_json_ json_t *live = NULL;
	zk_error ignored = { 0 };
	if (zk_vm_live_rctls(p, z->uuid, &live, &ignored) < 0)
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

static int
open_running(const zk_paths *p, const char *id, zk_zone_rctls *z,
    zk_error *err)
{
	int r = zk_store_load(p, z->uuid, &z->cfg, err);
	if (r == -ZK_ENOZONE)
		return zk_fail(err, ZK_ENOZONE, "%s: No such zone", id);
	zk_zone_status st;
	if (r < 0 || (r = zk_vm_status(p, z->uuid, &st, err)) < 0)
		return zk_error_prefix(err, "%s", id);
	if (!st.running)
		return zk_fail(err, ESRCH, "%s: No such zone (not running)", id);
	z->zoneid = st.zoneid;
	overlay_live_values(p, z);
	return 0;
}

int
zk_zone_rctls_open(const zk_paths *p, bool by_zoneid, const char *id,
    zk_zone_rctls *z, zk_error *err)
{
	*z = (zk_zone_rctls){ .zoneid = -1 };
	int r = find_uuid(p, by_zoneid, id, z->uuid, err);
	if (r == 0)
		r = open_running(p, id, z, err);
	if (r < 0)
		zk_zone_rctls_close(z);
	return r;
}

void
zk_zone_rctls_close(zk_zone_rctls *z)
{
	json_decref(z->cfg);
	z->cfg = NULL;
}

/* ---- usage ------------------------------------------------------------------- */

typedef struct usage_src {
	zk_kstat *ks;
	size_t nks;
	bool have_procs;
	uint64_t nprocs;
} usage_src;

static bool
kstat_u64(const usage_src *u, const zk_rctl_kstat *want, int zoneid,
    uint64_t *out)
{
	for (size_t i = 0; i < u->nks; i++) {
		const zk_kstat *k = &u->ks[i];
		if (k->instance != zoneid || strcmp(k->module, want->module) != 0 ||
		    strncmp(k->name, want->name_prefix,
		    strlen(want->name_prefix)) != 0)
			continue;
		for (size_t j = 0; j < k->nvalues; j++) {
			const zk_kstat_value *v = &k->values[j];
			if (strcmp(v->name, want->stat) != 0)
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

static bool
usage_of(const zk_rctl *r, const zk_zone_rctls *z, const usage_src *u,
    uint64_t *out)
{
	switch (r->usage) {
	case ZK_RCTL_USAGE_KSTAT:
		return kstat_u64(u, &r->usage_kstat, z->zoneid, out);
	case ZK_RCTL_USAGE_PROCS:
		*out = u->nprocs;
		return u->have_procs;
	case ZK_RCTL_USAGE_IN_FORCE:
		*out = zk_rctl_in_force(r, z->cfg);
		return true;
	}
	return false;
}

static void
gather_usage(const zk_paths *p, const zk_zone_rctls *z, usage_src *u,
    zk_error *warning)
{
	char dir[PATH_MAX];
	*u = (usage_src){ 0 };
	zk_kstat_read_dir(zk_kstat_dir(p->rundir, dir), &u->ks, &u->nks,
	    warning);
	_cleanup_cgroup_ zk_cgroup *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	zk_error ignored = { 0 };
	if (zk_cgroup_open(p->cgroup_root, p->cgroup_parent, z->uuid, &cg,
	    &ignored) == 0 && zk_cgroup_pids(cg, &pids, &n, &ignored) == 0) {
		u->have_procs = true;
		u->nprocs = n;
	}
}

int
zk_zone_rctls_rows(const zk_paths *p, const zk_zone_rctls *z,
    const char *name, zk_rctl_report_row **rows, size_t *n,
    zk_error *warning, zk_error *err)
{
	size_t ntable;
	const zk_rctl *table = zk_rctl_table(&ntable);
	_cleanup_free_ zk_rctl_report_row *out = calloc(ntable, sizeof(*out));
	if (out == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	usage_src u;
	*warning = (zk_error){ 0 };
	gather_usage(p, z, &u, warning);
	size_t k = 0;
	for (size_t i = 0; i < ntable; i++) {
		const zk_rctl *r = &table[i];
		if (name != NULL && strcmp(name, r->name) != 0)
			continue;
		zk_rctl_report_row *row = &out[k++];
		row->rctl = r;
		row->has_usage = usage_of(r, z, &u, &row->usage);
		row->has_privileged = zk_rctl_config_value(r, z->cfg,
		    &row->privileged);
	}
	zk_kstat_free(u.ks, u.nks);
	*rows = TAKE_PTR(out);
	*n = k;
	return 0;
}

/* ---- changes ----------------------------------------------------------------- */

static int
check_action(const zk_rctl_change_args *a, const zk_rctl *r, zk_error *err)
{
	if (a->action_op == 0)
		return 0;
	if (strcmp(a->action, "deny") != 0 && strcmp(a->action, "none") != 0)
		return zk_fail(err, EINVAL, "action %s is not supported on rctl "
		    "%s (only deny or none)", a->action, r->name);
	bool is_deny = strcmp(r->action, "deny") == 0;
	bool wants_deny = strcmp(a->action, "deny") == 0;
	if (a->action_op == 'e' && wants_deny != is_deny)
		return zk_fail(err, EINVAL, "rctl %s does not allow action %s "
		    "(its action is %s)", r->name, a->action, r->action);
	if (a->action_op == 'd' && wants_deny && is_deny)
		return zk_fail(err, EINVAL, "cannot disable action deny on rctl "
		    "%s", r->name);
	return 0;
}

int
zk_rctl_change_check(const zk_rctl_change_args *a, zk_rctl_change *out,
    zk_error *err)
{
	const zk_rctl *r = zk_rctl_find(a->name);
	if (r == NULL)
		return zk_fail(err, ENOENT, "unknown resource control %s",
		    a->name);
	if (a->priv == ZK_RCTL_PRIV_SYSTEM)
		return zk_fail(err, EPERM, "cannot modify system values");
	if (a->priv == ZK_RCTL_PRIV_BASIC)
		return zk_fail(err, EINVAL, "basic values not allowed on rctl %s",
		    r->name);
	*out = (zk_rctl_change){ .rctl = r, .op = a->op };
	/* with -x a value is checked, not used */
	int rc;
	if (a->value != NULL && ((rc = zk_rctl_parse_value(r, a->value,
	    &out->value, err)) < 0 || (rc = zk_rctl_check_settable(r,
	    out->value, a->value, err)) < 0))
		return rc;
	return check_action(a, r, err);
}

int
zk_zone_rctl_change(const zk_paths *p, const zk_zone_rctls *z,
    const zk_rctl_change *c, zk_error *err)
{
	if (c->op == ZK_RCTL_OP_NONE)
		return 0;
	zk_ctl_request req = { .op = c->op == ZK_RCTL_OP_DELETE ?
	    ZK_CTL_RCTL_DELETE : ZK_CTL_RCTL_SET };
	snprintf(req.rctl, sizeof(req.rctl), "%s", c->rctl->name);
	if (c->op == ZK_RCTL_OP_SET)
		snprintf(req.value, sizeof(req.value), "%" PRIu64, c->value);
	return zk_ctl_call(p, z->uuid, &req, NULL, err);
}
