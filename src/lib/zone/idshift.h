/*
 * Shifting a zone's own files into its id range, once, for zones made
 * before zones had user namespaces: their writable layer was written by
 * host root, so its files carry the zone's ids unshifted (0 for root).
 * Ids below the range's count move up by its base; ids already inside the
 * range stay, so an interrupted shift is simply run again.  Symlinks are
 * never followed and the walk stays on the dataset's file system.
 */
#ifndef ZK_IDSHIFT_H
#define ZK_IDSHIFT_H

#include "util/error.h"
#include "zone/idmap.h"

int zk_idshift_tree(const char *dir, const zk_idmap *m, zk_error *err);

#endif
