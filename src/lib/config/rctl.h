/*
 * The zone.* resource controls, in one table: each control's rctl name,
 * manifest property, unit, range (the property's least value; its most is
 * the system value), default, whether 0 means no limit, where prctl's
 * usage figure comes from, its vmadm list column and how the kernel
 * enforces it.  The manifest's property table, prctl, vmadm list, the
 * runtime and the controllers all read these facts from here, so a new
 * control is one row.
 */
#ifndef ZK_RCTL_H
#define ZK_RCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "cgroup/cgroup.h"
#include "util/error.h"

/* Defaults SmartOS gives a zone: cpu_shares, and max_physical_memory (MiB),
 * which max_locked_memory, max_swap and tmpfs follow. */
#define ZK_RCTL_CPU_SHARES_DEFAULT 100
#define ZK_RCTL_MEMORY_DEFAULT_MIB 256
/* The least max_swap (MiB), and so the least default one. */
#define ZK_RCTL_SWAP_MIN_MIB 256

typedef enum zk_rctl_unit {
	ZK_RCTL_UNIT_COUNT,
	ZK_RCTL_UNIT_BYTES,
	ZK_RCTL_UNIT_PERCENT,
	ZK_RCTL_UNIT_SECONDS,
} zk_rctl_unit;

/* Rows by name, for code that needs one control's facts. */
typedef enum zk_rctl_id {
	ZK_RCTL_NONE,
	ZK_RCTL_CPU_SHARES,
	ZK_RCTL_CPU_CAP,
	ZK_RCTL_CPU_BASELINE,
	ZK_RCTL_CPU_BURST_TIME,
	ZK_RCTL_ZFS_IO_PRIORITY,
	ZK_RCTL_MAX_LWPS,
	ZK_RCTL_MAX_PHYSICAL_MEMORY,
	ZK_RCTL_MAX_SWAP,
	ZK_RCTL_MAX_LOCKED_MEMORY,
} zk_rctl_id;

/* What a create payload that leaves the property out gets. */
typedef enum zk_rctl_default {
	ZK_RCTL_DEF_NONE,	/* nothing: the property is stored when given */
	ZK_RCTL_DEF_VALUE,	/* def_value */
	ZK_RCTL_DEF_MEMORY,	/* follows max_physical_memory (zk_rctl_default) */
} zk_rctl_def;

/* Where prctl's usage line comes from. */
typedef enum zk_rctl_usage {
	ZK_RCTL_USAGE_KSTAT,	/* usage_kstat, published by zoneadmd */
	ZK_RCTL_USAGE_PROCS,	/* processes in the zone's cgroup */
	ZK_RCTL_USAGE_IN_FORCE,	/* nothing measures it: the value in force */
} zk_rctl_usage;

typedef struct zk_rctl_kstat {
	const char *module;	/* "caps" */
	const char *name_prefix;/* "cpucaps_zone_"; the instance is the zoneid */
	const char *stat;	/* "usage" */
} zk_rctl_kstat;

typedef struct zk_rctl {
	zk_rctl_id id;
	const char *name;	/* "zone.max-physical-memory" */
	const char *property;	/* manifest property, "max_physical_memory" */
	zk_rctl_unit unit;
	uint64_t manifest_scale;/* property value * scale = rctl value */
	const char *action;	/* "deny" or "none" */
	uint64_t system_value;	/* the "system" privilege value, rctl units */
	long long min;		/* the property's least value */
	zk_rctl_def def;
	long long def_value;	/* ZK_RCTL_DEF_VALUE */
	bool zero_unlimited;	/* property 0 means no limit */
	bool clamp;		/* above the maximum is stored as the maximum */
	bool infinite;		/* the system value means none: FLAG "inf" */
	zk_rctl_usage usage;
	zk_rctl_kstat usage_kstat;
	int list_width;		/* vmadm list column; 0 = the default width */
	const char *list_header;
	/* Push the zone's current config into its cgroup; NULL when another
	 * row's function applies this one too, or nothing enforces it yet. */
	int (*apply)(zk_cgroup *cg, const json_t *cfg, zk_error *err);
} zk_rctl;

const zk_rctl *zk_rctl_table(size_t *n);
const zk_rctl *zk_rctl_get(zk_rctl_id id);
const zk_rctl *zk_rctl_find(const char *name);
const zk_rctl *zk_rctl_for_property(const char *property);
/* The property's name, for code that reads one control from a config. */
const char *zk_rctl_property(zk_rctl_id id);

/* The property's greatest value: the system value in manifest units. */
long long zk_rctl_property_max(const zk_rctl *r);

/* The default property value of a new zone whose max_physical_memory is
 * mpm; false when the property has none. */
bool zk_rctl_default(const zk_rctl *r, long long mpm, long long *out);

/* The privileged value in the config, in rctl units (property * scale,
 * saturated).  false when there is none: absent, null, negative, or 0 where
 * 0 means no limit. */
bool zk_rctl_config_value(const zk_rctl *r, const json_t *cfg, uint64_t *out);

/* What the kernel holds the zone to: the privileged value, or without one
 * the system value (as on illumos, where the system value then applies). */
uint64_t zk_rctl_in_force(const zk_rctl *r, const json_t *cfg);

/*
 * "512" in the rctl's units (bytes, %, s, count), as prctl sends it to
 * zoneadmd, into the property's value; refused above the system value.
 */
int zk_rctl_text_to_property(const zk_rctl *r, const char *text,
    long long *out, zk_error *err);

/* Apply every control to the zone's cgroup (boot, live update). */
int zk_rctl_apply_all(zk_cgroup *cg, const json_t *cfg, zk_error *err);

#endif
