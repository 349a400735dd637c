#include "config/rctl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

#define MIB (1024ULL * 1024ULL)

/* Bytes the kernel is held to; beyond int64 no machine has them. */
static int64_t
limit_bytes(zk_rctl_id id, const json_t *cfg)
{
	uint64_t v;
	if (!zk_rctl_config_value(zk_rctl_get(id), cfg, &v) || v > INT64_MAX)
		return ZK_CG_UNLIMITED;
	return (int64_t)v;
}

static int
apply_memory(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	int64_t mem = limit_bytes(ZK_RCTL_MAX_PHYSICAL_MEMORY, cfg);
	int64_t memsw = limit_bytes(ZK_RCTL_MAX_SWAP, cfg);
	/* Memory and swap together still bind memory with no cap of its
	 * own, and v1 refuses a memory limit above that one. */
	if (mem == ZK_CG_UNLIMITED)
		mem = memsw;
	return zk_cgroup_set_memory(cg, mem, memsw, err);
}

static int
apply_cpu_cap(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	const zk_rctl *r = zk_rctl_get(ZK_RCTL_CPU_CAP);
	uint64_t cap = zk_rctl_in_force(r, cfg);
	return zk_cgroup_set_cpu_cap(cg, cap >= r->system_value ? 0 : cap, err);
}

static int
apply_cpu_shares(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	return zk_cgroup_set_cpu_shares(cg,
	    zk_rctl_in_force(zk_rctl_get(ZK_RCTL_CPU_SHARES), cfg), err);
}

static int
apply_lwps(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	uint64_t n;
	if (!zk_rctl_config_value(zk_rctl_get(ZK_RCTL_MAX_LWPS), cfg, &n))
		return zk_cgroup_set_pids_max(cg, ZK_CG_UNLIMITED, err);
	return zk_cgroup_set_pids_max(cg, (int64_t)n, err);
}

#define KSTAT_CAPS(stat) { "caps", "cpucaps_zone_", stat }
#define KSTAT_MEMCAP(stat) { "memory_cap", "", stat }

/*
 * System values, units, actions, defaults and list columns are SmartOS's.
 * zone.cpu-baseline and zone.cpu-burst-time have no cgroup knob: zoneadmd's
 * CPU burst controller (cpucaps.c) moves the quota between cap and
 * baseline; an absent baseline is SmartOS's default one, so "none" is 0.
 * zone.max-swap is applied together with zone.max-physical-memory (v1 needs
 * them ordered); zone.max-locked-memory becomes the zone init's
 * RLIMIT_MEMLOCK at boot (zone processes have no CAP_IPC_LOCK), and
 * zone.zfs-io-priority waits for the I/O controller.  Memory is set in MiB
 * and the least cap is what a shell needs to start.
 */
static const zk_rctl rctls[] = {
	{ ZK_RCTL_CPU_SHARES, "zone.cpu-shares", "cpu_shares",
	    ZK_RCTL_UNIT_COUNT, 1, "none", 65535, .min = 0,
	    .def = ZK_RCTL_DEF_VALUE, .def_value = ZK_RCTL_CPU_SHARES_DEFAULT,
	    .clamp = true, .usage = ZK_RCTL_USAGE_IN_FORCE,
	    .list_width = 9, .list_header = "CPU_SHARE",
	    .apply = apply_cpu_shares },
	{ ZK_RCTL_CPU_CAP, "zone.cpu-cap", "cpu_cap",
	    ZK_RCTL_UNIT_PERCENT, 1, "deny", 4294967295ULL, .min = 0,
	    .zero_unlimited = true, .infinite = true,
	    .usage = ZK_RCTL_USAGE_KSTAT, .usage_kstat = KSTAT_CAPS("usage"),
	    .list_width = 7, .list_header = "CPU_CAP",
	    .apply = apply_cpu_cap },
	{ ZK_RCTL_CPU_BASELINE, "zone.cpu-baseline", "cpu_baseline",
	    ZK_RCTL_UNIT_PERCENT, 1, "none", 4294967295ULL, .min = 0,
	    .zero_unlimited = true,
	    .usage = ZK_RCTL_USAGE_KSTAT, .usage_kstat = KSTAT_CAPS("baseline") },
	{ ZK_RCTL_CPU_BURST_TIME, "zone.cpu-burst-time", "cpu_burst_time",
	    ZK_RCTL_UNIT_SECONDS, 1, "none", 2147483647, .min = 0,
	    .zero_unlimited = true, .usage = ZK_RCTL_USAGE_KSTAT,
	    .usage_kstat = KSTAT_CAPS("bursting_sec") },
	{ ZK_RCTL_ZFS_IO_PRIORITY, "zone.zfs-io-priority", "zfs_io_priority",
	    ZK_RCTL_UNIT_COUNT, 1, "none", 16384, .min = 0,
	    .def = ZK_RCTL_DEF_VALUE, .def_value = 100,
	    .usage = ZK_RCTL_USAGE_IN_FORCE,
	    .list_width = 11, .list_header = "IO_PRIORITY" },
	{ ZK_RCTL_MAX_LWPS, "zone.max-lwps", "max_lwps",
	    ZK_RCTL_UNIT_COUNT, 1, "deny", 2147483647, .min = 1,
	    .def = ZK_RCTL_DEF_VALUE, .def_value = 2000,
	    .usage = ZK_RCTL_USAGE_PROCS,
	    .list_width = 7, .list_header = "MAX_LWP", .apply = apply_lwps },
	{ ZK_RCTL_MAX_PHYSICAL_MEMORY, "zone.max-physical-memory",
	    "max_physical_memory", ZK_RCTL_UNIT_BYTES, MIB, "deny", UINT64_MAX,
	    .min = 16, .def = ZK_RCTL_DEF_MEMORY,
	    .usage = ZK_RCTL_USAGE_KSTAT, .usage_kstat = KSTAT_MEMCAP("rss"),
	    .list_width = 8, .list_header = "MAX_PHYS", .apply = apply_memory },
	{ ZK_RCTL_MAX_SWAP, "zone.max-swap", "max_swap",
	    ZK_RCTL_UNIT_BYTES, MIB, "deny", UINT64_MAX,
	    .min = ZK_RCTL_SWAP_MIN_MIB, .def = ZK_RCTL_DEF_MEMORY,
	    .usage = ZK_RCTL_USAGE_KSTAT, .usage_kstat = KSTAT_MEMCAP("swap"),
	    .list_width = 8, .list_header = "MAX_SWAP" },
	{ ZK_RCTL_MAX_LOCKED_MEMORY, "zone.max-locked-memory",
	    "max_locked_memory", ZK_RCTL_UNIT_BYTES, MIB, "deny", UINT64_MAX,
	    .min = 0, .def = ZK_RCTL_DEF_MEMORY,
	    .usage = ZK_RCTL_USAGE_IN_FORCE,
	    .list_width = 10, .list_header = "MAX_LOCKED" },
};

