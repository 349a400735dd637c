/*
 * kstat(1M) selection, ordering and layouts (kstat_view.h).  Formats follow
 * illumos's kstat command so scripts written for SmartOS parse our output.
 */
#include "kstat/kstat_view.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

#define KSTAT_TYPE_NAMED 1	/* illumos ks_type of every kstat we publish */

/* ---- patterns and selectors ---------------------------------------------- */

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

static void
pattern_free(pattern *p)
{
	if (p->is_re)
		regfree(&p->re);
	free(p->glob);
	*p = (pattern){ 0 };
}

/* "/ERE/" (at least one character between the slashes). */
static bool
is_regex(const char *s)
{
	size_t len = strlen(s);
	return len > 2 && s[0] == '/' && s[len - 1] == '/';
}

/*
 * glibc's regcomp() can take gigabytes or minutes over a pattern of a few
 * dozen bytes (both found by fuzz_kstat_operand): it copies the operand
 * of every + and {m,n} ("a+" is "aa*"), so stacked or nested repetitions
 * grow geometrically, and repeating what can match nothing ("a*+",
 * "((a?){8})+") makes its epsilon closures explode.  No kstat field (at
 * most 30 characters) needs either, so the pattern is read once before
 * regcomp(): a repetition of what can match nothing, a back-reference (a
 * backtracking match), or more than RE_SIZE_MAX elements once the copies
 * are counted is refused.  What passes compiles in milliseconds.
 */
#define RE_SIZE_MAX 256
#define RE_DEPTH_MAX 32

/* A group as far as it is read. */
typedef struct re_frame {
	size_t total;		/* elements, copies counted */
	size_t last;		/* of the last atom: what a repetition copies */
	bool last_empty;	/* the last atom can match "" (none: true) */
	bool prefix_empty;	/* so can all before it in this branch */
	bool branch_empty;	/* so can an earlier branch (before a '|') */
} re_frame;

static const re_frame re_frame_new = { .last_empty = true,
    .prefix_empty = true };

static bool
re_frame_empty(const re_frame *f)
{
	return f->branch_empty || (f->prefix_empty && f->last_empty);
}

/* One token: an atom of `size` elements, or a repetition making `times`
 * copies of the last atom; either may leave something matching "". */
typedef struct re_token {
	size_t size, times;
	bool empty;
} re_token;

/* {m}, {m,} or {m,n} at s: the copies (the larger count, one more when
 * unbounded), *end at its '}'; 0 when s starts no such bound. */
static size_t
re_bound(const char *s, const char **end, bool *empty)
{
	char *e;
	if (!isdigit((unsigned char)s[1]))
		return 0;
	unsigned long m = strtoul(s + 1, &e, 10), n = m;
	if (e[0] == ',' && e[1] == '}') {
		n = m + 1;
		e++;
	} else if (e[0] == ',' && isdigit((unsigned char)e[1])) {
		n = strtoul(e + 1, &e, 10);
	}
	if (*e != '}')
		return 0;
	*end = e;
	*empty = m == 0;
	n = n > m ? n : m;
	return n == 0 ? 1 : n > RE_SIZE_MAX ? RE_SIZE_MAX + 1 : n;
}

/* The ']' closing the bracket expression at s ("[]a]", "[^]a]" and
 * "[[:alpha:]]" included), or NULL when none does. */
static const char *
re_bracket_end(const char *s)
{
	const char *p = s + 1;
	p += *p == '^';
	p += *p == ']';
	while (*p != '\0' && *p != ']') {
		if (p[0] == '[' && p[1] != '\0' && strchr(":.=", p[1]) != NULL) {
			const char close[3] = { p[1], ']', '\0' };
			const char *c = strstr(p + 2, close);
			if (c == NULL)
				return NULL;
			p = c + 2;
		} else {
			p++;
		}
	}
	return *p == ']' ? p : NULL;
}

