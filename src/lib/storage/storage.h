/*
 * Zone datasets on the pool.  Today's backend is a plain directory with an
 * overlayfs root (image read-only below, the zone's own writable layer
 * above); btrfs subvolumes with quotas and snapshots will sit behind the
 * same calls.
 *
 *   <root>/<uuid>/root     the zone's root (overlay mount point, mounted
 *                          only inside the zone's mount namespace)
 *   <root>/<uuid>/delta    the zone's writable layer (survives reboots)
 *   <root>/<uuid>/.work    overlayfs work directory
 *   <root>/<uuid>/cores    core dumps
 *   <root>/<uuid>/logs     zoneadmd.log and friends
 */
#ifndef ZK_STORAGE_H
#define ZK_STORAGE_H

#include <limits.h>
#include <stdbool.h>
#include "util/error.h"
#include "util/paths.h"

/* The pool zonekit keeps zones on, by the name SmartOS gives its pool. */
#define ZK_POOL_DEFAULT_NAME "zones"

typedef struct zk_pool_info {
	const char *kind;	/* "dir" */
	bool has_quota;		/* can the pool enforce per-zone quotas? */
	const char *name;	/* the zpool name vmadm reports */
} zk_pool_info;

int zk_pool_probe(const zk_paths *p, zk_pool_info *info, zk_error *err);

/* Create the dataset; on failure nothing is left. -EEXIST if present. */
int zk_dataset_create(const zk_paths *p, const char *uuid, zk_error *err);
int zk_dataset_destroy(const zk_paths *p, const char *uuid, zk_error *err);

typedef struct zk_root_layers {
	char lower[PATH_MAX];	/* image root, read-only */
	char upper[PATH_MAX];
	char work[PATH_MAX];
	char target[PATH_MAX];	/* <zonepath>/root */
} zk_root_layers;

void zk_dataset_layers(const zk_paths *p, const char *uuid,
    const char *image_uuid, zk_root_layers *l);

#endif
