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
#include "error.h"
#include "paths.h"

/*
 * imgadm install -m manifest -f file.  Checks the file's size and sha1
 * against files[0] before anything lands (the error names expected and
 * actual), refuses an already-installed uuid, unpacks safely, renames into
 * place.  *out (may be NULL) receives the stored manifest.
 */
int zk_image_install(const zk_paths *p, const char *manifest_path,
    const char *file_path, json_t **out, zk_error *err);

/* sha1 of a file as 40 lower-case hex digits, and its size. */
int zk_sha1_file(const char *path, char hex[41], uint64_t *size,
    zk_error *err);

/*
 * Unpack an archive (tar; gzip, bzip2, xz or none) into the directory
 * dest_dirfd without ever following a link: every entry is created
 * relative to dest_dirfd with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS
 * ...) semantics.  Refuses absolute paths, "..", hard links or relative
 * symlinks that escape the root, and device nodes.  Absolute symlinks are
 * kept (they resolve inside the zone's root).  Ownership, modes (incl.
 * setuid) and mtimes are preserved.  On error the caller removes the
 * partial tree.
 */
int zk_unpack_archive(const char *archive_path, int dest_dirfd, zk_error *err);

#endif
