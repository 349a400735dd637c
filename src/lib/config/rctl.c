#include "config/rctl.h"

#include <string.h>

#include "util/json_util.h"

#define MIB (1024ULL * 1024ULL)

/* A property absent from the config means "no limit". */
static int64_t
mib_or_unlimited(const json_t *cfg, const char *prop)
{
	long long v = zk_json_int(cfg, prop, -1);
	return v < 0 ? ZK_CG_UNLIMITED : (int64_t)v * (int64_t)MIB;
}

static int
apply_memory(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	return zk_cgroup_set_memory(cg,
	    mib_or_unlimited(cfg, "max_physical_memory"),
	    mib_or_unlimited(cfg, "max_swap"), err);
}

static int
apply_cpu_cap(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	long long cap = zk_json_int(cfg, "cpu_cap", 0);
	return zk_cgroup_set_cpu_cap(cg, cap > 0 ? (uint64_t)cap : 0, err);
}

static int
apply_cpu_shares(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	return zk_cgroup_set_cpu_shares(cg,
	    (uint64_t)zk_json_int(cfg, "cpu_shares", 100), err);
}

static int
apply_lwps(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	long long n = zk_json_int(cfg, "max_lwps", -1);
	return zk_cgroup_set_pids_max(cg, n < 0 ? ZK_CG_UNLIMITED : n, err);
}

/*
 * System values are SmartOS's.  zone.cpu-baseline and zone.cpu-burst-time
 * have no cgroup knob: zoneadmd's CPU burst controller (cpucaps.c) moves
 * the quota between cap and baseline.  zone.max-swap is applied together with
 * zone.max-physical-memory (v1 needs them ordered); zone.max-locked-memory
 * becomes the zone init's RLIMIT_MEMLOCK at boot (zone processes have no
 * CAP_IPC_LOCK), and zone.zfs-io-priority waits for the I/O controller.
 */
static const zk_rctl rctls[] = {
	{ "zone.cpu-shares", "cpu_shares", ZK_RCTL_COUNT, 1, "none",
	    65535, apply_cpu_shares },
	{ "zone.cpu-cap", "cpu_cap", ZK_RCTL_PERCENT, 1, "deny",
	    4294967295ULL, apply_cpu_cap },
	{ "zone.cpu-baseline", "cpu_baseline", ZK_RCTL_PERCENT, 1, "none",
	    4294967295ULL, NULL },
	{ "zone.cpu-burst-time", "cpu_burst_time", ZK_RCTL_SECONDS, 1, "none",
	    2147483647, NULL },
	{ "zone.zfs-io-priority", "zfs_io_priority", ZK_RCTL_COUNT, 1, "none",
	    16384, NULL },
	{ "zone.max-lwps", "max_lwps", ZK_RCTL_COUNT, 1, "deny",
	    2147483647, apply_lwps },
	{ "zone.max-physical-memory", "max_physical_memory", ZK_RCTL_BYTES,
	    MIB, "deny", UINT64_MAX, apply_memory },
	{ "zone.max-swap", "max_swap", ZK_RCTL_BYTES, MIB, "deny",
	    UINT64_MAX, NULL },
	{ "zone.max-locked-memory", "max_locked_memory", ZK_RCTL_BYTES, MIB,
	    "deny", UINT64_MAX, NULL },
};

const zk_rctl *
zk_rctl_table(size_t *n)
{
	*n = sizeof(rctls) / sizeof(rctls[0]);
	return rctls;
}

const zk_rctl *
zk_rctl_find(const char *name)
{
	for (size_t i = 0; i < sizeof(rctls) / sizeof(rctls[0]); i++)
		if (strcmp(rctls[i].name, name) == 0)
			return &rctls[i];
	return NULL;
}

const zk_rctl *
zk_rctl_for_property(const char *property)
{
	for (size_t i = 0; i < sizeof(rctls) / sizeof(rctls[0]); i++)
		if (strcmp(rctls[i].property, property) == 0)
			return &rctls[i];
	return NULL;
}

int
zk_rctl_apply_all(zk_cgroup *cg, const json_t *cfg, zk_error *err)
{
	for (size_t i = 0; i < sizeof(rctls) / sizeof(rctls[0]); i++) {
		if (rctls[i].apply == NULL)
			continue;
		int r = rctls[i].apply(cg, cfg, err);
		if (r < 0)
			return zk_error_prefix(err, "%s", rctls[i].name);
	}
	return 0;
}
