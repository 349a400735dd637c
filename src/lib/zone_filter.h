/*
 * The zone's seccomp filter (docs/privileges.md), built from its rule list
 * with libseccomp.  A native build runs this only at build time:
 * zone_filter_gen writes the result into the generated zone_filter_bpf.h,
 * which privileges.c loads as it is, so zone start-up neither builds the
 * filter nor loads libseccomp.  A cross build, whose generator could not
 * run, builds and loads it at run time with zk_zone_filter_load().
 */
#ifndef ZK_ZONE_FILTER_H
#define ZK_ZONE_FILTER_H

#include <linux/filter.h>
#include <stddef.h>
#include "error.h"

/* The filter as the kernel runs it: *prog (malloc'd) of *len instructions. */
int zk_zone_filter_bpf(struct sock_filter **prog, size_t *len, zk_error *err);

/* Build it and load it into the calling thread (as zk_privileges_apply). */
int zk_zone_filter_load(zk_error *err);

#endif