/* The token at *p other than a parenthesis or '|'; *p moves to its end. */
static const char *
re_token_at(const char **p, re_token *t)
{
	*t = (re_token){ .size = 1 };
	const char *s = *p, *e;
	switch (*s) {
	case '^': case '$':
		t->empty = true;
		break;
	case '*': case '?':
		t->times = 1;
		t->empty = true;
		break;
	case '+':
		t->times = 2;
		break;
	case '{':
		t->times = re_bound(s, p, &t->empty);
		break;
	case '[':
		if ((e = re_bracket_end(s)) != NULL)
			*p = e;
		break;
	case '\\':
		if (s[1] >= '1' && s[1] <= '9')
			return "back-references are not supported";
		*p += s[1] != '\0';
		break;
	}
	return NULL;
}

static const char *
re_add(re_frame *f, const re_token *t)
{
	if (t->times == 0) {
		f->prefix_empty = f->prefix_empty && f->last_empty;
		f->total += t->size;
		f->last = t->size;
		f->last_empty = t->empty;
	} else if (f->last_empty) {
		return "it repeats what can match nothing";
	} else {
		f->total += f->last * (t->times - 1);
		f->last *= t->times;
		f->last_empty = t->empty;
	}
	return f->total > RE_SIZE_MAX ? "its repetitions make it too large" :
	    NULL;
}

/* Why regcomp() must not be given this pattern, or NULL. */
static const char *
re_refusal(const char *re)
{
	re_frame st[RE_DEPTH_MAX] = { re_frame_new };
	size_t depth = 0;
	const char *why = NULL;
	for (const char *p = re; *p != '\0' && why == NULL; p++) {
		re_token t = { .size = 1 };
		if (*p == '(') {
			if (++depth == RE_DEPTH_MAX)
				return "its groups nest too deep";
			st[depth] = re_frame_new;
			continue;
		}
		if (*p == '|') {
			re_frame *f = &st[depth];
			*f = (re_frame){ .total = f->total, .last_empty = true,
			    .prefix_empty = true, .branch_empty = re_frame_empty(f) };
			continue;
		}
		if (*p == ')' && depth > 0) {
			const re_frame *g = &st[depth--];
			t.size = g->total > 0 ? g->total : 1;
			t.empty = re_frame_empty(g);
		} else if ((why = re_token_at(&p, &t)) != NULL) {
			break;
		}
		why = re_add(&st[depth], &t);
	}
	return why;
}

static int
pattern_init(pattern *p, const char *text, const char *what, zk_error *err)
{
	*p = (pattern){ 0 };
	if (text == NULL || text[0] == '\0' || strcmp(text, "*") == 0)
		return 0;
	if (!is_regex(text)) {
		p->glob = strdup(text);
		return p->glob ? 0 : zk_fail(err, ENOMEM, "out of memory");
	}
	_cleanup_free_ char *body = strndup(text + 1, strlen(text) - 2);
	if (body == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	const char *refused = re_refusal(body);
	if (refused != NULL)
		return zk_fail(err, EINVAL, "invalid %s pattern %s: %s", what,
		    text, refused);
	int rc = regcomp(&p->re, body, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[256];
		regerror(rc, &p->re, why, sizeof(why));
		return zk_fail(err, EINVAL, "invalid %s pattern %s: %s", what,
		    text, why);
	}
	p->is_re = true;
	return 0;
}

static bool
pattern_match(const pattern *p, const char *s)
{
	if (p->is_re)
		return regexec(&p->re, s, 0, NULL, 0) == 0;
	return p->glob == NULL || fnmatch(p->glob, s, 0) == 0;
}

static void
selector_free(selector *s)
{
	pattern_free(&s->module);
	pattern_free(&s->instance);
	pattern_free(&s->name);
	pattern_free(&s->statistic);
}

zk_kstat_query *
zk_kstat_query_new(void)
{
	return calloc(1, sizeof(zk_kstat_query));
}

void
zk_kstat_query_free(zk_kstat_query *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->nsel; i++)
		selector_free(&q->sel[i]);
	free(q->sel);
	pattern_free(&q->class);
	free(q);
}

int
zk_kstat_query_add_fields(zk_kstat_query *q, const char *module,
    const char *instance, const char *name, const char *statistic,
    zk_error *err)
{
	selector s = { 0 };
	int r;
	if ((r = pattern_init(&s.module, module, "module", err)) < 0 ||
	    (r = pattern_init(&s.instance, instance, "instance", err)) < 0 ||
	    (r = pattern_init(&s.name, name, "name", err)) < 0 ||
	    (r = pattern_init(&s.statistic, statistic, "statistic", err)) < 0) {
		selector_free(&s);
		return r;
	}
	selector *v = realloc(q->sel, (q->nsel + 1) * sizeof(*v));
	if (v == NULL) {
		selector_free(&s);
		return zk_fail(err, ENOMEM, "out of memory");
	}
	q->sel = v;
	q->sel[q->nsel++] = s;
	return 0;
}

