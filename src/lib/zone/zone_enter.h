/*
 * Entering a running zone (zlogin): join its cgroups and every namespace
 * of its init through a pidfd.  No zoneadmd needed.
 */
#ifndef ZK_ZONE_ENTER_H
#define ZK_ZONE_ENTER_H

#include <sys/types.h>
#include "cgroup/cgroup.h"
#include "util/error.h"
#include "util/paths.h"

/* The zone's init, checked against pid reuse; -ESRCH when not running. */
int zk_zone_init_pid(const zk_paths *p, const char *uuid, pid_t *pid,
    zk_error *err);

/*
 * Entering happens in two steps.  zk_zone_enter (in a helper process)
 * makes itself non-dumpable, takes a pidfd on the zone's init (checked
 * against pid reuse), opens the zone's cgroup.procs files while the
 * host's mount namespace is still visible, then joins the zone's mount,
 * uts, ipc, net and pid namespaces (the pid namespace applies to
 * children: fork next); root and cwd become the zone's "/".
 * zk_zone_entry_join (in the forked process that will exec in the zone)
 * joins the zone's cgroups, closes those files, joins the zone's user and
 * cgroup namespaces (cgroup v2 allows moves only inside one's namespace
 * root), closes the pidfd and becomes the zone's root: from then on it
 * holds no host privilege and no host fd but the ones its caller keeps
 * for 0-2.  So only that process, never the helper, is charged to the
 * zone.
 * zk_zone_entry_fork creates that process, inside the zone's cgroup2
 * directory where the kernel allows (cgroup.h: joining from outside waits
 * for an RCU grace period).  Being a raw clone, its child must only set
 * itself up and exec or _exit (glibc's fork handlers did not run).
 */
typedef struct zk_zone_entry {
	int pidfd;		/* the zone's init */
	zk_cgroup_procs procs;
} zk_zone_entry;

int zk_zone_enter(const zk_paths *p, const char *uuid, zk_zone_entry *e,
    zk_error *err);
pid_t zk_zone_entry_fork(zk_zone_entry *e);
int zk_zone_entry_join(zk_zone_entry *e, zk_error *err);

/* The environment zone logins start with; term may be NULL. */
void zk_zone_login_env(const char *term, char *envp[], char storage[][128],
    size_t n);

#endif
