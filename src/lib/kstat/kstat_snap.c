/*
 * The kstat store's compact snapshot (kstat_store.h): many publishers'
 * files read at once, each value in 8 bytes, strings and shapes shared.
 */
#include "kstat/kstat_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kstat/kstat_file.h"
#include "util/cleanup.h"


/*
 * What a shape is looked up by: each statistic's name field and type as
 * the file stores them (the first bytes of a ks_slot), so a file's slots
 * are compared against a known shape without decoding them.
 */
typedef struct sig_stat {
	char name[KS_NAMESZ];
	uint32_t type;
} sig_stat;

_Static_assert(offsetof(ks_slot, name) == offsetof(sig_stat, name) &&
    offsetof(ks_slot, type) == offsetof(sig_stat, type),
    "a slot starts with its signature");

/* Statistics seen through their signatures, in a file (stride: a slot)
 * or in a signature array (stride: a sig_stat). */
typedef struct sig_view {
	const uint8_t *base;
	size_t stride, n;
} sig_view;

static const sig_stat *
sig_at(const sig_view *v, size_t i)
{
	return (const sig_stat *)(v->base + i * v->stride);
}

typedef struct shape {
	zk_kstat_shape pub;
	sig_stat *sig;		/* pub.nstats signatures, as first seen */
} shape;

/* Bump allocation in chunks: a snapshot is freed all at once. */
typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	uint64_t data[];
} chunk;

#define CHUNK_FIRST (16u << 10)
#define CHUNK_MAX (1u << 20)

/* Open addressing: the items (strings, shapes) live in the chunks. */
typedef struct tslot {
	uint64_t hash;
	void *item;
} tslot;

typedef struct table {
	tslot *v;
	size_t cap, n;
} table;

/* The previous file's kstat at the same index: the next file most likely
 * has the same module, class and shape there. */
typedef struct file_hint {
	const char *module, *class;
	const shape *shape;
} file_hint;

#define MAX_HINTS 16

/* A zone's file names its kstats after the zone and repeats the zone's
 * name in each: the last few strings copied are shared, not copied. */
#define RECENT 4

struct zk_kstat_snap {
	zk_kstat_want_fn *want;
	void *want_arg;
	chunk *chunks;
	zk_kstat_rec *recs;
	size_t n, cap;
	table strings, shapes;
	size_t nshapes;
	file_hint hints[MAX_HINTS];
	const char *recent[RECENT];	/* strings copied lately */
	size_t next_recent;
};

zk_kstat_snap *
zk_kstat_snap_new(zk_kstat_want_fn *want, void *arg)
{
	zk_kstat_snap *s = calloc(1, sizeof(*s));
	if (s != NULL) {
		s->want = want;
		s->want_arg = arg;
	}
	return s;
}

