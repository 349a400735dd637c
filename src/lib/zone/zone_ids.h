/*
 * A zone's id range over its life: given at create, shifted into once for
 * zones made before user namespaces, given back at delete.  The calls
 * take the zone's lock from their caller (vm.c).
 */
#ifndef ZK_ZONE_IDS_H
#define ZK_ZONE_IDS_H

#include <jansson.h>
#include "util/error.h"
#include "util/paths.h"
#include "zone/idmap.h"

/* Create: reserve a range, hand the zone its writable layer, record the
 * map in cfg (not saved here).  On failure the range is given back. */
int zk_zone_ids_assign(const zk_paths *p, json_t *cfg, zk_error *err);

/*
 * Start: the zone's map, after shifting its files into it if the zone has
 * none yet or a shift was cut short; cfg is saved when it changed.
 */
int zk_zone_ids_ensure(const zk_paths *p, json_t *cfg, zk_idmap *m,
    zk_error *err);

/* Delete: give the range back (a config without one has nothing to give). */
int zk_zone_ids_release(const zk_paths *p, const json_t *cfg, zk_error *err);

#endif
