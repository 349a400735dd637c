#include "kstat/zone_kstats.h"

const zk_kstat_stat_def zk_memcap_stats[ZK_MC_COUNT] = {
	[ZK_MC_ZONENAME] = { "zonename", ZK_KSTAT_STRING },
	[ZK_MC_RSS] = { "rss", ZK_KSTAT_UINT64 },
	[ZK_MC_PHYSCAP] = { "physcap", ZK_KSTAT_UINT64 },
	[ZK_MC_SWAP] = { "swap", ZK_KSTAT_UINT64 },
	[ZK_MC_SWAPCAP] = { "swapcap", ZK_KSTAT_UINT64 },
	[ZK_MC_NOVER] = { "nover", ZK_KSTAT_UINT64 },
	[ZK_MC_PAGEDOUT] = { "pagedout", ZK_KSTAT_UINT64 },
	[ZK_MC_PGPGIN] = { "pgpgin", ZK_KSTAT_UINT64 },
	[ZK_MC_ANONPGIN] = { "anonpgin", ZK_KSTAT_UINT64 },
	[ZK_MC_EXECPGIN] = { "execpgin", ZK_KSTAT_UINT64 },
	[ZK_MC_FSPGIN] = { "fspgin", ZK_KSTAT_UINT64 },
	[ZK_MC_ANON_ALLOC_FAIL] = { "anon_alloc_fail", ZK_KSTAT_UINT64 },
};

const zk_kstat_stat_def zk_zonemisc_stats[ZK_ZM_COUNT] = {
	[ZK_ZM_ZONENAME] = { "zonename", ZK_KSTAT_STRING },
	[ZK_ZM_AVENRUN_1] = { "avenrun_1min", ZK_KSTAT_UINT64 },
	[ZK_ZM_AVENRUN_5] = { "avenrun_5min", ZK_KSTAT_UINT64 },
	[ZK_ZM_AVENRUN_15] = { "avenrun_15min", ZK_KSTAT_UINT64 },
	[ZK_ZM_NSEC_USER] = { "nsec_user", ZK_KSTAT_UINT64 },
	[ZK_ZM_NSEC_SYS] = { "nsec_sys", ZK_KSTAT_UINT64 },
	[ZK_ZM_NSEC_WAITRQ] = { "nsec_waitrq", ZK_KSTAT_UINT64 },
	[ZK_ZM_FORKFAIL_CAP] = { "forkfail_cap", ZK_KSTAT_UINT64 },
	[ZK_ZM_FORKFAIL_NOPROC] = { "forkfail_noproc", ZK_KSTAT_UINT64 },
	[ZK_ZM_INIT_PID] = { "init_pid", ZK_KSTAT_UINT64 },
	[ZK_ZM_BOOT_TIME] = { "boot_time", ZK_KSTAT_UINT64 },
};
