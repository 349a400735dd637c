/*
 * CPU caps and bursting, SmartOS's model (illumos cpucaps.c with Joyent's
 * baseline and burst time) as a pure state machine; cpucaps.c runs it in
 * zoneadmd and moves the zone's CPU quota between cap and baseline.
 *
 * SmartOS advances the machine every 10 ms clock tick.  zoneadmd samples
 * the zone's CPU time far less often, so zk_cpucaps_step() replays the
 * ticks an interval spans with the interval's average use: for a use that
 * was constant over the interval the result is exactly what SmartOS's
 * per-tick update gives.  Everything here is arithmetic on its arguments,
 * so the unit tests pin it exactly.
 */
#ifndef ZK_CPUCAPS_H
#define ZK_CPUCAPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ZK_CPUCAPS_TICK_NS 10000000ULL	/* SmartOS's clock tick, 10 ms */
#define ZK_CPUCAPS_HZ 100		/* ticks per second */
#define ZK_CPUCAPS_DECAY 0.99		/* usage kept from tick to tick */
/* SmartOS keeps usage in nanoseconds per tick (1e9 is one CPU), so it
 * cannot tell apart figures closer than this many percent; nor do we. */
#define ZK_CPUCAPS_RESOLUTION 1e-7

/* Sampling: while the zone is busy, and once it is idle (see below). */
#define ZK_CPUCAPS_BUSY_NS 100000000ULL	/* 100 ms */
#define ZK_CPUCAPS_IDLE_NS 1000000000ULL	/* 1 s */
/* Idle and no burst limit to enforce: nothing can change the effective
 * cap, so only the figures are kept, and they decay in closed form. */
#define ZK_CPUCAPS_QUIET_NS 10000000000ULL	/* 10 s */
/* Below this (percent of one CPU) a zone with no burst debt is idle. */
#define ZK_CPUCAPS_IDLE_PCT 1.0

/* The configuration in force, in SmartOS units. */
typedef struct zk_cpucaps_cfg {
	uint64_t cap;		/* percent of one CPU; 0 = no cap */
	uint64_t baseline;	/* percent; 0 = none */
	uint64_t burst_sec;	/* 0 = unlimited */
} zk_cpucaps_cfg;

typedef struct zk_cpucaps {
	/* from zk_cpucaps_configure */
	uint64_t cap;
	uint64_t baseline;	/* 0 = none: effective is always the cap */
	uint64_t burst_limit;	/* ticks; 0 = unlimited */
	/* state */
	bool at_baseline;	/* burst time used up: capped at the baseline
				 * until bursting is paid back to 0 */
	double usage;		/* decayed average, percent of one CPU */
	double maxusage;
	uint64_t bursting;	/* ticks; counts up above the baseline at the
				 * cap, down otherwise */
	uint64_t above_base;	/* ticks above the baseline at the cap */
	uint64_t above;		/* ticks with usage >= effective */
	uint64_t below;		/* ticks with usage < effective */
} zk_cpucaps;

/*
 * The baseline SmartOS gives a zone that has a CPU cap and a memory cap but
 * no cpu_baseline: its share of the host's memory as a share of the CPUs,
 * memcap_MB * 100 / (0.83 * host_MB / ncpus), rounded down and clamped to
 * [1, ncpus * 100].
 */
uint64_t zk_cpucaps_default_baseline(uint64_t memcap_mb, uint64_t host_mb,
    uint64_t ncpus);

/*
 * The configuration from a zone's effective config (manifest units):
 * cpu_cap; cpu_baseline, or the default baseline when it is absent and both
 * caps are set; cpu_burst_time.  A baseline of 0, above the cap, or without
 * a cap is none.  host_mb and ncpus are only used for the default.
 */
void zk_cpucaps_cfg_from_json(const json_t *cfg, uint64_t host_mb,
    uint64_t ncpus, zk_cpucaps_cfg *out);

/* A machine at rest: no usage, effective = cap. */
void zk_cpucaps_init(zk_cpucaps *m, const zk_cpucaps_cfg *c);

/*
 * A new configuration; usage and the counters carry on.  A zone paying
 * back its burst time keeps paying it back at the new baseline; without a
 * baseline there is nothing to pay back.
 */
void zk_cpucaps_configure(zk_cpucaps *m, const zk_cpucaps_cfg *c);

/* The cap in force: the baseline while paying back, else the cap. */
uint64_t zk_cpucaps_effective(const zk_cpucaps *m);

/*
 * Advance by `ticks` 10 ms ticks during which the zone used `used` percent
 * of one CPU (the interval's average).  Each tick, as on SmartOS:
 *   usage = usage * 0.99 + used * 0.01
 *   with a baseline: above it at the cap, above_base and (with a burst
 *   limit) bursting count up, and reaching the limit drops effective to
 *   the baseline; otherwise bursting counts down and reaching 0 restores
 *   the cap;
 *   then above (usage >= effective) or below counts up.
 * So over the interval the old usage is scaled by 0.99^ticks and `used`
 * contributes (1 - 0.99^ticks) of itself.
 */
void zk_cpucaps_step(zk_cpucaps *m, double used, uint64_t ticks);

/*
 * Turn a sample into the step's arguments: dt_ns of wall time in which
 * the zone used cpu_ns of CPU time.  Returns the whole ticks the interval
 * completes; the remainder carries over in *carry_ns, so no time is lost
 * however the wake-ups fall.  *used is cpu_ns as percent of one CPU.
 */
uint64_t zk_cpucaps_interval(uint64_t *carry_ns, uint64_t dt_ns,
    uint64_t cpu_ns, double *used);

/* When to sample next: 100 ms, or 1 s while the zone is idle (usage and
 * the last interval's use near 0, no burst time to pay back), or 10 s
 * while idle with no burst limit in force (no baseline, or unlimited burst
 * time), where a late sample cannot let a burst overrun. */
uint64_t zk_cpucaps_next_interval_ns(const zk_cpucaps *m, double used);

/* Tick counts as the kstats report them: whole seconds. */
static inline uint64_t
zk_cpucaps_sec(uint64_t ticks)
{
	return ticks / ZK_CPUCAPS_HZ;
}

#endif
