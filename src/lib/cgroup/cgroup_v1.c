/*
 * cgroup v1 backend: one hierarchy per controller (or per co-mounted group
 * of controllers), the zone is <hierarchy>/<parent>/<name> in each.  On a
 * hybrid host the zone also gets a cgroup in the cgroup2 mount at
 * <root>/unified, holding no controllers: it gives the zone a cgroup2 id,
 * which BPF programs use to key per-zone statistics, and carries the
 * zone's device program (device_policy.h), which the kernel runs before
 * the v1 devices controller's own check.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup/cgroup_backend.h"
#include "cgroup/device_policy.h"
#include "util/cleanup.h"

/* Past this a v1 limit is the kernel's "unlimited" (PAGE_COUNTER_MAX). */
#define V1_UNLIMITED_FLOOR	(UINT64_C(1) << 62)
#define V1_SHARES_MIN		2
#define V1_SHARES_MAX		262144

static const zk_cg_hier *
find_hier(const zk_cgroup *cg, const char *controller)
{
	for (size_t i = 0; i < cg->nhier; i++)
		if (strcmp(cg->hier[i].controller, controller) == 0)
			return &cg->hier[i];
	return NULL;
}

/* The zone's directory in `controller`'s hierarchy, or a failure naming
 * the missing hierarchy. */
static int
need_dir(const zk_cgroup *cg, const char *controller, char *buf,
    zk_error *err)
{
	const zk_cg_hier *h = find_hier(cg, controller);
	if (h == NULL)
		return zk_fail(err, EOPNOTSUPP, "no cgroup v1 %s hierarchy "
		    "under %s", controller, cg->root);
	zk_cg_join(buf, h->base, cg->rel);
	return 0;
}

static int
add_hier(zk_cgroup *cg, const char *controller, zk_error *err)
{
	char path[PATH_MAX], real[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", cg->root, controller);
	if (!zk_cg_exists(path, "cgroup.procs"))
		return 0;	/* not mounted on this host */
	/* Co-mounted controllers (cpu,cpuacct) are symlinks to one mount. */
	if (realpath(path, real) == NULL)
		return zk_fail_errno(err, errno, "cannot resolve %s", path);
	if (strlen(real) + strlen(cg->rel) + ZK_CG_FILE_RESERVE >= PATH_MAX)
		return zk_fail(err, ENAMETOOLONG, "cgroup path too long: %s/%s",
		    real, cg->rel);
	zk_cg_hier *h = &cg->hier[cg->nhier++];
	h->controller = controller;
	snprintf(h->base, sizeof(h->base), "%s", real);
	h->primary = true;
	for (zk_cg_hier *o = cg->hier; o < h; o++)
		if (strcmp(o->base, h->base) == 0)
			h->primary = false;
	return 0;
}

/* Used only if the kernel would let us make a cgroup there. */
static void
find_unified(zk_cgroup *cg)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/unified", cg->root);
	if (zk_cg_exists(path, "cgroup.controllers") &&
	    access(path, W_OK) == 0 &&
	    strlen(path) + strlen(cg->rel) + ZK_CG_FILE_RESERVE < PATH_MAX)
		snprintf(cg->unified, sizeof(cg->unified), "%s", path);
}

static int
v1_init(zk_cgroup *cg, zk_error *err)
{
	static const char *const controllers[] = ZK_CG_V1_CONTROLLERS;
	_Static_assert(ZK_ARRAY_SIZE(controllers) == ZK_CG_V1_MAX,
	    "ZK_CG_V1_MAX must match ZK_CG_V1_CONTROLLERS");
	for (size_t i = 0; i < ZK_ARRAY_SIZE(controllers); i++) {
		int r = add_hier(cg, controllers[i], err);
		if (r < 0)
			return r;
	}
	if (cg->nhier == 0)
		return zk_fail(err, ENOTSUP, "no usable cgroup v1 hierarchy "
		    "under %s", cg->root);
	find_unified(cg);
	return 0;
}

static char *
v1_procs_dir(const zk_cgroup *cg, char *buf)
{
	const zk_cg_hier *h = find_hier(cg, "pids");
	if (h == NULL)
		h = find_hier(cg, "freezer");
	if (h == NULL)
		h = &cg->hier[0];	/* init guarantees one */
	return zk_cg_join(buf, h->base, cg->rel);
}

static char *
v1_dir(const zk_cgroup *cg, const char *controller, char *buf)
{
	if (controller == NULL)
		return v1_procs_dir(cg, buf);
	const zk_cg_hier *h = find_hier(cg, controller);
	if (h != NULL)
		return zk_cg_join(buf, h->base, cg->rel);
	/* Hierarchies zonekit does not manage ("cpuset", "unified"). */
	snprintf(buf, PATH_MAX, "%s/%s/%s", cg->root, controller, cg->rel);
	return buf;
}