int
zk_kstat_query_add_operand(zk_kstat_query *q, const char *operand,
    zk_error *err)
{
	_cleanup_free_ char *copy = strdup(operand);
	if (copy == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	const char *field[4] = { NULL, NULL, NULL, NULL };
	char *rest = copy, *f;
	size_t n = 0;
	while ((f = strsep(&rest, ":")) != NULL) {
		if (n == 4)
			return zk_fail(err, EINVAL, "invalid selector \"%s\": "
			    "use module:instance:name:statistic", operand);
		field[n++] = f;
	}
	return zk_kstat_query_add_fields(q, field[0], field[1], field[2],
	    field[3], err);
}

int
zk_kstat_query_set_class(zk_kstat_query *q, const char *text, zk_error *err)
{
	pattern_free(&q->class);
	return pattern_init(&q->class, text, "class", err);
}

/* ---- numbers ------------------------------------------------------------- */

/* "00" to "99": numbers are written two digits at a time. */
static const char pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930"
    "31323334353637383940414243444546474849505152535455565758596061"
    "62636465666768697071727374757677787980818283848586878889909192"
    "93949596979899";

/* Exactly 8 digits of x < 10^8: two independent halves in 32 bits. */
static void
put8(char *p, uint32_t x)
{
	uint32_t hi = x / 10000, lo = x % 10000;
	memcpy(p, pairs + 2 * (hi / 100), 2);
	memcpy(p + 2, pairs + 2 * (hi % 100), 2);
	memcpy(p + 4, pairs + 2 * (lo / 100), 2);
	memcpy(p + 6, pairs + 2 * (lo % 100), 2);
}

/* The decimal digits of v, written backwards ending at end: eight at a
 * time, then two at a time (most of kstat -p's time is numbers). */
static char *
fmt_u64(char *end, uint64_t v)
{
	char *p = end;
	while (v >= 100000000) {
		p -= 8;
		put8(p, (uint32_t)(v % 100000000));
		v /= 100000000;
	}
	uint32_t x = (uint32_t)v;
	while (x >= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (x % 100), 2);
		x /= 100;
	}
	if (x >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * x, 2);
	} else {
		*--p = (char)('0' + x);
	}
	return p;
}

static char *
fmt_i64(char *end, int64_t v)
{
	if (v >= 0)
		return fmt_u64(end, (uint64_t)v);
	char *p = fmt_u64(end, (uint64_t)0 - (uint64_t)v);
	*--p = '-';
	return p;
}

/* Seconds with nine decimals, exactly (a double would lose digits). */
static char *
fmt_hrtime(char *end, uint64_t ns)
{
	/* The fraction with a leading 1, so its zeros are digits too. */
	char *p = fmt_u64(end, 1000000000u + ns % 1000000000u);
	*p = '.';
	return fmt_u64(p, ns / 1000000000u);
}

/* Decimal digits of v: from its bit length (log10 2 ~ 1233 / 4096), one
 * comparison corrects the guess. */
static size_t
u64_digits(uint64_t v)
{
	static const uint64_t pow10[20] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
		10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
		100000000000ULL, 1000000000000ULL, 10000000000000ULL,
		100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
		100000000000000000ULL, 1000000000000000000ULL,
		10000000000000000000ULL,
	};
	if (v < 10)
		return 1;
	size_t t = (size_t)(64 - __builtin_clzll(v)) * 1233 >> 12;
	return t + (v >= pow10[t]);
}

/* ---- selection ----------------------------------------------------------- */

/* A kstat's identity fields as the selectors see them. */
typedef struct kid {
	const char *module, *name, *class;
	int instance;
} kid;

static bool
selector_matches_kstat(const selector *s, const kid *k, const char *instance)
{
	return pattern_match(&s->module, k->module) &&
	    pattern_match(&s->instance, instance) &&
	    pattern_match(&s->name, k->name);
}

