/*
 * A prctl change to a running zone's limits, as zoneadmd applies it: the
 * zone's effective config (stored config plus earlier changes) with one
 * rctl set or its privileged value removed.
 */
#ifndef ZK_RCTL_CHANGE_H
#define ZK_RCTL_CHANGE_H

#include <jansson.h>
#include "config/manifest.h"
#include "config/rctl.h"
#include "util/error.h"

/*
 * value (the rctl's units, as on the control socket) sets the rctl; it is
 * checked as `vmadm update` would check it (ranges, memory and swap), and
 * a limit removed earlier stays removed (no default comes back for it).
 * value NULL removes the privileged value: afterwards the config has no
 * limit of that kind (the property is gone, or 0 where 0 means none), so
 * the system value applies, as on illumos.  *next is a new config.
 */
int zk_rctl_change_config(const json_t *effective, const zk_rctl *r,
    const char *value, const zk_manifest_ctx *ctx, json_t **next,
    zk_error *err);

#endif
