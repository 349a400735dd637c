/*
 * The zone's root file system, assembled by zoneadmd (host root) inside
 * the zone's new mount namespace before the zone's init runs: the image,
 * idmapped to the zone's user namespace and read-only, under the zone's
 * writable layer, as one overlay mounted nodev.  Only host root can
 * idmap a mount, and an overlay mounted from the host's user namespace
 * keeps the writable layers' format (trusted.overlay xattrs) that zones
 * had before user namespaces.  The host's own mount table never sees any
 * of it.
 */
#ifndef ZK_ZONE_ROOT_H
#define ZK_ZONE_ROOT_H

#include <sys/types.h>
#include "storage/storage.h"
#include "util/error.h"

/*
 * pid: the zone's init, already in its user and mount namespaces (with
 * its maps written) and waiting.  *root is the mounted root, for the
 * zone's init to start from: the dataset above it is host root's alone.
 * Fails with a message saying what the kernel lacks when it cannot idmap
 * the image.
 */
int zk_zone_root_mount(const zk_root_layers *l, pid_t pid, int *root,
    zk_error *err);

/*
 * Where the process cannot make these calls itself (valgrind), the same
 * steps run in a fresh exec of the calling program (zoneadmd) with
 * argv[1] ZK_ZONE_ROOT_HELPER: its main reads the rest with
 * zk_zone_root_helper_args, runs zk_zone_root_mount_in, prints the error
 * message alone on stdout and exits non-zero on failure.
 */
#define ZK_ZONE_ROOT_HELPER "--zone-root-helper"
int zk_zone_root_helper_args(int argc, char *argv[], zk_root_layers *l,
    pid_t *pid, zk_error *err);
int zk_zone_root_mount_in(const zk_root_layers *l, pid_t pid, zk_error *err);

#endif