/* Deny everything, then allow the list (device_policy.h): an allowlist
 * survives kernels adding devices. */
static int
setup_devices(zk_cgroup *cg, zk_error *err)
{
	const zk_cg_hier *h = find_hier(cg, "devices");
	char dir[PATH_MAX], line[ZK_DEV_RULE_MAX];
	if (h == NULL || !zk_cg_has(cg, zk_cg_join(dir, h->base, cg->rel),
	    "devices.deny"))
		return 0;
	size_t n;
	const zk_device_rule *rules = zk_device_policy(&n);
	int r = zk_cg_write(dir, "devices.deny", "a", err);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = zk_cg_write(dir, "devices.allow",
		    zk_device_rule_v1(&rules[i], line), err);
	return r;
}

/*
 * The cgroup2 directory is best effort: without it the zone only lacks a
 * cgroup2 id, and zk_cg_mkdir_p leaves nothing behind on failure.  Once
 * it exists zone processes enter it, so it must carry the device program.
 */
static int
create_unified(zk_cgroup *cg, int *created, zk_error *err)
{
	zk_error ignored = { 0 };
	char dir[PATH_MAX];
	if (cg->unified[0] == '\0')
		return 0;
	if (zk_cg_mkdir_p(cg->unified, cg->rel, created, &ignored) < 0) {
		cg->unified[0] = '\0';
		return 0;
	}
	return zk_cg_attach_device_prog(cg, zk_cg_join(dir, cg->unified,
	    cg->rel), err);
}

/* The list is enforced by the devices hierarchy, the program, or both. */
static int
check_devices_confined(const zk_cgroup *cg, zk_error *err)
{
	if (find_hier(cg, "devices") != NULL ||
	    cg->devprog != ZK_CG_DEVPROG_NONE)
		return 0;
	return zk_fail(err, ENOTSUP, "cannot confine the devices of cgroup %s: "
	    "no v1 devices hierarchy and no cgroup2 mount under %s", cg->rel,
	    cg->root);
}

static int
v1_create(zk_cgroup *cg, zk_error *err)
{
	int created[ZK_CG_V1_MAX] = { 0 }, uni_created = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < cg->nhier; i++)
		if (cg->hier[i].primary)
			r = zk_cg_mkdir_p(cg->hier[i].base, cg->rel,
			    &created[i], err);
	if (r == 0 && (r = setup_devices(cg, err)) == 0 &&
	    (r = create_unified(cg, &uni_created, err)) == 0)
		r = check_devices_confined(cg, err);
	if (r < 0) {
		for (size_t i = 0; i < cg->nhier; i++)
			zk_cg_rmdir_created(cg->hier[i].base, cg->rel,
			    created[i]);
		if (cg->unified[0] != '\0')
			zk_cg_rmdir_created(cg->unified, cg->rel, uni_created);
		return r;
	}
	return 0;
}

static int
v1_open_procs(zk_cgroup *cg, zk_cgroup_procs *procs, zk_error *err)
{
	char dir[PATH_MAX];
	/* A single-threaded process moving itself through `tasks` takes no
	 * global lock (cgroup.h). */
	const char *file = procs->self ? "tasks" : "cgroup.procs";
	for (size_t i = 0; i < cg->nhier; i++) {
		if (!cg->hier[i].primary)
			continue;
		int r = zk_cg_add_procs(procs, zk_cg_join(dir, cg->hier[i].base,
		    cg->rel), file, 0, err);
		if (r < 0)
			return r;
	}
	/* The hybrid cgroup2 mount gives the zone an identity and a second
	 * device check; the devices hierarchy already does the first. */
	if (cg->unified[0] != '\0')
		return zk_cg_add_procs(procs, zk_cg_join(dir, cg->unified,
		    cg->rel), "cgroup.procs", ZK_CG_ADD_OPTIONAL |
		    ZK_CG_ADD_CGROUP2, err);
	return 0;
}

/*
 * The kernel insists on memsw >= mem after every single write.  Raising:
 * memsw first makes room; lowering: mem first.  Both requested values
 * satisfy memsw >= mem (cgroup.c checks), so either order ends consistent.
 */
