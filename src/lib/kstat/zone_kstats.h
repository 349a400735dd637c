/*
 * The layouts of the kstats every zone publishes that the global zone
 * reports too: memory_cap:<zoneid>:<zonename> (class zone_memory_cap) and
 * zones:<zoneid>:<zonename> (class zone_misc).  One home for their names,
 * order and types, shared by zoneadmd's controllers (memcap.c,
 * zonemisc.c) and the host's figures (kstat_host.c), so `kstat` shows the
 * global zone and the zones alike.  docs/kstat.md says what each means.
 */
#ifndef ZK_ZONE_KSTATS_H
#define ZK_ZONE_KSTATS_H

#include "kstat/kstat_store.h"

#define ZK_MEMCAP_MODULE "memory_cap"
#define ZK_MEMCAP_CLASS "zone_memory_cap"

enum {
	ZK_MC_ZONENAME, ZK_MC_RSS, ZK_MC_PHYSCAP, ZK_MC_SWAP, ZK_MC_SWAPCAP,
	ZK_MC_NOVER, ZK_MC_PAGEDOUT, ZK_MC_PGPGIN, ZK_MC_ANONPGIN,
	ZK_MC_EXECPGIN, ZK_MC_FSPGIN, ZK_MC_ANON_ALLOC_FAIL, ZK_MC_COUNT
};

extern const zk_kstat_stat_def zk_memcap_stats[ZK_MC_COUNT];

#define ZK_ZONEMISC_MODULE "zones"
#define ZK_ZONEMISC_CLASS "zone_misc"

enum {
	ZK_ZM_ZONENAME, ZK_ZM_AVENRUN_1, ZK_ZM_AVENRUN_5, ZK_ZM_AVENRUN_15,
	ZK_ZM_NSEC_USER, ZK_ZM_NSEC_SYS, ZK_ZM_NSEC_WAITRQ, ZK_ZM_FORKFAIL_CAP,
	ZK_ZM_FORKFAIL_NOPROC, ZK_ZM_INIT_PID, ZK_ZM_BOOT_TIME, ZK_ZM_COUNT
};

extern const zk_kstat_stat_def zk_zonemisc_stats[ZK_ZM_COUNT];

#endif