/* The instance as the decimal string selectors match. */
static const char *
instance_text(int instance, char buf[16])
{
	char *end = buf + 15;
	*end = '\0';
	return fmt_i64(end, instance);
}

/* Which selectors select kstat k (statistics aside): hit[i] for each; a
 * query without selectors has one that selects everything.  False when
 * none does.  Without hit, only whether any does. */
static bool
selectors_hit(const zk_kstat_query *q, const kid *k, bool *hit)
{
	if (!pattern_match(&q->class, k->class))
		return false;
	if (q->nsel == 0) {
		if (hit != NULL)
			hit[0] = true;
		return true;
	}
	char buf[16];
	const char *inst = instance_text(k->instance, buf);
	bool any = false;
	for (size_t i = 0; i < q->nsel && (hit != NULL || !any); i++) {
		bool h = selector_matches_kstat(&q->sel[i], k, inst);
		if (hit != NULL)
			hit[i] = h;
		any |= h;
	}
	return any;
}

bool
zk_kstat_query_wants(void *arg, const char *module, int instance,
    const char *name, const char *class)
{
	kid k = { module, name, class, instance };
	return selectors_hit(arg, &k, NULL);
}

bool
zk_kstat_query_matches(const zk_kstat_query *q, const zk_kstat *k,
    const char *stat)
{
	kid id = { k->module, k->name, k->class, k->instance };
	_cleanup_free_ bool *hit = calloc(q->nsel + 1, sizeof(*hit));
	if (hit == NULL || !selectors_hit(q, &id, hit))
		return false;
	if (q->nsel == 0)
		return true;
	for (size_t i = 0; i < q->nsel; i++)
		if (hit[i] && pattern_match(&q->sel[i].statistic, stat))
			return true;
	return false;
}

/* ---- ordering ------------------------------------------------------------ */

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

/* ---- each shape's statistics in display order ------------------------------ */

/* A statistic or pseudo-statistic as the layouts list it. */
enum { C_CRTIME = -1, C_SNAPTIME = -2, C_CLASS = -3 };

/* Names are held padded in a fixed-size field, so the hot loop copies
 * them with one fixed-size (inlined) move. */
#define CAND_NAME 32

typedef struct cand {
	char name[CAND_NAME];	/* at most 30 characters, NUL-padded */
	size_t len;
	int idx;		/* a statistic of the shape, or C_* */
} cand;

_Static_assert(CAND_NAME > ZK_KSTAT_STRLEN - 1, "names fit");

/*
 * Built once per shape, on first use: its statistics and the three
 * pseudo-statistics sorted by name (stable, pseudo-statistics first among
 * equal names), and for each selector which of them its statistic field
 * selects.  Every kstat of the shape then costs no sorting or matching of
 * statistic names.
 */
typedef struct shape_view {
	cand *c;		/* NULL: not built yet */
	size_t n;
	bool *ok;		/* ok[sel * n + i]; one row without selectors */
} shape_view;

/* strcmp order; most names differ in their first byte, so test it inline. */
static inline int
name_order(const char *a, const char *b)
{
	if (a[0] != b[0])
		return (unsigned char)a[0] - (unsigned char)b[0];
	return strcmp(a, b);
}

/* A kstat has a few dozen statistics: insertion sort is enough, and
 * stable. */
static void
sort_cands(cand *c, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		cand x = c[i];
		size_t j = i;
		for (; j > 0 && name_order(c[j - 1].name, x.name) > 0; j--)
			c[j] = c[j - 1];
		c[j] = x;
	}
}

static cand
make_cand(const char *name, int idx)
{
	cand c = { .len = strnlen(name, ZK_KSTAT_STRLEN - 1), .idx = idx };
	memcpy(c.name, name, c.len);
	return c;
}

