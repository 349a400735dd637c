/*
 * Pure logic of the memory capper (excursions and reclaim from counter
 * deltas), the per-zone load average (fixed-point decay), and
 * zonememstat's table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "controllers/controller.h"
#include "controllers/loadavg.h"
#include "controllers/memcap.h"
#include "fake_tree.h"
#include "kstat/kstat_store.h"
#include "util/fsutil.h"
#include "view/zonememstat_fmt.h"

extern const zk_controller_ops zk_memcap_ops;

#define MIB (UINT64_C(1024) * 1024)
#define CAP (64 * MIB)
#define SEC UINT64_C(1000000000)

/* ---- memory capper ------------------------------------------------------- */

static zk_memcap_obs
obs(uint64_t usage, uint64_t failcnt, uint64_t oom_kill, uint64_t reclaim)
{
	zk_memcap_obs o = { .usage = usage, .limit = CAP, .failcnt = failcnt,
	    .oom_kill = oom_kill, .reclaim = reclaim };
	return o;
}

static void
fold(zk_memcap_track *t, zk_memcap_obs o)
{
	zk_memcap_track_fold(t, &o);
}

static void
test_low_water(void **state)
{
	(void)state;
	assert_int_equal(zk_memcap_low_water(CAP), CAP - CAP / 128);
	assert_int_equal(zk_memcap_low_water(128 * 4096), 127 * 4096);
	assert_false(zk_memcap_capped(UINT64_MAX));
	assert_true(zk_memcap_capped(CAP));
}

/* Counters that rose before the controller started are history. */
static void
test_first_reading_is_baseline(void **state)
{
	(void)state;
	zk_memcap_track t = { 0 };
	fold(&t, obs(CAP, 500, 3, 1000));
	assert_int_equal(t.nover, 0);
	assert_false(t.over);
	assert_int_equal(t.pagedout, 0);
	/* at the cap, but nothing new from the kernel yet: watch closely */
	assert_true(zk_memcap_watching(&t));
}

/* One long excursion: failcnt keeps rising, usage wobbles between the
 * low-water mark and the cap.  It counts once, and ends only below it. */
static void
test_hysteresis_counts_once(void **state)
{
	(void)state;
	uint64_t low = zk_memcap_low_water(CAP);
	zk_memcap_track t = { 0 };
	fold(&t, obs(10 * MIB, 0, 0, 0));
	assert_false(zk_memcap_watching(&t));
	fold(&t, obs(low + 4096, 0, 0, 0));	/* threshold event: near */
	assert_int_equal(t.nover, 0);
	assert_true(zk_memcap_watching(&t));
	fold(&t, obs(CAP, 7, 0, 0));		/* the cap was hit */
	assert_int_equal(t.nover, 1);
	assert_true(t.over);
	fold(&t, obs(CAP - 4096, 90, 0, 0));
	fold(&t, obs(low, 91, 0, 0));		/* at low water: still over */
	fold(&t, obs(CAP, 400, 0, 0));
	assert_int_equal(t.nover, 1);
	assert_true(t.over);
	fold(&t, obs(low - 1, 400, 0, 0));	/* under again */
	assert_false(t.over);
	assert_int_equal(t.nover, 1);
	assert_false(zk_memcap_watching(&t));
	fold(&t, obs(CAP, 401, 0, 0));		/* a second excursion */
	assert_int_equal(t.nover, 2);
	fold(&t, obs(20 * MIB, 401, 0, 0));
	fold(&t, obs(20 * MIB, 401, 0, 0));
	assert_int_equal(t.nover, 2);
	assert_false(t.over);
}

/* Hit, OOM kill and free all between two readings: one excursion, seen
 * only in the counters, already over by the time it is read. */
static void
test_millisecond_oom_counts_once(void **state)
{
	(void)state;
	zk_memcap_track t = { 0 };
	fold(&t, obs(5 * MIB, 0, 0, 0));
	fold(&t, obs(5 * MIB, 3000, 1, 0));
	assert_int_equal(t.nover, 1);
	assert_false(t.over);
	fold(&t, obs(5 * MIB, 3000, 1, 0));	/* the OOM event arrives late */
	assert_int_equal(t.nover, 1);
	/* an OOM kill alone (v2 oom / oom_kill) is a hit too */
	fold(&t, obs(5 * MIB, 3000, 2, 0));
	assert_int_equal(t.nover, 2);
	zk_memcap_obs o = obs(5 * MIB, 3000, 2, 0);
	o.oom = 1;
	fold(&t, o);
	assert_int_equal(t.nover, 3);
	o.under_oom = true;			/* v1: OOM in progress */
	fold(&t, o);
	assert_int_equal(t.nover, 4);
	assert_true(t.over);			/* under_oom keeps it over */
	o.under_oom = false;
	fold(&t, o);
	assert_false(t.over);
	assert_int_equal(t.nover, 4);
}

static void
test_uncapped_never_over(void **state)
{
	(void)state;
	zk_memcap_track t = { 0 };
	zk_memcap_obs o = obs(10 * MIB, 0, 0, 0);
	o.limit = UINT64_MAX;
	fold(&t, o);
	o.failcnt = 10;
	o.oom_kill = 1;
	o.usage = 900 * MIB;
	fold(&t, o);
	assert_int_equal(t.nover, 0);
	assert_false(t.over);
	assert_false(zk_memcap_watching(&t));
}

/* A cap that drops under the zone's use starts an excursion once the
 * kernel hits it, and one lifted ends it. */
static void
test_cap_change(void **state)
{
	(void)state;
	zk_memcap_track t = { 0 };
	zk_memcap_obs o = obs(100 * MIB, 0, 0, 0);
	o.limit = 256 * MIB;
	fold(&t, o);
	o.limit = CAP;
	o.usage = CAP;
	o.failcnt = 1;
	fold(&t, o);
	assert_int_equal(t.nover, 1);
	o.limit = UINT64_MAX;
	fold(&t, o);
	assert_false(t.over);
	assert_int_equal(t.nover, 1);
}

/* v1: pgpgout counts every uncharge; only intervals that hit the cap or
 * end still at it, without an OOM kill, are folded. */
