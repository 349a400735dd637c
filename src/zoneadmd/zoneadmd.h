/*
 * zoneadmd's state: the zone it supervises, its event loop and the
 * clients of its control socket.  The zone's resource policy (kstats,
 * controllers, prctl's overrides) is a library object, controllers/policy.h.
 */
#ifndef ZONEADMD_H
#define ZONEADMD_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "controllers/policy.h"
#include "util/paths.h"
#include "zone/zone_runtime.h"

#define MAX_CLIENTS 16
#define KILL_TIMEOUT_MS 5000
/* A request line must arrive whole this soon after connecting (vmadm and
 * prctl send theirs at once): a silent or trickling client loses its slot
 * then, and never holds up anything else meanwhile. */
#define REQUEST_DEADLINE_MS 3000
#define REQUEST_MAX 256		/* bytes of a request line, newline included */

typedef enum client_kind { CLIENT_REQUEST, CLIENT_CONSOLE,
    CLIENT_WAIT_STOP, CLIENT_WAIT_REBOOT } client_kind;

typedef struct client {
	int fd;			/* -1: a free slot */
	client_kind kind;
	uint64_t deadline_ns;	/* CLIENT_REQUEST: the line is due by then */
	size_t len;		/* bytes of the request line read so far */
	char line[REQUEST_MAX];
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
	zk_policy *policy;	/* NULL while none runs */
	client clients[MAX_CLIENTS];
} zoneadmd;

#endif
