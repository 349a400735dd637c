/*
 * CPU caps and bursting: the state machine against SmartOS's per-tick
 * rules (exact tick counts), the sampling arithmetic, the default baseline,
 * and the controller against a fake cgroup tree with a real kstat file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "controllers/controller.h"
#include "controllers/cpucaps.h"
#include "fake_tree.h"
#include "kstat/kstat_store.h"
#include "util/fsutil.h"
#include "util/json_util.h"

extern const zk_controller_ops zk_cpucaps_ops;

#define MS (1000000ULL)

static zk_cpucaps
machine(uint64_t cap, uint64_t baseline, uint64_t burst_sec)
{
	zk_cpucaps m;
	zk_cpucaps_cfg c = { cap, baseline, burst_sec };
	zk_cpucaps_init(&m, &c);
	return m;
}

/* SmartOS's update, written out: one 10 ms tick at a time. */
static double
reference_usage(double u, double used, uint64_t ticks)
{
	for (uint64_t i = 0; i < ticks; i++)
		u = u * 0.99 + used * (1 - 0.99);
	return u;
}

static double
pow99(uint64_t ticks)
{
	double d = 1.0;
	for (uint64_t i = 0; i < ticks; i++)
		d *= 0.99;
	return d;
}

static void
assert_close(double got, double want, double tol)
{
	double diff = got > want ? got - want : want - got;
	if (diff > tol)
		fail_msg("got %.12f, want %.12f (tolerance %g)", got, want,
		    tol);
}

/* ---- usage --------------------------------------------------------------- */

static void
test_ewma_variable_intervals(void **state)
{
	/* (use over the interval, ticks it spans): 100 ms busy samples,
	 * 1 s idle ones, a single tick, a late wake-up */
	static const struct { double used; uint64_t ticks; } iv[] = {
		{ 100.0, 10 }, { 0.0, 100 }, { 150.0, 7 }, { 37.5, 1 },
		{ 200.0, 250 }, { 3.25, 10 }, { 0.0, 1000 }, { 120.0, 13 },
	};
	zk_cpucaps m = machine(200, 0, 0);
	double ref = 0.0;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(iv); i++) {
		double before = m.usage;
		zk_cpucaps_step(&m, iv[i].used, iv[i].ticks);
		ref = reference_usage(ref, iv[i].used, iv[i].ticks);
		assert_close(m.usage, ref, 1e-9);
		/* old usage scaled by 0.99^n, the interval's use weighted
		 * by 1 - 0.99^n */
		double d = pow99(iv[i].ticks);
		assert_close(m.usage, before * d + iv[i].used * (1 - d), 1e-9);
	}
	/* n busy CPUs settle at 100 * n */
	zk_cpucaps busy = machine(200, 0, 0);
	zk_cpucaps_step(&busy, 200.0, 5000);
	assert_close(busy.usage, 200.0, 1e-9);
	assert_close(busy.maxusage, 200.0, 1e-9);
	/* the time constant is about a second: 63 % after 100 ticks */
	zk_cpucaps one = machine(100, 0, 0);
	zk_cpucaps_step(&one, 100.0, 100);
	assert_close(one.usage, 100.0 * (1 - pow99(100)), 1e-9);
	assert_true(one.usage > 63.0 && one.usage < 64.0);
}

static void
test_interval_carry(void **state)
{
	uint64_t carry = 0, ticks = 0;
	double used;
	/* wake-ups 0.3 ms late: no time is lost across them */
	for (int i = 0; i < 10; i++)
		ticks += zk_cpucaps_interval(&carry, 100300000ULL,
		    150450000ULL, &used);
	assert_int_equal(ticks, 100);
	assert_int_equal(carry, 3 * MS);
	assert_close(used, 150.0, 1e-9);
	/* an idle second is 100 ticks */
	carry = 0;
	assert_int_equal(zk_cpucaps_interval(&carry, 1000 * MS, 0, &used),
	    100);
	assert_int_equal(carry, 0);
	assert_close(used, 0.0, 0);
	/* a short interval becomes a tick once the carry makes one */
	assert_int_equal(zk_cpucaps_interval(&carry, 6 * MS, 6 * MS, &used),
	    0);
	assert_close(used, 100.0, 1e-12);
	assert_int_equal(zk_cpucaps_interval(&carry, 6 * MS, 0, &used), 1);
	assert_int_equal(carry, 2 * MS);
	/* no time, no use */
	assert_int_equal(zk_cpucaps_interval(&carry, 0, 5 * MS, &used), 0);
	assert_close(used, 0.0, 0);
}

