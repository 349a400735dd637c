/*
 * Where zonekit keeps things.  Every location comes from the environment so
 * tests (and unusual hosts) never touch the real defaults:
 *   ZONEKIT_ROOT           pool root                  /zones
 *   ZONEKIT_RUNDIR         runtime state              /run/zonekit
 *   ZONEKIT_CGROUP_PARENT  cgroup parent per hierarchy zonekit
 *   ZONEKIT_CGROUP_ROOT    where cgroupfs is mounted  /sys/fs/cgroup
 *   ZONEKIT_IDMAP_DIR      host-wide id range registry /var/lib/zonekit/idmap
 */
#ifndef ZK_PATHS_H
#define ZK_PATHS_H

#include <limits.h>
#include "util/error.h"

#include "util/uuid.h"

typedef struct zk_paths {
	char root[PATH_MAX];
	char rundir[PATH_MAX];
	char cgroup_parent[PATH_MAX];
	char cgroup_root[PATH_MAX];
	char idmap_dir[PATH_MAX];	/* idmap.h: one per host, not per pool */
} zk_paths;

int zk_paths_from_env(zk_paths *p, zk_error *err);

/*
 * Path builders.  Each writes into buf (PATH_MAX) and returns it; the
 * inputs are validated UUIDs, so the results always fit.
 */
char *zk_path_config_dir(const zk_paths *p, char *buf);
char *zk_path_config(const zk_paths *p, const char *uuid, char *buf);
char *zk_path_zone(const zk_paths *p, const char *uuid, char *buf);
char *zk_path_images_dir(const zk_paths *p, char *buf);
char *zk_path_image(const zk_paths *p, const char *uuid, char *buf);
/* <root>/images/<uuid>/root: the read-only lower layer zones start from. */
char *zk_path_image_root(const zk_paths *p, const char *uuid, char *buf);
char *zk_path_run(const zk_paths *p, const char *uuid, char *buf);
char *zk_path_run_file(const zk_paths *p, const char *uuid, const char *file,
    char *buf);

#endif
