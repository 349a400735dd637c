/*
 * Shared by image.c and image_install.c, not part of the library's API:
 * the hidden staging/deleting directories and the per-image lock that
 * both halves must agree on.
 */
#ifndef ZK_IMAGE_INTERNAL_H
#define ZK_IMAGE_INTERNAL_H

#include <stdbool.h>
#include "util/error.h"
#include "util/paths.h"

/* <root>/images/.<uuid>-<suffix>: hidden from readers, which want UUIDs. */
char *zk_image_hidden_path(const zk_paths *p, const char *uuid,
    const char *suffix, char *buf);

/*
 * Install and delete of one image are serialised by an exclusive lock;
 * vmadm create holds it shared while it records a zone on the image
 * (zk_image_hold), so an image cannot vanish under a new zone.  The lock
 * lives in the run dir, so a failed install leaves nothing under images.
 */
int zk_image_lock(const zk_paths *p, const char *uuid, bool shared, int *fd,
    zk_error *err);

#endif
