/*
 * The cgroup interface: detection, handles, argument checks and kill_all,
 * dispatched over the backends' operations table (cgroup_v1.c,
 * cgroup_v2.c); the file helpers they share are in cgroup_files.c.
 */
#include "cgroup/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup_backend.h"
#include "cgroup/device_policy.h"
#include "util/cleanup.h"

#define KILL_POLL_MS	5
#define KILL_RETRY_MS	250	/* re-signal survivors this often */

/* ---- detection and handles ---- */

static bool
has_v1_hierarchy(const char *root)
{
	static const char *const controllers[] = ZK_CG_V1_CONTROLLERS;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(controllers); i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s", root, controllers[i]);
		if (zk_cg_exists(dir, "cgroup.procs"))
			return true;
	}
	return false;
}

int
zk_cgroup_detect(const char *cgroup_root, zk_cgroup_mode *mode,
    zk_error *err)
{
	struct stat st;
	if (stat(cgroup_root, &st) < 0)
		return zk_fail_errno(err, errno, "cannot use cgroup root %s",
		    cgroup_root);
	if (zk_cg_exists(cgroup_root, "cgroup.controllers")) {
		*mode = ZK_CGROUP_V2;
		return 0;
	}
	if (has_v1_hierarchy(cgroup_root)) {
		*mode = ZK_CGROUP_V1;
		return 0;
	}
	return zk_fail(err, ENOTSUP, "%s holds neither a cgroup2 tree nor "
	    "cgroup v1 controller hierarchies", cgroup_root);
}

static int
check_name(const char *name, zk_error *err)
{
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return zk_fail(err, EINVAL, "invalid cgroup name \"%s\"", name);
	return 0;
}

/* Strip slashes at both ends; refuse empty, "." and ".." components so the
 * handle can never point outside <root>/<parent>. */
static int
normalize_parent(const char *parent, char *out, zk_error *err)
{
	while (*parent == '/')
		parent++;
	if (snprintf(out, PATH_MAX, "%s", parent) >= PATH_MAX)
		return zk_fail(err, ENAMETOOLONG, "cgroup parent too long");
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	for (const char *p = out; *p != '\0'; ) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return zk_fail(err, EINVAL, "invalid cgroup parent "
			    "\"%s\"", parent);
		p += len;
		p += *p == '/';
	}
	return 0;
}

static int
fill_handle(zk_cgroup *cg, const char *root, const char *parent,
    const char *name, zk_error *err)
{
	int r;
	if ((r = check_name(name, err)) < 0 ||
	    (r = normalize_parent(parent, cg->parent, err)) < 0)
		return r;
	/* Bound every path built later: root/<hierarchy>/rel/<knob>. */
	if (strlen(root) + strlen(cg->parent) + strlen(name) +
	    2 * ZK_CG_FILE_RESERVE >= PATH_MAX)
		return zk_fail(err, ENAMETOOLONG, "cgroup path too long: "
		    "%s/%s/%s", root, cg->parent, name);
	snprintf(cg->root, PATH_MAX, "%s", root);
	if (cg->parent[0] == '\0')
		snprintf(cg->rel, PATH_MAX, "%s", name);
	else
		snprintf(cg->rel, PATH_MAX, "%s/%s", cg->parent, name);
	return 0;
}

