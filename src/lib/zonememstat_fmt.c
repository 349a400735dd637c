#include "zonememstat_fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define MIB		(UINT64_C(1024) * 1024)
#define ALIAS_MIN	12
/* Past this a cap is "none" (UINT64_MAX, or a kernel's huge unlimited). */
#define UNCAPPED	(UINT64_C(1) << 62)

static const zk_kstat_value *
find_value(const zk_kstat *k, const char *name)
{
	for (size_t i = 0; i < k->nvalues; i++)
		if (strcmp(k->values[i].name, name) == 0)
			return &k->values[i];
	return NULL;
}

static uint64_t
u64_of(const zk_kstat *k, const char *name)
{
	const zk_kstat_value *v = find_value(k, name);
	if (v == NULL)
		return 0;
	if (v->type == ZK_KSTAT_UINT64)
		return v->v.u64;
	if (v->type == ZK_KSTAT_INT64)
		return v->v.i64 < 0 ? 0 : (uint64_t)v->v.i64;
	return 0;
}

static int
by_instance(const void *a, const void *b)
{
	const zk_memstat_row *x = a, *y = b;
	if (x->instance != y->instance)
		return x->instance < y->instance ? -1 : 1;
	return strcmp(x->zone, y->zone);
}

static void
fill_row(zk_memstat_row *r, const zk_kstat *k)
{
	memset(r, 0, sizeof(*r));
	r->instance = k->instance;
	const zk_kstat_value *zn = find_value(k, "zonename");
	/* The kstat name is cut to 30 characters; the statistic is whole. */
	snprintf(r->zone, sizeof(r->zone), "%s",
	    zn != NULL && zn->type == ZK_KSTAT_STRING ? zn->v.str : k->name);
	r->rss = u64_of(k, "rss");
	r->physcap = u64_of(k, "physcap");
	r->nover = u64_of(k, "nover");
	r->pagedout = u64_of(k, "pagedout");
	r->swap = u64_of(k, "swap");
	r->swapcap = u64_of(k, "swapcap");
}

int
zk_memstat_rows(const zk_kstat *ks, size_t n, zk_memstat_row **rows,
    size_t *nrows)
{
	zk_memstat_row *out = calloc(n > 0 ? n : 1, sizeof(*out));
	if (out == NULL)
		return -ENOMEM;
	size_t cnt = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ks[i].module, "memory_cap") == 0 &&
		    strcmp(ks[i].class, "zone_memory_cap") == 0)
			fill_row(&out[cnt++], &ks[i]);
	qsort(out, cnt, sizeof(*out), by_instance);
	*rows = out;
	*nrows = cnt;
	return 0;
}

bool
zk_memstat_has_zone(const zk_memstat_row *rows, size_t n, const char *zone)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].zone, zone) == 0)
			return true;
	return false;
}

static bool
shown(const zk_memstat_row *r, const zk_memstat_opts *o)
{
	if (o->zone != NULL && strcmp(r->zone, o->zone) != 0)
		return false;
	/* An uncapped zone's nover prints "-": it is never "over". */
	return !o->only_over || (r->physcap < UNCAPPED && r->nover != 0);
}

static const char *
alias_of(const zk_memstat_row *r)
{
	return r->alias != NULL && r->alias[0] != '\0' ? r->alias : "-";
}

static void
put_line(FILE *f, const zk_memstat_opts *o, int aw, const char *zone,
    const char *alias, const char *rss, const char *cap, const char *nover,
    const char *pout, const char *swap)
{
	if (o->alias)
		fprintf(f, "%37s %*s %8s %8s %6s %9s %5s\n", zone, aw, alias,
		    rss, cap, nover, pout, swap);
	else
		fprintf(f, "%37s %8s %8s %6s %9s %5s\n", zone, rss, cap, nover,
		    pout, swap);
}

static void
put_row(FILE *f, const zk_memstat_opts *o, int aw, const zk_memstat_row *r)
{
	char rss[24], cap[24] = "-", nover[24] = "-", pout[24] = "-",
	    swap[24] = "-";
	snprintf(rss, sizeof(rss), "%" PRIu64, r->rss / MIB);
	if (r->physcap < UNCAPPED) {
		snprintf(cap, sizeof(cap), "%" PRIu64, r->physcap / MIB);
		snprintf(nover, sizeof(nover), "%" PRIu64, r->nover);
		snprintf(pout, sizeof(pout), "%" PRIu64, r->pagedout / MIB);
		if (r->swapcap != 0 && r->swapcap < UNCAPPED)
			snprintf(swap, sizeof(swap), "%.1f",
			    (double)r->swap * 100.0 / (double)r->swapcap);
	}
	put_line(f, o, aw, r->zone, alias_of(r), rss, cap, nover, pout, swap);
}

static void
put_total(FILE *f, const zk_memstat_opts *o, int aw,
    const zk_memstat_row *rows, size_t n)
{
	uint64_t rss = 0, cap = 0, nover = 0, pout = 0;
	for (size_t i = 0; i < n; i++) {
		if (!shown(&rows[i], o))
			continue;
		rss += rows[i].rss / MIB;
		if (rows[i].physcap < UNCAPPED) {
			cap += rows[i].physcap / MIB;
			nover += rows[i].nover;
			pout += rows[i].pagedout / MIB;
		}
	}
	char s_rss[24], s_cap[24], s_nover[24], s_pout[24];
	snprintf(s_rss, sizeof(s_rss), "%" PRIu64, rss);
	snprintf(s_cap, sizeof(s_cap), "%" PRIu64, cap);
	snprintf(s_nover, sizeof(s_nover), "%" PRIu64, nover);
	snprintf(s_pout, sizeof(s_pout), "%" PRIu64, pout);
	put_line(f, o, aw, "total", "-", s_rss, s_cap, s_nover, s_pout, "-");
}

char *
zk_memstat_render(const zk_memstat_row *rows, size_t n,
    const zk_memstat_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	int aw = ALIAS_MIN;
	for (size_t i = 0; o->alias && i < n; i++)
		if (shown(&rows[i], o) && (int)strlen(alias_of(&rows[i])) > aw)
			aw = (int)strlen(alias_of(&rows[i]));
	if (!o->no_header)
		put_line(f, o, aw, "ZONE", "ALIAS", "RSS(MB)", "CAP(MB)",
		    "NOVER", "POUT(MB)", "SWAP%");
	for (size_t i = 0; i < n; i++)
		if (shown(&rows[i], o))
			put_row(f, o, aw, &rows[i]);
	if (o->total)
		put_total(f, o, aw, rows, n);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
