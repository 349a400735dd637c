/*
 * Named advisory locks under <rundir>/locks/<name>.lock (flock).  Lock
 * files live on the run dir, so they vanish with a host reboot and never
 * clutter the pool.  A holder may remove its lock file when what it names
 * is gone (a deleted zone or image): every taker checks, once it holds
 * the lock, that the file it locked is still the one at the path, and
 * starts again if not, so a waiter on the removed file never shares the
 * lock with a taker of the path's new file.
 */
#ifndef ZK_LOCK_H
#define ZK_LOCK_H

#include <stdbool.h>
#include "util/error.h"
#include "util/paths.h"

/* Blocks until held; returns the fd that holds it (close to release). */
int zk_lock(const zk_paths *p, const char *name, bool shared, int *fd,
    zk_error *err);

/* Unlink the lock file of name while holding it exclusively (fd, from
 * zk_lock); the caller then closes fd. */
int zk_lock_remove(const zk_paths *p, const char *name, int fd,
    zk_error *err);

/*
 * Take the zone's lock (blocking), <rundir>/locks/<uuid>.lock, flock'd.
 * Returns the fd that holds it; closing releases it.
 */
int zk_zone_lock(const zk_paths *p, const char *uuid, int *fd, zk_error *err);

/* zk_lock_remove for the zone's lock: the zone is deleted, or never was. */
int zk_zone_lock_remove(const zk_paths *p, const char *uuid, int fd,
    zk_error *err);

#endif