int
zk_cgroup_open(const char *cgroup_root, const char *parent, const char *name,
    zk_cgroup **out, zk_error *err)
{
	zk_cgroup *cg = calloc(1, sizeof(*cg));
	if (cg == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	_cleanup_cgroup_ zk_cgroup *owned = cg;
	int r;
	if ((r = fill_handle(cg, cgroup_root, parent, name, err)) < 0 ||
	    (r = zk_cgroup_detect(cgroup_root, &cg->mode, err)) < 0)
		return r;
	cg->ops = cg->mode == ZK_CGROUP_V2 ? &zk_cgroup_v2_ops :
	    &zk_cgroup_v1_ops;
	if ((r = cg->ops->init(cg, err)) < 0)
		return r;
	*out = TAKE_PTR(owned);
	return 0;
}

void
zk_cgroup_free(zk_cgroup *cg)
{
	if (cg == NULL)
		return;
	zk_cg_forget(cg);
	free(cg);
}

zk_cgroup_mode
zk_cgroup_get_mode(const zk_cgroup *cg)
{
	return cg->mode;
}

zk_cgroup_devprog
zk_cgroup_device_program(const zk_cgroup *cg, const char **why)
{
	if (why != NULL)
		*why = cg->devprog_why;
	return cg->devprog;
}

/* ---- dispatch ---- */

int
zk_cgroup_create(zk_cgroup *cg, zk_error *err)
{
	cg->devprog = ZK_CG_DEVPROG_NONE;
	cg->devprog_why[0] = '\0';
	return cg->ops->create(cg, err);
}

int
zk_cgroup_procs_open(zk_cgroup *cg, zk_cgroup_procs *procs, unsigned flags,
    zk_error *err)
{
	procs->n = 0;
	procs->self = (flags & ZK_CG_JOIN_SELF) != 0;
	procs->dir_fd = -1;
	procs->born_inside = false;
	int r = cg->ops->open_procs(cg, procs, err);
	if (r < 0)
		zk_cgroup_procs_close(procs);
	return r;
}

int
zk_cgroup_procs_join(const zk_cgroup_procs *procs, pid_t pid, zk_error *err)
{
	char val[16];
	int n = snprintf(val, sizeof(val), "%d", (int)pid);
	if (procs->self && pid != 0)
		return zk_fail(err, EINVAL, "cgroup files opened for a process "
		    "joining by itself cannot move process %d", (int)pid);
	for (size_t i = 0; i < procs->n; i++) {
		if ((procs->cgroup2[i] && procs->born_inside) ||
		    pwrite(procs->fd[i], val, (size_t)n, 0) == n ||
		    procs->optional[i])
			continue;
		return zk_fail_errno(err, errno, "cannot move process %d into "
		    "its cgroup", (int)pid);
	}
	return 0;
}

void
zk_cgroup_procs_close(zk_cgroup_procs *procs)
{
	for (size_t i = 0; i < procs->n; i++)
		close(procs->fd[i]);
	procs->n = 0;
	if (procs->dir_fd >= 0)
		close(procs->dir_fd);
	procs->dir_fd = -1;
}

int
zk_cgroup_attach(zk_cgroup *cg, pid_t pid, zk_error *err)
{
	if (pid <= 0)
		return zk_fail(err, EINVAL, "invalid pid %d", (int)pid);
	zk_cgroup_procs procs;
	int r = zk_cgroup_procs_open(cg, &procs, 0, err);
	if (r == 0)
		r = zk_cgroup_procs_join(&procs, pid, err);
	zk_cgroup_procs_close(&procs);
	return r;
}

char *
zk_cgroup_dir(const zk_cgroup *cg, const char *controller, char *buf)
{
	return cg->ops->dir(cg, controller, buf);
}

static int
check_limit(int64_t v, const char *what, zk_error *err)
{
	if (v < 0)
		return zk_fail(err, EINVAL, "invalid %s %" PRId64, what, v);
	return 0;
}

int
zk_cgroup_set_memory(zk_cgroup *cg, int64_t mem_bytes, int64_t mem_swap_bytes,
    zk_error *err)
{
	int r;
	if ((r = check_limit(mem_bytes, "memory cap", err)) < 0 ||
	    (r = check_limit(mem_swap_bytes, "swap cap", err)) < 0)
		return r;
	/* SmartOS's max_swap counts memory too; v1 enforces the same. */
	if (mem_swap_bytes != ZK_CG_UNLIMITED &&
	    (mem_bytes == ZK_CG_UNLIMITED || mem_swap_bytes < mem_bytes))
		return zk_fail(err, EINVAL, "swap cap (memory + swap) must not "
		    "be below the memory cap");
	return cg->ops->set_memory(cg, mem_bytes, mem_swap_bytes, err);
}

int
zk_cgroup_set_cpu_cap(zk_cgroup *cg, uint64_t cap_pct, zk_error *err)
{
	/* Keeps cap * 1000 microseconds within a signed 64-bit quota. */
	if (cap_pct > (uint64_t)INT64_MAX / (ZK_CG_PERIOD_US / 100))
		return zk_fail(err, ERANGE, "cpu cap %" PRIu64 "%% is too big",
		    cap_pct);
	return cg->ops->set_cpu_cap(cg, cap_pct, err);
}

int
zk_cgroup_set_cpu_shares(zk_cgroup *cg, uint64_t shares, zk_error *err)
{
	return cg->ops->set_cpu_shares(cg, shares, err);
}

int
zk_cgroup_set_pids_max(zk_cgroup *cg, int64_t max, zk_error *err)
{
	int r = check_limit(max, "process limit", err);
	return r < 0 ? r : cg->ops->set_pids_max(cg, max, err);
}

int
zk_cgroup_freeze(zk_cgroup *cg, bool frozen, zk_error *err)
{
	return cg->ops->freeze(cg, frozen, ZK_CG_FREEZE_TIMEOUT_MS, err);
}

int
zk_cgroup_pids(zk_cgroup *cg, pid_t **pids, size_t *n, zk_error *err)
{
	char dir[PATH_MAX];
	return zk_cg_read_procs(cg->ops->procs_dir(cg, dir), pids, n, err);
}

bool
zk_cgroup_is_empty(zk_cgroup *cg)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	zk_error err = { 0 };
	int r = zk_cgroup_pids(cg, &pids, &n, &err);
	if (r == -ENOENT)
		return true;	/* never created, or already destroyed */
	return r == 0 && n == 0;
}

