/*
 * zoneadmd's control socket, <rundir>/<uuid>/zoneadmd.sock.  One request
 * per connection: the client sends a line, zoneadmd answers with a line,
 * "ok[ <detail>]" or "error <message>".  "console" switches the connection
 * to a raw byte stream after "ok".
 *
 *   status                 -> ok <state> <init pid> <zoneid>
 *   stop <timeout_s> <F>   -> ok once the zone is down (F = 1: force now)
 *   reboot <F>             -> ok once the zone is running again
 *   reload                 -> ok after re-reading the config and applying
 *                             the resource controls live
 *   rctl get               -> ok {"cpu_cap":50,...}: rctl properties in force
 *   rctl set <rctl> <v>    -> ok; v in the rctl's units (prctl, until halt)
 *   rctl delete <rctl>     -> ok
 *   console                -> ok, then the console stream
 */
#ifndef ZK_CTL_H
#define ZK_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include "util/error.h"
#include "util/paths.h"

int zk_ctl_socket_path(const zk_paths *p, const char *uuid, char *buf,
    zk_error *err);

/* Connect to the zone's zoneadmd; -ECONNREFUSED/-ENOENT when none runs. */
int zk_ctl_connect(const zk_paths *p, const char *uuid, int *fd,
    zk_error *err);

/*
 * Send `request` and wait up to timeout_ms (-1: forever) for the reply
 * line.  "error ..." replies become an error carrying zoneadmd's message.
 * On success the text after "ok" (maybe empty) is copied into detail.
 */
int zk_ctl_call(int fd, const char *request, int timeout_ms, char *detail,
    size_t len, zk_error *err);

/* Read one line (without the newline) from fd; helper shared with zoneadmd. */
int zk_ctl_read_line(int fd, char *buf, size_t len, int timeout_ms);

typedef enum zk_ctl_op {
	ZK_CTL_STATUS, ZK_CTL_STOP, ZK_CTL_REBOOT, ZK_CTL_RELOAD,
	ZK_CTL_RCTL_GET, ZK_CTL_RCTL_SET, ZK_CTL_RCTL_DELETE, ZK_CTL_CONSOLE,
} zk_ctl_op;

#define ZK_CTL_RCTL_NAME_MAX 64
#define ZK_CTL_RCTL_VALUE_MAX 32

typedef struct zk_ctl_request {
	zk_ctl_op op;
	int timeout_s;			/* stop: seconds before force */
	bool force;			/* stop, reboot */
	char rctl[ZK_CTL_RCTL_NAME_MAX];	/* rctl set, rctl delete */
	char value[ZK_CTL_RCTL_VALUE_MAX];	/* rctl set */
} zk_ctl_request;

/*
 * zoneadmd's reading of a request line (the table above): words separated
 * by single spaces, integers in decimal, stop's timeout 0..INT_MAX and
 * force 0 or 1, rctl names and values that fit their fields whole.
 * Anything else fails with EINVAL: "unknown request \"<line>\"" for an
 * unknown verb, "malformed request \"<line>\"" otherwise.
 */
int zk_ctl_parse_request(const char *line, zk_ctl_request *req,
    zk_error *err);

#endif