static int
v1_set_memory(zk_cgroup *cg, int64_t mem, int64_t memsw, zk_error *err)
{
	char dir[PATH_MAX], mem_s[32], sw_s[32];
	int r = need_dir(cg, "memory", dir, err);
	if (r < 0)
		return r;
	zk_cg_fmt_limit(mem_s, mem, "-1");
	/* No swap accounting on this host: nothing to cap. */
	if (!zk_cg_has(cg, dir, "memory.memsw.limit_in_bytes"))
		return zk_cg_write(dir, "memory.limit_in_bytes", mem_s, err);
	zk_cg_fmt_limit(sw_s, memsw, "-1");
	uint64_t cur;
	if ((r = zk_cg_read_u64(cg, dir, "memory.limit_in_bytes", &cur,
	    err)) < 0)
		return r;
	uint64_t want = mem == ZK_CG_UNLIMITED ? UINT64_MAX : (uint64_t)mem;
	if (want > cur) {
		if ((r = zk_cg_write(dir, "memory.memsw.limit_in_bytes", sw_s,
		    err)) < 0)
			return r;
		return zk_cg_write(dir, "memory.limit_in_bytes", mem_s, err);
	}
	if ((r = zk_cg_write(dir, "memory.limit_in_bytes", mem_s, err)) < 0)
		return r;
	return zk_cg_write(dir, "memory.memsw.limit_in_bytes", sw_s, err);
}

static int
v1_set_cpu_cap(zk_cgroup *cg, uint64_t cap_pct, zk_error *err)
{
	char dir[PATH_MAX], period[16], quota[32];
	int r = need_dir(cg, "cpu", dir, err);
	if (r < 0)
		return r;
	snprintf(period, sizeof(period), "%d", ZK_CG_PERIOD_US);
	if (cap_pct == 0)
		snprintf(quota, sizeof(quota), "-1");
	else
		snprintf(quota, sizeof(quota), "%" PRIu64,
		    cap_pct * (ZK_CG_PERIOD_US / 100));
	if ((r = zk_cg_write(dir, "cpu.cfs_period_us", period, err)) < 0)
		return r;
	return zk_cg_write(dir, "cpu.cfs_quota_us", quota, err);
}

static int
v1_set_cpu_shares(zk_cgroup *cg, uint64_t shares, zk_error *err)
{
	char dir[PATH_MAX], val[32];
	int r = need_dir(cg, "cpu", dir, err);
	if (r < 0)
		return r;
	/* SmartOS's default 100 is v1's default 1024.  Clamp before
	 * multiplying so huge values cannot wrap. */
	uint64_t v = shares >= V1_SHARES_MAX ? V1_SHARES_MAX :
	    shares * 1024 / 100;
	if (v < V1_SHARES_MIN)
		v = V1_SHARES_MIN;
	if (v > V1_SHARES_MAX)
		v = V1_SHARES_MAX;
	snprintf(val, sizeof(val), "%" PRIu64, v);
	return zk_cg_write(dir, "cpu.shares", val, err);
}

static int
v1_set_pids_max(zk_cgroup *cg, int64_t max, zk_error *err)
{
	char dir[PATH_MAX], val[32];
	int r = need_dir(cg, "pids", dir, err);
	if (r < 0)
		return r;
	return zk_cg_write(dir, "pids.max", zk_cg_fmt_limit(val, max, "max"),
	    err);
}

static int
read_state(zk_cgroup *cg, const char *dir, char *state, size_t len,
    zk_error *err)
{
	_cleanup_free_ char *s = NULL;
	int r = zk_cg_read(cg, dir, "freezer.state", &s, err);
	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = '\0';
	snprintf(state, len, "%s", s);
	return 0;
}

/* FREEZING lasts until every task has stopped; poll, backing off. */
static int
wait_frozen(zk_cgroup *cg, const char *dir, int timeout_ms, zk_error *err)
{
	int64_t deadline = zk_cg_now_ms() + timeout_ms;
	for (int delay = 1; ; delay = delay < 20 ? delay * 2 : 20) {
		char state[32];
		int r = read_state(cg, dir, state, sizeof(state), err);
		if (r < 0)
			return r;
		if (strcmp(state, "FROZEN") == 0)
			return 0;
		if (zk_cg_now_ms() >= deadline)
			return zk_fail(err, ETIMEDOUT, "cgroup %s did not freeze "
			    "within %d ms (state %s)", dir, timeout_ms, state);
		zk_cg_sleep_ms(delay);
	}
}

static int
v1_freeze(zk_cgroup *cg, bool frozen, int timeout_ms, zk_error *err)
{
	char dir[PATH_MAX];
	int r = need_dir(cg, "freezer", dir, err);
	if (r < 0)
		return r;
	return zk_cg_set_frozen(cg, dir, "freezer.state", "FROZEN", "THAWED",
	    frozen, timeout_ms, wait_frozen, err);
}

