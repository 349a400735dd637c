/*
 * Entering a running zone (zlogin): join its cgroups and every namespace
 * of its init through a pidfd.  No zoneadmd needed.
 */
#ifndef ZK_ZONE_ENTER_H
#define ZK_ZONE_ENTER_H

#include <sys/types.h>
#include "error.h"
#include "paths.h"

/* The zone's init, checked against pid reuse; -ESRCH when not running. */
int zk_zone_init_pid(const zk_paths *p, const char *uuid, pid_t *pid,
    zk_error *err);

/*
 * Move the calling process into the zone: its cgroups, then its mount,
 * uts, ipc, net, cgroup and pid namespaces (the pid namespace applies to
 * children: fork next).  Root and cwd become the zone's "/".
 */
int zk_zone_enter(const zk_paths *p, const char *uuid, zk_error *err);

/* The environment zone logins start with; term may be NULL. */
void zk_zone_login_env(const char *term, char *envp[], char storage[][128],
    size_t n);

#endif
