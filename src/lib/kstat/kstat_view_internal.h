/*
 * kstat(1M)'s view (kstat_view.h), private to its parts: the query
 * (kstat_query.c: patterns, selectors, operands, selection), the order
 * (kstat_order.c) and the rendering (kstat_render.c: numbers, the output
 * buffer, the layouts).
 */
#ifndef ZK_KSTAT_VIEW_INTERNAL_H
#define ZK_KSTAT_VIEW_INTERNAL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kstat/kstat_store.h"
#include "kstat/kstat_view.h"

typedef struct pattern {
	char *glob;		/* NULL: matches anything */
	bool is_re;
	regex_t re;
} pattern;

typedef struct selector {
	pattern module, instance, name, statistic;
} selector;

struct zk_kstat_query {
	selector *sel;
	size_t nsel;
	pattern class;
};

/* A kstat's identity fields as the selectors see them. */
typedef struct kid {
	const char *module, *name, *class;
	int instance;
} kid;

bool zk_kv_pattern_match(const pattern *p, const char *s);

/* Which selectors select kstat k (statistics aside): hit[i] for each; a
 * query without selectors has one that selects everything.  False when
 * none does.  Without hit, only whether any does. */
bool zk_kv_selectors_hit(const zk_kstat_query *q, const kid *k, bool *hit);


/*
 * A snapshot's kstats in that order.  Its modules are interned (one pointer
 * per distinct name), so each distinct module is ranked once and the
 * kstats are sorted by rank, instance and name: the same order as
 * zk_kstat_compare, without comparing module names over and over.
 */
typedef struct sort_item {
	uint32_t rank;
	int32_t instance;
	const zk_kstat_rec *r;
} sort_item;

/* items[i] for each of the n recs, sorted into that order; -ENOMEM. */
int zk_kv_order(const zk_kstat_rec *recs, size_t n, sort_item *items);

/* The decimal digits of v, written backwards ending at end; returns where
 * they start. */
char *zk_kv_fmt_i64(char *end, int64_t v);

#endif