static int
v1_kill(zk_cgroup *cg, zk_error *err)
{
	return zk_fail(err, EOPNOTSUPP, "cgroup v1 has no cgroup.kill");
}

/* Every hierarchy is tried even after a failure, so one stuck cgroup does
 * not leak the others; the first error is reported. */
static int
v1_destroy(zk_cgroup *cg, zk_error *err)
{
	char dir[PATH_MAX];
	int first = 0;
	for (size_t i = 0; i <= cg->nhier; i++) {
		const char *base = i < cg->nhier ? cg->hier[i].base : cg->unified;
		if ((i < cg->nhier && !cg->hier[i].primary) || base[0] == '\0')
			continue;
		zk_error e = { 0 };
		int r = zk_cg_rmdir_tree(zk_cg_join(dir, base, cg->rel), &e);
		if (r < 0 && first == 0) {
			first = r;
			*err = e;
		}
	}
	return first;
}

static int
v1_memory_stat(zk_cgroup *cg, zk_cgroup_memstat *st, zk_error *err)
{
	char dir[PATH_MAX];
	int r = need_dir(cg, "memory", dir, err);
	if (r < 0)
		return r;
	/* usage_in_bytes is what limit_in_bytes is checked against. */
	if ((r = zk_cg_read_u64(cg, dir, "memory.usage_in_bytes", &st->rss,
	    err)) < 0 ||
	    (r = zk_cg_read_u64(cg, dir, "memory.limit_in_bytes", &st->limit,
	    err)) < 0 ||
	    (r = zk_cg_read_u64(cg, dir, "memory.failcnt", &st->failcnt,
	    err)) < 0 ||
	    (r = zk_cg_read_key_opt(cg, dir, "memory.oom_control", "oom_kill",
	    &st->oom_kill, err)) < 0)
		return r;
	if (st->limit >= V1_UNLIMITED_FLOOR)
		st->limit = UINT64_MAX;
	if (!zk_cg_has(cg, dir, "memory.memsw.usage_in_bytes"))
		return 0;
	uint64_t memsw;
	r = zk_cg_read_u64(cg, dir, "memory.memsw.usage_in_bytes", &memsw,
	    err);
	if (r == 0)	/* both are approximate: never report a negative */
		st->swap = memsw > st->rss ? memsw - st->rss : 0;
	return r;
}

/* cpuacct keeps the usage; cpu.stat (cpu hierarchy) the throttling. */
static int
v1_cpu_stat(zk_cgroup *cg, zk_cgroup_cpustat *st, zk_error *err)
{
	char acct[PATH_MAX], cpu[PATH_MAX];
	int r;
	if ((r = need_dir(cg, "cpuacct", acct, err)) < 0 ||
	    (r = need_dir(cg, "cpu", cpu, err)) < 0 ||
	    (r = zk_cg_read_u64(cg, acct, "cpuacct.usage", &st->usage_ns,
	    err)) < 0 ||
	    (r = zk_cg_read_key_opt(cg, cpu, "cpu.stat", "nr_throttled",
	    &st->nr_throttled, err)) < 0)
		return r;
	return zk_cg_read_key_opt(cg, cpu, "cpu.stat", "throttled_time",
	    &st->throttled_ns, err);
}

