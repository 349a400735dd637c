/*
 * The zone's seccomp filter (docs/privileges.md): an allowlist, ENOSYS for
 * everything else, built from its rule lists with libseccomp.  A native
 * build runs this only at build time: zone_filter_gen writes the result
 * into the generated zone_filter_bpf.h, which privileges.c loads as it is,
 * so zone start-up neither builds the filter nor loads libseccomp.  A
 * cross build, whose generator could not run, builds and loads it at run
 * time with zk_zone_filter_load().
 */
#ifndef ZK_ZONE_FILTER_H
#define ZK_ZONE_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include "util/error.h"

/* The filter as the kernel runs it: *prog (malloc'd) of *len instructions. */
int zk_zone_filter_bpf(struct sock_filter **prog, size_t *len, zk_error *err);

/* Build it and load it into the calling thread (as zk_privileges_apply). */
int zk_zone_filter_load(zk_error *err);

/* The filter's lists of syscall names, for zone_filter_gen's report and
 * the tests.  Every syscall on none of them gets ENOSYS. */
typedef enum {
	ZK_FILTER_ALLOWED,	/* allowed whatever the arguments */
	ZK_FILTER_EPERM,	/* denied with EPERM */
	ZK_FILTER_BY_ARGS,	/* allowed or denied by their arguments */
} zk_filter_list;

const char *const *zk_zone_filter_names(zk_filter_list list, size_t *n);

/* Whether this libseccomp can name the syscall on some architecture.  A
 * listed name it cannot (a syscall newer than it) is left out of the
 * filter and so gets ENOSYS. */
bool zk_zone_filter_knows(const char *name);

#endif
