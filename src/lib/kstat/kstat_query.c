/*
 * kstat(1M)'s query (kstat_view.h): selectors and the class pattern from
 * the command line, globs or checked extended regular expressions, and
 * which kstats and statistics they select.
 */
#include "kstat/kstat_view.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "kstat/kstat_view_internal.h"
#include "util/cleanup.h"

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

bool
zk_kv_pattern_match(const pattern *p, const char *s)
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

/* ---- selection ----------------------------------------------------------- */


static bool
selector_matches_kstat(const selector *s, const kid *k, const char *instance)
{
	return zk_kv_pattern_match(&s->module, k->module) &&
	    zk_kv_pattern_match(&s->instance, instance) &&
	    zk_kv_pattern_match(&s->name, k->name);
}

/* The instance as the decimal string selectors match. */
static const char *
instance_text(int instance, char buf[16])
{
	char *end = buf + 15;
	*end = '\0';
	return zk_kv_fmt_i64(end, instance);
}

bool
zk_kv_selectors_hit(const zk_kstat_query *q, const kid *k, bool *hit)
{
	if (!zk_kv_pattern_match(&q->class, k->class))
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
	return zk_kv_selectors_hit(arg, &k, NULL);
}

bool
zk_kstat_query_matches(const zk_kstat_query *q, const zk_kstat *k,
    const char *stat)
{
	kid id = { k->module, k->name, k->class, k->instance };
	_cleanup_free_ bool *hit = calloc(q->nsel + 1, sizeof(*hit));
	if (hit == NULL || !zk_kv_selectors_hit(q, &id, hit))
		return false;
	if (q->nsel == 0)
		return true;
	for (size_t i = 0; i < q->nsel; i++)
		if (hit[i] && zk_kv_pattern_match(&q->sel[i].statistic, stat))
			return true;
	return false;
}
