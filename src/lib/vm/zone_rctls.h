/*
 * A running zone's resource controls as prctl sees and changes them: the
 * zone found by uuid or zoneid, its config with the values in force
 * (zoneadmd's, after earlier prctl changes) laid over it, each rctl's usage
 * figure, and a change checked here and sent to the zone's zoneadmd.
 * Errors name the zone as the user named it ("<id>: No such zone").
 */
#ifndef ZK_ZONE_RCTLS_H
#define ZK_ZONE_RCTLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "config/rctl.h"
#include "util/error.h"
#include "util/paths.h"
#include "view/prctl_report.h"
#include "view/rctl_value.h"

typedef struct zk_zone_rctls {
	char uuid[ZK_UUID_BUFSZ];
	int zoneid;
	json_t *cfg;		/* the config, with the values in force */
} zk_zone_rctls;

/*
 * The running zone `id` names: by_zoneid, a zoneid; otherwise its uuid or,
 * as illumos's zone_get_id() does, a zoneid.  -ENOENT "<id>: No such zone",
 * -ESRCH "<id>: No such zone (not running)", -EINVAL "invalid zoneid <id>".
 * Release with zk_zone_rctls_close.
 */
int zk_zone_rctls_open(const zk_paths *p, bool by_zoneid, const char *id,
    zk_zone_rctls *z, zk_error *err);
void zk_zone_rctls_close(zk_zone_rctls *z);

/*
 * The report's rows, in table order (only `name`'s when not NULL), malloc'd
 * into *rows.  Usage figures are best effort: one that cannot be read is
 * left out, and the first reason is put in *warning (code 0 when none).
 */
int zk_zone_rctls_rows(const zk_paths *p, const zk_zone_rctls *z,
    const char *name, zk_rctl_report_row **rows, size_t *n,
    zk_error *warning, zk_error *err);

typedef enum zk_rctl_op {
	ZK_RCTL_OP_NONE,	/* only -e/-d, which change nothing here */
	ZK_RCTL_OP_SET,		/* -s, -r */
	ZK_RCTL_OP_DELETE,	/* -x */
} zk_rctl_op;

/* What prctl was asked to change, as given on its command line. */
typedef struct zk_rctl_change_args {
	const char *name;	/* -n */
	zk_rctl_priv priv;	/* -t, ZK_RCTL_PRIV_ANY when absent */
	zk_rctl_op op;
	const char *value;	/* -v, NULL when absent */
	char action_op;		/* 'e', 'd' or 0 */
	const char *action;
} zk_rctl_change_args;

typedef struct zk_rctl_change {
	const zk_rctl *rctl;
	zk_rctl_op op;
	uint64_t value;		/* ZK_RCTL_OP_SET, in the rctl's units */
} zk_rctl_change;

/*
 * Check a change once, before any zone is touched: the rctl exists, the
 * privilege can change, the value parses and can be held, the action is
 * the rctl's own.  zone.* rctls carry the one action their row names: -e
 * of it, or -d of an action they do not take, changes nothing; deny
 * cannot be switched on for a "none" rctl nor off for a "deny" one.
 */
int zk_rctl_change_check(const zk_rctl_change_args *a, zk_rctl_change *out,
    zk_error *err);

/* Send the change to the zone's zoneadmd, which holds it until the zone
 * halts; ZK_RCTL_OP_NONE sends nothing. */
int zk_zone_rctl_change(const zk_paths *p, const zk_zone_rctls *z,
    const zk_rctl_change *c, zk_error *err);

#endif
