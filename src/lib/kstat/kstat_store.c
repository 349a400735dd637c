/*
 * The kstat store (kstat_store.h): one memory-mapped file per publisher,
 * read by anyone with plain preads.
 *
 * File layout (native endianness, all offsets 8-byte aligned):
 *
 *   ks_file_hdr                      magic, version, seq, sizes, crtime
 *   then nkstats times:
 *     ks_hdr                         module, name, class, instance, nstats,
 *                                    crtime_ns, snaptime_ns
 *     nstats x ks_slot               name, type, value (u64/i64/string)
 *
 * Only values and snaptimes change after creation, and only between
 * zk_kstat_pub_begin (seq made odd) and zk_kstat_pub_end (seq made even
 * again).  The structure (counts, names, types) is fixed when the file is
 * renamed into place, so a reader can trust it once it has been checked.
 */
#include "kstat/kstat_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fsutil.h"

#define KS_MAGIC 0x534b4b5aU	/* "ZKKS" in a little-endian dump */
#define KS_VERSION 1
#define KS_NAMESZ 32		/* ZK_KSTAT_STRLEN rounded up for alignment */

/* A reader gives up on a file whose publisher never lets it in. */
#define KS_READ_TRIES 100
/* Larger files are not ours: refuse instead of allocating without bound. */
#define KS_MAX_FILE (16u << 20)
/* Most publisher files (a zone: 3 kstats, ~40 stats) fit in one read. */
#define KS_READ_BUF (64u << 10)

typedef struct ks_file_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t seq;		/* odd while the publisher is writing */
	uint32_t nkstats;
	uint32_t hdr_size;	/* the three struct sizes, so a reader can */
	uint32_t kshdr_size;	/* refuse a layout it was not built for */
	uint32_t slot_size;
	uint64_t crtime_ns;
	uint64_t file_size;	/* a truncated copy is detected by this */
	uint64_t reserved[2];
} ks_file_hdr;

typedef struct ks_hdr {
	char module[KS_NAMESZ];
	char name[KS_NAMESZ];
	char class[KS_NAMESZ];
	int32_t instance;
	uint32_t nstats;
	uint64_t crtime_ns;
	uint64_t snaptime_ns;
} ks_hdr;

typedef struct ks_slot {
	char name[KS_NAMESZ];
	uint32_t type;
	uint32_t reserved;
	union {
		uint64_t u64;
		int64_t i64;
		char str[ZK_KSTAT_STR_VALUE];
	} v;
} ks_slot;

_Static_assert(sizeof(ks_file_hdr) == 64, "file header layout");
_Static_assert(sizeof(ks_hdr) % 8 == 0, "kstat header alignment");
_Static_assert(sizeof(ks_slot) % 8 == 0, "slot alignment");
_Static_assert(KS_NAMESZ >= ZK_KSTAT_STRLEN, "names fit");

struct zk_kstat_pub {
	uint8_t *base;
	size_t size;
	size_t nkstats;
	char path[PATH_MAX];
	size_t ks_off[];	/* offset of each kstat's ks_hdr */
};

/* Copy with the illumos limit: at most ZK_KSTAT_STRLEN - 1 characters. */
static void
copy_name(char *dst, const char *src)
{
	snprintf(dst, ZK_KSTAT_STRLEN, "%s", src ? src : "");
}

void
zk_kstat_def_init(zk_kstat_def *d, const char *module, int instance,
    const char *name, const char *class, const zk_kstat_stat_def *stats,
    size_t nstats)
{
	copy_name(d->module, module);
	d->instance = instance;
	copy_name(d->name, name);
	copy_name(d->class, class);
	d->stats = stats;
	d->nstats = nstats;
}

char *
zk_kstat_dir(const char *rundir, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/kstat", rundir);
	return buf;
}

/* ---- publishing ---------------------------------------------------------- */

static size_t
layout_size(const zk_kstat_def *defs, size_t ndefs)
{
	size_t size = sizeof(ks_file_hdr);
	for (size_t i = 0; i < ndefs; i++)
		size += sizeof(ks_hdr) + defs[i].nstats * sizeof(ks_slot);
	return size;
}

