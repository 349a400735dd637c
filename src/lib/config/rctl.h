/*
 * The zone.* resource controls, in one table.  vmadm (create/update), the
 * runtime (boot), prctl and the controllers all read this table, so a new
 * control is one row.
 */
#ifndef ZK_RCTL_H
#define ZK_RCTL_H

#include <jansson.h>
#include <stdint.h>
#include "cgroup/cgroup.h"
#include "util/error.h"

typedef enum zk_rctl_unit {
	ZK_RCTL_COUNT,
	ZK_RCTL_BYTES,
	ZK_RCTL_PERCENT,
	ZK_RCTL_SECONDS,
} zk_rctl_unit;

typedef struct zk_rctl {
	const char *name;	/* "zone.max-physical-memory" */
	const char *property;	/* manifest property, "max_physical_memory" */
	zk_rctl_unit unit;
	uint64_t manifest_scale;/* property value * scale = rctl value */
	const char *action;	/* "deny" or "none" */
	uint64_t system_value;	/* the "system" privilege value */
	/* Push the zone's current config into its cgroup; NULL when another
	 * row's function applies this one too, or nothing enforces it yet. */
	int (*apply)(zk_cgroup *cg, const json_t *cfg, zk_error *err);
} zk_rctl;

const zk_rctl *zk_rctl_table(size_t *n);
const zk_rctl *zk_rctl_find(const char *name);
const zk_rctl *zk_rctl_for_property(const char *property);

/* Apply every control to the zone's cgroup (boot, live update). */
int zk_rctl_apply_all(zk_cgroup *cg, const json_t *cfg, zk_error *err);

#endif
