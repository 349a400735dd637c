/* Time as zonekit reports it. */
#ifndef ZK_CLOCK_H
#define ZK_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_BOOTTIME in ns: illumos's gethrtime(), for kstats and deadlines. */
uint64_t zk_now_ns(void);
/* Now as SmartOS prints timestamps: 2026-11-25T19:20:36.366Z (24 chars). */
void zk_iso8601_now(char *buf, size_t len);

#endif
