/*
 * The kstat store's file (kstat_store.h), private to its three parts: the
 * publisher (kstat_pub.c), the reader (kstat_read.c) and the compact
 * snapshot (kstat_snap.c).  One memory-mapped file per publisher, read by
 * anyone with plain preads.
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
#ifndef ZK_KSTAT_FILE_H
#define ZK_KSTAT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "kstat/kstat_store.h"

#define KS_MAGIC 0x534b4b5aU	/* "ZKKS" in a little-endian dump */
#define KS_VERSION 1
#define KS_NAMESZ 32		/* ZK_KSTAT_STRLEN rounded up for alignment */

/* Larger files are not ours: refuse instead of allocating without bound. */
#define KS_MAX_FILE (16u << 20)

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

/* The bytes of one kstat: its header and its slots. */
static inline size_t
ks_record_size(size_t nstats)
{
	return sizeof(ks_hdr) + nstats * sizeof(ks_slot);
}

/* The kstats of a file that zk_ks_read_dir_files has checked. */
static inline const ks_hdr *
ks_first(const uint8_t *file)
{
	return (const ks_hdr *)(file + sizeof(ks_file_hdr));
}

static inline const ks_hdr *
ks_next(const ks_hdr *k)
{
	return (const ks_hdr *)((const uint8_t *)k + ks_record_size(k->nstats));
}

/* What to do with each validated file image of a directory. */
typedef int zk_ks_file_fn(void *arg, const uint8_t *buf, size_t n,
    int nkstats);
/* Told how many files a directory holds before the first is read. */
typedef int zk_ks_expect_fn(void *arg, size_t nfiles);

/*
 * Hand every consistent, valid file under dir to fn, in directory order;
 * expect (if any) is told first how many files there are.  The listing
 * is taken first, so that is known.  A missing dir holds no files.
 */
int zk_ks_read_dir_files(const char *dir, zk_ks_expect_fn *expect,
    zk_ks_file_fn *fn, void *arg, zk_error *err);

#endif
