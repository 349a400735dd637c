#include "zone/zone_enter.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "util/cleanup.h"
#include "util/proc.h"
#include "zone/userns.h"

int
zk_zone_init_pid(const zk_paths *p, const char *uuid, pid_t *pid,
    zk_error *err)
{
	char path[PATH_MAX];
	if (zk_pidfile_read_live(zk_path_run_file(p, uuid, ZK_RUN_INIT, path),
	    pid) < 0)
		return zk_fail(err, ESRCH, "zone %s is not running", uuid);
	return 0;
}

/* A pidfd on the zone's init, checked again once open: the pid alone
 * could have been reused by any host process in between. */
static int
open_init(const zk_paths *p, const char *uuid, int *pidfd, zk_error *err)
{
	pid_t init, again;
	int r = zk_zone_init_pid(p, uuid, &init, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = zk_pidfd_open(init);
	if (fd < 0)
		return zk_fail_errno(err, -fd, "zone %s: pidfd_open", uuid);
	if (zk_zone_init_pid(p, uuid, &again, err) < 0 || again != init)
		return zk_fail(err, ESRCH, "zone %s is not running", uuid);
	*pidfd = TAKE_FD(fd);
	return 0;
}

int
zk_zone_enter(const zk_paths *p, const char *uuid, zk_zone_entry *e,
    zk_error *err)
{
	/* Until exec, this process and its children hold host fds: the zone
	 * must not reach them through /proc or ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		return zk_fail_errno(err, errno, "PR_SET_DUMPABLE");
	_cleanup_close_ int pidfd = -1;
	int r = open_init(p, uuid, &pidfd, err);
	if (r < 0)
		return r;
	/* Cgroup files first: they are only reachable from the host's mount
	 * namespace, which we are about to leave. */
	_cleanup_cgroup_ zk_cgroup *cg = NULL;
	if ((r = zk_cgroup_open(p->cgroup_root, p->cgroup_parent, uuid, &cg,
	    err)) < 0 || (r = zk_cgroup_procs_open(cg, &e->procs, ZK_CG_JOIN_SELF,
	    err)) < 0)
		return zk_error_prefix(err, "zone %s", uuid);
	if (setns(pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
	    CLONE_NEWNET | CLONE_NEWPID) < 0) {
		zk_cgroup_procs_close(&e->procs);
		return zk_fail_errno(err, errno, "cannot enter zone %s", uuid);
	}
	if (chdir("/") < 0) {
		zk_cgroup_procs_close(&e->procs);
		return zk_fail_errno(err, errno, "zone %s: chdir /", uuid);
	}
	e->pidfd = TAKE_FD(pidfd);
	return 0;
}

pid_t
zk_zone_entry_fork(zk_zone_entry *e)
{
	return zk_clone(0, NULL, e->procs.dir_fd, &e->procs.born_inside);
}

/* The zone's user and cgroup namespaces; a zone booted before zones had
 * user namespaces has none of its own to join. */
static int
join_namespaces(int pidfd, bool *own_userns, zk_error *err)
{
	*own_userns = true;
	int r = setns(pidfd, CLONE_NEWUSER | CLONE_NEWCGROUP);
	if (r < 0 && errno == EINVAL) {
		*own_userns = false;
		r = setns(pidfd, CLONE_NEWCGROUP);
	}
	if (r < 0)
		return zk_fail_errno(err, errno, "cannot enter the zone's user "
		    "and cgroup namespaces");
	return 0;
}

int
zk_zone_entry_join(zk_zone_entry *e, zk_error *err)
{
	int r = zk_cgroup_procs_join(&e->procs, 0, err);
	zk_cgroup_procs_close(&e->procs);
	bool own_userns = false;
	if (r == 0)
		r = join_namespaces(e->pidfd, &own_userns, err);
	close(e->pidfd);
	e->pidfd = -1;
	if (r == 0 && own_userns)
		r = zk_userns_become_root(err);
	return r;
}

void
zk_zone_login_env(const char *term, char *envp[], char storage[][128],
    size_t n)
{
	const char *fixed[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "HOME=/root", "LOGNAME=root", "USER=root", "SHELL=/bin/sh" };
	size_t i = 0;
	for (; i < sizeof(fixed) / sizeof(*fixed) && i + 2 < n; i++) {
		snprintf(storage[i], 128, "%s", fixed[i]);
		envp[i] = storage[i];
	}
	if (term != NULL && i + 2 < n) {
		snprintf(storage[i], 128, "TERM=%s", term);
		envp[i] = storage[i];
		i++;
	}
	envp[i] = NULL;
}
