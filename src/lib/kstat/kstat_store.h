/*
 * The kstat store: named statistics grouped as module:instance:name with a
 * class, as on illumos.  A publisher (zoneadmd, for one zone) owns one
 * small memory-mapped file under <rundir>/kstat/ holding all its kstats;
 * anyone reads them without talking to the publisher.  Updates are
 * bracketed by a per-file sequence counter (a seqlock): readers retry until
 * they copy an even, unchanged sequence, so every snapshot is consistent.
 *
 * Times (crtime, snaptime) are CLOCK_BOOTTIME nanoseconds, like illumos's
 * gethrtime().  Names follow illumos: at most 30 characters (longer names
 * are cut, as memory_cap:3:87b5509f-7c02-47e2-8b31-b26ead shows).
 */
#ifndef ZK_KSTAT_STORE_H
#define ZK_KSTAT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

#define ZK_KSTAT_STRLEN 31	/* illumos KSTAT_STRLEN, with the NUL */
#define ZK_KSTAT_STR_VALUE 64	/* string statistics (zonename) */

typedef enum zk_kstat_type {
	ZK_KSTAT_UINT64,
	ZK_KSTAT_INT64,
	ZK_KSTAT_STRING,
} zk_kstat_type;

typedef struct zk_kstat_stat_def {
	const char *name;
	zk_kstat_type type;
} zk_kstat_stat_def;

typedef struct zk_kstat_def {
	char module[ZK_KSTAT_STRLEN];
	int instance;
	char name[ZK_KSTAT_STRLEN];
	char class[ZK_KSTAT_STRLEN];
	size_t nstats;
	const zk_kstat_stat_def *stats;
} zk_kstat_def;

/* Fill a def, cutting module/name/class to 30 characters. */
void zk_kstat_def_init(zk_kstat_def *d, const char *module, int instance,
    const char *name, const char *class, const zk_kstat_stat_def *stats,
    size_t nstats);

/* ---- publishing ---------------------------------------------------------- */

typedef struct zk_kstat_pub zk_kstat_pub;

/*
 * Create <dir>/<file> (mkdir -p dir) holding the given kstats, all values
 * zero, crtime now; written under a temporary name and renamed, so readers
 * never see a half-made file.  Replaces an existing file of that name.
 */
int zk_kstat_pub_create(const char *dir, const char *file,
    const zk_kstat_def *defs, size_t ndefs, zk_kstat_pub **out,
    zk_error *err);
/* Unmap; with remove, also unlink the file (the zone halted). */
void zk_kstat_pub_close(zk_kstat_pub *pub, bool remove);

/* Bracket a batch of updates; end() stamps snaptime on the kstats touched
 * (all of them: the batch is per file). */
void zk_kstat_pub_begin(zk_kstat_pub *pub);
void zk_kstat_pub_end(zk_kstat_pub *pub);

/* Setters and getters by kstat index (order of defs) and stat index. */
void zk_kstat_set_u64(zk_kstat_pub *pub, size_t ks, size_t stat, uint64_t v);
void zk_kstat_set_i64(zk_kstat_pub *pub, size_t ks, size_t stat, int64_t v);
void zk_kstat_set_str(zk_kstat_pub *pub, size_t ks, size_t stat,
    const char *v);
uint64_t zk_kstat_get_u64(const zk_kstat_pub *pub, size_t ks, size_t stat);

/* ---- reading --------------------------------------------------------------- */

typedef struct zk_kstat_value {
	char name[ZK_KSTAT_STRLEN];
	zk_kstat_type type;
	union {
		uint64_t u64;
		int64_t i64;
		char str[ZK_KSTAT_STR_VALUE];
	} v;
} zk_kstat_value;

typedef struct zk_kstat {
	char module[ZK_KSTAT_STRLEN];
	int instance;
	char name[ZK_KSTAT_STRLEN];
	char class[ZK_KSTAT_STRLEN];
	uint64_t crtime_ns, snaptime_ns;
	size_t nvalues;
	zk_kstat_value *values;
} zk_kstat;

/*
 * Snapshot every kstat under dir (each file read consistently), appending
 * to *ks (realloc'd; *n updated).  A missing dir is an empty result.
 */
int zk_kstat_read_dir(const char *dir, zk_kstat **ks, size_t *n,
    zk_error *err);
/* Append the host-wide kstats of the global zone (instance 0, "global"):
 * memory_cap:0:global, zones:0:global (see docs/kstat.md), from the proc
 * tree at `proc` ("/proc"; tests use a fake one). */
int zk_kstat_read_host_at(const char *proc, zk_kstat **ks, size_t *n,
    zk_error *err);
void zk_kstat_free(zk_kstat *ks, size_t n);

/* ---- reading many publishers: the compact snapshot ------------------------ */

/*
 * kstat(1M) reads every zone's file at once: a thousand zones publish some
 * 35 000 statistics.  At that size the cost is touching fresh memory (a
 * page fault per 4 KiB), not copying, so a snapshot keeps them compactly:
 * each value in 8 bytes, modules and classes once, and each distinct list
 * of statistic names and types once, as a "shape" that every kstat laid
 * out alike (every zone's memory_cap) shares.  zk_kstat above stays the
 * simple form for tools that look up a few values.
 */
typedef union zk_kstat_datum {
	uint64_t u64;
	int64_t i64;
	const char *str;	/* at most ZK_KSTAT_STR_VALUE - 1 characters */
} zk_kstat_datum;

typedef struct zk_kstat_shape {
	size_t id;		/* 0 .. zk_kstat_snap_nshapes() - 1 */
	size_t nstats;
	const char *const *names;	/* at most 30 characters each */
	const zk_kstat_type *types;
} zk_kstat_shape;

typedef struct zk_kstat_rec {
	const char *module, *name, *class;	/* at most 30 characters */
	int instance;
	uint64_t crtime_ns, snaptime_ns;
	const zk_kstat_shape *shape;
	const zk_kstat_datum *data;	/* shape->nstats values */
} zk_kstat_rec;

typedef struct zk_kstat_snap zk_kstat_snap;

/* Tells a snapshot which kstats to keep (true) by their identity. */
typedef bool zk_kstat_want_fn(void *arg, const char *module, int instance,
    const char *name, const char *class);

/* An empty snapshot keeping every kstat (want NULL) or those want()
 * accepts; NULL when out of memory. */
zk_kstat_snap *zk_kstat_snap_new(zk_kstat_want_fn *want, void *arg);
void zk_kstat_snap_free(zk_kstat_snap *s);
/* Add every kstat under dir, as zk_kstat_read_dir reads them. */
int zk_kstat_snap_read_dir(zk_kstat_snap *s, const char *dir, zk_error *err);
/* Add copies of kstats in the simple form (tests, other sources). */
int zk_kstat_snap_add(zk_kstat_snap *s, const zk_kstat *ks, size_t n,
    zk_error *err);
/* Add the global zone's kstats (zk_kstat_read_host_at); /proc is not read
 * when the snapshot wants none of them. */
int zk_kstat_snap_add_host(zk_kstat_snap *s, const char *proc,
    zk_error *err);
/* Would the snapshot keep a kstat of this identity? */
bool zk_kstat_snap_wants(const zk_kstat_snap *s, const char *module,
    int instance, const char *name, const char *class);
/* The kstats in the order they were added (files in directory order). */
const zk_kstat_rec *zk_kstat_snap_recs(const zk_kstat_snap *s, size_t *n);
size_t zk_kstat_snap_nshapes(const zk_kstat_snap *s);

/* <rundir>/kstat */
char *zk_kstat_dir(const char *rundir, char *buf);

#endif
