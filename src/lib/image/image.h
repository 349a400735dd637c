/*
 * Local images: <root>/images/<uuid>/manifest.json plus <uuid>/root/, the
 * unpacked root file system zones are layered over.  Manifests are IMGAPI
 * v2.  Reading, holding and deleting them is here; installing them is in
 * image_install.h, apart, because it needs libarchive and libcrypto and
 * only imgadm installs.
 */
#ifndef ZK_IMAGE_H
#define ZK_IMAGE_H

#include <jansson.h>
#include "util/error.h"
#include "util/paths.h"

/* Validate an IMGAPI v2 manifest (uuid, name, version, type, os, files[0]
 * with sha1/size/compression, ...); errors name the field. */
int zk_image_manifest_validate(const json_t *manifest, zk_error *err);

/* -ZK_ENOIMAGE with `image "<uuid>" was not found on zpool "<pool>"`. */
int zk_image_get(const zk_paths *p, const char *uuid, json_t **manifest,
    zk_error *err);

/* Array of installed manifests, sorted by published_at then name. */
int zk_image_list(const zk_paths *p, json_t **manifests, zk_error *err);

/* Refused (-EBUSY, naming the zones) while any zone config uses it. */
int zk_image_delete(const zk_paths *p, const char *uuid, zk_error *err);

/* Keep an installed image from being deleted while the fd is open (shared
 * lock); -ZK_ENOIMAGE, and no lock file left, when it is not installed. */
int zk_image_hold(const zk_paths *p, const char *uuid, int *fd,
    zk_error *err);

#endif
