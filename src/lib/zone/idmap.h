/*
 * Each zone's user namespace maps its uids and gids 0-65535 onto a range of
 * unprivileged host ids of its own.  The range is recorded in the zone's
 * config ("uid_map" and "gid_map", written as /proc/<pid>/uid_map shows
 * them) and reserved host-wide in a registry, one file per range, so that
 * zones of every pool on the host get disjoint ranges:
 *
 *   <idmap dir>/<slot>   holds the dataset path of the zone that owns it
 *
 * Slot n is host ids ZK_IDMAP_FIRST + n * ZK_IDMAP_COUNT onwards.  A slot
 * whose dataset no longer exists is stale (a pool removed by hand, a
 * delete cut short) and is taken again.  See docs/privileges.md.
 */
#ifndef ZK_IDMAP_H
#define ZK_IDMAP_H

#include <jansson.h>
#include <stdint.h>
#include "util/error.h"
#include "util/paths.h"

#define ZK_IDMAP_COUNT	65536u
#define ZK_IDMAP_FIRST	1073741824u	/* 2^30: far above /etc/subuid's */
#define ZK_IDMAP_SLOTS	16384u		/* up to 2^31, clear of signed ids */

typedef struct zk_idmap {
	uint32_t base;		/* host id of the zone's 0 */
	uint32_t count;
} zk_idmap;

/* "0 <base> <count>": one line of /proc/<pid>/uid_map. */
void zk_idmap_format(const zk_idmap *m, char buf[48]);
int zk_idmap_parse(const char *text, zk_idmap *m, zk_error *err);

/* The zone's map from its config; -ENOENT when the zone predates them. */
int zk_idmap_from_config(const json_t *cfg, zk_idmap *m, zk_error *err);
void zk_idmap_to_config(json_t *cfg, const zk_idmap *m);

/*
 * Reserve a free range for the zone whose dataset is <root>/<uuid> (which
 * must exist: it is what marks the slot as in use).
 */
int zk_idmap_alloc(const zk_paths *p, const char *uuid, zk_idmap *m,
    zk_error *err);
/* Give the range back; a slot held by another zone is left alone. */
int zk_idmap_release(const zk_paths *p, const char *uuid, const zk_idmap *m,
    zk_error *err);

#endif
