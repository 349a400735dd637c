/*
 * kstat(1M)'s layouts (kstat_view.h).  Formats follow illumos's kstat
 * command so scripts written for SmartOS parse our output.  Numbers, the
 * output buffer and the layouts share this one file: they are kstat -p's
 * inner loop.
 */
#include "kstat/kstat_view.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kstat/kstat_view_internal.h"
#include "util/cleanup.h"

#define KSTAT_TYPE_NAMED 1	/* illumos ks_type of every kstat we publish */

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

char *
zk_kv_fmt_i64(char *end, int64_t v)
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
			    zk_kv_pattern_match(&q->sel[r].statistic,
			    v->c[i].name);
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
	char *p = zk_kv_fmt_i64(end, v);
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
		return number(buf, zk_kv_fmt_i64(end, d->i64));
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
	char *end = buf + VALUE_BUF, *p = zk_kv_fmt_i64(end, k->instance);
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
	char *p = zk_kv_fmt_i64(end, k->instance), *w = buf;
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
	if (!zk_kv_selectors_hit(x->q, &id, x->hit))
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
		r = zk_kv_order(recs, n, items);
	if (r == 0)
		r = render_all(&x, items, n, &matched);
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