static void
test_next_interval(void **state)
{
	zk_cpucaps m = machine(150, 50, 3);
	assert_int_equal(zk_cpucaps_next_interval_ns(&m, 0.0), 1000 * MS);
	assert_int_equal(zk_cpucaps_next_interval_ns(&m, 2.0), 100 * MS);
	zk_cpucaps_step(&m, 150.0, 100);
	assert_int_equal(zk_cpucaps_next_interval_ns(&m, 0.0), 100 * MS);
	/* usage gone, but burst time still to pay back: keep watching */
	m.usage = 0.2;
	assert_true(m.bursting > 0);
	assert_int_equal(zk_cpucaps_next_interval_ns(&m, 0.0), 100 * MS);
	m.bursting = 0;
	assert_int_equal(zk_cpucaps_next_interval_ns(&m, 0.5), 1000 * MS);
	/* idle with nothing to enforce (unlimited burst time, or no
	 * baseline): the slow pace */
	zk_cpucaps unlimited = machine(150, 50, 0);
	assert_int_equal(zk_cpucaps_next_interval_ns(&unlimited, 0.0),
	    10000 * MS);
	zk_cpucaps no_baseline = machine(150, 0, 3);
	assert_int_equal(zk_cpucaps_next_interval_ns(&no_baseline, 0.0),
	    10000 * MS);
	assert_int_equal(zk_cpucaps_next_interval_ns(&no_baseline, 5.0),
	    100 * MS);
}

/* ---- the state machine --------------------------------------------------- */

/* One 100 ms sample of a zone that wants 200 % and gets what the quota
 * in force at the start of the sample allows. */
static void
sample_demand(zk_cpucaps *m, double demand)
{
	double eff = (double)zk_cpucaps_effective(m);
	zk_cpucaps_step(m, demand < eff ? demand : eff, 10);
}

static void
test_burst_timeline(void **state)
{
	zk_cpucaps m = machine(150, 50, 3);
	assert_int_equal(zk_cpucaps_effective(&m), 150);
	assert_int_equal(m.burst_limit, 300);
	double prev = 0.0;
	/* usage passes the baseline at tick 41 (150 * (1 - 0.99^41) = 50.6) */
	for (int s = 1; s <= 4; s++)
		sample_demand(&m, 200.0);
	assert_int_equal(m.bursting, 0);
	assert_true(m.usage < 50.0);
	sample_demand(&m, 200.0);
	assert_int_equal(m.bursting, 10);
	/* bursting at the cap: effective 150 while bursting climbs to 3 s */
	for (int s = 6; s <= 33; s++) {
		prev = m.usage;
		sample_demand(&m, 200.0);
		assert_true(m.usage > prev);
		assert_int_equal(zk_cpucaps_effective(&m), 150);
		assert_int_equal(m.bursting, (uint64_t)(s * 10 - 40));
	}
	assert_int_equal(zk_cpucaps_sec(m.bursting), 2);
	sample_demand(&m, 200.0);	/* tick 340: the 300th above */
	assert_int_equal(m.bursting, 300);
	assert_int_equal(zk_cpucaps_sec(m.bursting), 3);
	assert_true(m.at_baseline);
	assert_int_equal(zk_cpucaps_effective(&m), 50);
	assert_true(m.usage > 145.0 && m.usage < 146.0);
	/* capped at the baseline: bursting counts down for 3 s */
	for (int s = 35; s <= 63; s++) {
		sample_demand(&m, 200.0);
		assert_int_equal(zk_cpucaps_effective(&m), 50);
		assert_int_equal(m.bursting, (uint64_t)(300 - (s - 34) * 10));
	}
	sample_demand(&m, 200.0);	/* tick 640: paid back */
	assert_int_equal(m.bursting, 0);
	assert_false(m.at_baseline);
	assert_int_equal(zk_cpucaps_effective(&m), 150);
	/* 339 ticks climbing to the cap, tick 640 back at it: below; the
	 * 300 ticks held at the baseline: above */
	assert_int_equal(m.below, 340);
	assert_int_equal(m.above, 300);
	assert_int_equal(m.above_base, 300);
	assert_int_equal(zk_cpucaps_sec(m.above), 3);
	/* still above the baseline (54.7 %), so it bursts again at once,
	 * for another 3 s */
	assert_true(m.usage > 54.0 && m.usage < 55.0);
	for (int s = 65; s <= 93; s++) {
		sample_demand(&m, 200.0);
		assert_int_equal(zk_cpucaps_effective(&m), 150);
	}
	sample_demand(&m, 200.0);	/* tick 940 */
	assert_int_equal(zk_cpucaps_effective(&m), 50);
	assert_int_equal(m.above_base, 600);
	assert_int_equal(zk_cpucaps_sec(m.above_base), 6);
	assert_true(m.maxusage > 145.0 && m.maxusage < 146.0);
}