static void
test_pagedout_v1(void **state)
{
	(void)state;
	uint64_t low = zk_memcap_low_water(CAP);
	zk_memcap_track t = { .reclaim_counts_frees = true };
	fold(&t, obs(10 * MIB, 0, 0, 1000));
	fold(&t, obs(20 * MIB, 0, 0, 1500));	/* frees while under */
	assert_int_equal(t.pagedout, 0);
	/* hit, but the interval began far under: its uncharges may be
	 * frees from before (a slow 10 s refresh), so none counts */
	fold(&t, obs(CAP, 5, 0, 2600));
	assert_int_equal(t.nover, 1);
	assert_int_equal(t.pagedout, 0);
	fold(&t, obs(CAP, 9, 0, 2700));		/* at the cap: reclaim */
	assert_int_equal(t.pagedout, 100);
	fold(&t, obs(CAP, 9, 0, 2750));		/* still at it, no new hit */
	assert_int_equal(t.pagedout, 150);
	fold(&t, obs(CAP, 9, 1, 20000));	/* an OOM kill freed these */
	assert_int_equal(t.pagedout, 150);
	fold(&t, obs(CAP, 12, 1, 20050));
	assert_int_equal(t.pagedout, 200);
	fold(&t, obs(MIB, 12, 1, 36000));	/* files deleted: excursion
						 * over, nothing paged out */
	assert_int_equal(t.pagedout, 200);
	assert_false(t.over);
	fold(&t, obs(MIB, 12, 1, 10));		/* a counter reset adds 0 */
	assert_int_equal(t.pagedout, 200);
	/* page cache written past the cap: the threshold event reads it
	 * near, then hit, reclaimed and back under within one interval,
	 * no kill: that was reclaim */
	fold(&t, obs(low + 4096, 12, 1, 20));
	assert_int_equal(t.pagedout, 200);
	fold(&t, obs(CAP - MIB, 40, 1, 400));
	assert_int_equal(t.pagedout, 580);
	assert_int_equal(t.nover, 2);
	assert_false(t.over);
}

/* v2: pgsteal counts only reclaim; every interval that saw the cap counts,
 * the one the excursion ends in included. */
static void
test_pagedout_v2(void **state)
{
	(void)state;
	zk_memcap_track t = { .reclaim_counts_frees = false };
	fold(&t, obs(10 * MIB, 0, 0, 50));
	fold(&t, obs(20 * MIB, 0, 0, 80));	/* global reclaim, not ours */
	assert_int_equal(t.pagedout, 0);
	fold(&t, obs(CAP, 1, 0, 100));
	assert_int_equal(t.pagedout, 20);
	fold(&t, obs(CAP, 2, 1, 130));
	assert_int_equal(t.pagedout, 50);
	fold(&t, obs(MIB, 2, 1, 140));		/* ends: its reclaim counts */
	assert_int_equal(t.pagedout, 60);
	fold(&t, obs(MIB, 2, 1, 170));
	assert_int_equal(t.pagedout, 60);
	fold(&t, obs(MIB, 3, 2, 200));		/* hit and over in between */
	assert_int_equal(t.pagedout, 90);
	assert_int_equal(t.nover, 2);
}

/* Boot registers no usage threshold: it waits for half the cap. */
static void
test_threshold_waits_for_half_the_cap(void **state)
{
	(void)state;
	assert_int_equal(zk_memcap_arm_at(CAP), 32 * MIB);
	/* a zone just booted, or idling well under its cap */
	assert_false(zk_memcap_want_threshold(0, CAP, 0));
	assert_false(zk_memcap_want_threshold(0, CAP, 32 * MIB - 4096));
	/* at half its cap: now (and once) */
	assert_true(zk_memcap_want_threshold(0, CAP, 32 * MIB));
	assert_false(zk_memcap_want_threshold(CAP, CAP, 40 * MIB));
	/* straight to the cap (the cap-hit event makes this reading) */
	assert_true(zk_memcap_want_threshold(0, CAP, CAP));
	/* back under half: kept, not asked for again */
	assert_false(zk_memcap_threshold_stale(CAP, CAP));
	assert_false(zk_memcap_want_threshold(CAP, CAP, 4 * MIB));
	/* uncapped, or a zero cap: never */
	assert_false(zk_memcap_want_threshold(0, UINT64_MAX, UINT64_MAX - 1));
	assert_false(zk_memcap_want_threshold(0, 0, 0));
}

static void
test_threshold_follows_the_cap(void **state)
{
	(void)state;
	assert_false(zk_memcap_threshold_stale(0, CAP));
	/* raised: the old one warns too early; the new half is not reached */
	assert_true(zk_memcap_threshold_stale(CAP, 2 * CAP));
	assert_false(zk_memcap_want_threshold(0, 2 * CAP, 40 * MIB));
	assert_true(zk_memcap_want_threshold(0, 2 * CAP, CAP));
	/* lowered under what the zone uses: at once */
	assert_true(zk_memcap_threshold_stale(CAP, CAP / 2));
	assert_true(zk_memcap_want_threshold(0, CAP / 2, 40 * MIB));
	/* removed */
	assert_true(zk_memcap_threshold_stale(CAP, UINT64_MAX));
	assert_false(zk_memcap_want_threshold(0, UINT64_MAX, 40 * MIB));
}

/* Reclaim pressure stands in for the threshold until it is registered. */
static void
test_pressure_until_threshold(void **state)
{
	(void)state;
	assert_true(zk_memcap_want_pressure(CAP, 0));
	assert_false(zk_memcap_want_pressure(CAP, CAP));
	assert_false(zk_memcap_want_pressure(UINT64_MAX, 0));
	assert_false(zk_memcap_want_pressure(0, 0));
}

/* ---- the cgroup readers, on fake trees ---------------------------------- */

/* Parents are made as needed. */
static void
put(const char *root, const char *rel, const char *content)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		fake_mkdirs(root, dir);
	}
	fake_put(root, rel, content);
}

/* A fake cgroup root per test, removed by the teardown even when the
 * test fails half-way. */
