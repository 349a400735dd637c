/*
 * Installing images: verify the file, unpack it, rename it into place.
 * Apart from image.h because this half needs libarchive and libcrypto:
 * link it with zk_image_install_dep (only imgadm does), so commands that
 * only read images start without loading them.
 */
#ifndef ZK_IMAGE_INSTALL_H
#define ZK_IMAGE_INSTALL_H

#include <jansson.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include "image/digest.h"
#include "util/error.h"
#include "util/paths.h"

/*
 * imgadm install -m manifest -f file.  Opens the file once: its size,
 * sha1 (and sha256 when the manifest has one) are checked against files[0]
 * before anything lands (the error names expected and actual), and the
 * same open file is unpacked, within the limits of <root>/config/
 * imgadm.conf and the pool's free space.  Refuses an already-installed
 * uuid; renames into place.  *out (may be NULL) receives the stored
 * manifest, which has files[0].sha256 added.
 */
int zk_image_install(const zk_paths *p, const char *manifest_path,
    const char *file_path, json_t **out, zk_error *err);

/* ---- limits ----------------------------------------------------------- */

/* <root>/config/imgadm.conf: JSON, as SmartOS's /var/imgadm/imgadm.conf. */
typedef struct zk_image_config {
	uint64_t max_unpacked_size;	/* "maxUnpackedSize": bytes written */
	uint64_t max_apparent_size;	/* "maxApparentSize": holes included */
	uint64_t max_unpacked_files;	/* "maxUnpackedFiles" */
} zk_image_config;

#define ZK_IMAGE_MAX_UNPACKED_SIZE (64ULL << 30)
#define ZK_IMAGE_MAX_APPARENT_SIZE (1ULL << 40)
#define ZK_IMAGE_MAX_UNPACKED_FILES 1000000ULL

/*
 * The defaults, overridden by the keys of the object conf (NULL: none);
 * other keys are left to other readers of the file, as on SmartOS.  A bad
 * value is -EINVAL naming the key; path is for messages.
 */
int zk_image_config_parse(const json_t *conf, const char *path,
    zk_image_config *c, zk_error *err);
/* The same from a file; a missing file gives the defaults. */
int zk_image_config_load(const char *path, zk_image_config *c,
    zk_error *err);

typedef struct zk_unpack_limit {
	uint64_t max;
	char what[192];		/* where max comes from, for the message */
} zk_unpack_limit;

typedef struct zk_unpack_limits {
	zk_unpack_limit data;		/* bytes written: holes are free */
	zk_unpack_limit apparent;	/* sum of regular files' sizes */
	zk_unpack_limit files;		/* objects created, parents included */
	zk_unpack_limit memory;		/* directory metadata held to the end */
} zk_unpack_limits;

/* Holds a path per directory: hundreds of thousands of real ones. */
#define ZK_UNPACK_MEMORY_MAX (64ULL << 20)

/*
 * The limits for unpacking onto the file system described by fs (the
 * statvfs of the staging directory, dir for messages): the configured
 * ceilings, and for data and files also what is free there less a reserve
 * of 5 % of the file system (at most 1 GiB and 100,000 inodes), so an
 * image can never take the last of the pool; memory ZK_UNPACK_MEMORY_MAX.
 * conf_path is for messages.
 */
void zk_unpack_limits_for(const zk_image_config *c, const char *conf_path,
    const struct statvfs *fs, const char *dir, zk_unpack_limits *out);

/* ---- unpacking -------------------------------------------------------- */

/*
 * Unpack the archive open as archive_fd (tar; gzip, bzip2, xz or none),
 * read from offset 0 with pread, into the directory dest_dirfd without
 * ever following a link: every entry is created relative to dest_dirfd
 * with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS ...) semantics.
 * Refuses absolute paths, "..", hard links or relative symlinks that
 * escape the root, device nodes, and anything past a limit, checked as
 * the archive streams (nothing past a limit is written).  Holes of sparse
 * files stay holes.  Absolute symlinks are kept (they resolve inside the
 * zone's root).  Ownership, modes (incl. setuid) and mtimes are
 * preserved.  *seen (may be NULL) receives the size and sha256 (no sha1)
 * of every byte read, to the end of the file, so the caller can tell that
 * what was unpacked is what it verified.  name is for messages.  On error the caller
 * removes the partial tree.
 */
int zk_unpack_archive(int archive_fd, const char *name, int dest_dirfd,
    const zk_unpack_limits *limits, zk_file_digest *seen, zk_error *err);

#endif
