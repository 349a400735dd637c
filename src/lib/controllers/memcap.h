/*
 * The memory capper's bookkeeping, kept pure so it can be tested without a
 * kernel: excursions over the cap (nover) and pages reclaimed because of
 * the cap (pagedout), folded from successive readings of the zone's
 * cumulative kernel counters.  The kernel enforces the cap; this only
 * counts, and it counts from counters (failcnt, memory.events, oom_kill),
 * never from catching the zone over the cap while polling, so an excursion
 * that ends within milliseconds in an OOM kill still counts once.
 *
 * An excursion starts when a counter says the cap was hit, and ends once
 * usage is below cap - cap/128 (SmartOS's hysteresis).  See
 * docs/controllers.md.
 */
#ifndef ZK_MEMCAP_H
#define ZK_MEMCAP_H

#include <stdbool.h>
#include <stdint.h>

/* One reading of the zone's cgroup. */
typedef struct zk_memcap_obs {
	uint64_t usage;		/* bytes charged */
	uint64_t limit;		/* the cap; UINT64_MAX = none */
	uint64_t failcnt;	/* v1 memory.failcnt, v2 memory.events max */
	uint64_t oom;		/* v2 memory.events oom (0 on v1) */
	uint64_t oom_kill;	/* OOM kills inside the zone */
	bool under_oom;		/* v1 memory.oom_control under_oom */
	uint64_t reclaim;	/* pages: v1 pgpgout, v2 pgsteal */
} zk_memcap_obs;

typedef struct zk_memcap_track {
	bool primed;
	bool over;		/* inside an excursion */
	bool reclaim_counts_frees;	/* v1: only fold reclaim at the cap */
	uint64_t nover;
	uint64_t pagedout;	/* pages */
	zk_memcap_obs last;
} zk_memcap_track;

/* Below this the zone is under its cap again (SmartOS: limit - limit/128). */
static inline uint64_t
zk_memcap_low_water(uint64_t limit)
{
	return limit - limit / 128;
}

static inline bool
zk_memcap_capped(uint64_t limit)
{
	return limit != UINT64_MAX && limit != 0;
}

/* Did the kernel hit the cap between two readings? */
static inline bool
zk_memcap_hit(const zk_memcap_obs *prev, const zk_memcap_obs *cur)
{
	return cur->failcnt > prev->failcnt || cur->oom > prev->oom ||
	    cur->oom_kill > prev->oom_kill || cur->under_oom;
}

static inline uint64_t
zk_memcap_delta(uint64_t prev, uint64_t cur)
{
	return cur > prev ? cur - prev : 0;	/* a reset counter adds 0 */
}

/*
 * Fold one reading.  The first only records the baseline: counters that
 * rose before the controller started (adoption) are history.  Reclaim is
 * folded for the intervals the zone spent at its cap: on v2 (pgsteal counts
 * only reclaim) every interval that saw the cap hit or began over it; on v1
 * (pgpgout counts every uncharge, frees included) only intervals that begin
 * at or near the cap (the threshold or a cap-hit event makes a reading
 * there) and hit it or end still at it, with no OOM kill: memory freed by
 * a kill, by the zone deleting files, or by anything while it was well
 * under the cap, is not counted as paged out.
 */
static inline void
zk_memcap_track_fold(zk_memcap_track *t, const zk_memcap_obs *o)
{
	if (!t->primed) {
		t->primed = true;
		t->over = false;
		t->last = *o;
		return;
	}
	bool capped = zk_memcap_capped(o->limit);
	bool hit = capped && zk_memcap_hit(&t->last, o);
	bool was_over = t->over;
	bool was_near = was_over || (zk_memcap_capped(t->last.limit) &&
	    t->last.usage >= zk_memcap_low_water(t->last.limit));
	if (hit && !t->over) {
		t->over = true;
		t->nover++;
	}
	bool ends = !capped || (o->usage < zk_memcap_low_water(o->limit) &&
	    !o->under_oom);
	uint64_t dr = zk_memcap_delta(t->last.reclaim, o->reclaim);
	if (t->reclaim_counts_frees) {
		if (was_near && (hit || (t->over && !ends)) &&
		    o->oom_kill == t->last.oom_kill)
			t->pagedout += dr;
	} else if (was_over || hit) {
		t->pagedout += dr;
	}
	if (t->over && ends)
		t->over = false;
	t->last = *o;
}

/*
 * Which kernel events the capper registers (v1; v2 has one, memory.events,
 * which counts every hit).  The OOM notifier, while capped: free to
 * register.  The usage threshold at the low-water mark, the warning before
 * the cap: the kernel registers it with synchronize_rcu(), 10-14 ms, which
 * at boot cost more than the rest of a zone's start, and again on every
 * cap change.  So it waits for a reading that finds the zone at half its
 * cap or more (a zone that never comes near its cap never pays for it; one
 * that does gets the warning long before the cap), and stays while the
 * cap stays.  Below half, reclaim pressure at the cap (free to register)
 * stands in for it: a zone going straight from there to its cap is seen at
 * once even when the kernel reclaims its way out, without an OOM.  Once the
 * threshold is there, pressure is dropped: at a cap the kernel keeps
 * reclaiming at, it would wake the capper for every 2 MiB reclaimed, and
 * each wake-up finding the cap hit again would count a new excursion.
 */
static inline uint64_t
zk_memcap_arm_at(uint64_t limit)
{
	return limit / 2;
}

/* armed_for: the cap the registered threshold is for, 0 for none. */
static inline bool
zk_memcap_want_threshold(uint64_t armed_for, uint64_t limit, uint64_t usage)
{
	return zk_memcap_capped(limit) && armed_for != limit &&
	    usage >= zk_memcap_arm_at(limit);
}

/* A threshold registered for another cap warns at the wrong level. */
static inline bool
zk_memcap_threshold_stale(uint64_t armed_for, uint64_t limit)
{
	return armed_for != 0 && armed_for != limit;
}

/* armed_for: as above, after this reading's threshold decision. */
static inline bool
zk_memcap_want_pressure(uint64_t limit, uint64_t armed_for)
{
	return zk_memcap_capped(limit) && armed_for == 0;
}

/* Whether to sample at the fast rate: over the cap, or close enough that
 * the next hit could come without another event (v1 failcnt rises
 * silently once the threshold event has fired). */
static inline bool
zk_memcap_watching(const zk_memcap_track *t)
{
	return t->over || (zk_memcap_capped(t->last.limit) &&
	    t->last.usage >= zk_memcap_low_water(t->last.limit));
}

#endif