static int
fake_root(void **state)
{
	char *root = malloc(PATH_MAX);
	if (root == NULL)
		return -1;
	snprintf(root, PATH_MAX, "%s/zk-memcap-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL) {
		free(root);
		return -1;
	}
	*state = root;
	return 0;
}

static int
drop_root(void **state)
{
	zk_error err = { 0 };
	int r = zk_rm_rf(*state, &err);
	free(*state);
	return r;
}

#define PSI "some avg10=0.00 avg60=0.00 avg300=0.00 total=250\n" \
	"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"

static void
test_cgroup_readers_v2(void **state)
{
	const char *root = *state;
	put(root, "cgroup.controllers", "cpu memory pids\n");
	put(root, "zk/z/memory.stat", "anon 4096\npgmajfault 7\n"
	    "workingset_refault_anon 3\nworkingset_refault_file 5\n"
	    "pgsteal_direct 40\npgsteal 42\n");
	put(root, "zk/z/memory.events", "low 0\nhigh 0\nmax 9\noom 2\n"
	    "oom_kill 1\noom_group_kill 0\n");
	put(root, "zk/z/memory.max", "67108864\n");
	put(root, "zk/z/memory.swap.max", "134217728\n");
	put(root, "zk/z/cpu.stat", "usage_usec 1500\nuser_usec 1000\n"
	    "system_usec 500\nnr_periods 0\n");
	put(root, "zk/z/cpu.pressure", PSI);
	put(root, "zk/z/pids.events", "max 4\n");
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_cgroup_open(root, "zk", "z", &cg, &err), 0);

	zk_cgroup_memcounters c;
	assert_int_equal(zk_cgroup_memory_counters(cg, &c, &err), 0);
	assert_int_equal(c.pgpgin, 7);
	assert_int_equal(c.reclaim, 42);	/* pgsteal, not pgsteal_direct */
	assert_false(c.reclaim_counts_frees);
	assert_int_equal(c.refault_anon, 3);
	assert_int_equal(c.refault_file, 5);
	assert_int_equal(c.oom, 2);
	assert_int_equal(c.swapcap, 192 * MIB);	/* memory + swap */
	put(root, "zk/z/memory.swap.max", "max\n");
	assert_int_equal(zk_cgroup_memory_counters(cg, &c, &err), 0);
	assert_int_equal(c.swapcap, UINT64_MAX);

	zk_cgroup_loadstat l;
	assert_int_equal(zk_cgroup_load_stat(cg, &l, &err), 0);
	assert_int_equal(l.usage_ns, 1500000);
	assert_int_equal(l.user_ns, 1000000);
	assert_int_equal(l.sys_ns, 500000);
	assert_true(l.has_waitrq);
	assert_int_equal(l.waitrq_ns, 250000);
	assert_int_equal(l.forkfail, 4);

	/* memory.events changing makes the watch readable */
	int fd = -1;
	assert_int_equal(zk_cgroup_memory_watch(cg, &fd, &err), 0);
	assert_true(fd >= 0);
	/* v2 has no thresholds, and needs no pressure: no error, no fd */
	int none = 0;
	assert_int_equal(zk_cgroup_memory_threshold(cg, 1, &none, &err), 0);
	assert_int_equal(none, -1);
	none = 0;
	assert_int_equal(zk_cgroup_memory_pressure(cg, &none, &err), 0);
	assert_int_equal(none, -1);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 0);
	put(root, "zk/z/memory.events", "max 10\noom 2\noom_kill 1\n");
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	zk_cgroup_event_drain(fd);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	close(fd);

	/* no PSI (psi=0, or an old kernel): no wait, not an error.  Such a
	 * host's cgroups never have the file, so a new handle looks. */
	zk_cgroup_free(cg);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/zk/z/cpu.pressure", root);
	unlink(path);
	assert_int_equal(zk_cgroup_open(root, "zk", "z", &cg, &err), 0);
	assert_int_equal(zk_cgroup_load_stat(cg, &l, &err), 0);
	assert_false(l.has_waitrq);
	assert_int_equal(l.waitrq_ns, 0);
	put(root, "zk/z/cpu.pressure", "garbage\n");
	assert_true(zk_cgroup_load_stat(cg, &l, &err) == -EINVAL);
	zk_cgroup_free(cg);
}

/* A hybrid v1 host: memory, cpuacct and pids hierarchies, PSI from the
 * zone's cgroup in the cgroup2 mount at unified/. */