void
zk_kstat_snap_free(zk_kstat_snap *s)
{
	if (s == NULL)
		return;
	for (chunk *c = s->chunks, *next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(s->recs);
	free(s->strings.v);
	free(s->shapes.v);
	free(s);
}

const zk_kstat_rec *
zk_kstat_snap_recs(const zk_kstat_snap *s, size_t *n)
{
	*n = s->n;
	return s->recs;
}

size_t
zk_kstat_snap_nshapes(const zk_kstat_snap *s)
{
	return s->nshapes;
}

static void *
snap_alloc(zk_kstat_snap *s, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	chunk *c = s->chunks;
	if (c == NULL || c->cap - c->used < size) {
		size_t cap = c == NULL ? CHUNK_FIRST :
		    c->cap < CHUNK_MAX ? c->cap * 2 : CHUNK_MAX;
		if (cap < size)
			cap = size;
		chunk *nc = malloc(sizeof(*nc) + cap);
		if (nc == NULL)
			return NULL;
		*nc = (chunk){ .next = c, .cap = cap };
		s->chunks = c = nc;
	}
	void *p = (uint8_t *)c->data + c->used;
	c->used += size;
	return p;
}

/* A NUL-terminated copy of the first len bytes of src. */
static char *
snap_strndup(zk_kstat_snap *s, const char *src, size_t len)
{
	char *p = snap_alloc(s, len + 1);
	if (p != NULL) {
		memcpy(p, src, len);
		p[len] = '\0';
	}
	return p;
}

/* Does the terminated string interned equal the first len bytes of s
 * (which has no NUL among them)?  strncmp stops at interned's end, so a
 * shorter one is never read past. */
static bool
str_is(const char *interned, const char *s, size_t len)
{
	return strncmp(interned, s, len) == 0 && interned[len] == '\0';
}

/* A copy of src's first len bytes (no NUL among them), shared with a
 * recent equal one. */
static const char *
snap_strdup_recent(zk_kstat_snap *s, const char *src, size_t len)
{
	for (size_t i = 0; i < RECENT; i++)
		if (s->recent[i] != NULL && str_is(s->recent[i], src, len))
			return s->recent[i];
	char *p = snap_strndup(s, src, len);
	if (p != NULL) {
		s->recent[s->next_recent] = p;
		s->next_recent = (s->next_recent + 1) % RECENT;
	}
	return p;
}

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

#define FNV_BASIS 0xcbf29ce484222325ULL

static int
table_grow(table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	tslot *v = calloc(cap, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->v[i].item == NULL)
			continue;
		size_t j = t->v[i].hash & (cap - 1);
		while (v[j].item != NULL)
			j = (j + 1) & (cap - 1);
		v[j] = t->v[i];
	}
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

/* The slot holding the item eq() accepts, or the empty slot to fill; NULL
 * when out of memory. */
static tslot *
table_find(table *t, uint64_t hash, bool (*eq)(const void *, const void *),
    const void *key)
{
	if (2 * (t->n + 1) > t->cap && table_grow(t) < 0)
		return NULL;
	size_t i = hash & (t->cap - 1);
	for (; t->v[i].item != NULL; i = (i + 1) & (t->cap - 1))
		if (t->v[i].hash == hash && eq(t->v[i].item, key))
			return &t->v[i];
	return &t->v[i];
}

/* Fill the empty slot table_find gave. */
static void *
table_set(table *t, tslot *slot, uint64_t hash, void *item)
{
	if (item != NULL) {
		*slot = (tslot){ hash, item };
		t->n++;
	}
	return item;
}

typedef struct str_key {
	const char *s;
	size_t len;
} str_key;

static bool
str_eq(const void *item, const void *key)
{
	const str_key *k = key;
	return str_is(item, k->s, k->len);
}

/* The one copy of a module or class name (at most 30 characters of src,
 * which need not be terminated), trying the hint first. */
static const char *
intern(zk_kstat_snap *s, const char *src, const char *hint)
{
	size_t len = strnlen(src, ZK_KSTAT_STRLEN - 1);
	if (hint != NULL && str_is(hint, src, len))
		return hint;
	str_key k = { src, len };
	uint64_t h = fnv1a(FNV_BASIS, src, len);
	tslot *t = table_find(&s->strings, h, str_eq, &k);
	if (t == NULL)
		return NULL;
	if (t->item == NULL)
		return table_set(&s->strings, t, h, snap_strndup(s, src, len));
	return t->item;
}

static bool
shape_is(const shape *sh, const sig_view *v)
{
	if (sh->pub.nstats != v->n)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (memcmp(&sh->sig[i], sig_at(v, i), sizeof(sig_stat)) != 0)
			return false;
	return true;
}

static bool
shape_eq(const void *item, const void *key)
{
	return shape_is(item, key);
}

static shape *
new_shape(zk_kstat_snap *s, const sig_view *v)
{
	shape *sh = snap_alloc(s, sizeof(*sh));
	const char **names = snap_alloc(s, (v->n + 1) * sizeof(*names));
	zk_kstat_type *types = snap_alloc(s, (v->n + 1) * sizeof(*types));
	sig_stat *sig = snap_alloc(s, (v->n + 1) * sizeof(*sig));
	if (sh == NULL || names == NULL || types == NULL || sig == NULL)
		return NULL;
	for (size_t i = 0; i < v->n; i++) {
		const sig_stat *g = sig_at(v, i);
		sig[i] = *g;
		names[i] = snap_strndup(s, g->name,
		    strnlen(g->name, ZK_KSTAT_STRLEN - 1));
		if (names[i] == NULL)
			return NULL;
		types[i] = (zk_kstat_type)g->type;
	}
	*sh = (shape){ { s->nshapes++, v->n, names, types }, sig };
	return sh;
}

/* The shape of these statistics, made on first sight. */
static const shape *
find_shape(zk_kstat_snap *s, const sig_view *v, const shape *hint)
{
	if (hint != NULL && shape_is(hint, v))
		return hint;
	uint64_t h = FNV_BASIS;
	for (size_t i = 0; i < v->n; i++)
		h = fnv1a(h, sig_at(v, i), sizeof(sig_stat));
	h = fnv1a(h, &v->n, sizeof(v->n));
	tslot *t = table_find(&s->shapes, h, shape_eq, v);
	if (t == NULL)
		return NULL;
	if (t->item == NULL)
		return table_set(&s->shapes, t, h, new_shape(s, v));
	return t->item;
}

static int
reserve_recs(zk_kstat_snap *s, size_t cap)
{
	if (cap <= s->cap)
		return 0;
	zk_kstat_rec *v = realloc(s->recs, cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	s->recs = v;
	s->cap = cap;
	return 0;
}

static zk_kstat_rec *
push_rec(zk_kstat_snap *s)
{
	if (s->n == s->cap && reserve_recs(s, s->cap ? s->cap * 2 : 256) < 0)
		return NULL;
	return &s->recs[s->n++];
}

/* A kstat's identity, its names already cut to 30 characters. */
typedef struct ident {
	const char *module, *class;
	char name[ZK_KSTAT_STRLEN];
	size_t name_len;
	int instance;
} ident;

static int
ident_init(zk_kstat_snap *s, ident *id, const char *module,
    const char *name, const char *class, int instance, const file_hint *h)
{
	id->module = intern(s, module, h ? h->module : NULL);
	id->class = intern(s, class, h ? h->class : NULL);
	if (id->module == NULL || id->class == NULL)
		return -ENOMEM;
	id->name_len = strnlen(name, ZK_KSTAT_STRLEN - 1);
	memcpy(id->name, name, id->name_len);
	id->name[id->name_len] = '\0';
	id->instance = instance;
	return 0;
}

bool
zk_kstat_snap_wants(const zk_kstat_snap *s, const char *module,
    int instance, const char *name, const char *class)
{
	return s->want == NULL || s->want(s->want_arg, module, instance, name,
	    class);
}

static bool
wanted(const zk_kstat_snap *s, const ident *id)
{
	return zk_kstat_snap_wants(s, id->module, id->instance, id->name,
	    id->class);
}

/* One value: numbers as they are, strings copied (at most 63 bytes of
 * str, which need not be terminated). */
static int
put_datum(zk_kstat_snap *s, zk_kstat_datum *d, uint32_t type, uint64_t bits,
    const char *str)
{
	if (type != ZK_KSTAT_STRING) {
		d->u64 = bits;
		return 0;
	}
	d->str = snap_strdup_recent(s, str, strnlen(str,
	    ZK_KSTAT_STR_VALUE - 1));
	return d->str ? 0 : -ENOMEM;
}

/* A record for id with room for its values; NULL when out of memory. */
static zk_kstat_rec *
add_rec(zk_kstat_snap *s, const ident *id, const shape *sh,
    uint64_t crtime, uint64_t snaptime, zk_kstat_datum **data)
{
	const char *name = snap_strdup_recent(s, id->name, id->name_len);
	*data = snap_alloc(s, (sh->pub.nstats + 1) * sizeof(**data));
	if (name == NULL || *data == NULL)
		return NULL;
	zk_kstat_rec *r = push_rec(s);
	if (r != NULL)
		*r = (zk_kstat_rec){ id->module, name, id->class, id->instance,
		    crtime, snaptime, &sh->pub, *data };
	return r;
}

static int
snap_add_kstat(zk_kstat_snap *s, const ks_hdr *k, file_hint *h)
{
	ident id;
	if (ident_init(s, &id, k->module, k->name, k->class, k->instance,
	    h) < 0)
		return -ENOMEM;
	if (!wanted(s, &id))
		return 0;
	const ks_slot *slot = (const ks_slot *)(k + 1);
	sig_view v = { (const uint8_t *)slot, sizeof(*slot), k->nstats };
	const shape *sh = find_shape(s, &v, h ? h->shape : NULL);
	zk_kstat_datum *d;
	if (sh == NULL || add_rec(s, &id, sh, k->crtime_ns, k->snaptime_ns,
	    &d) == NULL)
		return -ENOMEM;
	for (uint32_t j = 0; j < k->nstats; j++)
		if (put_datum(s, &d[j], slot[j].type, slot[j].v.u64,
		    slot[j].v.str) < 0)
			return -ENOMEM;
	if (h != NULL)
		*h = (file_hint){ id.module, id.class, sh };
	return 0;
}

static int
snap_add_file(void *arg, const uint8_t *buf, size_t n, int count)
{
	zk_kstat_snap *s = arg;
	(void)n;
	const ks_hdr *k = ks_first(buf);
	for (int i = 0; i < count; i++, k = ks_next(k)) {
		int r = snap_add_kstat(s, k, i < MAX_HINTS ? &s->hints[i] :
		    NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A zone's file holds 3 kstats: room for 4 a file up front spares
 * copying the array as it grows (pages never touched cost nothing). */
#define RECS_PER_FILE 4

static int
snap_expect(void *arg, size_t nfiles)
{
	zk_kstat_snap *s = arg;
	return reserve_recs(s, s->n + nfiles * RECS_PER_FILE);
}

int
zk_kstat_snap_read_dir(zk_kstat_snap *s, const char *dir, zk_error *err)
{
	return zk_ks_read_dir_files(dir, snap_expect, snap_add_file, s, err);
}

/* One kstat in the simple form: its signatures are made on the side. */
static int
snap_add_one(zk_kstat_snap *s, const zk_kstat *k)
{
	ident id;
	if (ident_init(s, &id, k->module, k->name, k->class, k->instance,
	    NULL) < 0)
		return -ENOMEM;
	if (!wanted(s, &id))
		return 0;
	_cleanup_free_ sig_stat *sig = calloc(k->nvalues + 1, sizeof(*sig));
	if (sig == NULL)
		return -ENOMEM;
	for (size_t j = 0; j < k->nvalues; j++) {
		memcpy(sig[j].name, k->values[j].name, strnlen(
		    k->values[j].name, ZK_KSTAT_STRLEN - 1));
		sig[j].type = (uint32_t)k->values[j].type;
	}
	sig_view v = { (const uint8_t *)sig, sizeof(*sig), k->nvalues };
	const shape *sh = find_shape(s, &v, NULL);
	zk_kstat_datum *d;
	if (sh == NULL || add_rec(s, &id, sh, k->crtime_ns, k->snaptime_ns,
	    &d) == NULL)
		return -ENOMEM;
	for (size_t j = 0; j < k->nvalues; j++) {
		const zk_kstat_value *x = &k->values[j];
		if (put_datum(s, &d[j], (uint32_t)x->type, x->v.u64,
		    x->v.str) < 0)
			return -ENOMEM;
	}
	return 0;
}

int
zk_kstat_snap_add(zk_kstat_snap *s, const zk_kstat *ks, size_t n,
    zk_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (snap_add_one(s, &ks[i]) < 0)
			return zk_fail(err, ENOMEM, "out of memory");
	return 0;
}