/* Fill a freshly zeroed mapping; records each kstat's offset in pub. */
static void
fill_layout(zk_kstat_pub *pub, const zk_kstat_def *defs, size_t ndefs,
    uint64_t now)
{
	ks_file_hdr *h = (ks_file_hdr *)pub->base;
	*h = (ks_file_hdr){
		.magic = KS_MAGIC, .version = KS_VERSION,
		.nkstats = (uint32_t)ndefs, .hdr_size = sizeof(ks_file_hdr),
		.kshdr_size = sizeof(ks_hdr), .slot_size = sizeof(ks_slot),
		.crtime_ns = now, .file_size = pub->size,
	};
	size_t off = sizeof(*h);
	for (size_t i = 0; i < ndefs; i++) {
		const zk_kstat_def *d = &defs[i];
		ks_hdr *k = (ks_hdr *)(pub->base + off);
		pub->ks_off[i] = off;
		copy_name(k->module, d->module);
		copy_name(k->name, d->name);
		copy_name(k->class, d->class);
		k->instance = d->instance;
		k->nstats = (uint32_t)d->nstats;
		k->crtime_ns = k->snaptime_ns = now;
		ks_slot *s = (ks_slot *)(k + 1);
		for (size_t j = 0; j < d->nstats; j++) {
			copy_name(s[j].name, d->stats[j].name);
			s[j].type = (uint32_t)d->stats[j].type;
		}
		off += sizeof(*k) + d->nstats * sizeof(*s);
	}
}

static int
check_defs(const zk_kstat_def *defs, size_t ndefs, zk_error *err)
{
	if (ndefs > UINT32_MAX)
		return zk_fail(err, EINVAL, "too many kstats");
	for (size_t i = 0; i < ndefs; i++) {
		if (defs[i].nstats > 0 && defs[i].stats == NULL)
			return zk_fail(err, EINVAL, "kstat %s:%d:%s has no "
			    "statistics table", defs[i].module, defs[i].instance,
			    defs[i].name);
		for (size_t j = 0; j < defs[i].nstats; j++)
			if ((unsigned)defs[i].stats[j].type > ZK_KSTAT_STRING)
				return zk_fail(err, EINVAL, "kstat %s:%d:%s: "
				    "statistic %s has an unknown type",
				    defs[i].module, defs[i].instance,
				    defs[i].name, defs[i].stats[j].name);
	}
	if (layout_size(defs, ndefs) > KS_MAX_FILE)
		return zk_fail(err, EFBIG, "too many statistics for one file");
	return 0;
}

