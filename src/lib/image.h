/*
 * Local images: <root>/images/<uuid>/manifest.json plus <uuid>/root/, the
 * unpacked root file system zones are layered over.  Manifests are IMGAPI
 * v2.  Installs are all-or-nothing: verify, unpack into a hidden partial
 * directory, then rename into place.
 */
#ifndef ZK_IMAGE_H
#define ZK_IMAGE_H

#include <jansson.h>
#include <stdint.h>
#include "error.h"
#include "paths.h"

/* Validate an IMGAPI v2 manifest (uuid, name, version, type, os, files[0]
 * with sha1/size/compression, ...); errors name the field. */
int zk_image_manifest_validate(const json_t *manifest, zk_error *err);

/*
 * imgadm install -m manifest -f file.  Checks the file's size and sha1
 * against files[0] before anything lands (the error names expected and
 * actual), refuses an already-installed uuid, unpacks safely, renames into
 * place.  *out (may be NULL) receives the stored manifest.
 */
int zk_image_install(const zk_paths *p, const char *manifest_path,
    const char *file_path, json_t **out, zk_error *err);

/* -ENOENT with `image "<uuid>" was not found on zpool "<pool>"`. */
int zk_image_get(const zk_paths *p, const char *uuid, json_t **manifest,
    zk_error *err);

/* Array of installed manifests, sorted by published_at then name. */
int zk_image_list(const zk_paths *p, json_t **manifests, zk_error *err);

/* Refused (-EBUSY, naming the zones) while any zone config uses it. */
int zk_image_delete(const zk_paths *p, const char *uuid, zk_error *err);

/* Keep the image from being deleted while the fd is open (shared lock). */
int zk_image_hold(const zk_paths *p, const char *uuid, int *fd,
    zk_error *err);

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