/* A zone busy 1 s in every 2 never bursts for 3 s in a row, yet its
 * burst time runs out: it only decays while the zone is below the
 * baseline, it is never reset. */
static void
test_spiky_keeps_accrued_time(void **state)
{
	zk_cpucaps m = machine(150, 50, 3);
	uint64_t after_cycle[3];
	int penalty_sample = 0;
	for (int cyc = 0; cyc < 3; cyc++) {
		for (int s = 0; s < 20; s++) {
			if (s < 10)
				sample_demand(&m, 150.0);
			else
				zk_cpucaps_step(&m, 0.0, 10);
			if (m.at_baseline && penalty_sample == 0)
				penalty_sample = cyc * 20 + s + 1;
		}
		after_cycle[cyc] = m.bursting;
	}
	/* cycle 0: 60 ticks above at the cap, then 63 more while usage
	 * decays to the baseline, then 37 below: 86 kept */
	assert_int_equal(after_cycle[0], 86);
	assert_int_equal(after_cycle[1], 210);
	/* the 300th tick comes at tick 508, while usage still decays */
	assert_int_equal(penalty_sample, 51);
	assert_true(m.at_baseline);
	assert_int_equal(after_cycle[2], 208);

	/* a dip below the baseline only takes back what it lasted */
	zk_cpucaps d = machine(150, 50, 3);
	zk_cpucaps_step(&d, 150.0, 150);
	assert_int_equal(d.bursting, 110);
	/* 84 ticks still above the baseline, then 116 below */
	zk_cpucaps_step(&d, 0.0, 200);
	assert_int_equal(d.bursting, 78);
	uint64_t t = 0;
	while (!d.at_baseline && t < 1000) {
		zk_cpucaps_step(&d, 150.0, 1);
		t++;
	}
	/* 29 ticks climbing back pay off 29, then 251 to the limit: sooner
	 * than the 340 a fresh zone takes */
	assert_int_equal(t, 280);
}

static void
test_no_baseline_effective_is_cap(void **state)
{
	zk_cpucaps m = machine(150, 0, 3);
	for (int s = 0; s < 300; s++) {
		sample_demand(&m, 200.0);
		assert_int_equal(zk_cpucaps_effective(&m), 150);
	}
	assert_int_equal(m.bursting, 0);
	assert_int_equal(m.above_base, 0);
	assert_false(m.at_baseline);
	assert_int_equal(m.above + m.below, 3000);
	/* usage reaches the cap, to SmartOS's nanosecond, after 150 *
	 * 0.99^n < 1e-7: tick 2103; from then on threads wait (above) */
	assert_int_equal(m.below, 2102);
	assert_int_equal(m.above, 898);

	/* burst time unset: unlimited, the cap stays but above_base counts */
	zk_cpucaps u = machine(150, 50, 0);
	for (int s = 0; s < 200; s++)
		sample_demand(&u, 200.0);
	assert_int_equal(zk_cpucaps_effective(&u), 150);
	assert_int_equal(u.bursting, 0);
	assert_int_equal(u.above_base, 2000 - 40);
}