static int
shape_view_build(shape_view *v, const zk_kstat_shape *sh,
    const zk_kstat_query *q)
{
	static const struct { const char *name; int idx; } pseudo[] = {
		{ "crtime", C_CRTIME },
		{ "snaptime", C_SNAPTIME },
		{ "class", C_CLASS },
	};
	size_t n = sh->nstats + ZK_ARRAY_SIZE(pseudo);
	size_t rows = q->nsel ? q->nsel : 1;
	v->c = malloc(n * sizeof(*v->c));
	v->ok = malloc(rows * n * sizeof(*v->ok));
	if (v->c == NULL || v->ok == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(pseudo); i++)
		v->c[i] = make_cand(pseudo[i].name, pseudo[i].idx);
	for (size_t i = 0; i < sh->nstats; i++)
		v->c[ZK_ARRAY_SIZE(pseudo) + i] = make_cand(sh->names[i],
		    (int)i);
	v->n = n;
	sort_cands(v->c, n);
	for (size_t r = 0; r < rows; r++)
		for (size_t i = 0; i < n; i++)
			v->ok[r * n + i] = q->nsel == 0 ||
			    pattern_match(&q->sel[r].statistic, v->c[i].name);
	return 0;
}

/* The statistics of one kstat that the selectors in hit select, in order. */
static size_t
select_cands(const shape_view *v, const bool *hit, size_t rows,
    bool with_class, const cand **out)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (v->c[i].idx == C_CLASS && !with_class)
			continue;
		for (size_t r = 0; r < rows; r++)
			if (hit[r] && v->ok[r * v->n + i]) {
				out[n++] = &v->c[i];
				break;
			}
	}
	return n;
}

/* ---- output buffer --------------------------------------------------------- */

/*
 * Lines are assembled with memcpy and plain integer conversion (stdio's
 * formatting was most of the cost of kstat -p) into a buffer that is
 * handed to the sink whenever it fills, or that grows when there is no
 * sink.  The first failure sticks and is returned at the end.
 */
typedef struct outbuf {
	char *p;
	size_t len, cap;
	zk_kstat_sink *sink;	/* NULL: grow */
	void *arg;
	int err;
} outbuf;

static bool
out_flush(outbuf *o)
{
	if (o->len > 0 && o->err == 0) {
		int r = o->sink(o->arg, o->p, o->len);
		if (r < 0)
			o->err = r;
	}
	o->len = 0;
	return o->err == 0;
}

static bool
out_reserve_slow(outbuf *o, size_t more)
{
	if (o->err != 0)
		return false;
	if (o->sink != NULL && o->len > 0 && (!out_flush(o) ||
	    more < o->cap))
		return o->err == 0;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap <= o->len + more)
		cap *= 2;
	char *p = realloc(o->p, cap);
	if (p == NULL) {
		o->err = -ENOMEM;
		return false;
	}
	o->p = p;
	o->cap = cap;
	return true;
}

/* Room for more bytes and a NUL. */
static inline bool
out_reserve(outbuf *o, size_t more)
{
	return o->len + more < o->cap || out_reserve_slow(o, more);
}

static void
out_mem(outbuf *o, const char *s, size_t n)
{
	if (out_reserve(o, n)) {
		memcpy(o->p + o->len, s, n);
		o->len += n;
	}
}

