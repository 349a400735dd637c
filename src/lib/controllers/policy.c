/*
 * The running zone's resource policy (policy.h): the controllers of
 * controller.h on an epoll fd of their own, the zone's kstat file laid out
 * for the config in force, and prctl's overrides.
 */
#include "controllers/policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "config/manifest.h"
#include "config/rctl.h"
#include "config/rctl_change.h"
#include "config/store.h"
#include "controllers/controller.h"
#include "storage/storage.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/json_util.h"
#include "util/proc.h"
#include "util/uuid.h"

#define MAX_CTRL 8
#define MAX_KSTATS (MAX_CTRL * ZK_CTRL_MAX_KSTATS)

typedef struct running {
	const zk_controller_ops *ops;
	void *state;		/* NULL: not started, or failed to */
	size_t ks_base, nks;	/* its kstats in the file; nks 0: none now */
	size_t nfds;
	int fds[ZK_CTRL_MAX_FDS];	/* in the epoll set */
} running;

struct zk_policy {
	zk_cgroup *cg;
	const zk_paths *paths;	/* the caller's: outlives the policy */
	char uuid[ZK_UUID_BUFSZ];
	int zoneid;
	pid_t init_pid;
	uint64_t boot_time;	/* epoch seconds init started */
	zk_policy_log_fn *log;
	void *log_arg;
	zk_policy_clock_fn *clock;
	void *clock_arg;
	int epfd, timer_fd;
	json_t *overrides;	/* prctl changes: property -> value or null */
	json_t *effective;	/* stored config with the overrides applied */
	zk_kstat_pub *kstats;
	zk_kstat_def layout[MAX_KSTATS];	/* what the file holds */
	size_t nlayout;
	running ctrl[MAX_CTRL];
	size_t nctrl;
};

static void __attribute__((format(printf, 2, 3)))
plog(const zk_policy *p, const char *fmt, ...)
{
	if (p->log == NULL)
		return;
	char msg[ZK_ERROR_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->log(p->log_arg, msg);
}

static uint64_t
now_ns(const zk_policy *p)
{
	return p->clock != NULL ? p->clock(p->clock_arg) : zk_now_ns();
}

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

/* A controller without kstats in the file now gets none to write. */
static zk_zone_ctx
zone_ctx(const zk_policy *p, const running *c)
{
	zk_zone_ctx z = {
		.cg = p->cg, .cfg = p->effective, .zoneid = p->zoneid,
		.zonename = p->uuid, .init_pid = p->init_pid,
		.boot_time = p->boot_time,
		.kstats = c != NULL && c->nks > 0 ? p->kstats : NULL,
		.ks_base = c != NULL ? c->ks_base : 0, .now_ns = now_ns(p),
	};
	return z;
}

/* ---- descriptors and the deadline timer ---------------------------------- */

static bool
has_fd(const int *fds, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] == fd)
			return true;
	return false;
}

/*
 * A controller may close an fd and get the same number back for a new one
 * in one call; the kernel dropped the old file from the set, so a number
 * already known is modified, or added again when the set has lost it.
 */
static int
watch(const zk_policy *p, int fd, bool known, zk_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (known && epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return zk_fail_errno(err, errno, "cannot watch fd %d", fd);
	return 0;
}

/* Controllers may change what they watch after any call.  An fd that
 * cannot be watched is left out, so the next call tries it again. */
static int
sync_fds(zk_policy *p, running *c, zk_error *err)
{
	int want[ZK_CTRL_MAX_FDS], now[ZK_CTRL_MAX_FDS];
	size_t nwant = c->ops->fds != NULL && c->state != NULL ?
	    c->ops->fds(c->state, want) : 0, nnow = 0;
	int r = 0;
	for (size_t i = 0; i < c->nfds; i++)
		if (!has_fd(want, nwant, c->fds[i]))
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->fds[i], NULL);
	for (size_t i = 0; i < nwant; i++) {
		if (watch(p, want[i], has_fd(c->fds, c->nfds, want[i]),
		    err) == 0)
			now[nnow++] = want[i];
		else if (r == 0)
			r = zk_error_prefix(err, "%s", c->ops->name);
	}
	memcpy(c->fds, now, nnow * sizeof(int));
	c->nfds = nnow;
	return r;
}

