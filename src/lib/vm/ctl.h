/*
 * zoneadmd's control socket, <rundir>/<uuid>/zoneadmd.sock.  One request
 * per connection: the client sends a line, zoneadmd answers with a line,
 * "ok[ <detail>]" or "error <errno> <message>".  "console" switches the
 * connection to a raw byte stream after "ok".
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
 *
 * Clients speak it through zk_ctl_call with a zk_ctl_request, never with
 * request text of their own.
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

/* The line a client sends for req, without the newline. */
void zk_ctl_format_request(const zk_ctl_request *req, char *buf, size_t len);

/* ---- replies ---------------------------------------------------------- */

/* Longest reply line: an error's message and its prefix. */
#define ZK_CTL_REPLY_MAX (ZK_ERROR_MAX + 64)

/*
 * A failure as zoneadmd answers it: its code (an errno or a ZK_E* code,
 * error.h) then its message, so the client's error has the same code.
 */
#define ZK_CTL_ERROR_FMT "error %d %s"

/*
 * A reply line as a client reads it.  "ok" or "ok <detail>" returns 0
 * with the detail (maybe empty) copied; "error <code> <message>" returns
 * -code with the message in err; "error <message>", as zoneadmds before
 * the code was sent answer, -EIO; anything else -EPROTO.
 */
int zk_ctl_parse_reply(const char *line, char *detail, size_t len,
    zk_error *err);

typedef struct zk_ctl_reply {
	char detail[ZK_CTL_REPLY_MAX];	/* after "ok " (status, rctl get) */
} zk_ctl_reply;

/*
 * The typed client: connect to the zone's zoneadmd, send req, wait for
 * the reply (as long as the request may take: a stop waits its timeout)
 * and return it: 0 and the detail in reply (which may be NULL), or the
 * error zoneadmd answered, with its code.  -ECONNREFUSED/-ENOENT when no
 * zoneadmd runs.
 */
int zk_ctl_call(const zk_paths *p, const char *uuid,
    const zk_ctl_request *req, zk_ctl_reply *reply, zk_error *err);

/* As zk_ctl_call, keeping the connection after "ok" (the console). */
int zk_ctl_open(const zk_paths *p, const char *uuid,
    const zk_ctl_request *req, int *fd, zk_error *err);

#endif
