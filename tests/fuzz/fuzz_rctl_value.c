/*
 * prctl's values: `prctl -v <value>` read for every zone.* rctl, then the
 * checks prctl makes before it asks zoneadmd (settable in the manifest's
 * units) and the value shown back.  The input is the value, to its first
 * NUL or newline; the privilege parser (-t) reads it too.
 *
 * Invariants: an accepted value is at most the rctl's system value, is
 * accepted again in plain decimal as the same number, and never as 0 for
 * zone.cpu-cap.
 */
#include <inttypes.h>

#include "fuzz_util.h"
#include "view/rctl_value.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size);
	s[strcspn(s, "\n")] = '\0';
	size_t n;
	const zk_rctl *rows = zk_rctl_table(&n);
	for (size_t i = 0; i < n; i++) {
		const zk_rctl *r = &rows[i];
		uint64_t v, again;
		zk_error err = { 0 };
		if (zk_rctl_parse_value(r, s, &v, &err) < 0)
			continue;
		FUZZ_ASSERT(v <= r->system_value);
		FUZZ_ASSERT(v != 0 || r->id != ZK_RCTL_CPU_CAP);
		char plain[32], shown[ZK_RCTL_VALUE_STRLEN];
		snprintf(plain, sizeof(plain), "%" PRIu64, v);
		FUZZ_ASSERT(zk_rctl_parse_value(r, plain, &again, &err) == 0);
		FUZZ_ASSERT(again == v);
		(void)zk_rctl_check_settable(r, v, s, &err);
		zk_rctl_format_value(v, r->unit, shown);
		(void)zk_rctl_flag(r, v);
	}
	zk_rctl_priv priv;
	(void)zk_rctl_priv_parse(s, &priv);
	free(s);
	return 0;
}