static void
test_configure(void **state)
{
	zk_cpucaps m = machine(150, 50, 3);
	zk_cpucaps_step(&m, 150.0, 340);
	assert_int_equal(zk_cpucaps_effective(&m), 50);
	/* paying back continues at a new baseline */
	zk_cpucaps_cfg c = { 150, 40, 3 };
	zk_cpucaps_configure(&m, &c);
	assert_int_equal(zk_cpucaps_effective(&m), 40);
	assert_int_equal(m.bursting, 300);
	/* a new cap applies once paid back */
	c = (zk_cpucaps_cfg){ 120, 40, 3 };
	zk_cpucaps_configure(&m, &c);
	zk_cpucaps_step(&m, 40.0, 300);
	assert_int_equal(zk_cpucaps_effective(&m), 120);
	/* removing the baseline forgives the debt */
	zk_cpucaps_step(&m, 120.0, 200);
	assert_true(m.bursting > 0);
	c = (zk_cpucaps_cfg){ 120, 0, 3 };
	zk_cpucaps_configure(&m, &c);
	assert_int_equal(m.bursting, 0);
	assert_int_equal(zk_cpucaps_effective(&m), 120);
	/* usage and counters carry on */
	assert_true(m.usage > 100.0);
	assert_int_equal(m.above + m.below, 840);
	/* no cap: nothing counts but usage */
	zk_cpucaps none = machine(0, 0, 0);
	zk_cpucaps_step(&none, 50.0, 100);
	assert_int_equal(zk_cpucaps_effective(&none), 0);
	assert_int_equal(none.above + none.below, 0);
	assert_true(none.usage > 30.0);
}

/* ---- configuration ------------------------------------------------------- */

static void
test_default_baseline(void **state)
{
	/* 128 MiB of a 4 GiB, 2-CPU host: 128*100 / (0.83*4096/2) = 7.5 */
	assert_int_equal(zk_cpucaps_default_baseline(128, 4096, 2), 7);
	/* 1 GiB: 60.2 */
	assert_int_equal(zk_cpucaps_default_baseline(1024, 4096, 2), 60);
	/* exactly 60, not 59 from a float just below it */
	assert_int_equal(zk_cpucaps_default_baseline(498, 1000, 1), 60);
	/* clamped to ncpus * 100 ... */
	assert_int_equal(zk_cpucaps_default_baseline(4096, 4096, 2), 200);
	assert_int_equal(zk_cpucaps_default_baseline(3000, 4096, 2), 176);
	assert_int_equal(zk_cpucaps_default_baseline(1ULL << 40, 4096, 64),
	    6400);
	/* ... and to at least 1 */
	assert_int_equal(zk_cpucaps_default_baseline(16, 1048576, 1), 1);
	/* unknown host memory or CPUs */
	assert_int_equal(zk_cpucaps_default_baseline(256, 0, 4), 400);
	assert_int_equal(zk_cpucaps_default_baseline(128, 4096, 0), 3);
}

static zk_cpucaps_cfg
cfg_of(const char *text)
{
	json_error_t e;
	_cleanup_json_ json_t *j = json_loads(text, 0, &e);
	if (j == NULL)
		fail_msg("bad test JSON %s", text);
	zk_cpucaps_cfg c;
	zk_cpucaps_cfg_from_json(j, 4096, 2, &c);
	return c;
}

static void
assert_cfg(const char *text, uint64_t cap, uint64_t base, uint64_t burst)
{
	zk_cpucaps_cfg c = cfg_of(text);
	if (c.cap != cap || c.baseline != base || c.burst_sec != burst)
		fail_msg("%s: got cap %lu baseline %lu burst %lu", text,
		    (unsigned long)c.cap, (unsigned long)c.baseline,
		    (unsigned long)c.burst_sec);
}

static void
test_cfg_from_json(void **state)
{
	assert_cfg("{\"cpu_cap\": 150, \"cpu_baseline\": 50, "
	    "\"cpu_burst_time\": 3, \"max_physical_memory\": 256}", 150, 50, 3);
	/* no cpu_baseline: the default from the memory cap */
	assert_cfg("{\"cpu_cap\": 150, \"max_physical_memory\": 1024}",
	    150, 60, 0);
	/* explicit 0 is none, and no default */
	assert_cfg("{\"cpu_cap\": 150, \"cpu_baseline\": 0, "
	    "\"max_physical_memory\": 1024}", 150, 0, 0);
	/* above the cap is none, given or defaulted */
	assert_cfg("{\"cpu_cap\": 150, \"cpu_baseline\": 151}", 150, 0, 0);
	assert_cfg("{\"cpu_cap\": 150, \"cpu_baseline\": 150}", 150, 150, 0);
	assert_cfg("{\"cpu_cap\": 50, \"max_physical_memory\": 4096}", 50, 0,
	    0);
	/* without a memory cap there is no default */
	assert_cfg("{\"cpu_cap\": 150}", 150, 0, 0);
	/* without a cap there is nothing */
	assert_cfg("{\"cpu_baseline\": 50, \"cpu_burst_time\": 3, "
	    "\"max_physical_memory\": 1024}", 0, 0, 3);
	assert_cfg("{\"cpu_cap\": 0, \"cpu_baseline\": 50}", 0, 0, 0);
	assert_cfg("{\"cpu_cap\": 150, \"cpu_baseline\": 50, "
	    "\"cpu_burst_time\": 0}", 150, 50, 0);
}