static void
test_cgroup_readers_v1(void **state)
{
	const char *root = *state;
	const char *h[] = { "memory", "cpuacct", "pids" };
	for (size_t i = 0; i < 3; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "%s/cgroup.procs", h[i]);
		put(root, rel, "");
	}
	put(root, "unified/cgroup.controllers", "");
	put(root, "memory/zk/z/memory.stat", "cache 0\nrss 4096\n"
	    "workingset_refault_anon 1\nworkingset_refault_file 2\n"
	    "pgpgin 10\npgpgout 4\npgfault 99\npgmajfault 1\n"
	    "total_pgpgin 1000\n");
	put(root, "memory/zk/z/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 1\noom_kill 3\n");
	put(root, "memory/zk/z/memory.memsw.limit_in_bytes",
	    "9223372036854771712\n");
	put(root, "memory/zk/z/memory.usage_in_bytes", "4096\n");
	put(root, "memory/zk/z/cgroup.event_control", "");
	put(root, "cpuacct/zk/z/cpuacct.usage", "3000\n");
	put(root, "cpuacct/zk/z/cpuacct.usage_user", "2000\n");
	put(root, "cpuacct/zk/z/cpuacct.usage_sys", "1000\n");
	put(root, "pids/zk/z/pids.events", "max 6\n");
	put(root, "unified/zk/z/cpu.pressure", PSI);
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_cgroup_open(root, "zk", "z", &cg, &err), 0);
	assert_int_equal(zk_cgroup_get_mode(cg), ZK_CGROUP_V1);

	zk_cgroup_memcounters c;
	assert_int_equal(zk_cgroup_memory_counters(cg, &c, &err), 0);
	assert_int_equal(c.pgpgin, 10);		/* not total_pgpgin */
	assert_int_equal(c.reclaim, 4);
	assert_true(c.reclaim_counts_frees);
	assert_int_equal(c.refault_anon, 1);
	assert_int_equal(c.refault_file, 2);
	assert_true(c.under_oom);
	assert_int_equal(c.swapcap, UINT64_MAX);	/* the kernel's "-1" */
	put(root, "memory/zk/z/memory.memsw.limit_in_bytes", "268435456\n");
	assert_int_equal(zk_cgroup_memory_counters(cg, &c, &err), 0);
	assert_int_equal(c.swapcap, 256 * MIB);

	zk_cgroup_loadstat l;
	assert_int_equal(zk_cgroup_load_stat(cg, &l, &err), 0);
	assert_int_equal(l.usage_ns, 3000);
	assert_int_equal(l.user_ns, 2000);
	assert_int_equal(l.sys_ns, 1000);
	assert_true(l.has_waitrq);
	assert_int_equal(l.waitrq_ns, 250000);
	assert_int_equal(l.forkfail, 6);

	/* the OOM notifier: "<eventfd> <fd of memory.oom_control>" */
	int fd = -1;
	assert_int_equal(zk_cgroup_memory_watch(cg, &fd, &err), 0);
	char path[PATH_MAX], *line = NULL;
	snprintf(path, sizeof(path), "%s/memory/zk/z/cgroup.event_control",
	    root);
	int efd, cfd;
	char args[32];
	assert_int_equal(zk_read_file(path, &line, NULL, &err), 0);
	assert_int_equal(sscanf(line, "%d %d %31s", &efd, &cfd, args), 2);
	assert_int_equal(efd, fd);
	free(line);
	close(fd);
	/* reclaim pressure in the zone itself; a kernel without the file
	 * refuses it */
	assert_true(zk_cgroup_memory_pressure(cg, &fd, &err) < 0);
	assert_int_equal(fd, -1);
	put(root, "memory/zk/z/memory.pressure_level", "");
	assert_int_equal(zk_cgroup_memory_pressure(cg, &fd, &err), 0);
	assert_int_equal(zk_read_file(path, &line, NULL, &err), 0);
	assert_int_equal(sscanf(line, "%d %d %31s", &efd, &cfd, args), 3);
	assert_int_equal(efd, fd);
	assert_string_equal(args, "low,local");
	free(line);
	close(fd);
	/* the threshold is registered as "<eventfd> <usage fd> <bytes>" */
	int tfd = -1;
	assert_int_equal(zk_cgroup_memory_threshold(cg,
	    zk_memcap_low_water(CAP), &tfd, &err), 0);
	assert_true(tfd >= 0);
	assert_int_equal(zk_read_file(path, &line, NULL, &err), 0);
	unsigned long long thr;
	assert_int_equal(sscanf(line, "%d %d %llu", &efd, &cfd, &thr), 3);
	assert_int_equal(efd, tfd);
	assert_int_equal(thr, CAP - CAP / 128);
	free(line);
	close(tfd);
	zk_cgroup_free(cg);
}

/* What the fake tree's cgroup.event_control was last asked to register:
 * "low,local", a threshold in bytes, "oom" (no argument), or "" when
 * nothing was since the file was last emptied. */
static void
last_registration(const char *root, char *what, size_t len)
{
	char path[PATH_MAX], *line = NULL;
	zk_error err = { 0 };
	int efd, cfd;
	snprintf(path, sizeof(path), "%s/memory/zk/z/cgroup.event_control",
	    root);
	assert_int_equal(zk_read_file(path, &line, NULL, &err), 0);
	assert_true(len > 31);
	snprintf(what, len, "%s", line[0] == '\0' ? "" : "oom");
	if (line[0] != '\0')
		assert_true(sscanf(line, "%d %d %31s", &efd, &cfd, what) >= 2);
	free(line);
}

static void
set_usage(const char *root, uint64_t usage)
{
	char v[32];
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)usage);
	put(root, "memory/zk/z/memory.usage_in_bytes", v);
}

static void
set_cap(const char *root, uint64_t cap)
{
	char v[32];
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)cap);
	put(root, "memory/zk/z/memory.limit_in_bytes", v);
}

/*
 * The capper on a fake v1 tree: boot registers only the cap-hit events;
 * the usage threshold comes with a reading at half the cap, stays, and
 * follows cap changes.
 */
