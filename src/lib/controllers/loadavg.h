/*
 * Per-zone load average: the kernel's exponentially decaying 1, 5 and
 * 15-minute averages, kept pure for testing.
 *
 * Linux folds the number of active tasks into avenrun every 5 s with
 * avg' = avg*e + n*(1 - e), e = exp(-5 s/period) in FSHIFT=11 fixed point.
 * zoneadmd samples a zone at 1 s, or at 5-10 s while it idles, so e is
 * computed for the interval actually elapsed: exp(-dt/period) for any dt.
 * That makes the fold exact whatever the interval: a load n held for dt
 * gives the same average in one step of dt as in many smaller steps.  Eleven
 * fraction bits are too few for 1 s steps (exp(-1/900) = 0.99889 rounds to
 * 2046/2048, a 1024 s "15-minute" average), so the running averages keep
 * 32 fraction bits and are reported in the kernel's and illumos's scales.
 * The kernel's rounding is kept: a rising average rounds up, so a constant
 * load is reached, and a falling one truncates, so idle decays to 0.
 */
#ifndef ZK_LOADAVG_H
#define ZK_LOADAVG_H

#include <stddef.h>
#include <stdint.h>

#define ZK_LOAD_FSHIFT		11	/* Linux avenrun: 2048 = 1.0 */
#define ZK_LOAD_ILLUMOS_SHIFT	8	/* illumos avenrun: 256 = 1.0 */
#define ZK_LOAD_SHIFT		32	/* the running averages */
#define ZK_LOAD_ONE		(UINT64_C(1) << ZK_LOAD_SHIFT)

#define ZK_LOAD_NSEC		UINT64_C(1000000000)

typedef struct zk_loadavg {
	uint64_t avg[3];	/* 1, 5, 15 minutes; ZK_LOAD_SHIFT fixed point */
} zk_loadavg;

/* Seconds of each average: 60, 300, 900. */
static inline unsigned
zk_loadavg_period(int i)
{
	return i == 0 ? 60 : i == 1 ? 300 : 900;
}

/*
 * exp(-dt/period) as a ZK_LOAD_SHIFT fraction, without libm: e^-n by
 * squaring e^-1 for the whole part of x = dt/period, the Taylor series for
 * the fraction (alternating, 24 terms: error far below 2^-32).
 */
static inline uint64_t
zk_loadavg_decay(uint64_t dt_ns, unsigned period_s)
{
	double x = (double)dt_ns / ((double)period_s * (double)ZK_LOAD_NSEC);
	if (x >= 40.0)		/* e^-40 < 2^-57: nothing of the past is left */
		return 0;
	unsigned n = (unsigned)x;
	double f = x - (double)n, term = 1.0, frac = 1.0;
	for (int k = 1; k <= 24; k++) {
		term *= -f / k;
		frac += term;
	}
	double whole = 1.0, base = 0.36787944117144232160;	/* e^-1 */
	for (; n > 0; n >>= 1, base *= base)
		if (n & 1)
			whole *= base;
	double e = whole * frac * (double)ZK_LOAD_ONE + 0.5;
	return e >= (double)ZK_LOAD_ONE ? ZK_LOAD_ONE : (uint64_t)e;
}

/* The kernel's calc_load(), at 32 fraction bits. */
static inline uint64_t
zk_loadavg_step(uint64_t avg, uint64_t e, uint64_t active)
{
	unsigned __int128 v = (unsigned __int128)avg * e +
	    (unsigned __int128)active * (ZK_LOAD_ONE - e);
	if (active >= avg)
		v += ZK_LOAD_ONE - 1;
	return (uint64_t)(v >> ZK_LOAD_SHIFT);
}

/* Average active tasks over an interval, from the CPU time the zone used
 * plus the time its tasks waited for a CPU (both summed over the
 * interval), as a ZK_LOAD_SHIFT fixed-point count. */
static inline uint64_t
zk_loadavg_active(uint64_t busy_ns, uint64_t dt_ns)
{
	if (dt_ns == 0)
		return 0;
	return (uint64_t)(((unsigned __int128)busy_ns << ZK_LOAD_SHIFT) /
	    dt_ns);
}

/* Fold `active` held for dt_ns into the three averages. */
static inline void
zk_loadavg_fold(zk_loadavg *la, uint64_t active, uint64_t dt_ns)
{
	for (int i = 0; i < 3; i++)
		la->avg[i] = zk_loadavg_step(la->avg[i],
		    zk_loadavg_decay(dt_ns, zk_loadavg_period(i)), active);
}

/* In another fixed point (11: Linux avenrun, 8: illumos), rounded. */
static inline uint64_t
zk_loadavg_scaled(uint64_t avg, unsigned shift)
{
	unsigned drop = ZK_LOAD_SHIFT - shift;
	return (avg + (UINT64_C(1) << (drop - 1))) >> drop;
}

/*
 * The next sampling interval.  A zone that used less than 1 % of a CPU
 * (on-CPU plus waiting) in the last interval backs off 1 s -> 5 s -> 10 s
 * -> 30 s -> 60 s; any activity brings it back to 1 s.  Folding stays
 * exact when backed off: the interval's CPU time is measured whole,
 * whatever its length, so a thousand idle zones cost a wake-up a minute
 * each.
 */
#define ZK_LOAD_INTERVAL_MIN	(1 * ZK_LOAD_NSEC)
#define ZK_LOAD_INTERVAL_MAX	(60 * ZK_LOAD_NSEC)
#define ZK_LOAD_IDLE		(ZK_LOAD_ONE / 100)

static inline uint64_t
zk_loadavg_next_interval(uint64_t cur_ns, uint64_t active)
{
	static const uint64_t ladder[] = { 5, 10, 30, 60 };
	if (active >= ZK_LOAD_IDLE)
		return ZK_LOAD_INTERVAL_MIN;
	for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++)
		if (cur_ns < ladder[i] * ZK_LOAD_NSEC)
			return ladder[i] * ZK_LOAD_NSEC;
	return ZK_LOAD_INTERVAL_MAX;
}

#endif
