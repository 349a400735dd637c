/*
 * Digests of image files: sha1, because IMGAPI names files by it, and
 * sha256, which zonekit records beside it because sha1 collisions can be
 * made.  Streaming: image files are far larger than memory should hold.
 * Part of libzonekit_image (libcrypto), like image_install.h.
 */
#ifndef ZK_DIGEST_H
#define ZK_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

typedef struct zk_file_digest {
	uint64_t size;
	char sha1[41];		/* lower-case hex; "" when not asked for */
	char sha256[65];
} zk_file_digest;

/*
 * sha256, and sha1 when asked (it costs three times as much, so a check
 * that only compares sha256 goes without), fed in pieces: one pass.
 */
typedef struct zk_digest zk_digest;

zk_digest *zk_digest_new(bool sha1);	/* NULL: out of memory */
void zk_digest_free(zk_digest *d);
int zk_digest_update(zk_digest *d, const void *buf, size_t len);  /* -EIO */
int zk_digest_end(zk_digest *d, zk_file_digest *out);		   /* -EIO */

static inline void zk_digest_freep(zk_digest **d) { zk_digest_free(*d); }
#define _cleanup_digest_ __attribute__((cleanup(zk_digest_freep)))

/*
 * Both digests of the whole file open as fd, from offset 0 to its end
 * (pread: the fd's offset is left alone).  name is for messages.
 */
int zk_digest_fd(int fd, const char *name, zk_file_digest *out,
    zk_error *err);

#endif
