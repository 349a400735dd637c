/*
 * Values of the zone.* resource controls as prctl shows and reads them:
 * scaled to at most four significant characters ("4.29G", "256MB"), the
 * flag column, user values with scale suffixes, and the report layout.
 * Pure functions: prctl gathers the figures, these turn them into text.
 */
#ifndef ZK_RCTL_VALUE_H
#define ZK_RCTL_VALUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/rctl.h"
#include "util/error.h"

/* Room for any scaled value with its unit ("1000K", "16.0EB", "4294967295"
 * never happens, but 20 digits fit). */
#define ZK_RCTL_VALUE_STRLEN 32

/*
 * v scaled as illumos prctl does: below the base (1000, or 1024 when
 * binary) the plain integer; otherwise divided by the largest power that
 * keeps it >= 1 (up to E), printed with as many decimals as fit in four
 * characters, and the modifier K M G T P E: 4294967295 -> "4.29G",
 * 65535 -> "65.5K", 99950 -> "100K", binary 268435456 -> "256M".
 */
char *zk_rctl_scale(uint64_t v, bool binary, char *buf);

/* "B" for bytes, "" for counts, percentages and seconds. */
const char *zk_rctl_unit_suffix(zk_rctl_unit unit);

/* The scaled value with its unit: "256MB", "16.0EB", "65.5K", "40". */
char *zk_rctl_format_value(uint64_t v, zk_rctl_unit unit, char *buf);

/* zone.cpu-cap's maximum means "no cap" (illumos RCTL_GLOBAL_INFINITE). */
bool zk_rctl_is_infinite(const zk_rctl *r);

/* The FLAG column: "inf" or "max" when v is the rctl's maximum (its system
 * value), "-" otherwise. */
const char *zk_rctl_flag(const zk_rctl *r, uint64_t v);

/*
 * Parse a user value for r (prctl -v).  Accepted: a decimal integer, or a
 * decimal number with a scale modifier K M G T P E (either case) that
 * scales to a whole number: "10", "1.5K", "512M", "2G".  Byte rctls scale
 * by powers of 1024 and take an optional B ("1024KB", "100B"); seconds
 * take an optional s; the others scale by powers of 1000.  Refused, with
 * the value named: anything else, values above the system value, and 0 for
 * zone.cpu-cap (delete the value to remove the cap).
 */
int zk_rctl_parse_value(const zk_rctl *r, const char *s, uint64_t *out,
    zk_error *err);

/*
 * zonekit keeps rctls as manifest properties (memory in MiB), so a value
 * to set must be a whole number of manifest_scale units; s names it in the
 * error: "invalid value "1.5K": zone.max-swap is set in whole MiB".
 */
int zk_rctl_check_settable(const zk_rctl *r, uint64_t v, const char *s,
    zk_error *err);

/* The rctl's value in the zone's config: its manifest property times
 * manifest_scale.  false when absent, null, negative, or 0 for cpu_cap
 * (which means "no cap"). */
bool zk_rctl_config_value(const zk_rctl *r, const json_t *cfg, uint64_t *out);

typedef enum zk_rctl_priv {
	ZK_RCTL_PRIV_ANY,	/* no -t: every value */
	ZK_RCTL_PRIV_BASIC,
	ZK_RCTL_PRIV_PRIVILEGED,
	ZK_RCTL_PRIV_SYSTEM,
} zk_rctl_priv;

/* "basic", "privileged" (or "priv"), "system"; -EINVAL otherwise. */
int zk_rctl_priv_parse(const char *s, zk_rctl_priv *out);

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
