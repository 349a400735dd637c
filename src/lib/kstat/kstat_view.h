/*
 * kstat(1M) as pure logic over a snapshot (kstat_store.h): which
 * statistics a command line selects, in which order, and how each output
 * layout prints them.  Renders into a malloc'd string, so every layout is
 * unit-tested without a terminal.
 *
 * Selection, as on illumos: each selector is module:instance:name:statistic
 * where every field is a glob (fnmatch) or an extended regular expression
 * between slashes (/^cpu/), and a missing or empty field is "*".  A kstat
 * is shown when any selector matches its module, instance (as a decimal
 * string) and name and the class pattern (-c) matches its class; each of its
 * statistics is shown when the statistic field of any of those selectors
 * matches it.  No selector at all selects everything.
 */
#ifndef ZK_KSTAT_VIEW_H
#define ZK_KSTAT_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "kstat/kstat_store.h"
#include "util/error.h"

typedef enum zk_kstat_layout {
	ZK_KSTAT_HUMAN,		/* per-kstat blocks (the default) */
	ZK_KSTAT_PARSEABLE,	/* -p: module:inst:name:stat<TAB>value */
	ZK_KSTAT_NAMES,		/* -l: module:inst:name:stat only */
	ZK_KSTAT_JSON,		/* -j */
} zk_kstat_layout;

typedef struct zk_kstat_view_opts {
	zk_kstat_layout layout;
	bool colon;		/* -C: ':' instead of TAB before the value */
} zk_kstat_view_opts;

typedef struct zk_kstat_query zk_kstat_query;

/* An empty query (selects everything); NULL when out of memory. */
zk_kstat_query *zk_kstat_query_new(void);
void zk_kstat_query_free(zk_kstat_query *q);

/*
 * Add one selector from the -m -i -n -s options; NULL or "" fields are "*".
 * A malformed /regex/ fails with EINVAL and a message naming it.
 */
int zk_kstat_query_add_fields(zk_kstat_query *q, const char *module,
    const char *instance, const char *name, const char *statistic,
    zk_error *err);
/* Add one module[:instance[:name[:statistic]]] operand (EINVAL when it
 * has more than four fields or a malformed /regex/). */
int zk_kstat_query_add_operand(zk_kstat_query *q, const char *operand,
    zk_error *err);
/* -c: the class every shown kstat must match (glob or /regex/). */
int zk_kstat_query_set_class(zk_kstat_query *q, const char *pattern,
    zk_error *err);

/* Does the query select statistic `stat` of kstat k? */
bool zk_kstat_query_matches(const zk_kstat_query *q, const zk_kstat *k,
    const char *stat);
/* Could the query select any statistic of this kstat?  A zk_kstat_want_fn
 * (arg: the query), so a snapshot keeps only what may be printed. */
bool zk_kstat_query_wants(void *q, const char *module, int instance,
    const char *name, const char *class);

/* kstat order: module (case-insensitive), instance number, name. */
int zk_kstat_compare(const zk_kstat *a, const zk_kstat *b);
/* Sort kstats into that order and each one's values by name. */
void zk_kstat_sort(zk_kstat *ks, size_t n);

/* Takes rendered text in pieces; returns 0 or -errno (which stops it). */
typedef int zk_kstat_sink(void *arg, const char *text, size_t len);

/*
 * Render the statistics q (NULL: everything) selects from a snapshot, in
 * the given layout, handing the text to sink in pieces of at most
 * ZK_KSTAT_SINK_CHUNK bytes as it goes: kstat -p over a thousand zones is
 * megabytes, which are cheaper written in pieces than first gathered.  A
 * NULL sink only counts (kstat -q).  The pseudo-statistics crtime and
 * snaptime (seconds, 9 decimals) are listed among the statistics, and
 * class too in the -p and -l layouts.  *nmatched counts the statistics
 * selected (0: kstat exits 1).  Returns 0, -ENOMEM, or the sink's error.
 */
#define ZK_KSTAT_SINK_CHUNK (64u << 10)
int zk_kstat_render_snap(const zk_kstat_snap *s, const zk_kstat_query *q,
    const zk_kstat_view_opts *opts, zk_kstat_sink *sink, void *arg,
    size_t *nmatched);
/* The same from kstats in the simple form (in any order: rendering
 * sorts), into a malloc'd string; NULL when out of memory. */
char *zk_kstat_render(const zk_kstat *ks, size_t n, const zk_kstat_query *q,
    const zk_kstat_view_opts *opts, size_t *nmatched);

/* -T u (seconds since the epoch) or -T d (date(1) style, local time), with
 * a newline, into buf; NULL for any other format. */
char *zk_kstat_timestamp(char format, time_t t, char *buf, size_t len);

#endif
