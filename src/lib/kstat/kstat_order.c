/* kstat(1M)'s order (kstat_view.h): module, instance, name. */
#include "kstat/kstat_view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kstat/kstat_view_internal.h"
#include "util/cleanup.h"

/* Case-insensitive, exact spelling as the tie-break; equal strings (the
 * common case: one module, many instances) cost one strcmp. */
static int
compare_names(const char *a, const char *b)
{
	int r = strcmp(a, b);
	if (r != 0) {
		int c = strcasecmp(a, b);
		r = c != 0 ? c : r;
	}
	return r;
}

int
zk_kstat_compare(const zk_kstat *a, const zk_kstat *b)
{
	int r = compare_names(a->module, b->module);
	if (r == 0)
		r = (a->instance > b->instance) - (a->instance < b->instance);
	if (r == 0)
		r = strcmp(a->name, b->name);
	return r;
}

static int
compare_kstats(const void *a, const void *b)
{
	return zk_kstat_compare(a, b);
}

static int
compare_values(const void *a, const void *b)
{
	return strcmp(((const zk_kstat_value *)a)->name,
	    ((const zk_kstat_value *)b)->name);
}

void
zk_kstat_sort(zk_kstat *ks, size_t n)
{
	qsort(ks, n, sizeof(*ks), compare_kstats);
	for (size_t i = 0; i < n; i++)
		qsort(ks[i].values, ks[i].nvalues, sizeof(*ks[i].values),
		    compare_values);
}

static int
compare_items(const void *a, const void *b)
{
	const sort_item *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->instance != y->instance)
		return x->instance < y->instance ? -1 : 1;
	return strcmp(x->r->name, y->r->name);
}

/* The distinct modules: a pointer-keyed table giving each an index. */
typedef struct module_set {
	const char **key;	/* open addressing */
	size_t *index;
	size_t cap;
	const char **list;	/* in order of first sight */
	size_t n;
} module_set;

static void
module_set_free(module_set *m)
{
	free(m->key);
	free(m->index);
	free(m->list);
}

static size_t
ptr_slot(const void *p, size_t cap)
{
	return (size_t)(((uintptr_t)p >> 3) * 0x9e3779b97f4a7c15ULL) &
	    (cap - 1);
}

static int
module_set_grow(module_set *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	const char **key = calloc(cap, sizeof(*key));
	size_t *index = malloc(cap * sizeof(*index));
	const char **list = realloc(m->list, cap * sizeof(*list));
	if (list != NULL)
		m->list = list;
	if (key == NULL || index == NULL || list == NULL) {
		free(key);
		free(index);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n; i++) {
		size_t j = ptr_slot(m->list[i], cap);
		while (key[j] != NULL)
			j = (j + 1) & (cap - 1);
		key[j] = m->list[i];
		index[j] = i;
	}
	free(m->key);
	free(m->index);
	m->key = key;
	m->index = index;
	m->cap = cap;
	return 0;
}

/* The index of module (added on first sight); -ENOMEM. */
static ssize_t
module_index(module_set *m, const char *module)
{
	if (2 * (m->n + 1) > m->cap && module_set_grow(m) < 0)
		return -ENOMEM;
	size_t j = ptr_slot(module, m->cap);
	for (; m->key[j] != NULL; j = (j + 1) & (m->cap - 1))
		if (m->key[j] == module)
			return (ssize_t)m->index[j];
	m->key[j] = module;
	m->index[j] = m->n;
	m->list[m->n] = module;
	return (ssize_t)m->n++;
}

static int
compare_module_ptrs(const void *a, const void *b)
{
	return compare_names(*(const char *const *)a, *(const char *const *)b);
}

/* items[i].rank: the rank of recs[i]'s module among the distinct ones. */
static int
rank_modules(const zk_kstat_rec *recs, size_t n, sort_item *items)
{
	module_set m = { 0 };
	int r = n <= UINT32_MAX ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		ssize_t x = module_index(&m, recs[i].module);
		if (x < 0)
			r = -ENOMEM;
		items[i] = (sort_item){ (uint32_t)x, recs[i].instance,
		    &recs[i] };
	}
	_cleanup_free_ const char **sorted = NULL;
	_cleanup_free_ uint32_t *rank = NULL;
	if (r == 0 && m.n > 0) {
		sorted = malloc(m.n * sizeof(*sorted));
		rank = malloc(m.n * sizeof(*rank));
		if (sorted == NULL || rank == NULL)
			r = -ENOMEM;
	}
	if (r == 0 && m.n > 0) {
		memcpy(sorted, m.list, m.n * sizeof(*sorted));
		qsort(sorted, m.n, sizeof(*sorted), compare_module_ptrs);
		for (size_t i = 0; i < m.n; i++)
			rank[module_index(&m, sorted[i])] = (uint32_t)i;
		for (size_t i = 0; i < n; i++)
			items[i].rank = rank[items[i].rank];
	}
	module_set_free(&m);
	return r;
}

int
zk_kv_order(const zk_kstat_rec *recs, size_t n, sort_item *items)
{
	int r = rank_modules(recs, n, items);
	if (r == 0)
		qsort(items, n, sizeof(*items), compare_items);
	return r;
}
