/*
 * zoneadmd's state, shared by its files: zoneadmd.c (boot, supervision,
 * requests, the event loop) and policy.c (kstats, controllers, rctl
 * overrides).
 */
#ifndef ZONEADMD_H
#define ZONEADMD_H

#include <jansson.h>
#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "controllers/controller.h"
#include "kstat/kstat_store.h"
#include "util/paths.h"
#include "zone/zone_runtime.h"

#define MAX_CLIENTS 16
#define KILL_TIMEOUT_MS 5000

typedef enum client_kind { CLIENT_REQUEST, CLIENT_CONSOLE,
    CLIENT_WAIT_STOP, CLIENT_WAIT_REBOOT } client_kind;

typedef struct client {
	int fd;
	client_kind kind;
} client;

typedef struct zoneadmd {
	zk_paths paths;
	char uuid[ZK_UUID_BUFSZ];
	char run[PATH_MAX];
	int log_fd, epfd, sigfd, listen_fd, timer_fd;
	zk_cgroup *cg;
	zk_zone_spec spec;
	zk_init_signals sigs;
	zk_zone_proc zone;	/* init pid, pidfd, console master */
	int console_peer;	/* our own slave fd: the master never HUPs */
	bool is_parent;		/* false after adoption: no wait status */
	bool stopping, rebooting;
	int zoneid;
	client clients[MAX_CLIENTS];

	/* policy.c */
	json_t *overrides;	/* prctl changes: property -> value or null */
	json_t *effective;	/* stored config with the overrides applied */
	zk_kstat_pub *kstats;
	int policy_timer_fd;	/* earliest controller deadline */
	uint64_t boot_time;	/* epoch seconds zone.pid started */
	struct running_controller {
		const zk_controller_ops *ops;
		void *state;
		size_t ks_base;
		size_t nfds;
		int fds[ZK_CTRL_MAX_FDS];
	} ctrl[8];
	size_t nctrl;
} zoneadmd;


void zlog(const zoneadmd *z, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int watch(const zoneadmd *z, int fd);
void unwatch(const zoneadmd *z, int fd);

/* policy.c: resource policy of the running zone. */
int policy_start(zoneadmd *z, zk_error *err);
void policy_stop(zoneadmd *z, bool remove_kstats);
bool policy_on_fd(zoneadmd *z, int fd);	/* false: not a policy fd */
/* Re-read the stored config, drop prctl overrides, apply everything. */
int policy_reload(zoneadmd *z, zk_error *err);
/* prctl: value in the rctl's own units, NULL to delete the value. */
int policy_set_rctl(zoneadmd *z, const char *name, const char *value,
    zk_error *err);
/* {"cpu_cap": 50, ...}: the rctl properties in force (malloc'd). */
char *policy_rctl_values(const zoneadmd *z);

#endif
