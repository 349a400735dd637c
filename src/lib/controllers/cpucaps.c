/*
 * CPU caps and bursting: the state machine (cpucaps.h) and the zoneadmd
 * controller that runs it.
 *
 * The kernel enforces a plain cap through the CPU controller's quota
 * (rctl.c writes it at boot and on update).  What the kernel has no notion
 * of is SmartOS's baseline and burst time, so this controller samples the
 * zone's CPU time, replays SmartOS's per-tick accounting for the interval
 * and, when the burst time is used up, lowers the quota to the baseline
 * until the zone has paid the time back.  A zone without a cap costs
 * nothing: no deadline, no descriptors.
 */
#include "controllers/cpucaps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/rctl.h"
#include "controllers/controller.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/json_util.h"

/* ---- the state machine --------------------------------------------------- */

uint64_t
zk_cpucaps_default_baseline(uint64_t memcap_mb, uint64_t host_mb,
    uint64_t ncpus)
{
	if (ncpus == 0)
		ncpus = 1;
	uint64_t max = ncpus * 100;
	if (host_mb == 0)
		return max;
	/* memcap * 100 / (0.83 * host / ncpus), in integers so a whole
	 * result is not rounded down to the one below it */
	unsigned __int128 b = (unsigned __int128)memcap_mb * 10000 * ncpus /
	    ((unsigned __int128)host_mb * 83);
	if (b >= max)
		return max;
	return b < 1 ? 1 : (uint64_t)b;
}

void
zk_cpucaps_cfg_from_json(const json_t *cfg, uint64_t host_mb, uint64_t ncpus,
    zk_cpucaps_cfg *out)
{
	long long cap = zk_json_int(cfg, zk_rctl_property(ZK_RCTL_CPU_CAP), 0);
	long long base = zk_json_int(cfg,
	    zk_rctl_property(ZK_RCTL_CPU_BASELINE), -1);
	long long burst = zk_json_int(cfg,
	    zk_rctl_property(ZK_RCTL_CPU_BURST_TIME), 0);
	long long mem = zk_json_int(cfg,
	    zk_rctl_property(ZK_RCTL_MAX_PHYSICAL_MEMORY), 0);
	if (base < 0 && cap > 0 && mem > 0)
		base = (long long)zk_cpucaps_default_baseline(
		    (uint64_t)mem, host_mb, ncpus);
	out->cap = cap > 0 ? (uint64_t)cap : 0;
	/* SmartOS: a baseline above the cap is none, and so is one
	 * without a cap */
	out->baseline = cap > 0 && base > 0 && base <= cap ? (uint64_t)base : 0;
	out->burst_sec = burst > 0 ? (uint64_t)burst : 0;
}

void
zk_cpucaps_init(zk_cpucaps *m, const zk_cpucaps_cfg *c)
{
	memset(m, 0, sizeof(*m));
	zk_cpucaps_configure(m, c);
}

void
zk_cpucaps_configure(zk_cpucaps *m, const zk_cpucaps_cfg *c)
{
	m->cap = c->cap;
	m->baseline = c->baseline;
	m->burst_limit = c->burst_sec > UINT64_MAX / ZK_CPUCAPS_HZ ?
	    UINT64_MAX : c->burst_sec * ZK_CPUCAPS_HZ;
	if (m->baseline == 0)
		m->bursting = 0;
	if (m->bursting == 0)
		m->at_baseline = false;
}

uint64_t
zk_cpucaps_effective(const zk_cpucaps *m)
{
	return m->at_baseline ? m->baseline : m->cap;
}

/* usage > pct, and usage >= pct, at SmartOS's resolution: without it an
 * average converging on the cap would never reach it. */
static bool
above(double usage, uint64_t pct)
{
	return usage > (double)pct + ZK_CPUCAPS_RESOLUTION;
}

static bool
at_or_above(double usage, uint64_t pct)
{
	return usage >= (double)pct - ZK_CPUCAPS_RESOLUTION;
}