static void
test_controller_arms_near_the_cap(void **state)
{
	const char *root = *state;
	char kdir[PATH_MAX], what[64];
	put(root, "memory/cgroup.procs", "");
	put(root, "memory/zk/z/memory.failcnt", "0\n");
	put(root, "memory/zk/z/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
	put(root, "memory/zk/z/memory.stat", "pgpgin 0\npgpgout 0\n");
	put(root, "memory/zk/z/memory.pressure_level", "");
	put(root, "memory/zk/z/cgroup.event_control", "");
	set_usage(root, 4 * MIB);
	set_cap(root, CAP);
	zk_cgroup *cg = NULL;
	zk_kstat_pub *pub = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_cgroup_open(root, "zk", "z", &cg, &err), 0);
	snprintf(kdir, sizeof(kdir), "%s/kstat", root);
	zk_kstat_def defs[ZK_CTRL_MAX_KSTATS];
	zk_zone_ctx kz = { .zoneid = 7, .zonename = "z" };
	size_t nk = zk_memcap_ops.kstats(&kz, defs);
	assert_int_equal(zk_kstat_pub_create(kdir, "z", defs, nk, &pub, &err),
	    0);
	zk_zone_ctx z = { .cg = cg, .zoneid = 7, .zonename = "z",
	    .kstats = pub, .now_ns = SEC };
	void *m = NULL;
	int fds[ZK_CTRL_MAX_FDS];

	/* boot: the OOM notifier and reclaim pressure, no threshold */
	assert_int_equal(zk_memcap_ops.start(&m, &z, &err), 0);
	assert_int_equal(zk_memcap_ops.fds(m, fds), 2);
	last_registration(root, what, sizeof(what));
	assert_string_equal(what, "low,local");
	/* just under half: nothing new */
	put(root, "memory/zk/z/cgroup.event_control", "");
	set_usage(root, 32 * MIB - 4096);
	assert_int_equal(zk_memcap_ops.on_deadline(m, &z, &err), 0);
	assert_int_equal(zk_memcap_ops.fds(m, fds), 2);
	last_registration(root, what, sizeof(what));
	assert_string_equal(what, "");
	/* half: the threshold at cap - cap/128 takes over from pressure */
	set_usage(root, 32 * MIB);
	assert_int_equal(zk_memcap_ops.on_deadline(m, &z, &err), 0);
	assert_int_equal(zk_memcap_ops.fds(m, fds), 2);
	last_registration(root, what, sizeof(what));
	assert_string_equal(what, "66584576");
	/* back under half: kept, nothing registered again */
	put(root, "memory/zk/z/cgroup.event_control", "");
	set_usage(root, 4 * MIB);
	assert_int_equal(zk_memcap_ops.on_deadline(m, &z, &err), 0);
	assert_int_equal(zk_memcap_ops.fds(m, fds), 2);
	last_registration(root, what, sizeof(what));
	assert_string_equal(what, "");
	/* the cap doubles: the old threshold goes, the new half is far, so
	 * pressure again */
	set_cap(root, 2 * CAP);
	assert_int_equal(zk_memcap_ops.reconfigure(m, &z, &err), 0);
	assert_int_equal(zk_memcap_ops.fds(m, fds), 2);
	last_registration(root, what, sizeof(what));
	assert_string_equal(what, "low,local");
	/* straight to the cap: the reading that sees it registers the
	 * threshold */
	set_usage(root, 2 * CAP);
	put(root, "memory/zk/z/memory.failcnt", "1\n");
	assert_int_equal(zk_memcap_ops.on_deadline(m, &z, &err), 0);
	last_registration(root, what, sizeof(what));
	assert_string_equal(what, "133169152");
	assert_int_equal(zk_memcap_ops.fds(m, fds), 0);	/* 4 Hz sampling */
	/* uncapped: nothing to watch, even once back under */
	set_usage(root, 4 * MIB);
	set_cap(root, UINT64_C(9223372036854771712));
	assert_int_equal(zk_memcap_ops.reconfigure(m, &z, &err), 0);
	assert_int_equal(zk_memcap_ops.fds(m, fds), 0);
	assert_int_equal(zk_memcap_ops.deadline(m), z.now_ns + 30 * SEC);

	zk_memcap_ops.stop(m);
	zk_kstat_pub_close(pub, true);
	zk_cgroup_free(cg);
}

/* ---- load average ---------------------------------------------------------- */

static uint64_t
illumos(uint64_t avg)
{
	return zk_loadavg_scaled(avg, ZK_LOAD_ILLUMOS_SHIFT);
}

static void
test_decay_factors(void **state)
{
	(void)state;
	/* exp(-1/60) = 0.98347145... */
	uint64_t e1 = zk_loadavg_decay(SEC, 60);
	assert_true(e1 > 4223977000ULL && e1 < 4223978500ULL);
	/* the kernel's EXP_1, EXP_5, EXP_15 are these at 5 s, 11 bits */
	assert_int_equal(zk_loadavg_scaled(zk_loadavg_decay(5 * SEC, 60),
	    ZK_LOAD_FSHIFT), 1884);
	assert_int_equal(zk_loadavg_scaled(zk_loadavg_decay(5 * SEC, 300),
	    ZK_LOAD_FSHIFT), 2014);
	assert_int_equal(zk_loadavg_scaled(zk_loadavg_decay(5 * SEC, 900),
	    ZK_LOAD_FSHIFT), 2037);
	assert_int_equal(zk_loadavg_decay(0, 60), ZK_LOAD_ONE);
	assert_int_equal(zk_loadavg_decay(3600 * SEC, 60), 0);
	/* exp(-60/60) = e^-1; exp(-150/60) = e^-2.5 = 0.0820849986 */
	uint64_t e = zk_loadavg_decay(60 * SEC, 60);
	assert_true(e > 1580030100ULL && e < 1580030200ULL);
	e = zk_loadavg_decay(150 * SEC, 60);
	assert_true(e > 352552000ULL && e < 352553000ULL);
	/* exact for any interval: e(a + b) = e(a) e(b) */
	uint64_t ab = zk_loadavg_decay(7300 * 1000000ULL, 300);
	uint64_t a = zk_loadavg_decay(2100 * 1000000ULL, 300);
	uint64_t b = zk_loadavg_decay(5200 * 1000000ULL, 300);
	uint64_t prod = (uint64_t)(((unsigned __int128)a * b) >> 32);
	assert_true(ab - prod <= 2 || prod - ab <= 2);
}

static void
test_active_tasks(void **state)
{
	(void)state;
	assert_int_equal(zk_loadavg_active(2 * SEC, SEC), 2 * ZK_LOAD_ONE);
	assert_int_equal(zk_loadavg_active(SEC / 2, SEC), ZK_LOAD_ONE / 2);
	assert_int_equal(zk_loadavg_active(15 * SEC, 10 * SEC),
	    ZK_LOAD_ONE + ZK_LOAD_ONE / 2);
	assert_int_equal(zk_loadavg_active(5, 0), 0);
}

/* Two busy tasks: the 1-minute average reaches 2 (512) and the others
 * follow at their own pace, as 2 (1 - e^(-t/T)). */
