/*
 * The memory capper: publishes memory_cap:<zoneid>:<zonename> (class
 * zone_memory_cap) as SmartOS does.  The kernel enforces the cap
 * (memory.limit_in_bytes / memory.max, set from the rctl table); this
 * controller only observes, and only when the kernel has news:
 *
 *  - under the cap it waits on kernel events (v1: the OOM notifier, and
 *    below half the cap reclaim pressure at the cap, from half the cap a
 *    usage threshold at cap - cap/128; v2: memory.events through
 *    inotify), plus a 30 s refresh so readers see an rss at most 30 s old;
 *  - from the threshold event until the zone is under again it samples
 *    4 times a second, to see the excursion end, and ignores the events
 *    (the kernel may signal thousands a second at the cap).
 *
 * Excursions and reclaim are counted from kernel counters (memcap.h), so
 * none is missed between samples.  docs/controllers.md says how each
 * statistic is measured.
 */
#include "controllers/memcap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controllers/controller.h"
#include "kstat/zone_kstats.h"
#include "util/cleanup.h"

#define FAST_NS	(250ULL * 1000000ULL)	/* at or near the cap: 4 Hz */
#define SLOW_NS	(30ULL * 1000000000ULL)	/* under it: rss freshness only */
#define NOEVENT_NS (1000ULL * 1000000ULL)	/* capped, events unavailable */

typedef struct memcap {
	zk_memcap_track track;
	/* Kernel events (memcap.h says which, when); -1 = none. */
	int hit_fd;		/* the cap was hit, while capped */
	int press_fd;		/* v1: reclaim at the cap, below half of it */
	int thr_fd;		/* v1: usage threshold, from half the cap */
	bool capped;		/* hit_fd registered (or refused) */
	bool hit_failed;	/* the kernel refused it */
	bool press_asked;	/* press_fd registered (or refused) */
	uint64_t thr_for;	/* the cap thr_fd was asked for, 0 = not */
	bool thr_failed;	/* the kernel refused it */
	uint64_t next;		/* deadline, 0 = none */
	bool fast;		/* sampling at 4 Hz, fds not watched */
	uint64_t page;
	bool gone;		/* the cgroup went away: stay quiet */
} memcap;

static size_t
memcap_kstats(int zoneid, const char *zonename, zk_kstat_def *defs)
{
	zk_kstat_def_init(&defs[0], ZK_MEMCAP_MODULE, zoneid, zonename,
	    ZK_MEMCAP_CLASS, zk_memcap_stats, ZK_MC_COUNT);
	return 1;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
drop_threshold(memcap *m)
{
	close_fd(&m->thr_fd);
	m->thr_for = 0;
	m->thr_failed = false;
}

static void
drop_pressure(memcap *m)
{
	close_fd(&m->press_fd);
	m->press_asked = false;
}

static void
disarm(memcap *m)
{
	close_fd(&m->hit_fd);
	m->capped = false;
	m->hit_failed = false;
	drop_pressure(m);
	drop_threshold(m);
}

/*
 * Register what memcap.h says this reading needs.  An uncapped zone needs
 * no descriptor: nothing can push it over a cap it does not have.  A
 * refused OOM notifier or threshold leaves the counters counting and the
 * capper polls instead (next_interval); pressure is best effort.
 */
static void
arm(memcap *m, zk_cgroup *cg, uint64_t limit, uint64_t usage)
{
	zk_error ignored = { 0 };
	bool capped = zk_memcap_capped(limit);
	if (capped != m->capped)
		disarm(m);
	if (capped && !m->capped) {
		m->capped = true;
		m->hit_failed = zk_cgroup_memory_watch(cg, &m->hit_fd,
		    &ignored) < 0;
	}
	if (zk_memcap_threshold_stale(m->thr_for, limit))
		drop_threshold(m);
	if (zk_memcap_want_threshold(m->thr_for, limit, usage)) {
		m->thr_for = limit;
		m->thr_failed = zk_cgroup_memory_threshold(cg,
		    zk_memcap_low_water(limit), &m->thr_fd, &ignored) < 0;
	}
	if (!zk_memcap_want_pressure(limit, m->thr_for))
		drop_pressure(m);
	else if (!m->press_asked) {
		m->press_asked = true;
		(void)zk_cgroup_memory_pressure(cg, &m->press_fd, &ignored);
	}
}

static void
publish(memcap *m, const zk_zone_ctx *z, const zk_cgroup_memstat *ms,
    const zk_cgroup_memcounters *mc)
{
	zk_kstat_pub *pub = z->kstats;
	size_t ks = z->ks_base;
	uint64_t pg = m->page;
	zk_kstat_pub_begin(pub);
	zk_kstat_set_str(pub, ks, ZK_MC_ZONENAME, z->zonename);
	zk_kstat_set_u64(pub, ks, ZK_MC_RSS, ms->rss);
	zk_kstat_set_u64(pub, ks, ZK_MC_PHYSCAP, ms->limit);
	zk_kstat_set_u64(pub, ks, ZK_MC_SWAP, ms->swap);
	zk_kstat_set_u64(pub, ks, ZK_MC_SWAPCAP, mc->swapcap);
	zk_kstat_set_u64(pub, ks, ZK_MC_NOVER, m->track.nover);
	zk_kstat_set_u64(pub, ks, ZK_MC_PAGEDOUT, m->track.pagedout * pg);
	/* SmartOS counts page-ins in pages (pagedout is in bytes), and so
	 * does the global zone's kstat. */
	zk_kstat_set_u64(pub, ks, ZK_MC_PGPGIN, mc->pgpgin);
	zk_kstat_set_u64(pub, ks, ZK_MC_ANONPGIN, mc->refault_anon);
	zk_kstat_set_u64(pub, ks, ZK_MC_EXECPGIN, 0);
	zk_kstat_set_u64(pub, ks, ZK_MC_FSPGIN, mc->refault_file);
	zk_kstat_set_u64(pub, ks, ZK_MC_ANON_ALLOC_FAIL, ms->oom_kill);
	zk_kstat_pub_end(pub);
}

static size_t
event_fds(const memcap *m, int *fds)
{
	size_t n = 0;
	const int all[] = { m->hit_fd, m->press_fd, m->thr_fd };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(all); i++)
		if (all[i] >= 0)
			fds[n++] = all[i];
	return n;
}

