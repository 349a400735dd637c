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
#include "util/error.h"

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

/*
 * A handle on <parent>/<name>; nothing is created yet.  The handle keeps
 * the statistics files it reads open (cgroup_backend.h), so reads change
 * it: one thread at a time.  zk_cgroup_destroy and zk_cgroup_free close
 * them.
 */
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

/*
 * Devices.  zk_cgroup_create confines the zone to the device allowlist
 * (device_policy.h) twice over: in the v1 devices hierarchy (deny all,
 * allow the list) and with a BPF_CGROUP_DEVICE program on the zone's
 * cgroup2 directory (the zone's cgroup on v2, unified/<parent>/<name> on
 * a hybrid host), attached before any process can enter it.  Failing to
 * attach fails the create, as does a v1 host with neither a devices
 * hierarchy nor a cgroup2 directory.  What create did about the program:
 */
typedef enum zk_cgroup_devprog {
	ZK_CG_DEVPROG_NONE,	/* no create yet, or v1 without unified/ */
	ZK_CG_DEVPROG_ATTACHED,
	ZK_CG_DEVPROG_SKIPPED,	/* the directory is not on a cgroup2 file
				 * system: a fake tree (tests) */
} zk_cgroup_devprog;
/* why (may be NULL): the directory and the reason, "" if not skipped. */
zk_cgroup_devprog zk_cgroup_device_program(const zk_cgroup *cg,
    const char **why);

/* Move a process into the cgroup in every hierarchy. */
int zk_cgroup_attach(zk_cgroup *cg, pid_t pid, zk_error *err);

/*
 * The cgroup.procs files of every hierarchy, opened now and written later:
 * a process that has left the host's mount namespace (zlogin's child in a
 * zone) can still join, and only it, not its parent, is charged to the
 * zone.  Entries marked optional (a hybrid host's cgroup2 identity mount)
 * may fail to take the write.
 *
 * Moving a process into a cgroup from outside write-locks the kernel's
 * global cgroup_threadgroup_rwsem, which waits for an RCU grace period
 * (6-16 ms measured here, on every zone boot and zlogin).  With
 * ZK_CG_JOIN_SELF the files are opened for a process being created, which
 * joins without that lock: it is born inside the cgroup2 directory
 * (dir_fd, for zk_clone), and being single-threaded it moves itself into
 * each v1 hierarchy by writing 0 to `tasks`.  Such a set may only be
 * joined with pid 0, by that process.
 */
#define ZK_CG_PROCS_MAX 12
#define ZK_CG_JOIN_SELF 0x1u
typedef struct zk_cgroup_procs {
	size_t n;
	int fd[ZK_CG_PROCS_MAX];
	bool optional[ZK_CG_PROCS_MAX];
	bool cgroup2[ZK_CG_PROCS_MAX];	/* needless once born inside */
	bool self;		/* opened with ZK_CG_JOIN_SELF */
	int dir_fd;		/* the cgroup2 directory (JOIN_SELF), or -1 */
	bool born_inside;	/* set by the caller once zk_clone put the
				 * process in dir_fd */
} zk_cgroup_procs;
int zk_cgroup_procs_open(zk_cgroup *cg, zk_cgroup_procs *procs,
    unsigned flags, zk_error *err);
/* pid 0 moves the calling process. */
int zk_cgroup_procs_join(const zk_cgroup_procs *procs, pid_t pid,
    zk_error *err);
void zk_cgroup_procs_close(zk_cgroup_procs *procs);

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

/* CPU figures for the CPU cap controller: v1 cpuacct.usage and cpu.stat,
 * v2 cpu.stat (usage_usec, nr_throttled, throttled_usec). */
typedef struct zk_cgroup_cpustat {
	uint64_t usage_ns;	/* CPU time used, all CPUs together */
	uint64_t nr_throttled;	/* periods in which the quota ran out */
	uint64_t throttled_ns;	/* time the quota held the zone back */
} zk_cgroup_cpustat;
int zk_cgroup_cpu_stat(zk_cgroup *cg, zk_cgroup_cpustat *st, zk_error *err);