/* One 10 ms tick of illumos-joyent's caps_update(). */
static void
tick(zk_cpucaps *m, double used)
{
	m->usage = m->usage * ZK_CPUCAPS_DECAY + used * (1 - ZK_CPUCAPS_DECAY);
	if (m->usage > m->maxusage)
		m->maxusage = m->usage;
	if (m->cap == 0)
		return;
	if (m->baseline > 0) {
		if (above(m->usage, m->baseline) && !m->at_baseline) {
			m->above_base++;
			if (m->burst_limit > 0 &&
			    ++m->bursting >= m->burst_limit)
				m->at_baseline = true;
		} else if (m->bursting > 0) {
			if (--m->bursting == 0)
				m->at_baseline = false;
		}
	}
	if (at_or_above(m->usage, zk_cpucaps_effective(m)))
		m->above++;
	else
		m->below++;
}

void
zk_cpucaps_step(zk_cpucaps *m, double used, uint64_t ticks)
{
	/* Tick by tick: a transition inside the interval happens at the
	 * tick SmartOS would make it, and the loop is at most 100 short
	 * iterations per sample. */
	for (uint64_t i = 0; i < ticks; i++)
		tick(m, used);
}

uint64_t
zk_cpucaps_interval(uint64_t *carry_ns, uint64_t dt_ns, uint64_t cpu_ns,
    double *used)
{
	uint64_t total = dt_ns + *carry_ns;
	*carry_ns = total % ZK_CPUCAPS_TICK_NS;
	*used = dt_ns > 0 ? (double)cpu_ns * 100.0 / (double)dt_ns : 0.0;
	return total / ZK_CPUCAPS_TICK_NS;
}

uint64_t
zk_cpucaps_next_interval_ns(const zk_cpucaps *m, double used)
{
	bool idle = m->usage < ZK_CPUCAPS_IDLE_PCT &&
	    used < ZK_CPUCAPS_IDLE_PCT && m->bursting == 0;
	if (!idle)
		return ZK_CPUCAPS_BUSY_NS;
	bool limited = m->baseline != 0 && m->burst_limit != 0;
	return limited ? ZK_CPUCAPS_IDLE_NS : ZK_CPUCAPS_QUIET_NS;
}

/* ---- the host ------------------------------------------------------------ */

/* MemTotal in MiB; 0 if unknown (the default baseline is then the most). */
static uint64_t
host_mem_mb(void)
{
	_cleanup_free_ char *s = NULL;
	if (zk_read_file("/proc/meminfo", &s, NULL, NULL) < 0)
		return 0;
	const char *p = strstr(s, "MemTotal:");
	return p != NULL ? strtoull(p + strlen("MemTotal:"), NULL, 10) / 1024 :
	    0;
}

static void
read_cfg(const json_t *cfg, zk_cpucaps_cfg *c)
{
	/* the host only matters for the default baseline */
	bool need_host =
	    zk_json_int(cfg, zk_rctl_property(ZK_RCTL_CPU_CAP), 0) > 0 &&
	    json_object_get(cfg, zk_rctl_property(ZK_RCTL_CPU_BASELINE)) == NULL;
	long ncpus = need_host ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
	zk_cpucaps_cfg_from_json(cfg, need_host ? host_mem_mb() : 0,
	    ncpus > 0 ? (uint64_t)ncpus : 1, c);
}

/* ---- the controller ------------------------------------------------------ */

enum {
	ST_VALUE, ST_BASELINE, ST_EFFECTIVE, ST_USAGE, ST_MAXUSAGE,
	ST_BURST_LIMIT, ST_BURSTING, ST_BELOW, ST_ABOVE, ST_ABOVE_BASE,
	ST_NWAIT, ST_ZONENAME, ST_COUNT
};