static int
v1_memory_counters(zk_cgroup *cg, zk_cgroup_memcounters *c, zk_error *err)
{
	char dir[PATH_MAX];
	int r = need_dir(cg, "memory", dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *stat = NULL;
	uint64_t under = 0;
	if ((r = zk_cg_read(cg, dir, "memory.stat", &stat, err)) < 0 ||
	    (r = zk_cg_read_key_opt(cg, dir, "memory.oom_control", "under_oom",
	    &under, err)) < 0)
		return r;
	/* v1 has no pgsteal: pgpgout (uncharges) is the nearest figure, and
	 * counts frees too; the capper only folds it while at the cap. */
	c->pgpgin = zk_cg_stat_key(stat, "pgpgin");
	c->reclaim = zk_cg_stat_key(stat, "pgpgout");
	c->reclaim_counts_frees = true;
	c->refault_anon = zk_cg_stat_key(stat, "workingset_refault_anon");
	c->refault_file = zk_cg_stat_key(stat, "workingset_refault_file");
	c->under_oom = under != 0;
	c->swapcap = UINT64_MAX;
	if (zk_cg_has(cg, dir, "memory.memsw.limit_in_bytes")) {
		uint64_t v;
		if ((r = zk_cg_read_u64(cg, dir,
		    "memory.memsw.limit_in_bytes", &v, err)) < 0)
			return r;
		if (v < V1_UNLIMITED_FLOOR)
			c->swapcap = v;
	}
	return 0;
}

/* "<eventfd> <fd of file> [args]" into cgroup.event_control registers the
 * eventfd; the file's fd is only needed for the write. */
static int
v1_event_fd(const char *dir, const char *file, const char *args, int *out,
    zk_error *err)
{
	char path[PATH_MAX], line[64];
	_cleanup_close_ int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return zk_fail_errno(err, errno, "eventfd");
	_cleanup_close_ int cfd = open(zk_cg_join(path, dir, file),
	    O_RDONLY | O_CLOEXEC);
	if (cfd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	snprintf(line, sizeof(line), "%d %d%s%s", efd, cfd,
	    args != NULL ? " " : "", args != NULL ? args : "");
	int r = zk_cg_write(dir, "cgroup.event_control", line, err);
	if (r < 0)
		return r;
	*out = TAKE_FD(efd);
	return 0;
}

static int
v1_memory_watch(zk_cgroup *cg, int *fd, zk_error *err)
{
	char dir[PATH_MAX];
	int r = need_dir(cg, "memory", dir, err);
	return r < 0 ? r : v1_event_fd(dir, "memory.oom_control", NULL, fd,
	    err);
}

/* "local": the zone's own limit, not its child cgroups' (kernels before
 * 2017 lack the mode and refuse it). */
static int
v1_memory_pressure(zk_cgroup *cg, int *fd, zk_error *err)
{
	char dir[PATH_MAX];
	int r = need_dir(cg, "memory", dir, err);
	return r < 0 ? r : v1_event_fd(dir, "memory.pressure_level",
	    "low,local", fd, err);
}

static int
v1_memory_threshold(zk_cgroup *cg, uint64_t threshold, int *fd,
    zk_error *err)
{
	char dir[PATH_MAX], args[32];
	int r = need_dir(cg, "memory", dir, err);
	if (r < 0)
		return r;
	snprintf(args, sizeof(args), "%" PRIu64, threshold);
	return v1_event_fd(dir, "memory.usage_in_bytes", args, fd, err);
}

/*
 * cpuacct has the CPU time; run-queue wait has no v1 file, but PSI tracks
 * every cgroup of the cgroup2 hierarchy whether or not controllers are
 * enabled there, so a hybrid host's unified/<rel> has the zone's own
 * cpu.pressure.
 */
static int
v1_load_stat(zk_cgroup *cg, zk_cgroup_loadstat *st, zk_error *err)
{
	char acct[PATH_MAX], pids[PATH_MAX], uni[PATH_MAX];
	int r;
	if ((r = need_dir(cg, "cpuacct", acct, err)) < 0 ||
	    (r = zk_cg_read_u64(cg, acct, "cpuacct.usage", &st->usage_ns,
	    err)) < 0 ||
	    (r = zk_cg_read_u64(cg, acct, "cpuacct.usage_user", &st->user_ns,
	    err)) < 0 ||
	    (r = zk_cg_read_u64(cg, acct, "cpuacct.usage_sys", &st->sys_ns,
	    err)) < 0)
		return r;
	if (need_dir(cg, "pids", pids, err) == 0) {
		if ((r = zk_cg_read_key_opt(cg, pids, "pids.events", "max",
		    &st->forkfail, err)) < 0)
			return r;
	} else {
		zk_error_clear(err);
	}
	if (cg->unified[0] == '\0')
		return 0;
	uint64_t us;
	r = zk_cg_read_psi_some(cg, zk_cg_join(uni, cg->unified, cg->rel),
	    "cpu.pressure", &us, &st->has_waitrq, err);
	st->waitrq_ns = us * 1000;
	return r;
}

const zk_cgroup_ops zk_cgroup_v1_ops = {
	.init = v1_init,
	.create = v1_create,
	.open_procs = v1_open_procs,
	.dir = v1_dir,
	.procs_dir = v1_procs_dir,
	.set_memory = v1_set_memory,
	.set_cpu_cap = v1_set_cpu_cap,
	.set_cpu_shares = v1_set_cpu_shares,
	.set_pids_max = v1_set_pids_max,
	.freeze = v1_freeze,
	.kill = v1_kill,
	.destroy = v1_destroy,
	.memory_stat = v1_memory_stat,
	.cpu_stat = v1_cpu_stat,
	.memory_counters = v1_memory_counters,
	.memory_watch = v1_memory_watch,
	.memory_pressure = v1_memory_pressure,
	.memory_threshold = v1_memory_threshold,
	.load_stat = v1_load_stat,
};
