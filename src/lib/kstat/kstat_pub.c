/* The kstat store's publisher (kstat_store.h, kstat_file.h). */
#include "kstat/kstat_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kstat/kstat_file.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fsutil.h"

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


static size_t
layout_size(const zk_kstat_def *defs, size_t ndefs)
{
	size_t size = sizeof(ks_file_hdr);
	for (size_t i = 0; i < ndefs; i++)
		size += ks_record_size(defs[i].nstats);
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
		off += ks_record_size(d->nstats);
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
