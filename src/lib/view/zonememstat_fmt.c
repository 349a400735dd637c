#include "view/zonememstat_fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

#define MIB		(UINT64_C(1024) * 1024)
#define ALIAS_MIN	12
/* Past this a cap is "none" (UINT64_MAX, or a kernel's huge unlimited). */
#define UNCAPPED	(UINT64_C(1) << 62)

#define MODULE		"memory_cap"
#define CLASS		"zone_memory_cap"

/* The statistics a row is made of. */
enum { F_ZONENAME, F_RSS, F_PHYSCAP, F_NOVER, F_PAGEDOUT, F_SWAP, F_SWAPCAP,
	F_COUNT };

static const char *const field_names[F_COUNT] = {
	[F_ZONENAME] = "zonename", [F_RSS] = "rss", [F_PHYSCAP] = "physcap",
	[F_NOVER] = "nover", [F_PAGEDOUT] = "pagedout", [F_SWAP] = "swap",
	[F_SWAPCAP] = "swapcap",
};

/* Where each field sits in a shape (-1: absent).  Every zone's memory_cap
 * kstat has the same shape, so this is worked out about once. */
typedef struct layout {
	const zk_kstat_shape *shape;
	int at[F_COUNT];
} layout;

static void
layout_of(layout *l, const zk_kstat_shape *sh)
{
	l->shape = sh;
	for (size_t f = 0; f < F_COUNT; f++) {
		l->at[f] = -1;
		for (size_t i = 0; i < sh->nstats && l->at[f] < 0; i++)
			if (strcmp(sh->names[i], field_names[f]) == 0)
				l->at[f] = (int)i;
	}
}

/* A field as a count or size: absent, negative or a string reads 0. */
static uint64_t
u64_of(const zk_kstat_rec *k, const layout *l, int f)
{
	int i = l->at[f];
	if (i < 0)
		return 0;
	if (k->shape->types[i] == ZK_KSTAT_UINT64)
		return k->data[i].u64;
	if (k->shape->types[i] == ZK_KSTAT_INT64)
		return k->data[i].i64 < 0 ? 0 : (uint64_t)k->data[i].i64;
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
fill_row(zk_memstat_row *r, const zk_kstat_rec *k, const layout *l)
{
	memset(r, 0, sizeof(*r));
	r->instance = k->instance;
	int zn = l->at[F_ZONENAME];
	/* The kstat name is cut to 30 characters; the statistic is whole. */
	snprintf(r->zone, sizeof(r->zone), "%s",
	    zn >= 0 && k->shape->types[zn] == ZK_KSTAT_STRING ?
	    k->data[zn].str : k->name);
	r->rss = u64_of(k, l, F_RSS);
	r->physcap = u64_of(k, l, F_PHYSCAP);
	r->nover = u64_of(k, l, F_NOVER);
	r->pagedout = u64_of(k, l, F_PAGEDOUT);
	r->swap = u64_of(k, l, F_SWAP);
	r->swapcap = u64_of(k, l, F_SWAPCAP);
}

bool
zk_memstat_wants(void *opts, const char *module, int instance,
    const char *name, const char *class)
{
	const zk_memstat_opts *o = opts;
	if (strcmp(module, MODULE) != 0 || strcmp(class, CLASS) != 0)
		return false;
	if (instance != 0 || strcmp(name, "global") != 0)
		return true;	/* a zone's: zone ids start at 1 */
	/* -z global must find it even with -o, or it exits 1. */
	if (o->zone != NULL)
		return strcmp(o->zone, "global") == 0;
	return !o->only_over;
}

int
zk_memstat_rows(const zk_kstat_snap *s, zk_memstat_row **rows,
    size_t *nrows)
{
	size_t n;
	const zk_kstat_rec *recs = zk_kstat_snap_recs(s, &n);
	zk_memstat_row *out = calloc(n > 0 ? n : 1, sizeof(*out));
	if (out == NULL)
		return -ENOMEM;
	size_t cnt = 0;
	layout l = { 0 };
	for (size_t i = 0; i < n; i++) {
		const zk_kstat_rec *k = &recs[i];
		if (strcmp(k->module, MODULE) != 0 ||
		    strcmp(k->class, CLASS) != 0)
			continue;
		if (k->shape != l.shape)
			layout_of(&l, k->shape);
		fill_row(&out[cnt++], k, &l);
	}
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