/* ---- figures and kernel events for the zoneadmd controllers ---- */

/*
 * Memory counters the memory capper folds (docs/controllers.md).  Counts
 * are in pages, caps in bytes.
 */
typedef struct zk_cgroup_memcounters {
	uint64_t swapcap;	/* memory + swap cap (SmartOS max_swap);
				 * UINT64_MAX if none or not accounted */
	uint64_t pgpgin;	/* v1 memory.stat pgpgin (charge events: a
				 * page, or a large folio once); v2 has
				 * none: pgmajfault */
	uint64_t reclaim;	/* v1 pgpgout (every uncharge event, frees
				 * too); v2 pgsteal (pages reclaimed) */
	bool reclaim_counts_frees;	/* true on v1 */
	uint64_t refault_anon;	/* memory.stat workingset_refault_anon */
	uint64_t refault_file;	/* memory.stat workingset_refault_file */
	uint64_t oom;		/* v2 memory.events oom; 0 on v1 */
	bool under_oom;		/* v1 memory.oom_control under_oom */
} zk_cgroup_memcounters;
int zk_cgroup_memory_counters(zk_cgroup *cg, zk_cgroup_memcounters *c,
    zk_error *err);

/*
 * Memory events for the capper: descriptors that become readable when the
 * kernel has news of the zone's cap.  The caller owns them (non-blocking,
 * close-on-exec); closing an eventfd unregisters it.  After a wake-up,
 * drain with zk_cgroup_event_drain.  v1 registers eventfds through
 * cgroup.event_control.
 *
 * The cap was hit.  v1: the OOM notifier (memory.oom_control), signalled
 * each time the zone enters the OOM path.  v2: an inotify descriptor whose
 * watch on memory.events fires when any of its counters (max, oom,
 * oom_kill...) changes, each hit included.
 */
int zk_cgroup_memory_watch(zk_cgroup *cg, int *fd, zk_error *err);
/*
 * v1: the kernel reclaimed from the zone because the zone reached its own
 * cap (memory.pressure_level at "low,local": not a child cgroup's limit,
 * not host-wide reclaim), once per 512 pages scanned: the hits the OOM
 * notifier does not see.  v2 needs none (memory.events counts every hit):
 * *fd is -1.
 */
int zk_cgroup_memory_pressure(zk_cgroup *cg, int *fd, zk_error *err);
/*
 * v1: signalled whenever memory.usage_in_bytes crosses threshold, either
 * way: a warning before the cap.  The kernel registers it with
 * synchronize_rcu() (10-14 ms here), so ask for it only when it is likely
 * to be needed (memcap.h).  v2 has no usage thresholds: *fd is -1.
 * None of the others waits for an RCU grace period.
 */
int zk_cgroup_memory_threshold(zk_cgroup *cg, uint64_t threshold, int *fd,
    zk_error *err);
void zk_cgroup_event_drain(int fd);

/*
 * What the per-zone load average and the zones kstat sample.  v1: cpuacct
 * usage, usage_user, usage_sys; the run-queue wait from PSI (cpu.pressure)
 * of the zone's cgroup in the hybrid host's cgroup2 mount when there is
 * one.  v2: cpu.stat usage_usec, user_usec, system_usec and cpu.pressure.
 * Both: pids.events max.
 */
typedef struct zk_cgroup_loadstat {
	uint64_t usage_ns;	/* CPU time, all CPUs together */
	uint64_t user_ns;
	uint64_t sys_ns;
	uint64_t waitrq_ns;	/* cpu.pressure "some" total: time at least
				 * one task was runnable but not running */
	bool has_waitrq;	/* false: no per-cgroup PSI here */
	uint64_t forkfail;	/* forks refused by pids.max */
} zk_cgroup_loadstat;
int zk_cgroup_load_stat(zk_cgroup *cg, zk_cgroup_loadstat *st, zk_error *err);

#endif
