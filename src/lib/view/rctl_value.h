/*
 * Values of the zone.* resource controls as prctl shows and reads them:
 * scaled to at most four significant characters ("4.29G", "256MB"), the
 * flag column, and user values with scale suffixes.  Pure functions;
 * prctl's report is laid out in prctl_report.h.
 */
#ifndef ZK_RCTL_VALUE_H
#define ZK_RCTL_VALUE_H

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

/* The FLAG column: "inf" or "max" when v is the rctl's maximum (its system
 * value; "inf" where that means none, illumos's RCTL_GLOBAL_INFINITE), "-"
 * otherwise. */
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

typedef enum zk_rctl_priv {
	ZK_RCTL_PRIV_ANY,	/* no -t: every value */
	ZK_RCTL_PRIV_BASIC,
	ZK_RCTL_PRIV_PRIVILEGED,
	ZK_RCTL_PRIV_SYSTEM,
} zk_rctl_priv;

/* "basic", "privileged" (or "priv"), "system"; -EINVAL otherwise. */
int zk_rctl_priv_parse(const char *s, zk_rctl_priv *out);

#endif