/* Size, map and fill the temporary file; pub->base is set on success. */
static int
map_new_file(zk_kstat_pub *pub, int fd, const char *tmp,
    const zk_kstat_def *defs, size_t ndefs, zk_error *err)
{
	/* Readers need not be root (kstat is for everyone, as on illumos). */
	if (fchmod(fd, 0644) < 0 || ftruncate(fd, (off_t)pub->size) < 0)
		return zk_fail_errno(err, errno, "cannot size %s", tmp);
	void *m = mmap(NULL, pub->size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (m == MAP_FAILED)
		return zk_fail_errno(err, errno, "cannot map %s", tmp);
	pub->base = m;
	fill_layout(pub, defs, ndefs, zk_now_ns());
	return 0;
}

int
zk_kstat_pub_create(const char *dir, const char *file,
    const zk_kstat_def *defs, size_t ndefs, zk_kstat_pub **out,
    zk_error *err)
{
	int r;
	if ((r = check_defs(defs, ndefs, err)) < 0)
		return r;
	if (file[0] == '\0' || file[0] == '.' || strchr(file, '/') != NULL)
		return zk_fail(err, EINVAL, "invalid kstat file name \"%s\"",
		    file);
	if ((r = zk_mkdir_p(dir, 0755, err)) < 0)
		return r;
	_cleanup_free_ zk_kstat_pub *pub = calloc(1, sizeof(*pub) +
	    (ndefs + 1) * sizeof(pub->ks_off[0]));
	if (pub == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	pub->nkstats = ndefs;
	pub->size = layout_size(defs, ndefs);
	char tmp[PATH_MAX];
	if (snprintf(pub->path, sizeof(pub->path), "%s/%s", dir, file) >=
	    (int)sizeof(pub->path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, file) >=
	    (int)sizeof(tmp))
		return zk_fail(err, ENAMETOOLONG, "%s/%s: path too long", dir,
		    file);
	/* Dot-names are skipped by readers, so a half-made file is unseen. */
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot create %s", tmp);
	if ((r = map_new_file(pub, fd, tmp, defs, ndefs, err)) == 0 &&
	    rename(tmp, pub->path) < 0)
		r = zk_fail_errno(err, errno, "cannot rename %s to %s", tmp,
		    pub->path);
	if (r < 0) {
		if (pub->base)
			munmap(pub->base, pub->size);
		unlink(tmp);
		return r;
	}
	*out = TAKE_PTR(pub);
	return 0;
}

void
zk_kstat_pub_close(zk_kstat_pub *pub, bool remove)
{
	if (pub == NULL)
		return;
	munmap(pub->base, pub->size);
	if (remove)
		unlink(pub->path);
	free(pub);
}

static uint64_t *
seq_word(const zk_kstat_pub *pub)
{
	return &((ks_file_hdr *)pub->base)->seq;
}

/* Like the setters, begin and end accept a publisher that could not be
 * created (NULL): the zone runs on without kstats rather than crash. */
void
zk_kstat_pub_begin(zk_kstat_pub *pub)
{
	if (pub == NULL)
		return;
	uint64_t *seq = seq_word(pub);
	uint64_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);
	__atomic_store_n(seq, s + 1, __ATOMIC_RELAXED);
	/* The odd sequence must be visible before any value changes. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void
zk_kstat_pub_end(zk_kstat_pub *pub)
{
	if (pub == NULL)
		return;
	uint64_t now = zk_now_ns();
	for (size_t i = 0; i < pub->nkstats; i++) {
		ks_hdr *k = (ks_hdr *)(pub->base + pub->ks_off[i]);
		__atomic_store_n(&k->snaptime_ns, now, __ATOMIC_RELAXED);
	}
	uint64_t *seq = seq_word(pub);
	uint64_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);
	/* Release: every value store above lands before the even sequence. */
	__atomic_store_n(seq, s + 1, __ATOMIC_RELEASE);
}

/* The slot of (ks, stat) if it exists and has the given type. */
static ks_slot *
slot_of(const zk_kstat_pub *pub, size_t ks, size_t stat, zk_kstat_type type)
{
	if (pub == NULL || ks >= pub->nkstats)
		return NULL;
	ks_hdr *k = (ks_hdr *)(pub->base + pub->ks_off[ks]);
	if (stat >= k->nstats)
		return NULL;
	ks_slot *s = (ks_slot *)(k + 1) + stat;
	return s->type == (uint32_t)type ? s : NULL;
}

/*
 * Setters ignore an index or type that does not exist: a controller bug
 * must not corrupt a neighbour's statistics or crash zoneadmd.
 */
void
zk_kstat_set_u64(zk_kstat_pub *pub, size_t ks, size_t stat, uint64_t v)
{
	ks_slot *s = slot_of(pub, ks, stat, ZK_KSTAT_UINT64);
	if (s)
		__atomic_store_n(&s->v.u64, v, __ATOMIC_RELAXED);
}

void
zk_kstat_set_i64(zk_kstat_pub *pub, size_t ks, size_t stat, int64_t v)
{
	ks_slot *s = slot_of(pub, ks, stat, ZK_KSTAT_INT64);
	if (s)
		__atomic_store_n(&s->v.i64, v, __ATOMIC_RELAXED);
}

void
zk_kstat_set_str(zk_kstat_pub *pub, size_t ks, size_t stat, const char *v)
{
	ks_slot *s = slot_of(pub, ks, stat, ZK_KSTAT_STRING);
	if (s == NULL)
		return;
	/* strncpy's zero fill keeps stale bytes of a longer value out. */
	strncpy(s->v.str, v ? v : "", sizeof(s->v.str) - 1);
	s->v.str[sizeof(s->v.str) - 1] = '\0';
}

uint64_t
zk_kstat_get_u64(const zk_kstat_pub *pub, size_t ks, size_t stat)
{
	const ks_slot *s = slot_of(pub, ks, stat, ZK_KSTAT_UINT64);
	if (s == NULL)
		s = slot_of(pub, ks, stat, ZK_KSTAT_INT64);
	return s ? __atomic_load_n(&s->v.u64, __ATOMIC_RELAXED) : 0;
}

/* ---- reading --------------------------------------------------------------- */

/* A growing buffer reused for every file of one directory read. */
typedef struct read_buf {
	uint8_t *data;
	size_t cap;
} read_buf;

/* A growing array of kstats, appended to the caller's at the end. */
typedef struct ks_list {
	zk_kstat *v;
	size_t n, cap;
} ks_list;

static int
ks_list_reserve(ks_list *l, size_t more)
{
	if (l->n + more <= l->cap)
		return 0;
	size_t cap = l->cap ? l->cap : 64;
	while (cap < l->n + more)
		cap *= 2;
	zk_kstat *v = realloc(l->v, cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	l->v = v;
	l->cap = cap;
	return 0;
}

static int
pread_seq(int fd, uint64_t *seq)
{
	ssize_t n = pread(fd, seq, sizeof(*seq), offsetof(ks_file_hdr, seq));
	if (n < 0)
		return -errno;
	return n == sizeof(*seq) ? 0 : -EBADMSG;
}

/* A small pause before retrying, so a descheduled writer can finish. */
static void
backoff(int attempt)
{
	if (attempt >= 2)
		sched_yield();
}

/*
 * Copy the whole file while its sequence stays even and unchanged.  Three
 * preads: the sequence before, the file, the sequence after; each syscall
 * completes its loads before the next starts, so the bracket holds.
 * Returns the length copied, or -errno (-EAGAIN: never consistent).
 */
static ssize_t
read_consistent(int fd, read_buf *b)
{
	for (int attempt = 0; attempt < KS_READ_TRIES; attempt++) {
		uint64_t s1, s2;
		int r = pread_seq(fd, &s1);
		if (r < 0)
			return r;
		if (s1 & 1) {
			backoff(attempt);
			continue;
		}
		ssize_t n = pread(fd, b->data, b->cap, 0);
		if (n < 0)
			return -errno;
		if ((size_t)n == b->cap) {	/* maybe more: grow and retry */
			const ks_file_hdr *h = (const ks_file_hdr *)b->data;
			uint64_t size = h->file_size;
			if (h->magic != KS_MAGIC || size < b->cap ||
			    size > KS_MAX_FILE)
				return -EBADMSG;
			uint8_t *d = realloc(b->data, size + 1);
			if (d == NULL)
				return -ENOMEM;
			b->data = d;
			b->cap = size + 1;
			attempt--;	/* growing is not contention */
			continue;
		}
		if ((r = pread_seq(fd, &s2)) < 0)
			return r;
		if (s1 == s2)
			return n;
		backoff(attempt);
	}
	return -EAGAIN;
}

/*
 * Check a copied file against everything its header claims, so garbage or
 * a truncated file is refused before anything is trusted.  Returns the
 * number of kstats, or -EBADMSG.
 */
static int
validate(const uint8_t *buf, size_t n)
{
	const ks_file_hdr *h = (const ks_file_hdr *)buf;
	if (n < sizeof(*h) || h->magic != KS_MAGIC ||
	    h->version != KS_VERSION || h->hdr_size != sizeof(*h) ||
	    h->kshdr_size != sizeof(ks_hdr) ||
	    h->slot_size != sizeof(ks_slot) || h->file_size != n ||
	    (h->seq & 1))
		return -EBADMSG;
	size_t off = sizeof(*h);
	for (uint32_t i = 0; i < h->nkstats; i++) {
		if (n - off < sizeof(ks_hdr))
			return -EBADMSG;
		const ks_hdr *k = (const ks_hdr *)(buf + off);
		off += sizeof(*k);
		if (k->nstats > (n - off) / sizeof(ks_slot))
			return -EBADMSG;
		const ks_slot *s = (const ks_slot *)(k + 1);
		for (uint32_t j = 0; j < k->nstats; j++)
			if (s[j].type > ZK_KSTAT_STRING)
				return -EBADMSG;
		off += k->nstats * sizeof(ks_slot);
	}
	return off == n && h->nkstats <= INT_MAX ? (int)h->nkstats : -EBADMSG;
}

/* Names in the file are fixed-size; never trust their terminator. */
static void
copy_fixed(char *dst, const char *src)
{
	memcpy(dst, src, ZK_KSTAT_STRLEN - 1);
	dst[ZK_KSTAT_STRLEN - 1] = '\0';
}

static void
copy_value(zk_kstat_value *v, const ks_slot *s)
{
	copy_fixed(v->name, s->name);
	v->type = (zk_kstat_type)s->type;
	if (v->type == ZK_KSTAT_STRING) {
		memcpy(v->v.str, s->v.str, sizeof(v->v.str) - 1);
		v->v.str[sizeof(v->v.str) - 1] = '\0';
	} else {
		v->v.u64 = s->v.u64;
	}
}

/* Convert one validated kstat; its values get one allocation. */
static int
copy_kstat(zk_kstat *out, const ks_hdr *k)
{
	copy_fixed(out->module, k->module);
	copy_fixed(out->name, k->name);
	copy_fixed(out->class, k->class);
	out->instance = k->instance;
	out->crtime_ns = k->crtime_ns;
	out->snaptime_ns = k->snaptime_ns;
	out->nvalues = k->nstats;
	out->values = NULL;
	if (k->nstats == 0)
		return 0;
	out->values = malloc(k->nstats * sizeof(*out->values));
	if (out->values == NULL)
		return -ENOMEM;
	const ks_slot *s = (const ks_slot *)(k + 1);
	for (uint32_t j = 0; j < k->nstats; j++)
		copy_value(&out->values[j], &s[j]);
	return 0;
}

/* What to do with each validated file image of a directory. */
typedef int file_fn(void *arg, const uint8_t *buf, size_t n, int nkstats);

static int
append_file(void *arg, const uint8_t *buf, size_t n, int count)
{
	ks_list *l = arg;
	(void)n;
	if (ks_list_reserve(l, (size_t)count) < 0)
		return -ENOMEM;
	size_t off = sizeof(ks_file_hdr);
	for (int i = 0; i < count; i++) {
		const ks_hdr *k = (const ks_hdr *)(buf + off);
		if (copy_kstat(&l->v[l->n], k) < 0)
			return -ENOMEM;
		l->n++;
		off += sizeof(*k) + k->nstats * sizeof(ks_slot);
	}
	return 0;
}

/*
 * O_NOATIME spares a metadata write per file but is refused (EPERM) on
 * files we do not own without CAP_FOWNER; after the first refusal we stop
 * asking for it.
 */
static int
open_entry(int dfd, const char *name, bool *noatime)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	if (*noatime) {
		int fd = openat(dfd, name, flags | O_NOATIME);
		if (fd >= 0 || errno != EPERM)
			return fd;
		*noatime = false;
	}
	return openat(dfd, name, flags);
}

/* The names of a directory's candidate files, in directory order. */
typedef struct entries {
	char *names;		/* each NUL-terminated */
	size_t len, cap;
	size_t *off;		/* where each name starts */
	size_t n, ncap;
} entries;

static void
entries_free(entries *e)
{
	free(e->names);
	free(e->off);
}

static int
entries_add(entries *e, const char *name)
{
	size_t len = strlen(name) + 1;
	if (e->len + len > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16384;
		while (cap < e->len + len)
			cap *= 2;
		char *v = realloc(e->names, cap);
		if (v == NULL)
			return -ENOMEM;
		e->names = v;
		e->cap = cap;
	}
	if (e->n == e->ncap) {
		size_t cap = e->ncap ? e->ncap * 2 : 256;
		size_t *v = realloc(e->off, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		e->off = v;
		e->ncap = cap;
	}
	memcpy(e->names + e->len, name, len);
	e->off[e->n++] = e->len;
	e->len += len;
	return 0;
}

/* List the regular files of d, skipping dot-names (., .. and files being
 * created). */
static int
list_entries(DIR *d, entries *e)
{
	struct dirent *de;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			return -errno;
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (entries_add(e, de->d_name) < 0)
			return -ENOMEM;
	}
}

/* Read one file; files that vanish, are not regular or not ours are
 * skipped.  Only running out of memory is an error. */
static int
read_file(int dfd, const char *name, read_buf *b, bool *noatime,
    file_fn *fn, void *arg)
{
	_cleanup_close_ int fd = open_entry(dfd, name, noatime);
	if (fd < 0)
		return 0;
	ssize_t n = read_consistent(fd, b);
	if (n == -ENOMEM)
		return -ENOMEM;
	if (n < 0)
		return 0;
	int count = validate(b->data, (size_t)n);
	if (count < 0)
		return 0;	/* not a kstat file of ours: skip it */
	return fn(arg, b->data, (size_t)n, count);
}

static int
read_entries(int dfd, const entries *e, file_fn *fn, void *arg)
{
	read_buf b = { .data = malloc(KS_READ_BUF), .cap = KS_READ_BUF };
	bool noatime = true;
	int r = b.data ? 0 : -ENOMEM;
	for (size_t i = 0; i < e->n && r == 0; i++)
		r = read_file(dfd, e->names + e->off[i], &b, &noatime, fn, arg);
	free(b.data);
	return r;
}

/*
 * Hand every consistent, valid file under dir to fn, in directory order;
 * expect (if any) is told first how many files there are.  The listing
 * is taken first, so that is known.
 */
typedef int expect_fn(void *arg, size_t nfiles);

static int
read_dir_files(const char *dir, expect_fn *expect, file_fn *fn, void *arg,
    zk_error *err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	_cleanup_(entries_free) entries e = { 0 };
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return zk_fail_errno(err, errno, "cannot open %s", dir);
	}
	int r = list_entries(d, &e);
	if (r == 0 && expect != NULL)
		r = expect(arg, e.n);
	if (r == 0)
		r = read_entries(dirfd(d), &e, fn, arg);
	if (r == -ENOMEM)
		return zk_fail(err, ENOMEM, "out of memory reading %s", dir);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot read %s", dir);
	return 0;
}

