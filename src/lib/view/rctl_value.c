#include "view/rctl_value.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

static const char modifiers[] = "KMGTPE";

/* The widest a scaled number may be before its modifier, as illumos's
 * PRCTL_VALUE_WIDTH. */
#define SCALED_WIDTH 4

char *
zk_rctl_scale(uint64_t v, bool binary, char *buf)
{
	const uint64_t base = binary ? 1024 : 1000;
	if (v < base) {
		snprintf(buf, ZK_RCTL_VALUE_STRLEN, "%" PRIu64, v);
		return buf;
	}
	size_t i = 0;
	uint64_t div = base;
	while (i + 1 < sizeof(modifiers) - 1 && v / div >= base) {
		div *= base;
		i++;
	}
	double x = (double)v / (double)div;
	/*
	 * Add decimals while the number is narrower than the width; one that
	 * overshoots (rounding can carry: 99.95 -> "100.0") is taken back.
	 * illumos does the same, so "99950" shows as "100K", not "99.9K".
	 */
	char tmp[ZK_RCTL_VALUE_STRLEN];
	int dec = 0;
	int len = snprintf(tmp, sizeof(tmp), "%.0f", x);
	while (len < SCALED_WIDTH) {
		len = snprintf(tmp, sizeof(tmp), "%.*f", dec + 1, x);
		if (len > SCALED_WIDTH)
			break;
		dec++;
	}
	snprintf(buf, ZK_RCTL_VALUE_STRLEN, "%.*f%c", dec, x, modifiers[i]);
	return buf;
}

const char *
zk_rctl_unit_suffix(zk_rctl_unit unit)
{
	return unit == ZK_RCTL_UNIT_BYTES ? "B" : "";
}

char *
zk_rctl_format_value(uint64_t v, zk_rctl_unit unit, char *buf)
{
	zk_rctl_scale(v, unit == ZK_RCTL_UNIT_BYTES, buf);
	strcat(buf, zk_rctl_unit_suffix(unit));
	return buf;
}

const char *
zk_rctl_flag(const zk_rctl *r, uint64_t v)
{
	if (v != r->system_value)
		return "-";
	return r->infinite ? "inf" : "max";
}

/* ---- parsing --------------------------------------------------------------- */

static int
syntax_error(const zk_rctl *r, const char *s, zk_error *err)
{
	switch (r->unit) {
	case ZK_RCTL_UNIT_BYTES:
		return zk_fail(err, EINVAL, "invalid value \"%s\": expected a "
		    "number of bytes, optionally scaled by K, M, G, T, P or E "
		    "(powers of 1024) and followed by B", s);
	case ZK_RCTL_UNIT_SECONDS:
		return zk_fail(err, EINVAL, "invalid value \"%s\": expected a "
		    "number of seconds, optionally scaled by K, M, G, T, P or "
		    "E (powers of 1000) and followed by s", s);
	default:
		return zk_fail(err, EINVAL, "invalid value \"%s\": expected a "
		    "number, optionally scaled by K, M, G, T, P or E (powers "
		    "of 1000)", s);
	}
}

/* Leading decimal digits of *p as an exact integer; advances *p. */
static int
scan_digits(const char **p, unsigned __int128 *v, size_t *ndigits)
{
	*v = 0;
	*ndigits = 0;
	while (isdigit((unsigned char)**p)) {
		if (*v > UINT64_MAX)
			return -ERANGE;
		*v = *v * 10 + (unsigned)(**p - '0');
		(*p)++;
		(*ndigits)++;
	}
	return 0;
}

/*
 * Integer arithmetic throughout, so "1.5K" is exactly 1500 and a value
 * that does not scale to a whole number is refused, never rounded.
 */
int
zk_rctl_parse_value(const zk_rctl *r, const char *s, uint64_t *out,
    zk_error *err)
{
	const char *p = s;
	unsigned __int128 ip, fp = 0, pow10 = 1;
	size_t nip, nfp = 0;
	if (scan_digits(&p, &ip, &nip) < 0)
		return zk_fail(err, ERANGE, "invalid value \"%s\": too large", s);
	if (nip == 0)
		return syntax_error(r, s, err);
	if (*p == '.') {
		p++;
		if (scan_digits(&p, &fp, &nfp) < 0 || nfp > 18)
			return zk_fail(err, EINVAL, "invalid value \"%s\": too "
			    "many decimals", s);
		if (nfp == 0)
			return syntax_error(r, s, err);
		for (size_t i = 0; i < nfp; i++)
			pow10 *= 10;
	}
	unsigned __int128 mult = 1;
	const char *m = *p ? strchr(modifiers, toupper((unsigned char)*p)) : NULL;
	if (m != NULL) {
		uint64_t base = r->unit == ZK_RCTL_UNIT_BYTES ? 1024 : 1000;
		for (const char *q = modifiers; q <= m; q++)
			mult *= base;
		p++;
	}
	if ((r->unit == ZK_RCTL_UNIT_BYTES && (*p == 'B' || *p == 'b')) ||
	    (r->unit == ZK_RCTL_UNIT_SECONDS && *p == 's'))
		p++;
	if (*p != '\0')
		return syntax_error(r, s, err);
	if (nfp > 0 && m == NULL)
		return zk_fail(err, EINVAL, "invalid value \"%s\": a fraction "
		    "needs a scale (K, M, G, T, P or E)", s);
	if ((fp * mult) % pow10 != 0)
		return zk_fail(err, EINVAL, "invalid value \"%s\": does not "
		    "scale to a whole number", s);
	unsigned __int128 v = ip * mult + fp * mult / pow10;
	if (v > UINT64_MAX)
		return zk_fail(err, ERANGE, "invalid value \"%s\": too large", s);
	if (v > r->system_value) {
		char max[ZK_RCTL_VALUE_STRLEN];
		return zk_fail(err, ERANGE, "value \"%s\" exceeds the system "
		    "limit of %s (%s)", s, r->name,
		    zk_rctl_format_value(r->system_value, r->unit, max));
	}
	if (v == 0 && r->id == ZK_RCTL_CPU_CAP)
		return zk_fail(err, EINVAL, "invalid value \"%s\": zone.cpu-cap "
		    "must be at least 1 (delete the value to remove the cap)", s);
	*out = (uint64_t)v;
	return 0;
}

int
zk_rctl_check_settable(const zk_rctl *r, uint64_t v, const char *s,
    zk_error *err)
{
	uint64_t scale = r->manifest_scale;
	if (scale <= 1 || v % scale == 0)
		return 0;
	if (scale == 1024 * 1024)
		return zk_fail(err, EINVAL, "invalid value \"%s\": %s is set in "
		    "whole MiB", s, r->name);
	return zk_fail(err, EINVAL, "invalid value \"%s\": %s is set in "
	    "multiples of %" PRIu64, s, r->name, scale);
}

int
zk_rctl_priv_parse(const char *s, zk_rctl_priv *out)
{
	if (strcmp(s, "basic") == 0)
		*out = ZK_RCTL_PRIV_BASIC;
	else if (strcmp(s, "privileged") == 0 || strcmp(s, "priv") == 0)
		*out = ZK_RCTL_PRIV_PRIVILEGED;
	else if (strcmp(s, "system") == 0)
		*out = ZK_RCTL_PRIV_SYSTEM;
	else
		return -EINVAL;
	return 0;
}
