/*
 * One interface over cgroup v1 and v2.  A zone's cgroup is
 * <cgroup_root>/<parent>/<name> in every hierarchy zonekit uses (v1), or in
 * the single unified tree (v2).  The backend is picked by looking at the
 * tree at cgroup_root, so tests can point it at a fake cgroupfs.
 *
 * Units are SmartOS's at this boundary (bytes, percent of one CPU, shares);
 * each backend converts to its kernel files.
 */
#ifndef ZK_CGROUP_H
#define ZK_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

typedef enum zk_cgroup_mode {
	ZK_CGROUP_V1,		/* per-controller hierarchies (hybrid hosts too) */
	ZK_CGROUP_V2,		/* one unified hierarchy */
} zk_cgroup_mode;

#define ZK_CG_UNLIMITED INT64_MAX

typedef struct zk_cgroup zk_cgroup;

/*
 * v2 when cgroup_root itself is a cgroup2 tree (has cgroup.controllers),
 * v1 when it holds per-controller directories (memory/, cpu/, ...).  A
 * hybrid host (v1 controllers plus a cgroup2 mount at unified/) is v1.
 */
int zk_cgroup_detect(const char *cgroup_root, zk_cgroup_mode *mode,
    zk_error *err);

/* A handle on <parent>/<name>; nothing is created yet. */
int zk_cgroup_open(const char *cgroup_root, const char *parent,
    const char *name, zk_cgroup **out, zk_error *err);
void zk_cgroup_free(zk_cgroup *cg);
static inline void zk_cgroup_freep(zk_cgroup **cg) { zk_cgroup_free(*cg); }
#define _cleanup_cgroup_ __attribute__((cleanup(zk_cgroup_freep)))

zk_cgroup_mode zk_cgroup_get_mode(const zk_cgroup *cg);

/*
 * Create the cgroup (and the parent if missing) in every hierarchy, enabling
 * the controllers zonekit needs (v2: cgroup.subtree_control of each
 * ancestor below the root; v1: cpuset.cpus/mems copied when cpuset is used).
 * On failure nothing created by this call is left behind.  Already existing
 * is fine (adoption, reboot).
 */
int zk_cgroup_create(zk_cgroup *cg, zk_error *err);

/* Move a process into the cgroup in every hierarchy. */
int zk_cgroup_attach(zk_cgroup *cg, pid_t pid, zk_error *err);

/* The directory for hierarchy `controller` ("memory", "cpu", "pids"...) on
 * v1, or the single directory on v2 (controller ignored).  buf: PATH_MAX. */
char *zk_cgroup_dir(const zk_cgroup *cg, const char *controller, char *buf);

/*
 * Resource controls.  bytes/counts of ZK_CG_UNLIMITED remove the limit.
 *  memory: physical cap, and the cap on memory+swap together (SmartOS's
 *          max_swap is memory+swap; v2 writes memory.swap.max = swap - mem).
 *          Lowering below current use makes the kernel reclaim.  If the host
 *          has no swap accounting, the swap cap is skipped silently.
 *  cpu_cap: percent of one CPU, 0 = no cap (quota over a 100 ms period).
 *  cpu_shares: SmartOS shares (default 100) scaled to cpu.shares (v1:
 *          shares*1024/100, minimum 2) or cpu.weight (v2: clamp 1..10000).
 *  pids:   max processes (pids.max).
 */
int zk_cgroup_set_memory(zk_cgroup *cg, int64_t mem_bytes,
    int64_t mem_swap_bytes, zk_error *err);
int zk_cgroup_set_cpu_cap(zk_cgroup *cg, uint64_t cap_pct, zk_error *err);
int zk_cgroup_set_cpu_shares(zk_cgroup *cg, uint64_t shares, zk_error *err);
int zk_cgroup_set_pids_max(zk_cgroup *cg, int64_t max, zk_error *err);

/* Freeze or thaw every process in the cgroup; waits until frozen. */
int zk_cgroup_freeze(zk_cgroup *cg, bool frozen, zk_error *err);

/*
 * Kill every process with no fork race: freeze, SIGKILL all (v2 with
 * cgroup.kill when present), thaw, then wait (bounded by timeout_ms) until
 * the cgroup is empty.  -ETIMEDOUT if processes remain.
 */
int zk_cgroup_kill_all(zk_cgroup *cg, int timeout_ms, zk_error *err);

/* Pids in the cgroup (v1: from the pids hierarchy's cgroup.procs). */
int zk_cgroup_pids(zk_cgroup *cg, pid_t **pids, size_t *n, zk_error *err);
bool zk_cgroup_is_empty(zk_cgroup *cg);

/*
 * Remove the zone's cgroup from every hierarchy (retrying briefly while the
 * kernel still holds exiting tasks).  The parent is never removed: it may
 * belong to someone else.  Missing is fine.
 */
int zk_cgroup_destroy(zk_cgroup *cg, zk_error *err);

/* Figures later controllers and kstats read. */
typedef struct zk_cgroup_memstat {
	uint64_t rss;		/* bytes charged (anon + file) */
	uint64_t swap;		/* bytes of swap in use (0 if unknown) */
	uint64_t limit;		/* physical cap, UINT64_MAX if none */
	uint64_t failcnt;	/* v1 failcnt / v2 events max */
	uint64_t oom_kill;	/* OOM kills inside */
} zk_cgroup_memstat;
int zk_cgroup_memory_stat(zk_cgroup *cg, zk_cgroup_memstat *st, zk_error *err);

#endif