static const zk_kstat_stat_def caps_stats[ST_COUNT] = {
	[ST_VALUE] = { "value", ZK_KSTAT_UINT64 },
	[ST_BASELINE] = { "baseline", ZK_KSTAT_UINT64 },
	[ST_EFFECTIVE] = { "effective", ZK_KSTAT_UINT64 },
	[ST_USAGE] = { "usage", ZK_KSTAT_UINT64 },
	[ST_MAXUSAGE] = { "maxusage", ZK_KSTAT_UINT64 },
	[ST_BURST_LIMIT] = { "burst_limit_sec", ZK_KSTAT_UINT64 },
	[ST_BURSTING] = { "bursting_sec", ZK_KSTAT_UINT64 },
	[ST_BELOW] = { "below_sec", ZK_KSTAT_UINT64 },
	[ST_ABOVE] = { "above_sec", ZK_KSTAT_UINT64 },
	[ST_ABOVE_BASE] = { "above_base_sec", ZK_KSTAT_UINT64 },
	[ST_NWAIT] = { "nwait", ZK_KSTAT_UINT64 },
	[ST_ZONENAME] = { "zonename", ZK_KSTAT_STRING },
};

typedef struct cpucaps_state {
	zk_cpucaps m;
	bool sampling;		/* the zone has a cap */
	uint64_t last_ns;	/* when `last` was read */
	zk_cgroup_cpustat last;
	uint64_t carry_ns;	/* time not yet a whole tick */
	uint64_t next_ns;	/* 0 while not sampling */
	uint64_t applied;	/* percent in the quota now, 0 = unknown */
	uint64_t nwait;
	bool failing;		/* the last sample failed (reported) */
} cpucaps_state;

static size_t
caps_kstats(int zoneid, const char *zonename, zk_kstat_def *defs)
{
	char name[ZK_KSTAT_STRLEN];
	snprintf(name, sizeof(name), "cpucaps_zone_%d", zoneid);
	zk_kstat_def_init(&defs[0], "caps", zoneid, name, "zone_caps",
	    caps_stats, ST_COUNT);
	return 1;
}

static uint64_t
round_pct(double v)
{
	return v > 0 ? (uint64_t)(v + 0.5) : 0;
}

static void
publish(const cpucaps_state *s, const zk_zone_ctx *z)
{
	zk_kstat_pub *p = z->kstats;
	size_t ks = z->ks_base;
	const zk_cpucaps *m = &s->m;
	if (p == NULL)
		return;
	zk_kstat_pub_begin(p);
	zk_kstat_set_u64(p, ks, ST_VALUE, m->cap);
	zk_kstat_set_u64(p, ks, ST_BASELINE, m->baseline);
	zk_kstat_set_u64(p, ks, ST_EFFECTIVE, zk_cpucaps_effective(m));
	zk_kstat_set_u64(p, ks, ST_USAGE, round_pct(m->usage));
	zk_kstat_set_u64(p, ks, ST_MAXUSAGE, round_pct(m->maxusage));
	zk_kstat_set_u64(p, ks, ST_BURST_LIMIT, zk_cpucaps_sec(m->burst_limit));
	zk_kstat_set_u64(p, ks, ST_BURSTING, zk_cpucaps_sec(m->bursting));
	zk_kstat_set_u64(p, ks, ST_BELOW, zk_cpucaps_sec(m->below));
	zk_kstat_set_u64(p, ks, ST_ABOVE, zk_cpucaps_sec(m->above));
	zk_kstat_set_u64(p, ks, ST_ABOVE_BASE, zk_cpucaps_sec(m->above_base));
	zk_kstat_set_u64(p, ks, ST_NWAIT, s->nwait);
	zk_kstat_set_str(p, ks, ST_ZONENAME, z->zonename);
	zk_kstat_pub_end(p);
}

/* The quota follows the effective cap; a failed write is retried on the
 * next sample. */
static int
apply_quota(cpucaps_state *s, const zk_zone_ctx *z, bool force,
    zk_error *err)
{
	uint64_t eff = zk_cpucaps_effective(&s->m);
	if (!force && eff == s->applied)
		return 0;
	int r = zk_cgroup_set_cpu_cap(z->cg, eff, err);
	s->applied = r == 0 ? eff : 0;
	return r;
}

