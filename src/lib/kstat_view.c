/*
 * kstat(1M) selection, ordering and layouts (kstat_view.h).  Formats follow
 * illumos's kstat command so scripts written for SmartOS parse our output.
 */
#include "kstat_view.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"

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

static bool
selector_matches_kstat(const selector *s, const zk_kstat *k,
    const char *instance)
{
	return pattern_match(&s->module, k->module) &&
	    pattern_match(&s->instance, instance) &&
	    pattern_match(&s->name, k->name);
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
compare_kstat_ptrs(const void *a, const void *b)
{
	return zk_kstat_compare(*(const zk_kstat *const *)a,
	    *(const zk_kstat *const *)b);
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

/* ---- one kstat's statistics, pseudo-statistics included -------------------- */

typedef enum entry_kind { E_VALUE, E_HRTIME, E_CLASS } entry_kind;

typedef struct entry {
	const char *name;
	entry_kind kind;
	const zk_kstat_value *v;	/* E_VALUE */
	uint64_t ns;			/* E_HRTIME */
} entry;

/* strcmp order; most names differ in their first byte, so test it inline. */
static inline int
name_order(const char *a, const char *b)
{
	if (a[0] != b[0])
		return (unsigned char)a[0] - (unsigned char)b[0];
	return strcmp(a, b);
}

/* A kstat has a few dozen statistics: insertion sort beats qsort's
 * indirect calls, and is stable. */
static void
sort_entries(entry *e, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		entry x = e[i];
		size_t j = i;
		for (; j > 0 && name_order(e[j - 1].name, x.name) > 0; j--)
			e[j] = e[j - 1];
		e[j] = x;
	}
}

/* Scratch space for one render, sized for the largest kstat. */
typedef struct scratch {
	entry *e;		/* nvalues + 3 pseudo-statistics */
	const selector **hit;	/* the selectors that select one kstat */
} scratch;

/* The selectors that select k (statistics aside); 0 means none does. */
static size_t
selectors_for(const zk_kstat_query *q, const zk_kstat *k,
    const selector **hit)
{
	if (!pattern_match(&q->class, k->class))
		return 0;
	static const selector any = { 0 };
	if (q->nsel == 0) {
		hit[0] = &any;
		return 1;
	}
	char inst[16];
	snprintf(inst, sizeof(inst), "%d", k->instance);
	size_t n = 0;
	for (size_t i = 0; i < q->nsel; i++)
		if (selector_matches_kstat(&q->sel[i], k, inst))
			hit[n++] = &q->sel[i];
	return n;
}

static bool
any_statistic(const selector **hit, size_t nhit, const char *stat)
{
	for (size_t i = 0; i < nhit; i++)
		if (pattern_match(&hit[i]->statistic, stat))
			return true;
	return false;
}

/*
 * The statistics of k that q selects, sorted by name, into s->e.  The
 * kstat is matched once; only the statistic patterns run per statistic.
 * Returns how many.
 */
static size_t
collect_entries(const zk_kstat *k, const zk_kstat_query *q, bool with_class,
    scratch *s)
{
	size_t nhit = selectors_for(q, k, s->hit), n = 0;
	if (nhit == 0)
		return 0;
	const entry pseudo[] = {
		{ "crtime", E_HRTIME, NULL, k->crtime_ns },
		{ "snaptime", E_HRTIME, NULL, k->snaptime_ns },
		{ "class", E_CLASS, NULL, 0 },
	};
	for (size_t i = 0; i < ZK_ARRAY_SIZE(pseudo); i++)
		if ((pseudo[i].kind != E_CLASS || with_class) &&
		    any_statistic(s->hit, nhit, pseudo[i].name))
			s->e[n++] = pseudo[i];
	for (size_t i = 0; i < k->nvalues; i++)
		if (any_statistic(s->hit, nhit, k->values[i].name))
			s->e[n++] = (entry){ k->values[i].name, E_VALUE,
			    &k->values[i], 0 };
	sort_entries(s->e, n);
	return n;
}

bool
zk_kstat_query_matches(const zk_kstat_query *q, const zk_kstat *k,
    const char *stat)
{
	_cleanup_free_ const selector **hit = malloc((q->nsel + 1) *
	    sizeof(*hit));
	if (hit == NULL)
		return false;
	size_t nhit = selectors_for(q, k, hit);
	return any_statistic(hit, nhit, stat);
}

/* ---- output buffer --------------------------------------------------------- */

/*
 * kstat -p over a thousand zones prints 100 000 lines; stdio's formatting
 * was most of the cost, so lines are assembled with memcpy and a plain
 * integer conversion.  An allocation failure sticks and is reported once.
 */
typedef struct outbuf {
	char *p;
	size_t len, cap;
	bool failed;
} outbuf;

static bool
out_reserve(outbuf *o, size_t more)
{
	if (o->failed)
		return false;
	if (o->len + more < o->cap)	/* room for the final NUL too */
		return true;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap <= o->len + more)
		cap *= 2;
	char *p = realloc(o->p, cap);
	if (p == NULL) {
		o->failed = true;
		return false;
	}
	o->p = p;
	o->cap = cap;
	return true;
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
out_padded(outbuf *o, const char *s, size_t width)
{
	size_t n = strlen(s);
	out_mem(o, s, n);
	for (; n < width; n++)
		out_char(o, ' ');
}

static void
out_u64(outbuf *o, uint64_t v)
{
	char b[24], *end = b + sizeof(b), *p = end;
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	out_mem(o, p, (size_t)(end - p));
}

static void
out_i64(outbuf *o, int64_t v)
{
	if (v < 0) {
		out_char(o, '-');
		out_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		out_u64(o, (uint64_t)v);
	}
}

static void __attribute__((format(printf, 2, 3)))
out_fmt(outbuf *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !out_reserve(o, (size_t)n)) {
		o->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/* Seconds with nine decimals, exactly (a double would lose digits). */
static void
out_hrtime(outbuf *o, uint64_t ns)
{
	char frac[10];
	uint64_t f = ns % 1000000000u;
	for (int i = 8; i >= 0; i--, f /= 10)
		frac[i] = (char)('0' + f % 10);
	frac[9] = '\0';
	out_u64(o, ns / 1000000000u);
	out_char(o, '.');
	out_mem(o, frac, 9);
}

static void
out_json_string(outbuf *o, const char *s)
{
	out_char(o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
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

/* ---- layouts ------------------------------------------------------------- */

static void
out_value(outbuf *o, const zk_kstat *k, const entry *e, bool json)
{
	switch (e->kind) {
	case E_HRTIME:
		out_hrtime(o, e->ns);
		return;
	case E_CLASS:
		json ? out_json_string(o, k->class) : out_str(o, k->class);
		return;
	case E_VALUE:
		break;
	}
	switch (e->v->type) {
	case ZK_KSTAT_UINT64:
		out_u64(o, e->v->v.u64);
		break;
	case ZK_KSTAT_INT64:
		out_i64(o, e->v->v.i64);
		break;
	case ZK_KSTAT_STRING:
		json ? out_json_string(o, e->v->v.str) :
		    out_str(o, e->v->v.str);
		break;
	}
}

static void
render_human(outbuf *o, const zk_kstat *k, const entry *e, size_t n)
{
	out_fmt(o, "module: %-30.30s  instance: %-6d\n", k->module,
	    k->instance);
	out_fmt(o, "name:   %-30.30s  class:    %-.30s\n", k->name, k->class);
	for (size_t i = 0; i < n; i++) {
		out_char(o, '\t');
		out_padded(o, e[i].name, 30);
		out_mem(o, "  ", 2);
		out_value(o, k, &e[i], false);
		out_char(o, '\n');
	}
	out_char(o, '\n');
}

static void
render_parseable(outbuf *o, const zk_kstat *k, const entry *e, size_t n,
    const zk_kstat_view_opts *opts)
{
	char prefix[3 * ZK_KSTAT_STRLEN + 16];
	int plen = snprintf(prefix, sizeof(prefix), "%s:%d:%s:", k->module,
	    k->instance, k->name);
	for (size_t i = 0; i < n; i++) {
		out_mem(o, prefix, (size_t)plen);
		out_str(o, e[i].name);
		if (opts->layout != ZK_KSTAT_NAMES) {
			out_char(o, opts->colon ? ':' : '\t');
			out_value(o, k, &e[i], false);
		}
		out_char(o, '\n');
	}
}

static void
render_json(outbuf *o, const zk_kstat *k, const entry *e, size_t n,
    bool first)
{
	out_str(o, first ? "{\n\t\"module\": " : ", {\n\t\"module\": ");
	out_json_string(o, k->module);
	out_fmt(o, ",\n\t\"instance\": %d,\n\t\"name\": ", k->instance);
	out_json_string(o, k->name);
	out_str(o, ",\n\t\"class\": ");
	out_json_string(o, k->class);
	out_fmt(o, ",\n\t\"type\": %d,\n\t\"snaptime\": ", KSTAT_TYPE_NAMED);
	out_hrtime(o, k->snaptime_ns);
	out_str(o, ",\n\t\"data\": {\n");
	for (size_t i = 0; i < n; i++) {
		out_mem(o, "\t\t", 2);
		out_json_string(o, e[i].name);
		out_mem(o, ": ", 2);
		out_value(o, k, &e[i], true);
		out_str(o, i + 1 < n ? ",\n" : "\n");
	}
	out_str(o, "\t}\n}");
}

/* The kstats in display order, as pointers (the input stays untouched);
 * also the most values any has and a guess at the output size. */
static const zk_kstat **
sorted_view(const zk_kstat *ks, size_t n, size_t *maxvalues, size_t *guess)
{
	const zk_kstat **v = malloc((n + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	*maxvalues = 0;
	*guess = 64;
	for (size_t i = 0; i < n; i++) {
		v[i] = &ks[i];
		if (ks[i].nvalues > *maxvalues)
			*maxvalues = ks[i].nvalues;
		*guess += (ks[i].nvalues + 3) * 64;
	}
	qsort(v, n, sizeof(*v), compare_kstat_ptrs);
	return v;
}

static void
render_all(outbuf *o, const zk_kstat **v, size_t n, const zk_kstat_query *q,
    const zk_kstat_view_opts *opts, scratch *s, size_t *nmatched)
{
	bool json = opts->layout == ZK_KSTAT_JSON, first = true;
	bool with_class = opts->layout == ZK_KSTAT_PARSEABLE ||
	    opts->layout == ZK_KSTAT_NAMES;
	if (json)
		out_char(o, '[');
	for (size_t i = 0; i < n; i++) {
		size_t ne = collect_entries(v[i], q, with_class, s);
		const entry *e = s->e;
		if (ne == 0)
			continue;	/* no header without statistics */
		*nmatched += ne;
		if (json)
			render_json(o, v[i], e, ne, first);
		else if (opts->layout == ZK_KSTAT_HUMAN)
			render_human(o, v[i], e, ne);
		else
			render_parseable(o, v[i], e, ne, opts);
		first = false;
	}
	if (json)
		out_str(o, "]\n");
}

char *
zk_kstat_render(const zk_kstat *ks, size_t n, const zk_kstat_query *q,
    const zk_kstat_view_opts *opts, size_t *nmatched)
{
	static const zk_kstat_query all = { 0 };
	static const zk_kstat_view_opts human = { 0 };
	size_t maxvalues = 0, guess = 0, matched = 0;
	_cleanup_free_ const zk_kstat **v = sorted_view(ks, n, &maxvalues,
	    &guess);
	if (q == NULL)
		q = &all;
	_cleanup_free_ entry *e = malloc((maxvalues + 3) * sizeof(*e));
	_cleanup_free_ const selector **hit = malloc((q->nsel + 1) *
	    sizeof(*hit));
	outbuf o = { 0 };
	if (v == NULL || e == NULL || hit == NULL || !out_reserve(&o, guess)) {
		free(o.p);
		return NULL;
	}
	scratch s = { e, hit };
	render_all(&o, v, n, q, opts ? opts : &human, &s, &matched);
	if (o.failed) {
		free(o.p);
		return NULL;
	}
	o.p[o.len] = '\0';
	if (nmatched)
		*nmatched = matched;
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