static void
test_constant_load_converges(void **state)
{
	(void)state;
	zk_loadavg la = { { 0 } };
	uint64_t two = 2 * ZK_LOAD_ONE;
	for (int s = 0; s < 60; s++)
		zk_loadavg_fold(&la, two, SEC);
	/* after 60 s: 2 (1 - e^-1) = 1.2642 -> 323.6; 5 min: 0.3625 -> 92.8;
	 * 15 min: 0.1290 -> 33.0 */
	assert_in_range(illumos(la.avg[0]), 322, 325);
	assert_in_range(illumos(la.avg[1]), 92, 94);
	assert_in_range(illumos(la.avg[2]), 32, 34);
	for (int s = 60; s < 900; s++)
		zk_loadavg_fold(&la, two, SEC);
	assert_int_equal(illumos(la.avg[0]), 512);
	/* 2 (1 - e^-3) = 1.9004 -> 486.5 */
	assert_in_range(illumos(la.avg[1]), 485, 488);
	/* 2 (1 - e^-1) after one period, 15 minutes */
	assert_in_range(illumos(la.avg[2]), 322, 325);
	for (int s = 0; s < 7200; s++)
		zk_loadavg_fold(&la, two, SEC);
	for (int i = 0; i < 3; i++)
		assert_int_equal(illumos(la.avg[i]), 512);
	/* the kernel's scale too */
	assert_int_equal(zk_loadavg_scaled(la.avg[0], ZK_LOAD_FSHIFT), 4096);
}

static void
test_idle_decays_to_zero(void **state)
{
	(void)state;
	zk_loadavg la = { { 3 * ZK_LOAD_ONE, 3 * ZK_LOAD_ONE,
	    3 * ZK_LOAD_ONE } };
	zk_loadavg_fold(&la, 0, 60 * SEC);
	/* 3 e^-1 = 1.1036 -> 282.5 */
	assert_in_range(illumos(la.avg[0]), 282, 283);
	for (int s = 0; s < 3 * 3600; s += 10)
		zk_loadavg_fold(&la, 0, 10 * SEC);
	for (int i = 0; i < 3; i++)
		assert_int_equal(illumos(la.avg[i]), 0);
}

/* Backing off to 5 s and 10 s steps while idle gives what 1 s steps give,
 * within rounding, and so does a steady load folded in one long step. */
static void
test_backoff_matches_one_second_steps(void **state)
{
	(void)state;
	zk_loadavg fine = { { 0 } };
	for (int s = 0; s < 45; s++)
		zk_loadavg_fold(&fine, 2 * ZK_LOAD_ONE, SEC);
	zk_loadavg coarse = fine;
	for (int s = 0; s < 100; s++)
		zk_loadavg_fold(&fine, 0, SEC);
	/* the controller's ladder: 1 s, then 5, 10, 30 and 60 s */
	uint64_t iv = ZK_LOAD_INTERVAL_MIN, elapsed = 0;
	while (elapsed < 100 * SEC) {
		uint64_t step = iv;
		if (elapsed + step > 100 * SEC)
			step = 100 * SEC - elapsed;
		zk_loadavg_fold(&coarse, 0, step);
		elapsed += step;
		iv = zk_loadavg_next_interval(iv, 0);
	}
	for (int i = 0; i < 3; i++) {
		uint64_t d = fine.avg[i] > coarse.avg[i] ?
		    fine.avg[i] - coarse.avg[i] : coarse.avg[i] - fine.avg[i];
		assert_true(d < 256);	/* Q32: far below 1/256 */
		assert_int_equal(illumos(fine.avg[i]), illumos(coarse.avg[i]));
	}
	/* a load of 1.5 for 30 s: one step or thirty */
	zk_loadavg one = { { 0 } }, many = { { 0 } };
	uint64_t l = ZK_LOAD_ONE + ZK_LOAD_ONE / 2;
	zk_loadavg_fold(&one, l, 30 * SEC);
	for (int s = 0; s < 30; s++)
		zk_loadavg_fold(&many, l, SEC);
	for (int i = 0; i < 3; i++)
		assert_int_equal(illumos(one.avg[i]), illumos(many.avg[i]));
}

static void
test_interval_ladder(void **state)
{
	(void)state;
	uint64_t busy = ZK_LOAD_ONE / 10, idle = ZK_LOAD_ONE / 1000;
	uint64_t iv = ZK_LOAD_INTERVAL_MIN;
	iv = zk_loadavg_next_interval(iv, idle);
	assert_int_equal(iv, 5 * SEC);
	iv = zk_loadavg_next_interval(iv, idle);
	assert_int_equal(iv, 10 * SEC);
	iv = zk_loadavg_next_interval(iv, idle);
	assert_int_equal(iv, 30 * SEC);
	iv = zk_loadavg_next_interval(iv, idle);
	assert_int_equal(iv, 60 * SEC);
	iv = zk_loadavg_next_interval(iv, idle);
	assert_int_equal(iv, 60 * SEC);
	iv = zk_loadavg_next_interval(iv, busy);
	assert_int_equal(iv, SEC);
	assert_int_equal(zk_loadavg_next_interval(SEC, ZK_LOAD_IDLE), SEC);
}

/* ---- zonememstat ------------------------------------------------------------ */

static const char *const Z1 = "87b5509f-7c02-47e2-8b31-b26ead5a6c3f";
static const char *const Z2 = "c0ffee00-0000-4000-8000-000000000001";

static void
fixture(zk_memstat_row rows[3])
{
	memset(rows, 0, 3 * sizeof(rows[0]));
	rows[0].instance = 0;
	strcpy(rows[0].zone, "global");
	rows[0].rss = 512 * MIB + 100;
	rows[0].physcap = rows[0].swapcap = UINT64_MAX;
	rows[1].instance = 3;
	strcpy(rows[1].zone, Z1);
	rows[1].rss = 63 * MIB + MIB * 9 / 10;
	rows[1].physcap = 64 * MIB;
	rows[1].nover = 2;
	rows[1].pagedout = 5 * MIB + MIB / 2;
	rows[1].swap = 32 * MIB;
	rows[1].swapcap = 256 * MIB;
	rows[2].instance = 7;
	strcpy(rows[2].zone, Z2);
	rows[2].rss = 10 * MIB;
	rows[2].physcap = rows[2].swapcap = UINT64_MAX;
	rows[2].nover = 9;	/* never printed for an uncapped zone */
}

#define HDR "                                 ZONE  RSS(MB)  CAP(MB)  NOVER  POUT(MB) SWAP%\n"
#define GZ  "                               global      512        -      -         -     -\n"
#define R1  " 87b5509f-7c02-47e2-8b31-b26ead5a6c3f       63       64      2         5  12.5\n"
#define R2  " c0ffee00-0000-4000-8000-000000000001       10        -      -         -     -\n"