/* A cap appeared (start, or an update gave one). */
static int
begin_sampling(cpucaps_state *s, const zk_zone_ctx *z, zk_error *err)
{
	zk_cgroup_cpustat st;
	int r = zk_cgroup_cpu_stat(z->cg, &st, err);
	if (r < 0)
		return r;
	s->last = st;
	s->last_ns = z->now_ns;
	s->carry_ns = 0;
	s->nwait = 0;
	s->sampling = true;
	s->next_ns = z->now_ns + ZK_CPUCAPS_BUSY_NS;
	return 0;
}

/* Bring sampling and the quota in line with the configuration. */
static int
settle(cpucaps_state *s, const zk_zone_ctx *z, zk_error *err)
{
	if (s->m.cap == 0) {
		/* rctl.c removed the quota; nothing to watch */
		s->sampling = false;
		s->next_ns = 0;
		s->applied = 0;
		s->nwait = 0;
		return 0;
	}
	int r = s->sampling ? 0 : begin_sampling(s, z, err);
	if (r == 0)
		r = apply_quota(s, z, true, err);
	return r;
}

static int
caps_start(void **state, const zk_zone_ctx *z, zk_error *err)
{
	cpucaps_state *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	zk_cpucaps_cfg c;
	read_cfg(z->cfg, &c);
	zk_cpucaps_init(&s->m, &c);
	/* Also after adoption: a zoneadmd that died while the zone paid
	 * back its burst time left the quota at the baseline. */
	int r = settle(s, z, err);
	if (r < 0) {
		free(s);
		return r;
	}
	publish(s, z);
	*state = s;
	return 0;
}

static int
caps_reconfigure(void *state, const zk_zone_ctx *z, zk_error *err)
{
	cpucaps_state *s = state;
	zk_cpucaps_cfg c;
	read_cfg(z->cfg, &c);
	/* A new cap starts from rest, as SmartOS creates a zone's cap
	 * afresh; a changed one carries its usage and burst time on. */
	if (s->sampling)
		zk_cpucaps_configure(&s->m, &c);
	else
		zk_cpucaps_init(&s->m, &c);
	/* rctl.c has just written the plain cap: put the effective one
	 * back even if it did not change */
	int r = settle(s, z, err);
	publish(s, z);
	return r;
}

static uint64_t
caps_deadline(void *state)
{
	const cpucaps_state *s = state;
	return s->sampling ? s->next_ns : 0;
}

static uint64_t
delta(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : 0;
}

static int
sample(cpucaps_state *s, const zk_zone_ctx *z, zk_error *err)
{
	zk_cgroup_cpustat st;
	int r = zk_cgroup_cpu_stat(z->cg, &st, err);
	if (r < 0) {
		s->next_ns = z->now_ns + ZK_CPUCAPS_IDLE_NS;
		return r;
	}
	double used;
	uint64_t ticks = zk_cpucaps_interval(&s->carry_ns,
	    delta(z->now_ns, s->last_ns), delta(st.usage_ns,
	    s->last.usage_ns), &used);
	zk_cpucaps_step(&s->m, used, ticks);
	s->nwait = delta(st.nr_throttled, s->last.nr_throttled);
	s->last = st;
	s->last_ns = z->now_ns;
	s->next_ns = z->now_ns + zk_cpucaps_next_interval_ns(&s->m, used);
	r = apply_quota(s, z, false, err);
	publish(s, z);
	return r;
}

static int
caps_on_deadline(void *state, const zk_zone_ctx *z, zk_error *err)
{
	cpucaps_state *s = state;
	if (!s->sampling)
		return 0;
	int r = sample(s, z, err);
	/* Say it once: a zone being torn down fails every sample. */
	if (r < 0 && s->failing) {
		zk_error_clear(err);
		return 0;
	}
	s->failing = r < 0;
	return r;
}

static void
caps_stop(void *state)
{
	free(state);
}

const zk_controller_ops zk_cpucaps_ops = {
	.name = "caps",
	.kstats = caps_kstats,
	.start = caps_start,
	.reconfigure = caps_reconfigure,
	.deadline = caps_deadline,
	.on_deadline = caps_on_deadline,
	.stop = caps_stop,
};