/* Move the collected kstats onto the end of the caller's array. */
static int
hand_over(ks_list *l, zk_kstat **ks, size_t *n)
{
	if (l->n == 0)
		return 0;
	zk_kstat *v = realloc(*ks, (*n + l->n) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	memcpy(v + *n, l->v, l->n * sizeof(*v));
	*ks = v;
	*n += l->n;
	l->n = 0;
	return 0;
}

int
zk_kstat_read_dir(const char *dir, zk_kstat **ks, size_t *n, zk_error *err)
{
	ks_list l = { 0 };
	int r = read_dir_files(dir, NULL, append_file, &l, err);
	if (r == 0 && hand_over(&l, ks, n) < 0)
		r = zk_fail(err, ENOMEM, "out of memory reading %s", dir);
	zk_kstat_free(l.v, l.n);
	return r;
}

void
zk_kstat_free(zk_kstat *ks, size_t n)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(ks[i].values);
	free(ks);
}

/* ---- the compact snapshot ------------------------------------------------- */

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
	size_t off = sizeof(ks_file_hdr);
	for (int i = 0; i < count; i++) {
		const ks_hdr *k = (const ks_hdr *)(buf + off);
		int r = snap_add_kstat(s, k, i < MAX_HINTS ? &s->hints[i] :
		    NULL);
		if (r < 0)
			return r;
		off += sizeof(*k) + k->nstats * sizeof(ks_slot);
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
	return read_dir_files(dir, snap_expect, snap_add_file, s, err);
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