static void
check(const zk_memstat_row *rows, size_t n, zk_memstat_opts o,
    const char *want)
{
	char *got = zk_memstat_render(rows, n, &o);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_fmt_default_and_header(void **state)
{
	(void)state;
	zk_memstat_row rows[3];
	fixture(rows);
	check(rows, 3, (zk_memstat_opts){ 0 }, HDR GZ R1 R2);
	check(rows, 3, (zk_memstat_opts){ .no_header = true }, GZ R1 R2);
	check(rows, 0, (zk_memstat_opts){ 0 }, HDR);
}

static void
test_fmt_total_over_zone(void **state)
{
	(void)state;
	zk_memstat_row rows[3];
	fixture(rows);
	check(rows, 3, (zk_memstat_opts){ .total = true }, HDR GZ R1 R2
	    "                                total      585       64      2"
	    "         5     -\n");
	check(rows, 3, (zk_memstat_opts){ .only_over = true }, HDR R1);
	check(rows, 3, (zk_memstat_opts){ .zone = Z1, .no_header = true }, R1);
	check(rows, 3, (zk_memstat_opts){ .zone = "global" }, HDR GZ);
	/* -o of a zone never over: the header alone */
	check(rows, 3, (zk_memstat_opts){ .zone = "global", .only_over = true },
	    HDR);
	assert_true(zk_memstat_has_zone(rows, 3, Z2));
	assert_false(zk_memstat_has_zone(rows, 3, "nosuchzone"));
}

static void
test_fmt_alias(void **state)
{
	(void)state;
	zk_memstat_row rows[3];
	fixture(rows);
	rows[1].alias = "web-frontend-1";
	rows[2].alias = "";
	check(rows, 3, (zk_memstat_opts){ .alias = true },
	    "                                 ZONE          ALIAS  RSS(MB)  CAP(MB)  NOVER  POUT(MB) SWAP%\n"
	    "                               global              -      512        -      -         -     -\n"
	    " 87b5509f-7c02-47e2-8b31-b26ead5a6c3f web-frontend-1       63       64      2         5  12.5\n"
	    " c0ffee00-0000-4000-8000-000000000001              -       10        -      -         -     -\n");
	rows[1].alias = "db";	/* the column is at least 12 wide */
	check(rows, 3, (zk_memstat_opts){ .alias = true, .zone = Z1,
	    .no_header = true },
	    " 87b5509f-7c02-47e2-8b31-b26ead5a6c3f           db       63       64      2         5  12.5\n");
}

/* Rows come from memory_cap kstats only, in zone id order, named by the
 * zonename statistic (the kstat name is cut to 30 characters). */
static void
test_rows_from_kstats(void **state)
{
	(void)state;
	zk_kstat_value v1[] = {
		{ .name = "zonename", .type = ZK_KSTAT_STRING },
		{ .name = "rss", .type = ZK_KSTAT_UINT64, .v.u64 = 5 * MIB },
		{ .name = "physcap", .type = ZK_KSTAT_UINT64, .v.u64 = CAP },
		{ .name = "nover", .type = ZK_KSTAT_UINT64, .v.u64 = 1 },
	};
	strcpy(v1[0].v.str, Z1);
	zk_kstat_value vg[] = {
		{ .name = "zonename", .type = ZK_KSTAT_STRING },
		{ .name = "physcap", .type = ZK_KSTAT_UINT64,
		    .v.u64 = UINT64_MAX },
	};
	strcpy(vg[0].v.str, "global");
	zk_kstat_value vz[] = {
		{ .name = "avenrun_1min", .type = ZK_KSTAT_UINT64 },
	};
	/* Another layout: the fields are found by name, a negative count
	 * reads 0, and without a zonename the kstat's name is used. */
	zk_kstat_value v2[] = {
		{ .name = "nover", .type = ZK_KSTAT_INT64, .v.i64 = -3 },
		{ .name = "rss", .type = ZK_KSTAT_UINT64, .v.u64 = 7 * MIB },
	};
	zk_kstat ks[4] = { 0 };
	strcpy(ks[0].module, "memory_cap");
	ks[0].instance = 3;
	snprintf(ks[0].name, sizeof(ks[0].name), "%.30s", Z1);
	strcpy(ks[0].class, "zone_memory_cap");
	ks[0].values = v1;
	ks[0].nvalues = 4;
	strcpy(ks[1].module, "zones");
	ks[1].instance = 3;
	strcpy(ks[1].class, "zone_misc");
	ks[1].values = vz;
	ks[1].nvalues = 1;
	strcpy(ks[2].module, "memory_cap");
	ks[2].instance = 0;
	strcpy(ks[2].name, "global");
	strcpy(ks[2].class, "zone_memory_cap");
	ks[2].values = vg;
	ks[2].nvalues = 2;
	strcpy(ks[3].module, "memory_cap");
	ks[3].instance = 2;
	strcpy(ks[3].name, "other");
	strcpy(ks[3].class, "zone_memory_cap");
	ks[3].values = v2;
	ks[3].nvalues = 2;
	zk_error err = { 0 };
	zk_kstat_snap *snap = zk_kstat_snap_new(NULL, NULL);
	assert_non_null(snap);
	assert_int_equal(zk_kstat_snap_add(snap, ks, 4, &err), 0);
	zk_memstat_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(zk_memstat_rows(snap, &rows, &n), 0);
	zk_kstat_snap_free(snap);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].zone, "global");
	assert_int_equal(rows[0].physcap, UINT64_MAX);
	assert_string_equal(rows[1].zone, "other");
	assert_int_equal(rows[1].rss, 7 * MIB);
	assert_int_equal(rows[1].nover, 0);
	assert_string_equal(rows[2].zone, Z1);
	assert_int_equal(rows[2].rss, 5 * MIB);
	assert_int_equal(rows[2].nover, 1);
	assert_int_equal(rows[2].swapcap, 0);	/* absent reads as 0 */
	free(rows);
}

