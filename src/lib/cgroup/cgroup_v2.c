/*
 * cgroup v2 backend: one unified tree, the zone is <root>/<parent>/<name>.
 * Controllers reach the zone only if every ancestor lists them in
 * cgroup.subtree_control, so create enables them from the root down.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>

#include "cgroup/cgroup_backend.h"
#include "util/cleanup.h"

/* What zonekit needs below the root, in the order written. */
static const char *const wanted[] = { "memory", "cpu", "pids", "io" };

static char *
zone_dir(const zk_cgroup *cg, char *buf)
{
	return zk_cg_join(buf, cg->root, cg->rel);
}

static int
v2_init(zk_cgroup *cg, zk_error *err)
{
	return 0;
}

static char *
v2_dir(const zk_cgroup *cg, const char *controller, char *buf)
{
	return zone_dir(cg, buf);
}

/* Ask only for what this level offers and has not enabled yet: writing an
 * unavailable controller fails the whole write. */
static int
enable_controllers(const char *dir, zk_error *err)
{
	/* Only a fake tree (tests) has directories without this file; the
	 * kernel puts it in every cgroup. */
	if (!zk_cg_exists(dir, "cgroup.controllers"))
		return 0;
	_cleanup_free_ char *avail = NULL, *enabled = NULL;
	int r;
	/* Ancestors' files, read once per zone boot: not kept. */
	if ((r = zk_cg_read_once(dir, "cgroup.controllers", &avail, err)) < 0 ||
	    (r = zk_cg_read_once(dir, "cgroup.subtree_control", &enabled,
	    err)) < 0)
		return r;
	char req[64] = "";
	for (size_t i = 0; i < ZK_ARRAY_SIZE(wanted); i++) {
		if (!zk_cg_list_has(avail, wanted[i]) ||
		    zk_cg_list_has(enabled, wanted[i]))
			continue;
		snprintf(req + strlen(req), sizeof(req) - strlen(req), "%s+%s",
		    req[0] != '\0' ? " " : "", wanted[i]);
	}
	if (req[0] == '\0')
		return 0;
	return zk_cg_write(dir, "cgroup.subtree_control", req, err);
}

/* From the root down to the parent; the zone itself stays a leaf. */
static int
enable_ancestors(const zk_cgroup *cg, zk_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", cg->root);
	int r = enable_controllers(dir, err);
	for (const char *p = cg->parent; r == 0 && *p != '\0'; ) {
		size_t len = strcspn(p, "/");
		size_t n = strlen(dir);
		snprintf(dir + n, sizeof(dir) - n, "/%.*s", (int)len, p);
		r = enable_controllers(dir, err);
		p += len;
		p += *p == '/';
	}
	return r;
}

/* The device program goes on before create returns, so before any zone
 * process can be put inside. */
static int
v2_create(zk_cgroup *cg, zk_error *err)
{
	char dir[PATH_MAX];
	int created;
	int r = zk_cg_mkdir_p(cg->root, cg->rel, &created, err);
	if (r < 0)
		return r;
	if ((r = enable_ancestors(cg, err)) < 0 ||
	    (r = zk_cg_attach_device_prog(cg, zone_dir(cg, dir), err)) < 0) {
		zk_cg_rmdir_created(cg->root, cg->rel, created);
		return r;
	}
	return 0;
}

static int
v2_open_procs(zk_cgroup *cg, zk_cgroup_procs *procs, zk_error *err)
{
	char dir[PATH_MAX];
	return zk_cg_add_procs(procs, zone_dir(cg, dir), "cgroup.procs",
	    ZK_CG_ADD_CGROUP2, err);
}

static int
v2_set_memory(zk_cgroup *cg, int64_t mem, int64_t memsw, zk_error *err)
{
	char dir[PATH_MAX], val[32];
	zone_dir(cg, dir);
	int r = zk_cg_write(dir, "memory.max", zk_cg_fmt_limit(val, mem, "max"),
	    err);
	/* No swap accounting on this host: nothing to cap. */
	if (r < 0 || !zk_cg_has(cg, dir, "memory.swap.max"))
		return r;
	/* v2 caps swap alone; SmartOS's figure includes memory. */
	int64_t swap = memsw == ZK_CG_UNLIMITED ? ZK_CG_UNLIMITED : memsw - mem;
	return zk_cg_write(dir, "memory.swap.max",
	    zk_cg_fmt_limit(val, swap, "max"), err);
}

static int
v2_set_cpu_cap(zk_cgroup *cg, uint64_t cap_pct, zk_error *err)
{
	char dir[PATH_MAX], val[64];
	if (cap_pct == 0)
		snprintf(val, sizeof(val), "max %d", ZK_CG_PERIOD_US);
	else
		snprintf(val, sizeof(val), "%" PRIu64 " %d",
		    cap_pct * (ZK_CG_PERIOD_US / 100), ZK_CG_PERIOD_US);
	return zk_cg_write(zone_dir(cg, dir), "cpu.max", val, err);
}

