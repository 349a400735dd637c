/*
 * Booting a zone: the zone's init is cloned into new pid, mount, uts, ipc,
 * net and cgroup namespaces, its root is the image under the zone's
 * writable layer, and it runs with the zone privilege set.  zoneadmd stays
 * its parent.  See docs/zoneadmd.md.
 */
#ifndef ZK_ZONE_RUNTIME_H
#define ZK_ZONE_RUNTIME_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "cgroup/cgroup.h"
#include "net/zone_net.h"
#include "storage/storage.h"
#include "util/error.h"
#include "util/paths.h"
#include "zone/idmap.h"

#define ZK_MAX_RESOLVERS 8

typedef struct zk_zone_spec {
	char uuid[ZK_UUID_BUFSZ];
	char hostname[256];
	char init_name[PATH_MAX];
	uint64_t tmpfs_mib;		/* 0: no tmpfs on /tmp */
	uint64_t memlock_bytes;		/* RLIMIT_MEMLOCK of the zone */
	size_t nresolvers;
	char resolvers[ZK_MAX_RESOLVERS][64];
	char dns_domain[256];
	zk_root_layers layers;
	bool has_ids;			/* false: made before user namespaces */
	zk_idmap ids;			/* the zone's user namespace */
	zk_net_spec net;		/* nics and routes */
} zk_zone_spec;

int zk_zone_spec_from_config(const zk_paths *p, const json_t *cfg,
    zk_zone_spec *spec, zk_error *err);

typedef struct zk_zone_proc {
	pid_t pid;		/* host pid of the zone's init */
	int pidfd;
	int console;		/* pty master of the zone console */
} zk_zone_proc;

/*
 * Clone the zone's init, move it into cg, build its root and exec init.
 * Returns once init has been exec'd (or with the child's own error
 * message).  On failure nothing is left running.
 */
int zk_zone_boot(const zk_zone_spec *spec, zk_cgroup *cg, zk_zone_proc *out,
    zk_error *err);

/*
 * Give a running zone a fresh console: a new pty from the zone's own devpts
 * bound over its /dev/console (used when a restarted zoneadmd adopts a
 * zone, whose old console died with the old zoneadmd).
 */
int zk_zone_new_console(pid_t init_pid, int *master, zk_error *err);

/* How to ask the zone's init to power off or reboot, by init flavour. */
typedef struct zk_init_signals {
	int poweroff;
	int reboot;
} zk_init_signals;
void zk_init_signals_for(const zk_zone_spec *spec, zk_init_signals *sig);

#endif