/* ---- the controller on a fake cgroup tree -------------------------------- */

typedef struct fixture {
	char root[PATH_MAX];
	char kdir[PATH_MAX];
	zk_cgroup *cg;
	zk_kstat_pub *pub;
	json_t *cfg;
	zk_zone_ctx ctx;
	void *state;
	uint64_t cpu_ns;
} fixture;

static void
put(const fixture *f, const char *rel, const char *content)
{
	fake_put(f->root, rel, content);
}

static void
mkdirs(const fixture *f, const char *rel)
{
	fake_mkdirs(f->root, rel);
}

static char *
slurp(const fixture *f, const char *rel)
{
	char path[PATH_MAX];
	char *s = NULL;
	zk_error err = { 0 };
	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	assert_int_equal(zk_read_file(path, &s, NULL, &err), 0);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static void
assert_quota(const fixture *f, const char *want)
{
	_cleanup_free_ char *q = slurp(f, "cpu/zk/z1/cpu.cfs_quota_us");
	assert_string_equal(q, want);
}

static uint64_t
stat_of(const fixture *f, const char *name)
{
	zk_kstat *ks = NULL;
	size_t n = 0;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_read_dir(f->kdir, &ks, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ks[0].module, "caps");
	assert_int_equal(ks[0].instance, 7);
	assert_string_equal(ks[0].name, "cpucaps_zone_7");
	assert_string_equal(ks[0].class, "zone_caps");
	uint64_t v = UINT64_MAX;
	for (size_t i = 0; i < ks[0].nvalues; i++) {
		if (strcmp(ks[0].values[i].name, "zonename") == 0)
			assert_string_equal(ks[0].values[i].v.str, "z1");
		if (strcmp(ks[0].values[i].name, name) == 0)
			v = ks[0].values[i].v.u64;
	}
	zk_kstat_free(ks, n);
	if (v == UINT64_MAX)
		fail_msg("no statistic %s", name);
	return v;
}

static int
setup_v1(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/zk-cpucaps-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	mkdirs(f, "cpu/zk/z1");
	mkdirs(f, "cpuacct/zk/z1");
	put(f, "cpu/cgroup.procs", "");
	put(f, "cpuacct/cgroup.procs", "");
	put(f, "cpu/zk/z1/cpu.cfs_period_us", "100000\n");
	put(f, "cpu/zk/z1/cpu.cfs_quota_us", "-1\n");
	put(f, "cpu/zk/z1/cpu.stat", "nr_periods 0\nnr_throttled 0\n"
	    "throttled_time 0\n");
	put(f, "cpuacct/zk/z1/cpuacct.usage", "0\n");
	zk_error err = { 0 };
	assert_int_equal(zk_cgroup_open(f->root, "zk", "z1", &f->cg, &err), 0);
	snprintf(f->kdir, sizeof(f->kdir), "%s/kstat", f->root);
	zk_kstat_def defs[ZK_CTRL_MAX_KSTATS];
	json_t *capped = json_pack("{s:i}", "cpu_cap", 100);
	zk_zone_ctx kz = { .cfg = capped, .zoneid = 7, .zonename = "z1" };
	size_t n = zk_cpucaps_ops.kstats(&kz, defs);
	json_decref(capped);
	assert_int_equal(n, 1);
	assert_int_equal(zk_kstat_pub_create(f->kdir, "z1", defs, n, &f->pub,
	    &err), 0);
	f->ctx = (zk_zone_ctx){ .cg = f->cg, .zoneid = 7, .zonename = "z1",
	    .kstats = f->pub, .ks_base = 0, .now_ns = 1000 * MS };
	*state = f;
	return 0;
}

static void
rm_tree(const char *dir)
{
	static const char *const files[] = {
		"cpu/zk/z1/cpu.cfs_period_us", "cpu/zk/z1/cpu.cfs_quota_us",
		"cpu/zk/z1/cpu.stat", "cpuacct/zk/z1/cpuacct.usage",
		"cpu/cgroup.procs", "cpuacct/cgroup.procs", "kstat/z1",
	};
	static const char *const dirs[] = {
		"cpu/zk/z1", "cpu/zk", "cpu", "cpuacct/zk/z1", "cpuacct/zk",
		"cpuacct", "kstat",
	};
	char path[PATH_MAX];
	for (size_t i = 0; i < ZK_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	for (size_t i = 0; i < ZK_ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		rmdir(path);
	}
	rmdir(dir);
}

static int
teardown_v1(void **state)
{
	fixture *f = *state;
	if (f->state != NULL)
		zk_cpucaps_ops.stop(f->state);
	zk_kstat_pub_close(f->pub, true);
	zk_cgroup_free(f->cg);
	json_decref(f->cfg);
	rm_tree(f->root);
	free(f);
	return 0;
}

static void
set_cfg(fixture *f, const char *text)
{
	json_error_t e;
	json_decref(f->cfg);
	f->cfg = json_loads(text, 0, &e);
	assert_non_null(f->cfg);
	f->ctx.cfg = f->cfg;
}

/* 100 ms pass in which the zone uses what the quota lets it. */
static void
advance(fixture *f, uint64_t pct, uint64_t throttled)
{
	char buf[64];
	f->ctx.now_ns += 100 * MS;
	f->cpu_ns += pct * MS;
	snprintf(buf, sizeof(buf), "%lu\n", (unsigned long)f->cpu_ns);
	put(f, "cpuacct/zk/z1/cpuacct.usage", buf);
	snprintf(buf, sizeof(buf), "nr_periods 1\nnr_throttled %lu\n"
	    "throttled_time 5\n", (unsigned long)throttled);
	put(f, "cpu/zk/z1/cpu.stat", buf);
	assert_int_equal(zk_cpucaps_ops.deadline(f->state), f->ctx.now_ns);
	zk_error err = { 0 };
	assert_int_equal(zk_cpucaps_ops.on_deadline(f->state, &f->ctx, &err),
	    0);
}

static void
test_controller_bursts_and_pays_back(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	set_cfg(f, "{\"cpu_cap\": 150, \"cpu_baseline\": 50, "
	    "\"cpu_burst_time\": 3, \"max_physical_memory\": 256}");
	assert_int_equal(zk_cpucaps_ops.start(&f->state, &f->ctx, &err), 0);
	assert_quota(f, "150000");
	assert_int_equal(stat_of(f, "value"), 150);
	assert_int_equal(stat_of(f, "baseline"), 50);
	assert_int_equal(stat_of(f, "effective"), 150);
	assert_int_equal(stat_of(f, "burst_limit_sec"), 3);
	assert_int_equal(zk_cpucaps_ops.deadline(f->state),
	    f->ctx.now_ns + 100 * MS);
	uint64_t throttled = 0;
	for (int s = 1; s <= 33; s++) {
		advance(f, 150, throttled += 1);
		assert_int_equal(stat_of(f, "effective"), 150);
	}
	assert_int_equal(stat_of(f, "nwait"), 1);
	assert_int_equal(stat_of(f, "bursting_sec"), 2);
	advance(f, 150, throttled);
	assert_quota(f, "50000");
	assert_int_equal(stat_of(f, "effective"), 50);
	assert_int_equal(stat_of(f, "bursting_sec"), 3);
	assert_int_equal(stat_of(f, "usage"), 145);
	assert_int_equal(stat_of(f, "nwait"), 0);
	for (int s = 35; s <= 63; s++)
		advance(f, 50, throttled);
	assert_quota(f, "50000");
	/* 10 ticks left to pay back */
	assert_int_equal(stat_of(f, "bursting_sec"), 0);
	advance(f, 50, throttled);
	assert_quota(f, "150000");
	assert_int_equal(stat_of(f, "effective"), 150);
	assert_int_equal(stat_of(f, "above_sec"), 3);
	assert_int_equal(stat_of(f, "below_sec"), 3);
	assert_int_equal(stat_of(f, "above_base_sec"), 3);
	assert_int_equal(stat_of(f, "maxusage"), 145);
}

static void
test_controller_reconfigure(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	/* no cap: no deadline, nothing written, figures say so */
	set_cfg(f, "{\"max_physical_memory\": 256, \"cpu_baseline\": 50}");
	assert_int_equal(zk_cpucaps_ops.start(&f->state, &f->ctx, &err), 0);
	assert_int_equal(zk_cpucaps_ops.deadline(f->state), 0);
	assert_quota(f, "-1");
	assert_int_equal(stat_of(f, "value"), 0);
	assert_int_equal(stat_of(f, "baseline"), 0);
	/* a cap arrives: sampling starts, idle zones back off to 1 s */
	set_cfg(f, "{\"cpu_cap\": 150, \"cpu_baseline\": 50, "
	    "\"cpu_burst_time\": 1}");
	assert_int_equal(zk_cpucaps_ops.reconfigure(f->state, &f->ctx, &err),
	    0);
	assert_quota(f, "150000");
	assert_int_equal(zk_cpucaps_ops.deadline(f->state),
	    f->ctx.now_ns + 100 * MS);
	advance(f, 0, 0);
	assert_int_equal(zk_cpucaps_ops.deadline(f->state),
	    f->ctx.now_ns + 1000 * MS);
	/* a busy second after an idle one: 100 ticks replayed at once */
	f->ctx.now_ns += 900 * MS;
	advance(f, 1500, 0);
	assert_int_equal(zk_cpucaps_ops.deadline(f->state),
	    f->ctx.now_ns + 100 * MS);
	assert_int_equal(stat_of(f, "usage"), 95);
	/* used up the 1 s burst: at the baseline; a new baseline applies
	 * at once, and the plain cap rctl.c wrote is overwritten */
	for (int s = 0; s < 8; s++)
		advance(f, 150, 0);
	assert_quota(f, "50000");
	put(f, "cpu/zk/z1/cpu.cfs_quota_us", "150000\n");
	set_cfg(f, "{\"cpu_cap\": 150, \"cpu_baseline\": 40, "
	    "\"cpu_burst_time\": 1}");
	assert_int_equal(zk_cpucaps_ops.reconfigure(f->state, &f->ctx, &err),
	    0);
	assert_quota(f, "40000");
	assert_int_equal(stat_of(f, "effective"), 40);
	assert_int_equal(stat_of(f, "baseline"), 40);
	/* the default baseline shows when cpu_baseline goes away */
	set_cfg(f, "{\"cpu_cap\": 150, \"max_physical_memory\": 1}");
	assert_int_equal(zk_cpucaps_ops.reconfigure(f->state, &f->ctx, &err),
	    0);
	assert_int_equal(stat_of(f, "baseline"), 1);
	assert_int_equal(stat_of(f, "burst_limit_sec"), 0);
	/* the cap goes: sampling stops */
	set_cfg(f, "{\"max_physical_memory\": 256}");
	assert_int_equal(zk_cpucaps_ops.reconfigure(f->state, &f->ctx, &err),
	    0);
	assert_int_equal(zk_cpucaps_ops.deadline(f->state), 0);
	assert_int_equal(stat_of(f, "value"), 0);
	assert_int_equal(stat_of(f, "effective"), 0);
}

static void
test_controller_failures(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	set_cfg(f, "{\"cpu_cap\": 100}");
	put(f, "cpuacct/zk/z1/cpuacct.usage", "5000000000\n");
	assert_int_equal(zk_cpucaps_ops.start(&f->state, &f->ctx, &err), 0);
	/* the cgroup's figures become unreadable (a removed cgroup's kept
	 * files fail too, which a fake file cannot: test_cgroup_v2 covers
	 * that): reported once, then quietly every second */
	put(f, "cpuacct/zk/z1/cpuacct.usage", "");
	f->ctx.now_ns += 100 * MS;
	assert_true(zk_cpucaps_ops.on_deadline(f->state, &f->ctx, &err) < 0);
	assert_non_null(strstr(err.msg, "cpuacct.usage"));
	assert_int_equal(zk_cpucaps_ops.deadline(f->state),
	    f->ctx.now_ns + 1000 * MS);
	f->ctx.now_ns += 1000 * MS;
	zk_error quiet = { 0 };
	assert_int_equal(zk_cpucaps_ops.on_deadline(f->state, &f->ctx,
	    &quiet), 0);
	/* and recovers; a counter that went backwards counts as no use */
	f->ctx.now_ns += 900 * MS;
	advance(f, 0, 0);
	assert_int_equal(stat_of(f, "usage"), 0);
	zk_cpucaps_ops.stop(f->state);
	f->state = NULL;
	/* a start that cannot read the cgroup fails and leaves nothing */
	put(f, "cpuacct/zk/z1/cpuacct.usage", "");
	assert_true(zk_cpucaps_ops.start(&f->state, &f->ctx, &err) < 0);
	assert_null(f->state);
	put(f, "cpuacct/zk/z1/cpuacct.usage", "0\n");
}

/* As on illumos, caps:<zoneid>:cpucaps_zone_<zoneid> exists only while
 * the zone has a cap: an uncapped zone's file has no such kstat. */
static void
test_kstat_only_when_capped(void **state)
{
	(void)state;
	zk_kstat_def defs[ZK_CTRL_MAX_KSTATS];
	const char *cfgs[] = { "{}", "{\"cpu_cap\": 0}", "{\"cpu_cap\": 1}" };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(cfgs); i++) {
		json_t *cfg = json_loads(cfgs[i], 0, NULL);
		zk_zone_ctx z = { .cfg = cfg, .zoneid = 3, .zonename = "z1" };
		assert_int_equal(zk_cpucaps_ops.kstats(&z, defs), i == 2);
		json_decref(cfg);
	}
	assert_string_equal(defs[0].name, "cpucaps_zone_3");
}

/* ---- zk_cgroup_cpu_stat on v2 -------------------------------------------- */

static void
test_cpu_stat_v2(void **state)
{
	fixture f = { 0 };
	snprintf(f.root, sizeof(f.root), "/tmp/zk-cpucaps-XXXXXX");
	assert_non_null(mkdtemp(f.root));
	mkdirs(&f, "zk/z1");
	put(&f, "cgroup.controllers", "cpu memory pids\n");
	put(&f, "zk/z1/cpu.stat", "usage_usec 1500\nuser_usec 1000\n"
	    "system_usec 500\nnr_periods 9\nnr_throttled 3\n"
	    "throttled_usec 250\n");
	zk_error err = { 0 };
	zk_cgroup *cg = NULL;
	assert_int_equal(zk_cgroup_open(f.root, "zk", "z1", &cg, &err), 0);
	zk_cgroup_cpustat st;
	assert_int_equal(zk_cgroup_cpu_stat(cg, &st, &err), 0);
	assert_int_equal(st.usage_ns, 1500000);
	assert_int_equal(st.nr_throttled, 3);
	assert_int_equal(st.throttled_ns, 250000);
	/* no cpu controller: usage only */
	put(&f, "zk/z1/cpu.stat", "usage_usec 7\nuser_usec 7\n"
	    "system_usec 0\n");
	assert_int_equal(zk_cgroup_cpu_stat(cg, &st, &err), 0);
	assert_int_equal(st.usage_ns, 7000);
	assert_int_equal(st.nr_throttled, 0);
	zk_cgroup_free(cg);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/zk/z1/cpu.stat", f.root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", f.root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/zk/z1", f.root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/zk", f.root);
	rmdir(path);
	rmdir(f.root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ewma_variable_intervals),
		cmocka_unit_test(test_interval_carry),
		cmocka_unit_test(test_next_interval),
		cmocka_unit_test(test_burst_timeline),
		cmocka_unit_test(test_spiky_keeps_accrued_time),
		cmocka_unit_test(test_no_baseline_effective_is_cap),
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_default_baseline),
		cmocka_unit_test(test_cfg_from_json),
		cmocka_unit_test_setup_teardown(
		    test_controller_bursts_and_pays_back, setup_v1,
		    teardown_v1),
		cmocka_unit_test_setup_teardown(test_controller_reconfigure,
		    setup_v1, teardown_v1),
		cmocka_unit_test_setup_teardown(test_controller_failures,
		    setup_v1, teardown_v1),
		cmocka_unit_test(test_cpu_stat_v2),
		cmocka_unit_test(test_kstat_only_when_capped),
	};
	return cmocka_run_group_tests_name("cpucaps", tests, NULL, NULL);
}