static int
v2_set_cpu_shares(zk_cgroup *cg, uint64_t shares, zk_error *err)
{
	char dir[PATH_MAX], val[32];
	/* Both default to 100, so shares map 1:1 within cpu.weight's range. */
	uint64_t w = shares < 1 ? 1 : shares > 10000 ? 10000 : shares;
	snprintf(val, sizeof(val), "%" PRIu64, w);
	return zk_cg_write(zone_dir(cg, dir), "cpu.weight", val, err);
}

static int
v2_set_pids_max(zk_cgroup *cg, int64_t max, zk_error *err)
{
	char dir[PATH_MAX], val[32];
	return zk_cg_write(zone_dir(cg, dir), "pids.max",
	    zk_cg_fmt_limit(val, max, "max"), err);
}

static int
wait_frozen(zk_cgroup *cg, const char *dir, int timeout_ms, zk_error *err)
{
	int64_t deadline = zk_cg_now_ms() + timeout_ms;
	for (int delay = 1; ; delay = delay < 20 ? delay * 2 : 20) {
		uint64_t v = 0;
		int r = zk_cg_read_key(cg, dir, "cgroup.events", "frozen", &v,
		    err);
		if (r < 0)
			return r;
		if (v == 1)
			return 0;
		if (zk_cg_now_ms() >= deadline)
			return zk_fail(err, ETIMEDOUT, "cgroup %s did not freeze "
			    "within %d ms", dir, timeout_ms);
		zk_cg_sleep_ms(delay);
	}
}

static int
v2_freeze(zk_cgroup *cg, bool frozen, int timeout_ms, zk_error *err)
{
	char dir[PATH_MAX];
	zone_dir(cg, dir);
	if (!zk_cg_has(cg, dir, "cgroup.freeze"))
		return zk_fail(err, EOPNOTSUPP, "%s: no cgroup.freeze (kernel "
		    "older than 5.2, or cgroup missing)", dir);
	return zk_cg_set_frozen(cg, dir, "cgroup.freeze", "1", "0", frozen,
	    timeout_ms, wait_frozen, err);
}

static int
v2_kill(zk_cgroup *cg, zk_error *err)
{
	char dir[PATH_MAX];
	zone_dir(cg, dir);
	/* Since 5.14 the kernel kills the whole subtree atomically. */
	if (!zk_cg_has(cg, dir, "cgroup.kill"))
		return zk_fail(err, EOPNOTSUPP, "%s: no cgroup.kill", dir);
	return zk_cg_write(dir, "cgroup.kill", "1", err);
}

static int
v2_destroy(zk_cgroup *cg, zk_error *err)
{
	char dir[PATH_MAX];
	return zk_cg_rmdir_tree(zone_dir(cg, dir), err);
}

static int
v2_memory_stat(zk_cgroup *cg, zk_cgroup_memstat *st, zk_error *err)
{
	char dir[PATH_MAX];
	zone_dir(cg, dir);
	int r;
	if ((r = zk_cg_read_u64(cg, dir, "memory.current", &st->rss,
	    err)) < 0 ||
	    (r = zk_cg_read_u64(cg, dir, "memory.max", &st->limit, err)) < 0 ||
	    (r = zk_cg_read_key_opt(cg, dir, "memory.events", "max",
	    &st->failcnt, err)) < 0 ||
	    (r = zk_cg_read_key_opt(cg, dir, "memory.events", "oom_kill",
	    &st->oom_kill, err)) < 0)
		return r;
	if (zk_cg_has(cg, dir, "memory.swap.current"))
		r = zk_cg_read_u64(cg, dir, "memory.swap.current", &st->swap,
		    err);
	return r;
}

/* usage_usec is always there; the throttling keys need the cpu controller. */
static int
v2_cpu_stat(zk_cgroup *cg, zk_cgroup_cpustat *st, zk_error *err)
{
	char dir[PATH_MAX];
	zone_dir(cg, dir);
	uint64_t usage_us = 0, throttled_us = 0;
	int r;
	if ((r = zk_cg_read_key(cg, dir, "cpu.stat", "usage_usec", &usage_us,
	    err)) < 0 ||
	    (r = zk_cg_read_key_opt(cg, dir, "cpu.stat", "nr_throttled",
	    &st->nr_throttled, err)) < 0 ||
	    (r = zk_cg_read_key_opt(cg, dir, "cpu.stat", "throttled_usec",
	    &throttled_us, err)) < 0)
		return r;
	st->usage_ns = usage_us * 1000;
	st->throttled_ns = throttled_us * 1000;
	return 0;
}

