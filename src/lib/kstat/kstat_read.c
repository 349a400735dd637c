/*
 * The kstat store's reader (kstat_store.h, kstat_file.h): every file of a
 * directory copied consistently and checked before anything is trusted.
 */
#include "kstat/kstat_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kstat/kstat_file.h"
#include "util/cleanup.h"

/* A reader gives up on a file whose publisher never lets it in. */
#define KS_READ_TRIES 100
/* Most publisher files (a zone: 3 kstats, ~40 stats) fit in one read. */
#define KS_READ_BUF (64u << 10)

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

static int
append_file(void *arg, const uint8_t *buf, size_t n, int count)
{
	ks_list *l = arg;
	(void)n;
	if (ks_list_reserve(l, (size_t)count) < 0)
		return -ENOMEM;
	const ks_hdr *k = ks_first(buf);
	for (int i = 0; i < count; i++, k = ks_next(k)) {
		if (copy_kstat(&l->v[l->n], k) < 0)
			return -ENOMEM;
		l->n++;
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
    zk_ks_file_fn *fn, void *arg)
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
read_entries(int dfd, const entries *e, zk_ks_file_fn *fn, void *arg)
{
	read_buf b = { .data = malloc(KS_READ_BUF), .cap = KS_READ_BUF };
	bool noatime = true;
	int r = b.data ? 0 : -ENOMEM;
	for (size_t i = 0; i < e->n && r == 0; i++)
		r = read_file(dfd, e->names + e->off[i], &b, &noatime, fn, arg);
	free(b.data);
	return r;
}

int
zk_ks_read_dir_files(const char *dir, zk_ks_expect_fn *expect,
    zk_ks_file_fn *fn, void *arg, zk_error *err)
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
	int r = zk_ks_read_dir_files(dir, NULL, append_file, &l, err);
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
