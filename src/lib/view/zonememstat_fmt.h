/*
 * zonememstat's table, pure: rows picked from memory_cap kstats and
 * rendered in SmartOS's layout (docs/zonememstat.md).
 */
#ifndef ZK_ZONEMEMSTAT_FMT_H
#define ZK_ZONEMEMSTAT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kstat/kstat_store.h"

typedef struct zk_memstat_row {
	int instance;		/* zoneid; the global zone is 0 */
	char zone[ZK_KSTAT_STR_VALUE];	/* the zonename statistic, whole */
	const char *alias;	/* NULL or "" prints "-" */
	uint64_t rss, physcap, nover, pagedout, swap, swapcap;	/* bytes */
} zk_memstat_row;

typedef struct zk_memstat_opts {
	bool no_header;		/* -H */
	bool alias;		/* -a */
	bool total;		/* -t */
	bool only_over;		/* -o */
	const char *zone;	/* -z, NULL for all */
} zk_memstat_opts;

/*
 * Which kstats zonememstat keeps (a zk_kstat_want_fn; opts is the
 * zk_memstat_opts): the memory_cap ones, the global zone's only when its
 * line can be printed, so that /proc is read only then.  It cannot be
 * under -z of another zone, nor under -o (the global zone has no cap, so
 * it is never over) unless -z global asks for it.
 */
bool zk_memstat_wants(void *opts, const char *module, int instance,
    const char *name, const char *class);

/*
 * The memory_cap kstats (class zone_memory_cap) of a snapshot, as rows
 * ordered by zone id, so the global zone comes first.  *rows is malloc'd;
 * aliases are left NULL.  Returns 0 or -ENOMEM.
 */
int zk_memstat_rows(const zk_kstat_snap *s, zk_memstat_row **rows,
    size_t *nrows);

/* Whether opts->zone (if any) is among the rows. */
bool zk_memstat_has_zone(const zk_memstat_row *rows, size_t n,
    const char *zone);

/*
 * The table: header "%37s %8s %8s %6s %9s %5s" (with -a an ALIAS column
 * after ZONE, as wide as the longest alias, at least 12), one row per zone
 * passing -z and -o, sizes in MiB truncated; an uncapped zone prints "-"
 * for CAP, NOVER, POUT and SWAP%.  -t adds a "total" row (CAP sums capped
 * zones only).  Malloc'd, NULL when out of memory.
 */
char *zk_memstat_render(const zk_memstat_row *rows, size_t n,
    const zk_memstat_opts *o);

#endif