static void
arm_timer(zk_policy *p)
{
	uint64_t next = 0, now = now_ns(p);
	for (size_t i = 0; i < p->nctrl; i++) {
		running *c = &p->ctrl[i];
		uint64_t d = c->ops->deadline != NULL && c->state != NULL ?
		    c->ops->deadline(c->state) : 0;
		if (d != 0 && (next == 0 || d < next))
			next = d;
	}
	/* Zero disarms, so an idle zone never wakes its supervisor; a
	 * deadline already past fires at once. */
	uint64_t in = next == 0 ? 0 : next > now ? next - now : 1;
	int r = zk_timer_set(p->timer_fd, in);
	if (r < 0)
		plog(p, "policy timer: %s", strerror(-r));
}

/* Log what a controller's call (and watching its fds) did not manage;
 * returns the first failure. */
static int
after_call(zk_policy *p, running *c, int r, zk_error *e, const char *what)
{
	if (r < 0)
		plog(p, "%s %s: %s", c->ops->name, what, e->msg);
	zk_error we = { 0 };
	int w = sync_fds(p, c, &we);
	if (w < 0) {
		plog(p, "%s", we.msg);
		if (r == 0) {
			*e = we;
			r = w;
		}
	}
	return r;
}

/* ---- the kstat file ---------------------------------------------------------- */

static bool
same_kstat(const zk_kstat_def *a, const zk_kstat_def *b)
{
	return a->instance == b->instance && a->stats == b->stats &&
	    a->nstats == b->nstats && strcmp(a->module, b->module) == 0 &&
	    strcmp(a->name, b->name) == 0 && strcmp(a->class, b->class) == 0;
}

/* The kstats the effective config calls for; each controller's place. */
static size_t
layout_for(const zk_policy *p, zk_kstat_def *defs, size_t *base, size_t *nks)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nctrl; i++) {
		const running *c = &p->ctrl[i];
		zk_zone_ctx z = zone_ctx(p, NULL);
		base[i] = n;
		nks[i] = c->ops->kstats != NULL ? c->ops->kstats(&z, defs + n) :
		    0;
		n += nks[i];
	}
	return n;
}

/*
 * A new file only when the set of kstats changes (a cap given or taken
 * away): it replaces the old one whole, and the controllers' next calls
 * (reconfigure, right after) fill it in.
 */
static int
sync_kstats(zk_policy *p, zk_error *err)
{
	zk_kstat_def defs[MAX_KSTATS];
	size_t base[MAX_CTRL], nks[MAX_CTRL];
	size_t n = layout_for(p, defs, base, nks);
	bool same = p->kstats != NULL && n == p->nlayout;
	for (size_t i = 0; same && i < n; i++)
		same = same_kstat(&defs[i], &p->layout[i]);
	if (same)
		return 0;
	char dir[PATH_MAX];
	zk_kstat_pub *pub = NULL;
	int r = zk_kstat_pub_create(zk_kstat_dir(p->paths->rundir, dir), p->uuid,
	    defs, n, &pub, err);
	if (r < 0)
		return r;
	zk_kstat_pub_close(p->kstats, false);	/* its path is pub's now */
	p->kstats = pub;
	memcpy(p->layout, defs, n * sizeof(defs[0]));
	p->nlayout = n;
	for (size_t i = 0; i < p->nctrl; i++) {
		p->ctrl[i].ks_base = base[i];
		p->ctrl[i].nks = nks[i];
	}
	return 0;
}

/* ---- the effective config ---------------------------------------------------- */