static void
out_str(outbuf *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void
out_char(outbuf *o, char c)
{
	if (out_reserve(o, 1))
		o->p[o->len++] = c;
}

/* s left-justified in width columns, never cut (printf's %-*s). */
static void
out_padded(outbuf *o, const char *s, size_t n, size_t width)
{
	if (!out_reserve(o, n > width ? n : width))
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	for (; n < width; n++)
		o->p[o->len++] = ' ';
}

static void
out_i64(outbuf *o, int64_t v)
{
	char b[24], *end = b + sizeof(b);
	char *p = fmt_i64(end, v);
	out_mem(o, p, (size_t)(end - p));
}

static void __attribute__((format(printf, 2, 3)))
out_fmt(outbuf *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->err = o->err ? o->err : -EINVAL;
		return;
	}
	if (!out_reserve(o, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

static void
out_json_string(outbuf *o, const char *s, size_t n)
{
	out_char(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out_char(o, '\\');
			out_char(o, (char)c);
		} else if (c < 0x20) {
			out_fmt(o, "\\u%04x", c);
		} else {
			out_char(o, (char)c);
		}
	}
	out_char(o, '"');
}

/* ---- values ---------------------------------------------------------------- */

typedef struct text {
	const char *p;
	size_t len;
	bool quote;		/* a string: JSON quotes it */
} text;

#define VALUE_BUF 32	/* the longest number: 20 digits, 21 for times */

static text
number(char *buf, char *p)
{
	return (text){ p, (size_t)(buf + VALUE_BUF - p), false };
}

/* The value of one statistic as text, formatted into buf if a number. */
static text
value_text(const zk_kstat_rec *r, const cand *c, char *buf)
{
	char *end = buf + VALUE_BUF;
	switch (c->idx) {
	case C_CRTIME:
		return number(buf, fmt_hrtime(end, r->crtime_ns));
	case C_SNAPTIME:
		return number(buf, fmt_hrtime(end, r->snaptime_ns));
	case C_CLASS:
		return (text){ r->class, strlen(r->class), true };
	default:
		break;
	}
	const zk_kstat_datum *d = &r->data[c->idx];
	switch (r->shape->types[c->idx]) {
	case ZK_KSTAT_UINT64:
		return number(buf, fmt_u64(end, d->u64));
	case ZK_KSTAT_INT64:
		return number(buf, fmt_i64(end, d->i64));
	case ZK_KSTAT_STRING:
		return (text){ d->str, strlen(d->str), true };
	}
	return (text){ "", 0, false };
}

/* ---- layouts ------------------------------------------------------------- */

static void
render_human(outbuf *o, const zk_kstat_rec *k, const cand **c, size_t n)
{
	char buf[VALUE_BUF];
	out_str(o, "module: ");
	out_padded(o, k->module, strlen(k->module), 30);
	out_str(o, "  instance: ");
	char *end = buf + VALUE_BUF, *p = fmt_i64(end, k->instance);
	out_padded(o, p, (size_t)(end - p), 6);
	out_str(o, "\nname:   ");
	out_padded(o, k->name, strlen(k->name), 30);
	out_str(o, "  class:    ");
	out_str(o, k->class);
	out_char(o, '\n');
	for (size_t i = 0; i < n; i++) {
		text v = value_text(k, c[i], buf);
		out_char(o, '\t');
		out_padded(o, c[i]->name, c[i]->len, 30);
		out_mem(o, "  ", 2);
		out_mem(o, v.p, v.len);
		out_char(o, '\n');
	}
	out_char(o, '\n');
}

/* module:instance:name: into buf (3 names of 30, an int, 3 colons). */
#define PREFIX_BUF (3 * ZK_KSTAT_STRLEN + 16)

static size_t
prefix_text(const zk_kstat_rec *k, char *buf)
{
	char num[VALUE_BUF], *end = num + sizeof(num);
	char *p = fmt_i64(end, k->instance), *w = buf;
	size_t m = strlen(k->module), n = strlen(k->name);
	memcpy(w, k->module, m);
	w += m;
	*w++ = ':';
	memcpy(w, p, (size_t)(end - p));
	w += end - p;
	*w++ = ':';
	memcpy(w, k->name, n);
	w += n;
	*w++ = ':';
	return (size_t)(w - buf);
}

/* A value written in place at w (room reserved); returns its end. */
static char *
put_value(char *w, const zk_kstat_rec *k, const cand *c)
{
	uint64_t u;
	switch (c->idx) {
	case C_CRTIME:
	case C_SNAPTIME:
		u = c->idx == C_CRTIME ? k->crtime_ns : k->snaptime_ns;
		w += u64_digits(u / 1000000000u) + 10;
		fmt_hrtime(w, u);
		return w;
	case C_CLASS: {
		size_t n = strlen(k->class);
		memcpy(w, k->class, n);
		return w + n;
	}
	default:
		break;
	}
	const zk_kstat_datum *d = &k->data[c->idx];
	switch (k->shape->types[c->idx]) {
	case ZK_KSTAT_INT64:
		if (d->i64 < 0) {
			*w++ = '-';
			u = (uint64_t)0 - (uint64_t)d->i64;
		} else {
			u = (uint64_t)d->i64;
		}
		break;
	case ZK_KSTAT_UINT64:
		u = d->u64;
		break;
	case ZK_KSTAT_STRING: {
		size_t n = strlen(d->str);
		memcpy(w, d->str, n);
		return w + n;
	}
	default:
		return w;
	}
	w += u64_digits(u);
	fmt_u64(w, u);
	return w;
}

/* The longest -p line after its prefix: a name, a separator, the longest
 * value (a string), a newline; and room to copy names and prefixes in
 * whole fixed-size blocks. */
#define LINE_ROOM (CAND_NAME + 1 + ZK_KSTAT_STR_VALUE + 1 + 32)

/* The hot loop of kstat -p: one reservation and plain copies per line. */
static void
render_parseable(outbuf *o, const zk_kstat_rec *k, const cand **c, size_t n,
    const zk_kstat_view_opts *opts)
{
	char prefix[PREFIX_BUF + 32];
	size_t plen = prefix_text(k, prefix);
	bool values = opts->layout != ZK_KSTAT_NAMES;
	char sep = opts->colon ? ':' : '\t';
	for (size_t i = 0; i < n; i++) {
		if (!out_reserve(o, plen + LINE_ROOM))
			return;
		char *w = o->p + o->len;
		for (size_t j = 0; j < plen; j += 32)
			memcpy(w + j, prefix + j, 32);
		w += plen;
		memcpy(w, c[i]->name, CAND_NAME);
		w += c[i]->len;
		if (values) {
			*w++ = sep;
			w = put_value(w, k, c[i]);
		}
		*w++ = '\n';
		o->len = (size_t)(w - o->p);
	}
}

static void
render_json(outbuf *o, const zk_kstat_rec *k, const cand **c, size_t n,
    bool first)
{
	char buf[VALUE_BUF];
	out_str(o, first ? "{\n\t\"module\": " : ", {\n\t\"module\": ");
	out_json_string(o, k->module, strlen(k->module));
	out_str(o, ",\n\t\"instance\": ");
	out_i64(o, k->instance);
	out_str(o, ",\n\t\"name\": ");
	out_json_string(o, k->name, strlen(k->name));
	out_str(o, ",\n\t\"class\": ");
	out_json_string(o, k->class, strlen(k->class));
	out_fmt(o, ",\n\t\"type\": %d,\n\t\"snaptime\": ", KSTAT_TYPE_NAMED);
	text t = number(buf, fmt_hrtime(buf + VALUE_BUF, k->snaptime_ns));
	out_mem(o, t.p, t.len);
	out_str(o, ",\n\t\"data\": {\n");
	for (size_t i = 0; i < n; i++) {
		out_mem(o, "\t\t", 2);
		out_json_string(o, c[i]->name, c[i]->len);
		out_mem(o, ": ", 2);
		text v = value_text(k, c[i], buf);
		if (v.quote)
			out_json_string(o, v.p, v.len);
		else
			out_mem(o, v.p, v.len);
		out_str(o, i + 1 < n ? ",\n" : "\n");
	}
	out_str(o, "\t}\n}");
}

/* ---- rendering ------------------------------------------------------------- */

/* Scratch space for one render. */
typedef struct render_ctx {
	const zk_kstat_query *q;
	const zk_kstat_view_opts *opts;
	shape_view *views;	/* by shape id */
	bool *hit;		/* a row per selector (one without) */
	const cand **sel;	/* the selected statistics of one kstat */
	size_t nsel_max;
	outbuf *out;		/* NULL: only count */
} render_ctx;

/* The statistics of k that the query selects, in order, into ctx->sel. */
static ssize_t
select_stats(render_ctx *x, const zk_kstat_rec *k, bool with_class)
{
	kid id = { k->module, k->name, k->class, k->instance };
	if (!selectors_hit(x->q, &id, x->hit))
		return 0;
	shape_view *v = &x->views[k->shape->id];
	if (v->c == NULL && shape_view_build(v, k->shape, x->q) < 0)
		return -ENOMEM;
	if (v->n > x->nsel_max) {
		const cand **s = realloc(x->sel, v->n * sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		x->sel = s;
		x->nsel_max = v->n;
	}
	size_t rows = x->q->nsel ? x->q->nsel : 1;
	return (ssize_t)select_cands(v, x->hit, rows, with_class, x->sel);
}

static int
render_all(render_ctx *x, const sort_item *items, size_t n, size_t *nmatched)
{
	zk_kstat_layout layout = x->opts->layout;
	bool json = layout == ZK_KSTAT_JSON, first = true;
	bool with_class = layout == ZK_KSTAT_PARSEABLE ||
	    layout == ZK_KSTAT_NAMES;
	outbuf *o = x->out;
	if (json && o)
		out_char(o, '[');
	for (size_t i = 0; i < n && (o == NULL || o->err == 0); i++) {
		const zk_kstat_rec *k = items[i].r;
		ssize_t ne = select_stats(x, k, with_class);
		if (ne < 0)
			return (int)ne;
		if (ne == 0)
			continue;	/* no header without statistics */
		*nmatched += (size_t)ne;
		if (o == NULL)
			continue;
		if (json)
			render_json(o, k, x->sel, (size_t)ne, first);
		else if (layout == ZK_KSTAT_HUMAN)
			render_human(o, k, x->sel, (size_t)ne);
		else
			render_parseable(o, k, x->sel, (size_t)ne, x->opts);
		first = false;
	}
	if (json && o)
		out_str(o, "]\n");
	return 0;
}

/* Sort, select and render a snapshot into out (NULL: count only). */
static int
render_snap(const zk_kstat_snap *s, const zk_kstat_query *q,
    const zk_kstat_view_opts *opts, outbuf *out, size_t *nmatched)
{
	static const zk_kstat_query all = { 0 };
	static const zk_kstat_view_opts human = { 0 };
	size_t n, matched = 0, nshapes = zk_kstat_snap_nshapes(s);
	const zk_kstat_rec *recs = zk_kstat_snap_recs(s, &n);
	if (q == NULL)
		q = &all;
	render_ctx x = { q, opts ? opts : &human, NULL, NULL, NULL, 0, out };
	_cleanup_free_ sort_item *items = malloc((n + 1) * sizeof(*items));
	x.views = calloc(nshapes + 1, sizeof(*x.views));
	x.hit = calloc(q->nsel + 1, sizeof(*x.hit));
	int r = items && x.views && x.hit ? 0 : -ENOMEM;
	if (r == 0)
		r = rank_modules(recs, n, items);
	if (r == 0) {
		qsort(items, n, sizeof(*items), compare_items);
		r = render_all(&x, items, n, &matched);
	}
	for (size_t i = 0; x.views && i < nshapes; i++) {
		free(x.views[i].c);
		free(x.views[i].ok);
	}
	free(x.views);
	free(x.hit);
	free(x.sel);
	if (nmatched)
		*nmatched = matched;
	return r;
}

int
zk_kstat_render_snap(const zk_kstat_snap *s, const zk_kstat_query *q,
    const zk_kstat_view_opts *opts, zk_kstat_sink *sink, void *arg,
    size_t *nmatched)
{
	if (sink == NULL)
		return render_snap(s, q, opts, NULL, nmatched);
	outbuf o = { .p = malloc(ZK_KSTAT_SINK_CHUNK),
	    .cap = ZK_KSTAT_SINK_CHUNK, .sink = sink, .arg = arg };
	if (o.p == NULL)
		return -ENOMEM;
	int r = render_snap(s, q, opts, &o, nmatched);
	if (r == 0)
		out_flush(&o);
	free(o.p);
	return r < 0 ? r : o.err;
}

char *
zk_kstat_render(const zk_kstat *ks, size_t n, const zk_kstat_query *q,
    const zk_kstat_view_opts *opts, size_t *nmatched)
{
	zk_error err = { 0 };
	zk_kstat_snap *s = zk_kstat_snap_new(NULL, NULL);
	outbuf o = { 0 };
	int r = s ? zk_kstat_snap_add(s, ks, n, &err) : -ENOMEM;
	if (r == 0 && out_reserve(&o, 4096))
		r = render_snap(s, q, opts, &o, nmatched);
	zk_kstat_snap_free(s);
	if (r < 0 || o.err < 0 || o.p == NULL) {
		free(o.p);
		return NULL;
	}
	o.p[o.len] = '\0';
	return o.p;
}

char *
zk_kstat_timestamp(char format, time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (format == 'u') {
		snprintf(buf, len, "%lld\n", (long long)t);
		return buf;
	}
	/* date(1)'s default in the C locale, as illumos prints it. */
	if (format == 'd' && localtime_r(&t, &tm) != NULL &&
	    strftime(buf, len, "%a %b %e %H:%M:%S %Z %Y\n", &tm) > 0)
		return buf;
	return NULL;
}