static int
v2_memory_counters(zk_cgroup *cg, zk_cgroup_memcounters *c, zk_error *err)
{
	char dir[PATH_MAX];
	zone_dir(cg, dir);
	_cleanup_free_ char *stat = NULL;
	int r;
	if ((r = zk_cg_read(cg, dir, "memory.stat", &stat, err)) < 0 ||
	    (r = zk_cg_read_key_opt(cg, dir, "memory.events", "oom", &c->oom,
	    err)) < 0)
		return r;
	/* v2 counts no page charges: major faults are the page-ins. */
	c->pgpgin = zk_cg_stat_key(stat, "pgmajfault");
	c->reclaim = zk_cg_stat_key(stat, "pgsteal");
	c->refault_anon = zk_cg_stat_key(stat, "workingset_refault_anon");
	c->refault_file = zk_cg_stat_key(stat, "workingset_refault_file");
	c->swapcap = UINT64_MAX;
	if (!zk_cg_has(cg, dir, "memory.swap.max"))
		return 0;
	/* SmartOS's swap cap counts memory too; v2 caps swap alone. */
	uint64_t mem, swap;
	if ((r = zk_cg_read_u64(cg, dir, "memory.max", &mem, err)) < 0 ||
	    (r = zk_cg_read_u64(cg, dir, "memory.swap.max", &swap, err)) < 0)
		return r;
	if (mem != UINT64_MAX && swap != UINT64_MAX && mem <= UINT64_MAX - swap)
		c->swapcap = mem + swap;
	return 0;
}

/* memory.events is the kernel's pollable file (POLLPRI on change); the
 * controller interface only waits for readable descriptors, which an
 * inotify watch for IN_MODIFY on the same file gives. */
static int
v2_memory_watch(zk_cgroup *cg, int *out, zk_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	zone_dir(cg, dir);
	_cleanup_close_ int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return zk_fail_errno(err, errno, "inotify_init1");
	if (inotify_add_watch(fd, zk_cg_join(path, dir, "memory.events"),
	    IN_MODIFY) < 0)
		return zk_fail_errno(err, errno, "cannot watch %s", path);
	*out = TAKE_FD(fd);
	return 0;
}

/* memory.events counts every hit: nothing to add. */
static int
v2_memory_pressure(zk_cgroup *cg, int *fd, zk_error *err)
{
	*fd = -1;
	return 0;
}

static int
v2_memory_threshold(zk_cgroup *cg, uint64_t threshold, int *fd,
    zk_error *err)
{
	*fd = -1;
	return 0;
}

static int
v2_load_stat(zk_cgroup *cg, zk_cgroup_loadstat *st, zk_error *err)
{
	char dir[PATH_MAX];
	zone_dir(cg, dir);
	_cleanup_free_ char *stat = NULL;
	uint64_t us;
	int r;
	if ((r = zk_cg_read(cg, dir, "cpu.stat", &stat, err)) < 0)
		return r;
	if (zk_cg_find_key(stat, "usage_usec", &us) < 0)
		return zk_fail(err, EINVAL, "%s/cpu.stat: no usage_usec", dir);
	st->usage_ns = us * 1000;
	st->user_ns = zk_cg_stat_key(stat, "user_usec") * 1000;
	st->sys_ns = zk_cg_stat_key(stat, "system_usec") * 1000;
	if (zk_cg_has(cg, dir, "pids.events") &&
	    (r = zk_cg_read_key_opt(cg, dir, "pids.events", "max",
	    &st->forkfail, err)) < 0)
		return r;
	r = zk_cg_read_psi_some(cg, dir, "cpu.pressure", &us,
	    &st->has_waitrq, err);
	st->waitrq_ns = us * 1000;
	return r;
}

static char *
v2_procs_dir(const zk_cgroup *cg, char *buf)
{
	return zone_dir(cg, buf);
}

const zk_cgroup_ops zk_cgroup_v2_ops = {
	.init = v2_init,
	.create = v2_create,
	.open_procs = v2_open_procs,
	.dir = v2_dir,
	.procs_dir = v2_procs_dir,
	.set_memory = v2_set_memory,
	.set_cpu_cap = v2_set_cpu_cap,
	.set_cpu_shares = v2_set_cpu_shares,
	.set_pids_max = v2_set_pids_max,
	.freeze = v2_freeze,
	.kill = v2_kill,
	.destroy = v2_destroy,
	.memory_stat = v2_memory_stat,
	.cpu_stat = v2_cpu_stat,
	.memory_counters = v2_memory_counters,
	.memory_watch = v2_memory_watch,
	.memory_pressure = v2_memory_pressure,
	.memory_threshold = v2_memory_threshold,
	.load_stat = v2_load_stat,
};