static uint64_t
next_interval(const memcap *m)
{
	if (zk_memcap_watching(&m->track))
		return FAST_NS;
	if ((m->hit_failed || m->thr_failed) &&
	    zk_memcap_capped(m->track.last.limit))
		return NOEVENT_NS;
	return SLOW_NS;
}

/* Read, fold, re-arm if the cap changed, publish, pick the next wake-up. */
static int
refresh(memcap *m, const zk_zone_ctx *z, zk_error *err)
{
	if (m->gone)
		return 0;
	zk_cgroup_memstat ms;
	zk_cgroup_memcounters mc;
	int r;
	if ((r = zk_cgroup_memory_stat(z->cg, &ms, err)) < 0 ||
	    (r = zk_cgroup_memory_counters(z->cg, &mc, err)) < 0) {
		if (r == -ENOENT) {
			/* The zone is halting: wait for stop() quietly. */
			m->gone = true;
			m->next = 0;
			disarm(m);
		}
		return zk_error_prefix(err, "memory_cap");
	}
	zk_memcap_obs o = {
		.usage = ms.rss, .limit = ms.limit, .failcnt = ms.failcnt,
		.oom = mc.oom, .oom_kill = ms.oom_kill,
		.under_oom = mc.under_oom, .reclaim = mc.reclaim,
	};
	m->track.reclaim_counts_frees = mc.reclaim_counts_frees;
	zk_memcap_track_fold(&m->track, &o);
	arm(m, z->cg, ms.limit, ms.rss);
	publish(m, z, &ms, &mc);
	bool fast = zk_memcap_watching(&m->track);
	if (m->fast && !fast) {	/* stale: the counters had it all */
		int fds[ZK_CTRL_MAX_FDS];
		size_t n = event_fds(m, fds);
		for (size_t i = 0; i < n; i++)
			zk_cgroup_event_drain(fds[i]);
	}
	m->fast = fast;
	m->next = z->now_ns + next_interval(m);
	return 0;
}

static int
memcap_start(void **state, const zk_zone_ctx *z, zk_error *err)
{
	memcap *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return zk_fail(err, ENOMEM, "memory_cap: out of memory");
	long pg = sysconf(_SC_PAGESIZE);
	m->page = pg > 0 ? (uint64_t)pg : 4096;
	m->hit_fd = m->press_fd = m->thr_fd = -1;
	int r = refresh(m, z, err);
	if (r < 0) {
		disarm(m);
		free(m);
		return r;
	}
	*state = m;
	return 0;
}

/* The cap is read back from the cgroup, so a changed cap re-arms here (or
 * at the latest on the next refresh). */
static int
memcap_reconfigure(void *state, const zk_zone_ctx *z, zk_error *err)
{
	return refresh(state, z, err);
}

/*
 * Events only wake an idle capper.  At the cap the kernel can signal
 * thousands of times a second (v1 notifies the OOM eventfd on every trip
 * through the OOM path, even when writeback then frees enough and nobody
 * is killed), and the counters carry everything the 4 Hz samples need, so
 * the descriptors are not watched then.
 */
static size_t
memcap_fds(void *state, int *fds)
{
	memcap *m = state;
	return m->fast ? 0 : event_fds(m, fds);
}

static int
memcap_on_fd(void *state, const zk_zone_ctx *z, int fd, zk_error *err)
{
	zk_cgroup_event_drain(fd);
	return refresh(state, z, err);
}

static uint64_t
memcap_deadline(void *state)
{
	return ((memcap *)state)->next;
}

static int
memcap_on_deadline(void *state, const zk_zone_ctx *z, zk_error *err)
{
	return refresh(state, z, err);
}

static void
memcap_stop(void *state)
{
	memcap *m = state;
	if (m == NULL)
		return;
	disarm(m);
	free(m);
}

const zk_controller_ops zk_memcap_ops = {
	.name = "memory_cap",
	.kstats = memcap_kstats,
	.start = memcap_start,
	.reconfigure = memcap_reconfigure,
	.fds = memcap_fds,
	.on_fd = memcap_on_fd,
	.deadline = memcap_deadline,
	.on_deadline = memcap_on_deadline,
	.stop = memcap_stop,
};
