/*
 * A controller: one piece of per-zone policy (memory capper, CPU burst
 * controller, load average, later I/O fairness).  The zone's policy object
 * (policy.h) runs them all from zoneadmd's single event loop: each may
 * watch file descriptors and ask for a wake-up time, and publishes its
 * figures as kstats in the zone's kstat file.  Controllers must be cheap when idle: no fds and no deadline
 * unless there is something to do.
 */
#ifndef ZK_CONTROLLER_H
#define ZK_CONTROLLER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cgroup/cgroup.h"
#include "kstat/kstat_store.h"
#include "util/clock.h"
#include "util/error.h"

#define ZK_CTRL_MAX_FDS 4
#define ZK_CTRL_MAX_KSTATS 4

typedef struct zk_zone_ctx {
	zk_cgroup *cg;
	const json_t *cfg;	/* effective config: stored config plus
				 * prctl overrides (values in manifest units) */
	int zoneid;
	const char *zonename;	/* the uuid */
	pid_t init_pid;		/* host pid of the zone's init */
	uint64_t boot_time;	/* epoch seconds */
	zk_kstat_pub *kstats;	/* the zone's kstat file */
	size_t ks_base;		/* index of this controller's first kstat */
	uint64_t now_ns;	/* CLOCK_BOOTTIME at the call */
} zk_zone_ctx;

typedef struct zk_controller_ops {
	const char *name;
	/* The kstats this controller publishes for the zone's config now
	 * (at most ZK_CTRL_MAX_KSTATS; z->kstats is NULL here); defs point
	 * at static stat tables.  Returns how many.  When the answer changes
	 * (a reconfigure), the file is laid out anew and z->kstats is NULL
	 * in the calls of a controller that has none. */
	size_t (*kstats)(const zk_zone_ctx *z, zk_kstat_def *defs);
	/* After boot (and after adoption): allocate state, read the config. */
	int (*start)(void **state, const zk_zone_ctx *z, zk_error *err);
	/* The effective config changed (vmadm update, prctl). */
	int (*reconfigure)(void *state, const zk_zone_ctx *z, zk_error *err);
	/* Descriptors to watch for readability now (may change after any
	 * call); returns how many were written to fds. */
	size_t (*fds)(void *state, int *fds);
	int (*on_fd)(void *state, const zk_zone_ctx *z, int fd, zk_error *err);
	/* Next wake-up, CLOCK_BOOTTIME ns; 0 = none needed. */
	uint64_t (*deadline)(void *state);
	int (*on_deadline)(void *state, const zk_zone_ctx *z, zk_error *err);
	/* Zone halting or zoneadmd exiting: release everything. */
	void (*stop)(void *state);
} zk_controller_ops;

/* The controllers a zone's policy runs, in order (controllers.c). */
const zk_controller_ops *const *zk_controllers(size_t *n);


#endif
