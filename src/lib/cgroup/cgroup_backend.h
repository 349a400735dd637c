/*
 * Private to cgroup*.c: the handle, the backend operations table and the
 * helpers both backends share (cgroup_files.c).  cgroup.c detects the
 * mode, validates arguments and dispatches; cgroup_v1.c and cgroup_v2.c
 * only translate to kernel files.
 */
#ifndef ZK_CGROUP_BACKEND_H
#define ZK_CGROUP_BACKEND_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "util/error.h"

#define ZK_CG_PERIOD_US		100000	/* cpu cap period: 100 ms */
#define ZK_CG_FREEZE_TIMEOUT_MS	5000
#define ZK_CG_RMDIR_TIMEOUT_MS	1000
/* Room kept in every path buffer for the longest knob file name. */
#define ZK_CG_FILE_RESERVE	64

/* v1 hierarchies zonekit uses, in creation order. */
#define ZK_CG_V1_CONTROLLERS \
	{ "memory", "cpu", "cpuacct", "pids", "freezer", "devices", "blkio" }
#define ZK_CG_V1_MAX 7

typedef struct zk_cg_hier {
	const char *controller;	/* points into a static string */
	char base[PATH_MAX];	/* the hierarchy's mount, symlinks resolved */
	bool primary;		/* first controller seen on this mount: it
				 * creates and removes; co-mounts share it */
} zk_cg_hier;

typedef struct zk_cgroup_ops zk_cgroup_ops;

/*
 * Statistics files the handle keeps open (zk_cg_read): zoneadmd's
 * controllers re-read the same dozen knobs every few seconds, and open,
 * path walk and close were most of an idle zoneadmd's CPU time.  Enough
 * room for every file a backend reads repeatedly (v1: 14).
 */
#define ZK_CG_KEEP_MAX 24
typedef struct zk_cg_kept {
	char *path;		/* NULL: free slot */
	int fd;
} zk_cg_kept;

struct zk_cgroup {
	zk_cgroup_mode mode;
	const zk_cgroup_ops *ops;
	char root[PATH_MAX];
	char parent[PATH_MAX];	/* relative to each hierarchy, may be "" */
	char rel[PATH_MAX];	/* parent/name */
	/* v1 only */
	zk_cg_hier hier[ZK_CG_V1_MAX];
	size_t nhier;
	char unified[PATH_MAX];	/* hybrid host's cgroup2 mount, "" if unused */
	zk_cg_kept kept[ZK_CG_KEEP_MAX];
	zk_cgroup_devprog devprog;	/* what create did (cgroup.h) */
	char devprog_why[PATH_MAX + 64];
};

struct zk_cgroup_ops {
	/* Resolve the hierarchies under cg->root; nothing is created. */
	int (*init)(zk_cgroup *cg, zk_error *err);
	int (*create)(zk_cgroup *cg, zk_error *err);
	/* Open every hierarchy's cgroup.procs for writing (see cgroup.h). */
	int (*open_procs)(zk_cgroup *cg, zk_cgroup_procs *procs, zk_error *err);
	char *(*dir)(const zk_cgroup *cg, const char *controller, char *buf);
	/* The directory whose cgroup.procs lists the zone's processes. */
	char *(*procs_dir)(const zk_cgroup *cg, char *buf);
	/* Arguments are already validated by cgroup.c. */
	int (*set_memory)(zk_cgroup *cg, int64_t mem, int64_t memsw,
	    zk_error *err);
	int (*set_cpu_cap)(zk_cgroup *cg, uint64_t cap_pct, zk_error *err);
	int (*set_cpu_shares)(zk_cgroup *cg, uint64_t shares, zk_error *err);
	int (*set_pids_max)(zk_cgroup *cg, int64_t max, zk_error *err);
	/* -EOPNOTSUPP when the host has no freezer for this cgroup. */
	int (*freeze)(zk_cgroup *cg, bool frozen, int timeout_ms,
	    zk_error *err);
	/* One-shot kill of the whole subtree; -EOPNOTSUPP if unavailable. */
	int (*kill)(zk_cgroup *cg, zk_error *err);
	int (*destroy)(zk_cgroup *cg, zk_error *err);
	int (*memory_stat)(zk_cgroup *cg, zk_cgroup_memstat *st,
	    zk_error *err);
	int (*cpu_stat)(zk_cgroup *cg, zk_cgroup_cpustat *st, zk_error *err);
	int (*memory_counters)(zk_cgroup *cg, zk_cgroup_memcounters *c,
	    zk_error *err);
	int (*memory_watch)(zk_cgroup *cg, int *fd, zk_error *err);
	int (*memory_pressure)(zk_cgroup *cg, int *fd, zk_error *err);
	int (*memory_threshold)(zk_cgroup *cg, uint64_t threshold, int *fd,
	    zk_error *err);
	int (*load_stat)(zk_cgroup *cg, zk_cgroup_loadstat *st, zk_error *err);
};

extern const zk_cgroup_ops zk_cgroup_v1_ops;
extern const zk_cgroup_ops zk_cgroup_v2_ops;

/* "<base>/<rel>" into buf (PATH_MAX); lengths are checked at open. */
char *zk_cg_join(char *buf, const char *base, const char *rel);

