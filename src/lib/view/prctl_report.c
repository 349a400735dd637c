#include "view/prctl_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static void
value_line(FILE *f, const zk_rctl_report *rep, const zk_rctl *r,
    const char *priv, uint64_t v)
{
	const char *flag = zk_rctl_flag(r, v);
	if (rep->parseable) {
		fprintf(f, "%s %s %" PRIu64 " %s %s -\n", r->name, priv, v, flag,
		    r->action);
		return;
	}
	char scaled[ZK_RCTL_VALUE_STRLEN];
	fprintf(f, "%8s%-16s%5s%-4s%4s%3s%-28s%10s\n", "", priv,
	    zk_rctl_scale(v, r->unit == ZK_RCTL_UNIT_BYTES, scaled),
	    zk_rctl_unit_suffix(r->unit), flag, "", r->action, "-");
}

static void
usage_line(FILE *f, const zk_rctl_report *rep, const zk_rctl *r, uint64_t v)
{
	if (rep->parseable) {
		fprintf(f, "%s usage %" PRIu64 " - - -\n", r->name, v);
		return;
	}
	char scaled[ZK_RCTL_VALUE_STRLEN];
	fprintf(f, "%8s%-16s%5s%s\n", "", "usage",
	    zk_rctl_scale(v, r->unit == ZK_RCTL_UNIT_BYTES, scaled),
	    zk_rctl_unit_suffix(r->unit));
}

static bool
shows(const zk_rctl_report *rep, zk_rctl_priv priv)
{
	return rep->only == ZK_RCTL_PRIV_ANY || rep->only == priv;
}

/* zone.* rctls have no basic values: a row shows when its privileged
 * value is there and wanted, or when system values are wanted. */
static bool
row_shows(const zk_rctl_report *rep, const zk_rctl_report_row *row)
{
	return (row->has_privileged && shows(rep, ZK_RCTL_PRIV_PRIVILEGED)) ||
	    shows(rep, ZK_RCTL_PRIV_SYSTEM);
}

static void
render_row(FILE *f, const zk_rctl_report *rep, const zk_rctl_report_row *row)
{
	const zk_rctl *r = row->rctl;
	if (!rep->parseable)
		fprintf(f, "%s\n", r->name);
	if (row->has_usage)
		usage_line(f, rep, r, row->usage);
	if (row->has_privileged && shows(rep, ZK_RCTL_PRIV_PRIVILEGED))
		value_line(f, rep, r, "privileged", row->privileged);
	if (shows(rep, ZK_RCTL_PRIV_SYSTEM))
		value_line(f, rep, r, "system", r->system_value);
}

char *
zk_rctl_report_render(const zk_rctl_report *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	bool header = false;
	for (size_t i = 0; i < rep->nrows; i++) {
		if (!row_shows(rep, &rep->rows[i]))
			continue;
		if (!header) {
			fprintf(f, "zone: %d: %s\n", rep->zoneid, rep->zonename);
			if (!rep->parseable)
				fprintf(f, "%-8s%-16s%-9s%-7s%-28s%10s\n", "NAME",
				    "PRIVILEGE", "VALUE", "FLAG", "ACTION",
				    "RECIPIENT");
			header = true;
		}
		render_row(f, rep, &rep->rows[i]);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
