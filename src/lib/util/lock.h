/*
 * Named advisory locks under <rundir>/locks/<name>.lock (flock).  Lock
 * files live on the run dir, so they vanish with a host reboot and never
 * clutter the pool, and they are never unlinked: unlinking a lock file
 * someone waits on would let two holders in at once.
 */
#ifndef ZK_LOCK_H
#define ZK_LOCK_H

#include <stdbool.h>
#include "util/error.h"
#include "util/paths.h"

/* Blocks until held; returns the fd that holds it (close to release). */
int zk_lock(const zk_paths *p, const char *name, bool shared, int *fd,
    zk_error *err);

/*
 * Take the zone's lock (blocking), <rundir>/locks/<uuid>.lock, flock'd.
 * Returns the fd that holds it; closing releases it.
 */
int zk_zone_lock(const zk_paths *p, const char *uuid, int *fd, zk_error *err);

#endif
