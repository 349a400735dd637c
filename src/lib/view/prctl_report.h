/*
 * prctl's report of one zone's resource controls: the figures gathered for
 * each rctl (vm/zone_rctls.h) laid out as illumos prctl lays them out.
 * Pure: figures in, text out.
 */
#ifndef ZK_PRCTL_REPORT_H
#define ZK_PRCTL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/rctl.h"
#include "view/rctl_value.h"

typedef struct zk_rctl_report_row {
	const zk_rctl *rctl;
	bool has_usage;
	uint64_t usage;
	bool has_privileged;
	uint64_t privileged;
} zk_rctl_report_row;

typedef struct zk_rctl_report {
	int zoneid;
	const char *zonename;
	bool parseable;			/* -P */
	zk_rctl_priv only;		/* -t: values of this privilege only */
	const zk_rctl_report_row *rows;
	size_t nrows;
} zk_rctl_report;

/*
 * The report for one zone, malloc'd (NULL when out of memory):
 *
 *   zone: <zoneid>: <zonename>
 *   NAME    PRIVILEGE       VALUE    FLAG   ACTION                       RECIPIENT
 *   zone.cpu-cap
 *           usage             0
 *           privileged      350       -   deny                                  -
 *           system        4.29G     inf   deny                                  -
 *
 * Value lines: 8 spaces, privilege %-16s, value %5s, unit %-4s, flag %4s,
 * 3 spaces, action %-28s, recipient %10s.  The usage line stops after the
 * unit, without trailing blanks.  -P: no heading, every line
 * "<name> <privilege> <value> <flag> <action> <recipient>" with raw
 * values, usage as "<name> usage <value> - - -"; the "zone:" line stays.  An rctl with no value of
 * the -t privilege is left out; nothing at all is printed when no rctl
 * remains (illumos prints no header then either).
 */
char *zk_rctl_report_render(const zk_rctl_report *r);

#endif
