/*
 * The zone's user namespace.  Its owner is the zone's root as the host
 * sees it (the base of its id range), not host root: the kernel charges
 * per-user limits (inotify instances, user namespaces, keys, processes)
 * to a namespace's owner, so a zone that exhausts them starves only
 * itself.  zoneadmd clones the zone's init into the new namespace with
 * its effective uid set to that owner for the one clone(2), then writes
 * the maps; the child then becomes the zone's root.
 */
#ifndef ZK_USERNS_H
#define ZK_USERNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/error.h"
#include "zone/idmap.h"

/*
 * zk_clone (proc.h) with CLONE_NEWUSER added, the new namespace owned by
 * m->base.  Host root only; the caller must be single-threaded.
 */
pid_t zk_userns_clone(const zk_idmap *m, uint64_t flags, int *pidfd,
    int cgroup_fd, bool *into);

/* Write the child's uid_map and gid_map (setgroups stays allowed). */
int zk_userns_write_maps(pid_t pid, const zk_idmap *m, zk_error *err);

/* In a process inside the zone's user namespace: become its root (ids 0,
 * no supplementary groups). */
int zk_userns_become_root(zk_error *err);

#endif