static bool
wants(zk_memstat_opts o, const char *module, int instance, const char *name,
    const char *class)
{
	return zk_memstat_wants(&o, module, instance, name, class);
}

/* Only memory_cap kstats; the global zone's only when its line can be
 * printed (-z global must find it, even with -o). */
static void
test_wants(void **state)
{
	(void)state;
	const char *mc = "memory_cap", *cl = "zone_memory_cap";
	zk_memstat_opts all = { 0 }, over = { .only_over = true },
	    z1 = { .zone = Z1 }, gz = { .zone = "global", .only_over = true };
	assert_true(wants(all, mc, 3, Z1, cl));
	assert_true(wants(all, mc, 0, "global", cl));
	assert_false(wants(all, "zones", 3, Z1, "zone_misc"));
	assert_false(wants(all, "caps", 3, "cpucaps_zone_3", "zone_caps"));
	assert_false(wants(all, mc, 3, Z1, "zone_misc"));
	assert_true(wants(over, mc, 3, Z1, cl));
	assert_false(wants(over, mc, 0, "global", cl));
	assert_true(wants(z1, mc, 3, Z1, cl));
	assert_false(wants(z1, mc, 0, "global", cl));
	assert_true(wants(gz, mc, 0, "global", cl));
	assert_true(wants(gz, mc, 3, Z1, cl));
}

/* Where the memory capper's statistic is among a zone's kstats. */
static void
memcap_slot(const zk_kstat_def *defs, size_t nd, const char *stat,
    size_t *ks, size_t *st)
{
	for (*ks = 0; *ks < nd; (*ks)++)
		if (strcmp(defs[*ks].module, "memory_cap") == 0)
			for (*st = 0; *st < defs[*ks].nstats; (*st)++)
				if (strcmp(defs[*ks].stats[*st].name, stat) == 0)
					return;
	fail_msg("no memory_cap:%s", stat);
}

/* Files published as zoneadmd's controllers publish them: only their
 * memory_cap kstats are kept, and /proc is read only for the global
 * zone's line. */
static void
test_snapshot_of_published_files(void **state)
{
	const char *root = *state;
	char kdir[PATH_MAX + 8];
	snprintf(kdir, sizeof(kdir), "%s/kstat", root);
	size_t nc;
	const zk_controller_ops *const *ops = zk_controllers(&nc);
	const char *zones[] = { Z2, Z1 };
	zk_error err = { 0 };
	for (int z = 0; z < 2; z++) {
		zk_kstat_def defs[16];
		size_t nd = 0;
		zk_zone_ctx kz = { .zoneid = 7 - 4 * z, .zonename = zones[z] };
		for (size_t i = 0; i < nc; i++)
			if (ops[i]->kstats != NULL)
				nd += ops[i]->kstats(&kz, defs + nd);
		assert_true(nd > 1);
		zk_kstat_pub *pub = NULL;
		assert_int_equal(zk_kstat_pub_create(kdir, zones[z], defs, nd,
		    &pub, &err), 0);
		size_t ks, st;
		zk_kstat_pub_begin(pub);
		memcap_slot(defs, nd, "zonename", &ks, &st);
		zk_kstat_set_str(pub, ks, st, zones[z]);
		memcap_slot(defs, nd, "rss", &ks, &st);
		zk_kstat_set_u64(pub, ks, st, (uint64_t)(z + 1) * MIB);
		zk_kstat_pub_end(pub);
		zk_kstat_pub_close(pub, false);
	}
	zk_memstat_opts over = { .only_over = true }, all = { 0 };
	zk_kstat_snap *snap = zk_kstat_snap_new(zk_memstat_wants, &over);
	assert_int_equal(zk_kstat_snap_read_dir(snap, kdir, &err), 0);
	assert_int_equal(zk_kstat_snap_add_host(snap, "/nonexistent", &err),
	    0);	/* not read */
	size_t n;
	const zk_kstat_rec *r = zk_kstat_snap_recs(snap, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r[i].module, "memory_cap");
	zk_memstat_row *rows = NULL;
	assert_int_equal(zk_memstat_rows(snap, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].instance, 3);
	assert_string_equal(rows[0].zone, Z1);
	assert_int_equal(rows[0].rss, 2 * MIB);
	assert_string_equal(rows[1].zone, Z2);
	free(rows);
	zk_kstat_snap_free(snap);

	snap = zk_kstat_snap_new(zk_memstat_wants, &all);
	assert_true(zk_kstat_snap_add_host(snap, "/nonexistent", &err) < 0);
	zk_kstat_snap_free(snap);
}

#define T_ROOT(fn) cmocka_unit_test_setup_teardown(fn, fake_root, drop_root)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_low_water),
		cmocka_unit_test(test_first_reading_is_baseline),
		cmocka_unit_test(test_hysteresis_counts_once),
		cmocka_unit_test(test_millisecond_oom_counts_once),
		cmocka_unit_test(test_uncapped_never_over),
		cmocka_unit_test(test_cap_change),
		cmocka_unit_test(test_pagedout_v1),
		cmocka_unit_test(test_pagedout_v2),
		cmocka_unit_test(test_threshold_waits_for_half_the_cap),
		cmocka_unit_test(test_threshold_follows_the_cap),
		cmocka_unit_test(test_pressure_until_threshold),
		T_ROOT(test_controller_arms_near_the_cap),
		T_ROOT(test_cgroup_readers_v2),
		T_ROOT(test_cgroup_readers_v1),
		cmocka_unit_test(test_decay_factors),
		cmocka_unit_test(test_active_tasks),
		cmocka_unit_test(test_constant_load_converges),
		cmocka_unit_test(test_idle_decays_to_zero),
		cmocka_unit_test(test_backoff_matches_one_second_steps),
		cmocka_unit_test(test_interval_ladder),
		cmocka_unit_test(test_fmt_default_and_header),
		cmocka_unit_test(test_fmt_total_over_zone),
		cmocka_unit_test(test_fmt_alias),
		cmocka_unit_test(test_rows_from_kstats),
		cmocka_unit_test(test_wants),
		T_ROOT(test_snapshot_of_published_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