int
zk_cgroup_destroy(zk_cgroup *cg, zk_error *err)
{
	zk_cg_forget(cg);	/* they would only read ENODEV from now on */
	return cg->ops->destroy(cg, err);
}

int
zk_cgroup_memory_stat(zk_cgroup *cg, zk_cgroup_memstat *st, zk_error *err)
{
	memset(st, 0, sizeof(*st));
	return cg->ops->memory_stat(cg, st, err);
}

int
zk_cgroup_cpu_stat(zk_cgroup *cg, zk_cgroup_cpustat *st, zk_error *err)
{
	memset(st, 0, sizeof(*st));
	return cg->ops->cpu_stat(cg, st, err);
}

int
zk_cgroup_memory_counters(zk_cgroup *cg, zk_cgroup_memcounters *c,
    zk_error *err)
{
	memset(c, 0, sizeof(*c));
	return cg->ops->memory_counters(cg, c, err);
}

int
zk_cgroup_memory_watch(zk_cgroup *cg, int *fd, zk_error *err)
{
	*fd = -1;
	return cg->ops->memory_watch(cg, fd, err);
}

int
zk_cgroup_memory_pressure(zk_cgroup *cg, int *fd, zk_error *err)
{
	*fd = -1;
	return cg->ops->memory_pressure(cg, fd, err);
}

int
zk_cgroup_memory_threshold(zk_cgroup *cg, uint64_t threshold, int *fd,
    zk_error *err)
{
	*fd = -1;
	return cg->ops->memory_threshold(cg, threshold, fd, err);
}

/* Eventfds read as 8 bytes, inotify as whole events: one buffer that
 * fits both, read until the descriptor is empty. */
void
zk_cgroup_event_drain(int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
zk_cgroup_load_stat(zk_cgroup *cg, zk_cgroup_loadstat *st, zk_error *err)
{
	memset(st, 0, sizeof(*st));
	return cg->ops->load_stat(cg, st, err);
}

/* ---- kill_all ---- */

static int
signal_all(zk_cgroup *cg, zk_error *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = zk_cgroup_pids(cg, &pids, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		(void)kill(pids[i], SIGKILL);	/* ESRCH: already gone */
	return 0;
}

/*
 * While the cgroup is frozen nothing in it can fork, so the pids read are
 * all there is.  Without a freezer (or if freezing times out) signal
 * anyway: kill_all's repeated rounds and pids.max bound what escapes.
 */
static int
kill_frozen(zk_cgroup *cg, int timeout_ms, zk_error *err)
{
	zk_error ferr = { 0 };
	if (timeout_ms < 50)
		timeout_ms = 50;
	if (timeout_ms > ZK_CG_FREEZE_TIMEOUT_MS)
		timeout_ms = ZK_CG_FREEZE_TIMEOUT_MS;
	bool frozen = cg->ops->freeze(cg, true, timeout_ms, &ferr) == 0;
	int r = signal_all(cg, err);
	if (frozen) {
		/* Killed tasks only die once thawed. */
		int t = cg->ops->freeze(cg, false, 0, r < 0 ? &ferr : err);
		if (r == 0)
			r = t;
	}
	return r;
}

static int
kill_round(zk_cgroup *cg, int64_t deadline, zk_error *err)
{
	zk_error kerr = { 0 };
	int r = cg->ops->kill(cg, &kerr);
	if (r != -EOPNOTSUPP) {
		if (r < 0)
			*err = kerr;
		return r;
	}
	return kill_frozen(cg, (int)(deadline - zk_cg_now_ms()), err);
}

int
zk_cgroup_kill_all(zk_cgroup *cg, int timeout_ms, zk_error *err)
{
	int64_t deadline = zk_cg_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int64_t next_round = 0;
	/* SIGKILLed tasks usually leave within a fraction of a millisecond:
	 * look again soon, then back off to KILL_POLL_MS. */
	long poll_us = 200;
	for (;;) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		int r = zk_cgroup_pids(cg, &pids, &n, err);
		if (r == -ENOENT) {
			zk_error_clear(err);
			return 0;
		}
		if (r < 0)
			return r;
		if (n == 0)
			return 0;
		int64_t now = zk_cg_now_ms();
		if (next_round != 0 && now >= deadline) {
			char dir[PATH_MAX];
			return zk_fail(err, ETIMEDOUT, "%zu processes still in "
			    "cgroup %s after %d ms", n,
			    cg->ops->procs_dir(cg, dir), timeout_ms);
		}
		if (now >= next_round) {
			/* Repeat now and then: a task being attached from
			 * outside, or a freeze that timed out, can leave a
			 * survivor that one round missed. */
			if ((r = kill_round(cg, deadline, err)) < 0)
				return r;
			next_round = now + KILL_RETRY_MS;
		}
		zk_cg_sleep_us(poll_us);
		if (poll_us < KILL_POLL_MS * 1000L)
			poll_us *= 2;
	}
}