static int
set_effective(zk_policy *p, const json_t *stored, zk_error *err)
{
	json_t *eff = json_deep_copy(stored);
	if (eff == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	const char *key;
	json_t *v;
	json_object_foreach(p->overrides, key, v) {
		if (json_is_null(v))
			json_object_del(eff, key);
		else
			json_object_set(eff, key, v);
	}
	json_decref(p->effective);
	p->effective = eff;
	return 0;
}

static void
keep_first(int *r, zk_error *err, int r2, const zk_error *e2)
{
	if (*r == 0 && r2 < 0) {
		*r = r2;
		*err = *e2;
	}
}

/* Everything in force, or the first thing that is not. */
static int
apply_effective(zk_policy *p, zk_error *err)
{
	zk_error e = { 0 };
	int r = zk_rctl_apply_all(p->cg, p->effective, err);
	keep_first(&r, err, sync_kstats(p, &e), &e);
	for (size_t i = 0; i < p->nctrl; i++) {
		running *c = &p->ctrl[i];
		if (c->state == NULL || c->ops->reconfigure == NULL)
			continue;
		zk_zone_ctx z = zone_ctx(p, c);
		zk_error_clear(&e);
		int rc = c->ops->reconfigure(c->state, &z, &e);
		keep_first(&r, err, after_call(p, c, rc, &e, "reconfigure"),
		    &e);
	}
	arm_timer(p);
	return r;
}

/* ---- start and stop ------------------------------------------------------------ */

static void
start_controllers(zk_policy *p)
{
	for (size_t i = 0; i < p->nctrl; i++) {
		running *c = &p->ctrl[i];
		zk_zone_ctx z = zone_ctx(p, c);
		zk_error e = { 0 };
		/* A controller that cannot start costs the zone its figures,
		 * not its life: the kernel still enforces the limits. */
		if (c->ops->start != NULL && c->ops->start(&c->state, &z, &e) < 0) {
			plog(p, "%s: %s", c->ops->name, e.msg);
			c->state = NULL;
		}
		zk_error_clear(&e);
		after_call(p, c, 0, &e, "start");
	}
	arm_timer(p);
}

static int
policy_init(zk_policy *p, const zk_policy_params *prm, zk_error *err)
{
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0)
		return zk_fail_errno(err, errno, "policy: epoll");
	p->timer_fd = zk_timer_new();
	if (p->timer_fd < 0)
		return zk_fail_errno(err, -p->timer_fd, "policy: timerfd");
	int r = watch(p, p->timer_fd, false, err);
	_cleanup_json_ json_t *stored = NULL;
	if (r == 0)
		r = zk_store_load(p->paths, p->uuid, &stored, err);
	if (r == 0 && (p->overrides = json_object()) == NULL)
		r = zk_fail(err, ENOMEM, "out of memory");
	if (r == 0)
		r = set_effective(p, stored, err);
	if (r < 0)
		return r;
	/* Once per boot: controllers ask for it on every wake-up. */
	p->boot_time = boot_time_of(prm->init_pid);
	size_t n;
	const zk_controller_ops *const *ops = zk_controllers(&n);
	p->nctrl = n < MAX_CTRL ? n : MAX_CTRL;
	for (size_t i = 0; i < p->nctrl; i++)
		p->ctrl[i] = (running){ .ops = ops[i] };
	if ((r = sync_kstats(p, err)) < 0)
		return r;
	start_controllers(p);
	return 0;
}

int
zk_policy_new(const zk_policy_params *prm, zk_policy **out, zk_error *err)
{
	zk_policy *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	/* Field by field: a compound literal of the whole object would be
	 * built on the stack first, pages every zoneadmd would keep. */
	p->cg = prm->cg;
	p->paths = prm->paths;
	p->zoneid = prm->zoneid;
	p->init_pid = prm->init_pid;
	p->log = prm->log;
	p->log_arg = prm->log_arg;
	p->clock = prm->clock;
	p->clock_arg = prm->clock_arg;
	p->epfd = -1;
	p->timer_fd = -1;
	snprintf(p->uuid, sizeof(p->uuid), "%s", prm->uuid);
	int r = policy_init(p, prm, err);
	if (r < 0) {
		zk_policy_free(p, true);
		return r;
	}
	*out = p;
	return 0;
}

void
zk_policy_free(zk_policy *p, bool remove_kstats)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nctrl; i++) {
		running *c = &p->ctrl[i];
		if (c->state != NULL && c->ops->stop != NULL)
			c->ops->stop(c->state);
	}
	zk_kstat_pub_close(p->kstats, remove_kstats);
	if (p->timer_fd >= 0)
		close(p->timer_fd);
	if (p->epfd >= 0)
		close(p->epfd);
	json_decref(p->overrides);
	json_decref(p->effective);
	free(p);
}

/* ---- events ------------------------------------------------------------------- */

int
zk_policy_fd(const zk_policy *p)
{
	return p->epfd;
}

