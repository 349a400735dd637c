/*
 * The running zone's resource policy: its kstat file, the controllers of
 * controller.h driven from zoneadmd's event loop, and prctl's live changes
 * (overrides on top of the stored config, kept until the zone halts or
 * reboots, as rctl changes are on SmartOS).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "config/manifest.h"
#include "config/rctl.h"
#include "config/rctl_change.h"
#include "config/store.h"
#include "storage/storage.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/proc.h"
#include "zoneadmd.h"

#define MAX_KSTATS (8 * ZK_CTRL_MAX_KSTATS)

/* Epoch seconds the zone's init started: survives zoneadmd restarts. */
static uint64_t
boot_time_of(pid_t pid)
{
	uint64_t ticks = 0, btime = 0;
	if (zk_proc_starttime(pid, &ticks) < 0)
		return 0;
	_cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
	char line[256];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %" SCNu64, &btime) == 1)
			break;
	return btime + ticks / (uint64_t)sysconf(_SC_CLK_TCK);
}

static zk_zone_ctx
zone_ctx(const zoneadmd *z, size_t ks_base)
{
	zk_zone_ctx c = {
		.cg = z->cg, .cfg = z->effective, .zoneid = z->zoneid,
		.zonename = z->uuid, .init_pid = z->zone.pid,
		.boot_time = z->boot_time, .kstats = z->kstats,
		.ks_base = ks_base, .now_ns = zk_now_ns(),
	};
	return c;
}

/* ---- fds and the deadline timer ------------------------------------------ */

static bool
has_fd(const int *fds, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] == fd)
			return true;
	return false;
}

/* Controllers may change what they watch after any call. */
static void
sync_fds(zoneadmd *z, struct running_controller *c)
{
	int fds[ZK_CTRL_MAX_FDS];
	size_t n = c->ops->fds != NULL && c->state != NULL ?
	    c->ops->fds(c->state, fds) : 0;
	for (size_t i = 0; i < c->nfds; i++)
		if (!has_fd(fds, n, c->fds[i]))
			unwatch(z, c->fds[i]);
	for (size_t i = 0; i < n; i++)
		if (!has_fd(c->fds, c->nfds, fds[i]))
			watch(z, fds[i]);
	memcpy(c->fds, fds, n * sizeof(int));
	c->nfds = n;
}

static void
arm_timer(zoneadmd *z)
{
	uint64_t next = 0;
	for (size_t i = 0; i < z->nctrl; i++) {
		struct running_controller *c = &z->ctrl[i];
		uint64_t d = c->ops->deadline != NULL && c->state != NULL ?
		    c->ops->deadline(c->state) : 0;
		if (d != 0 && (next == 0 || d < next))
			next = d;
	}
	/* Absolute time; zero disarms, so an idle zone never wakes us. */
	struct itimerspec t = { .it_value = {
	    .tv_sec = (time_t)(next / 1000000000ULL),
	    .tv_nsec = (long)(next % 1000000000ULL) } };
	timerfd_settime(z->policy_timer_fd, TFD_TIMER_ABSTIME, &t, NULL);
}

static void
after_call(zoneadmd *z, struct running_controller *c, int r,
    const zk_error *err, const char *what)
{
	if (r < 0)
		zlog(z, "%s %s: %s", c->ops->name, what, err->msg);
	sync_fds(z, c);
}

/* ---- the effective config ------------------------------------------------- */

static void
set_effective(zoneadmd *z, json_t *stored)
{
	json_t *eff = json_deep_copy(stored);
	const char *key;
	json_t *v;
	json_object_foreach(z->overrides, key, v) {
		if (json_is_null(v))
			json_object_del(eff, key);
		else
			json_object_set(eff, key, v);
	}
	json_decref(z->effective);
	z->effective = eff;
}