static const size_t nrctls = ZK_ARRAY_SIZE(rctls);

const zk_rctl *
zk_rctl_table(size_t *n)
{
	*n = nrctls;
	return rctls;
}

const zk_rctl *
zk_rctl_get(zk_rctl_id id)
{
	/* rows are in id order, the first being id 1 */
	if (id == ZK_RCTL_NONE || (size_t)id > nrctls)
		return NULL;
	return &rctls[id - 1];
}

const char *
zk_rctl_property(zk_rctl_id id)
{
	const zk_rctl *r = zk_rctl_get(id);
	return r != NULL ? r->property : NULL;
}

const zk_rctl *
zk_rctl_find(const char *name)
{
	for (size_t i = 0; i < nrctls; i++)
		if (strcmp(rctls[i].name, name) == 0)
			return &rctls[i];
	return NULL;
}

const zk_rctl *
zk_rctl_for_property(const char *property)
{
	for (size_t i = 0; i < nrctls; i++)
		if (strcmp(rctls[i].property, property) == 0)
			return &rctls[i];
	return NULL;
}

long long
zk_rctl_property_max(const zk_rctl *r)
{
	uint64_t max = r->system_value / r->manifest_scale;
	return max > LLONG_MAX ? LLONG_MAX : (long long)max;
}

bool
zk_rctl_default(const zk_rctl *r, long long mpm, long long *out)
{
	switch (r->def) {
	case ZK_RCTL_DEF_VALUE:
		*out = r->def_value;
		return true;
	case ZK_RCTL_DEF_MEMORY:
		if (r->id == ZK_RCTL_MAX_PHYSICAL_MEMORY)
			*out = ZK_RCTL_MEMORY_DEFAULT_MIB;
		else	/* locked memory is at most, swap at least, the cap */
			*out = mpm > r->min ? mpm : r->min;
		return true;
	case ZK_RCTL_DEF_NONE:
		break;
	}
	return false;
}

bool
zk_rctl_config_value(const zk_rctl *r, const json_t *cfg, uint64_t *out)
{
	const json_t *j = cfg != NULL ? json_object_get(cfg, r->property) : NULL;
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return false;
	uint64_t v = (uint64_t)json_integer_value(j);
	if (v == 0 && r->zero_unlimited)
		return false;
	*out = v > UINT64_MAX / r->manifest_scale ? UINT64_MAX :
	    v * r->manifest_scale;
	return true;
}

uint64_t
zk_rctl_in_force(const zk_rctl *r, const json_t *cfg)
{
	uint64_t v;
	return zk_rctl_config_value(r, cfg, &v) ? v : r->system_value;
}

int
zk_rctl_text_to_property(const zk_rctl *r, const char *text, long long *out,
    zk_error *err)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
		return zk_fail(err, EINVAL, "%s: invalid value \"%s\"", r->name,
		    text);
	if (v > r->system_value)
		return zk_fail(err, ERANGE, "%s: %s is above the system value",
		    r->name, text);
	*out = (long long)(v / r->manifest_scale);
	return 0;
}

int
zk_rctl_apply_all(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	for (size_t i = 0; i < nrctls; i++) {
		if (rctls[i].apply == NULL)
			continue;
		int r = rctls[i].apply(cg, cfg, err);
		if (r < 0)
			return zk_error_prefix(err, "%s", rctls[i].name);
	}
	return 0;
}
