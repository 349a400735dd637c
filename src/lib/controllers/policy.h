/*
 * A running zone's resource policy as one object: its kstat file, the
 * controllers of controller.h, and prctl's live changes (overrides on top
 * of the stored config, kept until the zone halts or reboots, as rctl
 * changes are on SmartOS).
 *
 * The object owns an epoll fd of its own, holding the controllers'
 * descriptors and one timer for their earliest deadline.  Its supervisor
 * (zoneadmd) watches zk_policy_fd() for readability among its own fds and
 * calls zk_policy_dispatch() when it is readable; nothing here blocks.
 */
#ifndef ZK_POLICY_H
#define ZK_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "util/error.h"
#include "util/paths.h"

typedef struct zk_policy zk_policy;

/* What went wrong in the background (a controller's event, its timer):
 * there is no caller to return it to. */
typedef void zk_policy_log_fn(void *arg, const char *msg);
/* CLOCK_BOOTTIME ns (zk_now_ns); tests give a clock of their own. */
typedef uint64_t zk_policy_clock_fn(void *arg);

typedef struct zk_policy_params {
	zk_cgroup *cg;			/* borrowed: outlives the policy */
	const zk_paths *paths;		/* the config and the kstat dir; kept, not
				 * copied: must outlive the policy */
	const char *uuid;
	int zoneid;
	pid_t init_pid;			/* host pid of the zone's init */
	zk_policy_log_fn *log;		/* NULL: nowhere */
	void *log_arg;
	zk_policy_clock_fn *clock;	/* NULL: zk_now_ns */
	void *clock_arg;
} zk_policy_params;

/*
 * Read the stored config, publish the zone's kstat file and start every
 * controller.  A controller that cannot start costs the zone its figures,
 * not the policy: it is logged and left out.
 */
int zk_policy_new(const zk_policy_params *prm, zk_policy **out,
    zk_error *err);
/* Release every fd and the kstat file (unlinked with remove_kstats: the
 * zone halted; a zone left running keeps its figures). */
void zk_policy_free(zk_policy *p, bool remove_kstats);

/* Readable when a controller's descriptor or deadline needs a call. */
int zk_policy_fd(const zk_policy *p);
/* Handle whatever is ready, then every deadline that is due. */
void zk_policy_dispatch(zk_policy *p);

/*
 * Re-read the stored config, drop prctl's overrides and apply everything:
 * the resource controls, the kstat layout (caps exists only for a capped
 * zone), every controller.  An error names what is not in force.
 */
int zk_policy_reload(zk_policy *p, zk_error *err);
/* prctl: value in the rctl's own units, NULL to delete the value. */
int zk_policy_set_rctl(zk_policy *p, const char *rctl, const char *value,
    zk_error *err);
/* {"cpu_cap": 50, ...}: the rctl properties in force (malloc'd JSON). */
char *zk_policy_rctl_values(const zk_policy *p);

#endif