static int
apply_effective(zoneadmd *z, zk_error *err)
{
	int r = zk_rctl_apply_all(z->cg, z->effective, err);
	for (size_t i = 0; i < z->nctrl; i++) {
		struct running_controller *c = &z->ctrl[i];
		if (c->state == NULL || c->ops->reconfigure == NULL)
			continue;
		zk_zone_ctx ctx = zone_ctx(z, c->ks_base);
		zk_error e = { 0 };
		after_call(z, c, c->ops->reconfigure(c->state, &ctx, &e), &e,
		    "reconfigure");
	}
	arm_timer(z);
	return r;
}

/* ---- start and stop --------------------------------------------------------- */

static int
create_kstats(zoneadmd *z, zk_error *err)
{
	zk_kstat_def defs[MAX_KSTATS];
	size_t n = 0;
	for (size_t i = 0; i < z->nctrl; i++) {
		struct running_controller *c = &z->ctrl[i];
		c->ks_base = n;
		if (c->ops->kstats != NULL)
			n += c->ops->kstats(z->zoneid, z->uuid, defs + n);
	}
	char dir[PATH_MAX];
	return zk_kstat_pub_create(zk_kstat_dir(z->paths.rundir, dir), z->uuid,
	    defs, n, &z->kstats, err);
}

int
policy_start(zoneadmd *z, zk_error *err)
{
	if (z->policy_timer_fd < 0) {
		z->policy_timer_fd = timerfd_create(CLOCK_BOOTTIME,
		    TFD_CLOEXEC | TFD_NONBLOCK);
		if (z->policy_timer_fd < 0)
			return zk_fail_errno(err, errno, "timerfd");
		watch(z, z->policy_timer_fd);
	}
	_cleanup_json_ json_t *stored = NULL;
	int r = zk_store_load(&z->paths, z->uuid, &stored, err);
	if (r < 0)
		return r;
	if (z->overrides == NULL)
		z->overrides = json_object();
	/* Once per boot: controllers ask for it on every wake-up. */
	z->boot_time = boot_time_of(z->zone.pid);
	set_effective(z, stored);
	size_t n;
	const zk_controller_ops *const *ops = zk_controllers(&n);
	z->nctrl = n < ZK_ARRAY_SIZE(z->ctrl) ? n : ZK_ARRAY_SIZE(z->ctrl);
	for (size_t i = 0; i < z->nctrl; i++)
		z->ctrl[i] = (struct running_controller){ .ops = ops[i] };
	if ((r = create_kstats(z, err)) < 0)
		return r;
	for (size_t i = 0; i < z->nctrl; i++) {
		struct running_controller *c = &z->ctrl[i];
		zk_zone_ctx ctx = zone_ctx(z, c->ks_base);
		zk_error e = { 0 };
		/* A controller that cannot start costs the zone its figures,
		 * not its life: the kernel still enforces the limits. */
		if (c->ops->start != NULL &&
		    c->ops->start(&c->state, &ctx, &e) < 0) {
			zlog(z, "%s: %s", c->ops->name, e.msg);
			c->state = NULL;
		}
		sync_fds(z, c);
	}
	arm_timer(z);
	return 0;
}

void
policy_stop(zoneadmd *z, bool remove_kstats)
{
	for (size_t i = 0; i < z->nctrl; i++) {
		struct running_controller *c = &z->ctrl[i];
		for (size_t j = 0; j < c->nfds; j++)
			unwatch(z, c->fds[j]);
		c->nfds = 0;
		if (c->state != NULL && c->ops->stop != NULL)
			c->ops->stop(c->state);
		c->state = NULL;
	}
	z->nctrl = 0;
	if (z->kstats != NULL)
		zk_kstat_pub_close(z->kstats, remove_kstats);
	z->kstats = NULL;
	if (z->policy_timer_fd >= 0)
		arm_timer(z);
	json_decref(z->overrides);
	z->overrides = NULL;
	json_decref(z->effective);
	z->effective = NULL;
}

/* ---- events ------------------------------------------------------------------- */

