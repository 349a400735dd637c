/*
 * zones:<zoneid>:<zonename> (class zone_misc): the zone's CPU time, run
 * queue wait, refused forks, and its own load average.
 *
 * The load average needs no walk over the zone's processes: over each
 * interval the zone's CPU time divided by the interval is the average
 * number of its tasks on a CPU, and its run-queue wait (PSI "some" time)
 * divided by the interval stands for the tasks waiting; their sum is
 * folded into the 1/5/15-minute averages (loadavg.h).  Sampling is at 1 s
 * while the zone does something, backing off to 5 s and 10 s while it
 * idles; the decay is computed for the time actually elapsed, so the
 * averages are the same either way.  docs/controllers.md has the details.
 */
#include "controllers/loadavg.h"

#include <errno.h>
#include <stdlib.h>

#include "controllers/controller.h"
#include "kstat/zone_kstats.h"

/* A deadline met this early is not an interval worth folding. */
#define MIN_FOLD_NS	(100ULL * 1000000ULL)

typedef struct zonemisc {
	zk_loadavg la;
	uint64_t last_ns;	/* when last_busy was read */
	uint64_t last_busy;	/* CPU time + run-queue wait, ns */
	uint64_t interval;
	uint64_t next;		/* deadline, 0 = none */
	bool gone;
} zonemisc;

static size_t
zonemisc_kstats(int zoneid, const char *zonename, zk_kstat_def *defs)
{
	zk_kstat_def_init(&defs[0], ZK_ZONEMISC_MODULE, zoneid, zonename,
	    ZK_ZONEMISC_CLASS, zk_zonemisc_stats, ZK_ZM_COUNT);
	return 1;
}

static void
publish(const zonemisc *m, const zk_zone_ctx *z, const zk_cgroup_loadstat *st)
{
	zk_kstat_pub *pub = z->kstats;
	size_t ks = z->ks_base;
	zk_kstat_pub_begin(pub);
	zk_kstat_set_str(pub, ks, ZK_ZM_ZONENAME, z->zonename);
	for (int i = 0; i < 3; i++)
		zk_kstat_set_u64(pub, ks, ZK_ZM_AVENRUN_1 + i,
		    zk_loadavg_scaled(m->la.avg[i], ZK_LOAD_ILLUMOS_SHIFT));
	zk_kstat_set_u64(pub, ks, ZK_ZM_NSEC_USER, st->user_ns);
	zk_kstat_set_u64(pub, ks, ZK_ZM_NSEC_SYS, st->sys_ns);
	zk_kstat_set_u64(pub, ks, ZK_ZM_NSEC_WAITRQ, st->waitrq_ns);
	zk_kstat_set_u64(pub, ks, ZK_ZM_FORKFAIL_CAP, st->forkfail);
	zk_kstat_set_u64(pub, ks, ZK_ZM_FORKFAIL_NOPROC, 0);
	zk_kstat_set_u64(pub, ks, ZK_ZM_INIT_PID,
	    z->init_pid > 0 ? (uint64_t)z->init_pid : 0);
	zk_kstat_set_u64(pub, ks, ZK_ZM_BOOT_TIME, z->boot_time);
	zk_kstat_pub_end(pub);
}

static int
read_stat(zonemisc *m, const zk_zone_ctx *z, zk_cgroup_loadstat *st,
    zk_error *err)
{
	int r = zk_cgroup_load_stat(z->cg, st, err);
	if (r == -ENOENT) {	/* the zone is halting: wait for stop() */
		m->gone = true;
		m->next = 0;
	}
	return r < 0 ? zk_error_prefix(err, "zones") : 0;
}

/* Fold the interval since the last reading, then pick the next one. */
static int
sample(zonemisc *m, const zk_zone_ctx *z, zk_error *err)
{
	if (m->gone)
		return 0;
	zk_cgroup_loadstat st;
	int r = read_stat(m, z, &st, err);
	if (r < 0)
		return r;
	uint64_t busy = st.usage_ns + st.waitrq_ns;
	uint64_t dt = z->now_ns > m->last_ns ? z->now_ns - m->last_ns : 0;
	if (dt >= MIN_FOLD_NS) {
		uint64_t active = zk_loadavg_active(busy > m->last_busy ?
		    busy - m->last_busy : 0, dt);
		zk_loadavg_fold(&m->la, active, dt);
		m->interval = zk_loadavg_next_interval(m->interval, active);
		m->last_ns = z->now_ns;
		m->last_busy = busy;
	}
	publish(m, z, &st);
	m->next = m->last_ns + m->interval;
	return 0;
}

static int
zonemisc_start(void **state, const zk_zone_ctx *z, zk_error *err)
{
	zonemisc *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return zk_fail(err, ENOMEM, "zones: out of memory");
	zk_cgroup_loadstat st;
	int r = read_stat(m, z, &st, err);
	if (r < 0) {
		free(m);
		return r;
	}
	/* The baseline: CPU time used before now is not this average's. */
	m->last_ns = z->now_ns;
	m->last_busy = st.usage_ns + st.waitrq_ns;
	m->interval = ZK_LOAD_INTERVAL_MIN;
	m->next = m->last_ns + m->interval;
	publish(m, z, &st);
	*state = m;
	return 0;
}

/* Nothing configurable; init_pid and boot_time may have changed. */
static int
zonemisc_reconfigure(void *state, const zk_zone_ctx *z, zk_error *err)
{
	return sample(state, z, err);
}

static size_t
zonemisc_fds(void *state, int *fds)
{
	return 0;
}

static int
zonemisc_on_fd(void *state, const zk_zone_ctx *z, int fd, zk_error *err)
{
	return 0;
}

static uint64_t
zonemisc_deadline(void *state)
{
	return ((zonemisc *)state)->next;
}

static int
zonemisc_on_deadline(void *state, const zk_zone_ctx *z, zk_error *err)
{
	return sample(state, z, err);
}

static void
zonemisc_stop(void *state)
{
	free(state);
}

const zk_controller_ops zk_zonemisc_ops = {
	.name = "zones",
	.kstats = zonemisc_kstats,
	.start = zonemisc_start,
	.reconfigure = zonemisc_reconfigure,
	.fds = zonemisc_fds,
	.on_fd = zonemisc_on_fd,
	.deadline = zonemisc_deadline,
	.on_deadline = zonemisc_on_deadline,
	.stop = zonemisc_stop,
};
