/* Time as zonekit reports it, and the one clock its timers run on. */
#ifndef ZK_CLOCK_H
#define ZK_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_BOOTTIME in ns: illumos's gethrtime(), for kstats and deadlines. */
uint64_t zk_now_ns(void);
/* Now as SmartOS prints timestamps: 2026-11-25T19:20:36.366Z (24 chars). */
void zk_iso8601_now(char *buf, size_t len);

/*
 * A timerfd on the clock zk_now_ns() reads (non-blocking, close-on-exec),
 * so deadlines computed from zk_now_ns() keep running across a suspend.
 * Returns the fd or a negative errno.
 */
int zk_timer_new(void);
/* Fire once, ns from now; 0 disarms.  0 or a negative errno. */
int zk_timer_set(int fd, uint64_t ns);

#endif