/*
 * Reading knob files.  Reads go through the handle, which keeps each
 * statistics file open after its first read and re-reads it with
 * pread(fd, buf, size, 0): kernfs regenerates a file's text on every read
 * from offset 0, so a kept file reads what a fresh open would, for one
 * system call instead of four.  Membership lists (cgroup.procs, tasks,
 * cgroup.threads) are never kept: their iterator lives in the open file.
 * A kept file that fails (ENODEV once the cgroup is removed) is closed and
 * the path opened afresh, so a vanished cgroup reads as -ENOENT, as
 * without keeping.  Kept files are closed by zk_cgroup_destroy and
 * zk_cgroup_free.  Writes always open the path (zk_cg_write).
 *
 * Real cgroup files are never replaced while their cgroup exists; a fake
 * tree (unit tests) must likewise rewrite its files in place.
 */
int zk_cg_read(zk_cgroup *cg, const char *dir, const char *file, char **out,
    zk_error *err);
/* The same without keeping the file: ancestors' files, files read once. */
int zk_cg_read_once(const char *dir, const char *file, char **out,
    zk_error *err);
/* Whether <dir>/<file> exists; a kept file does without a system call. */
bool zk_cg_has(zk_cgroup *cg, const char *dir, const char *file);
/* The same for paths no handle covers (detection, hierarchy roots). */
bool zk_cg_exists(const char *dir, const char *file);
/* A single number; "max" reads as UINT64_MAX. */
int zk_cg_read_u64(zk_cgroup *cg, const char *dir, const char *file,
    uint64_t *v, zk_error *err);
/* "<key> <number>" from a flat keyed file; -ENOENT if the key is absent. */
int zk_cg_read_key(zk_cgroup *cg, const char *dir, const char *file,
    const char *key, uint64_t *v, zk_error *err);
/* The same, but an absent key (older kernels) reads as 0. */
int zk_cg_read_key_opt(zk_cgroup *cg, const char *dir, const char *file,
    const char *key, uint64_t *v, zk_error *err);
/* "<key> <number>" looked up in text already read (one read of
 * memory.stat serves many keys); -ENOENT if absent, -EINVAL if garbled. */
int zk_cg_find_key(const char *text, const char *key, uint64_t *v);
/* The same for keys a kernel may lack (memory.stat's workingset_* since
 * 5.9): absent or garbled reads as 0. */
uint64_t zk_cg_stat_key(const char *text, const char *key);
/* The "some" line's total= (microseconds) of a PSI file (cpu.pressure);
 * *present false when the file is absent (no PSI, or no such cgroup). */
int zk_cg_read_psi_some(zk_cgroup *cg, const char *dir, const char *file,
    uint64_t *total_us, bool *present, zk_error *err);
/* Close every kept file. */
void zk_cg_forget(zk_cgroup *cg);

/*
 * Write `on` or `off` to <dir>/<file>; when freezing, wait with `wait`
 * and thaw again if it times out: half-frozen helps nobody.
 */
int zk_cg_set_frozen(zk_cgroup *cg, const char *dir, const char *file,
    const char *on, const char *off, bool frozen, int timeout_ms,
    int (*wait)(zk_cgroup *cg, const char *dir, int timeout_ms,
    zk_error *err), zk_error *err);

/*
 * Open <dir>/<file> (cgroup.procs, or v1 `tasks` for a set opened with
 * ZK_CG_JOIN_SELF) into procs.  ZK_CG_ADD_OPTIONAL entries may be missing;
 * ZK_CG_ADD_CGROUP2 marks a cgroup2 directory, which a JOIN_SELF set also
 * keeps open for CLONE_INTO_CGROUP.
 */
#define ZK_CG_ADD_OPTIONAL 0x1u
#define ZK_CG_ADD_CGROUP2 0x2u
int zk_cg_add_procs(zk_cgroup_procs *procs, const char *dir, const char *file,
    unsigned how, zk_error *err);
int zk_cg_write(const char *dir, const char *file, const char *value,
    zk_error *err);

/* Whether a space-separated list file names `word` (a leading '+' is
 * ignored, so subtree_control reads the same from kernel and fake trees). */
bool zk_cg_list_has(const char *list, const char *word);

/* A limit as text: `unlimited` for ZK_CG_UNLIMITED, else the number. */
char *zk_cg_fmt_limit(char buf[32], int64_t v, const char *unlimited);

/*
 * mkdir -p <base>/<rel>.  *created counts the trailing path components this
 * call made, so zk_cg_rmdir_created can undo exactly those.
 */
int zk_cg_mkdir_p(const char *base, const char *rel, int *created,
    zk_error *err);
void zk_cg_rmdir_created(const char *base, const char *rel, int created);

/*
 * Remove a cgroup directory and any child cgroups in it, deepest first,
 * retrying on EBUSY (exiting tasks) for ZK_CG_RMDIR_TIMEOUT_MS.  Missing
 * is fine.  Only directories are removed: knob files belong to the kernel.
 */
int zk_cg_rmdir_tree(const char *dir, zk_error *err);

/*
 * Attach the device program (device_policy.h) to the cgroup2 directory
 * dir, recording the outcome in cg->devprog.  A directory on any other
 * file system (a fake tree) is skipped, with the reason in
 * cg->devprog_why: there is no kernel to enforce anything there.
 */
int zk_cg_attach_device_prog(zk_cgroup *cg, const char *dir, zk_error *err);

/* Every pid in cgroup.procs of dir and of its child cgroups. */
int zk_cg_read_procs(const char *dir, pid_t **pids, size_t *n,
    zk_error *err);

int64_t zk_cg_now_ms(void);
void zk_cg_sleep_ms(int ms);
void zk_cg_sleep_us(long us);

#endif