static void
on_timer(zoneadmd *z)
{
	uint64_t expirations;
	if (read(z->policy_timer_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		zlog(z, "policy timer: %s", strerror(errno));
	uint64_t now = zk_now_ns();
	for (size_t i = 0; i < z->nctrl; i++) {
		struct running_controller *c = &z->ctrl[i];
		if (c->state == NULL || c->ops->deadline == NULL ||
		    c->ops->on_deadline == NULL)
			continue;
		uint64_t d = c->ops->deadline(c->state);
		if (d == 0 || d > now)
			continue;
		zk_zone_ctx ctx = zone_ctx(z, c->ks_base);
		zk_error e = { 0 };
		after_call(z, c, c->ops->on_deadline(c->state, &ctx, &e), &e,
		    "deadline");
	}
	arm_timer(z);
}

bool
policy_on_fd(zoneadmd *z, int fd)
{
	if (fd == z->policy_timer_fd && fd >= 0) {
		on_timer(z);
		return true;
	}
	for (size_t i = 0; i < z->nctrl; i++) {
		struct running_controller *c = &z->ctrl[i];
		if (c->state == NULL || !has_fd(c->fds, c->nfds, fd))
			continue;
		zk_zone_ctx ctx = zone_ctx(z, c->ks_base);
		zk_error e = { 0 };
		after_call(z, c, c->ops->on_fd(c->state, &ctx, fd, &e), &e,
		    "event");
		arm_timer(z);
		return true;
	}
	return false;
}

/* ---- requests -------------------------------------------------------------------- */

int
policy_reload(zoneadmd *z, zk_error *err)
{
	_cleanup_json_ json_t *stored = NULL;
	int r = zk_store_load(&z->paths, z->uuid, &stored, err);
	if (r < 0)
		return r;
	json_object_clear(z->overrides);
	set_effective(z, stored);
	return apply_effective(z, err);
}

/*
 * The change (zk_rctl_change_config) is kept as overrides of the
 * properties it ended up changing.
 */
int
policy_set_rctl(zoneadmd *z, const char *name, const char *value,
    zk_error *err)
{
	const zk_rctl *row = zk_rctl_find(name);
	if (row == NULL)
		return zk_fail(err, EINVAL, "unknown rctl %s", name);
	if (z->effective == NULL)
		return zk_fail(err, ESRCH, "zone %s is not running", z->uuid);
	_cleanup_json_ json_t *next = NULL, *stored = NULL;
	zk_pool_info pool;
	zk_manifest_ctx ctx = { .uuid = z->uuid, .now_iso = "" };
	int r;
	if ((r = zk_pool_probe(&z->paths, &pool, err)) < 0)
		return r;
	ctx.pool_has_quota = pool.has_quota;
	ctx.zpool = pool.name;
	if ((r = zk_rctl_change_config(z->effective, row, value, &ctx, &next,
	    err)) < 0 || (r = zk_store_load(&z->paths, z->uuid, &stored,
	    err)) < 0)
		return r;
	size_t n;
	const zk_rctl *rows = zk_rctl_table(&n);
	for (size_t i = 0; i < n; i++) {
		const char *prop = rows[i].property;
		json_t *want = json_object_get(next, prop);
		if (json_equal(want, json_object_get(stored, prop)))
			json_object_del(z->overrides, prop);
		else
			json_object_set(z->overrides, prop,
			    want != NULL ? want : json_null());
	}
	set_effective(z, stored);
	zlog(z, "prctl: %s %s", name, value != NULL ? value : "deleted");
	return apply_effective(z, err);
}

/* The rctl properties in force, as compact JSON (prctl's report). */
char *
policy_rctl_values(const zoneadmd *z)
{
	_cleanup_json_ json_t *out = json_object();
	size_t n;
	const zk_rctl *rows = zk_rctl_table(&n);
	for (size_t i = 0; i < n && z->effective != NULL; i++) {
		json_t *v = json_object_get(z->effective, rows[i].property);
		if (v != NULL)
			json_object_set(out, rows[i].property, v);
	}
	return json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
}