static void
on_fd(zk_policy *p, int fd)
{
	for (size_t i = 0; i < p->nctrl; i++) {
		running *c = &p->ctrl[i];
		/* an earlier call in this batch may have dropped it */
		if (c->state == NULL || !has_fd(c->fds, c->nfds, fd))
			continue;
		zk_zone_ctx z = zone_ctx(p, c);
		zk_error e = { 0 };
		after_call(p, c, c->ops->on_fd(c->state, &z, fd, &e), &e,
		    "event");
		return;
	}
}

static void
run_deadlines(zk_policy *p)
{
	uint64_t now = now_ns(p);
	for (size_t i = 0; i < p->nctrl; i++) {
		running *c = &p->ctrl[i];
		if (c->state == NULL || c->ops->deadline == NULL ||
		    c->ops->on_deadline == NULL)
			continue;
		uint64_t d = c->ops->deadline(c->state);
		if (d == 0 || d > now)
			continue;
		zk_zone_ctx z = zone_ctx(p, c);
		zk_error e = { 0 };
		after_call(p, c, c->ops->on_deadline(c->state, &z, &e), &e,
		    "deadline");
	}
}

void
zk_policy_dispatch(zk_policy *p)
{
	struct epoll_event ev[8];
	int n = epoll_wait(p->epfd, ev, 8, 0);
	for (int i = 0; i < n; i++) {
		uint64_t expirations;
		if (ev[i].data.fd != p->timer_fd)
			on_fd(p, ev[i].data.fd);
		else if (read(p->timer_fd, &expirations, sizeof(expirations)) < 0 &&
		    errno != EAGAIN)
			plog(p, "policy timer: %s", strerror(errno));
	}
	/* Deadlines are checked whatever woke us: the timer only says when. */
	run_deadlines(p);
	arm_timer(p);
}

/* ---- requests -------------------------------------------------------------------- */

int
zk_policy_reload(zk_policy *p, zk_error *err)
{
	_cleanup_json_ json_t *stored = NULL;
	int r = zk_fault("policy.reload", err);
	if (r == 0)
		r = zk_store_load(p->paths, p->uuid, &stored, err);
	if (r < 0)
		return r;
	json_object_clear(p->overrides);
	if ((r = set_effective(p, stored, err)) < 0)
		return r;
	return apply_effective(p, err);
}

/* The zone's config after the change (zk_rctl_change_config). */
static int
updated_config(zk_policy *p, const zk_rctl *row, const char *value,
    json_t **next, zk_error *err)
{
	zk_pool_info pool;
	zk_manifest_ctx ctx = { .uuid = p->uuid, .now_iso = "" };
	int r = zk_pool_probe(p->paths, &pool, err);
	if (r < 0)
		return r;
	ctx.pool_has_quota = pool.has_quota;
	ctx.zpool = pool.name;
	return zk_rctl_change_config(p->effective, row, value, &ctx, next, err);
}

/* The change is kept as overrides of the properties it ended up
 * changing. */
int
zk_policy_set_rctl(zk_policy *p, const char *rctl, const char *value,
    zk_error *err)
{
	const zk_rctl *row = zk_rctl_find(rctl);
	if (row == NULL)
		return zk_fail(err, EINVAL, "unknown rctl %s", rctl);
	_cleanup_json_ json_t *next = NULL, *stored = NULL;
	int r = updated_config(p, row, value, &next, err);
	if (r == 0)
		r = zk_store_load(p->paths, p->uuid, &stored, err);
	if (r < 0)
		return r;
	size_t n;
	const zk_rctl *rows = zk_rctl_table(&n);
	for (size_t i = 0; i < n; i++) {
		const char *prop = rows[i].property;
		json_t *want = json_object_get(next, prop);
		if (json_equal(want, json_object_get(stored, prop)))
			json_object_del(p->overrides, prop);
		else
			json_object_set(p->overrides, prop,
			    want != NULL ? want : json_null());
	}
	if ((r = set_effective(p, stored, err)) < 0)
		return r;
	plog(p, "prctl: %s %s", rctl, value != NULL ? value : "deleted");
	return apply_effective(p, err);
}

char *
zk_policy_rctl_values(const zk_policy *p)
{
	_cleanup_json_ json_t *out = json_object();
	size_t n;
	const zk_rctl *rows = zk_rctl_table(&n);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(p->effective, rows[i].property);
		if (v != NULL)
			json_object_set(out, rows[i].property, v);
	}
	return json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
}
