/*
 * File digests for image verification.  IMGAPI names image files by sha1,
 * so that is what we compute, streaming: image files are far larger than
 * memory should be asked to hold.
 */
#include "image_install.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <unistd.h>

#include "cleanup.h"

static inline void
zk_md_ctx_freep(EVP_MD_CTX **c)
{
	EVP_MD_CTX_free(*c);
}
#define _cleanup_md_ctx_ _cleanup_(zk_md_ctx_freep)

#define READ_CHUNK (256 * 1024)

/* Feed the whole file to ctx; returns 0 or -errno. */
static int
digest_fd(int fd, EVP_MD_CTX *ctx, uint64_t *total)
{
	_cleanup_free_ unsigned char *buf = malloc(READ_CHUNK);
	if (buf == NULL)
		return -ENOMEM;
	*total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			return -EIO;
		*total += (uint64_t)n;
	}
}

int
zk_sha1_file(const char *path, char hex[41], uint64_t *size, zk_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);

	_cleanup_md_ctx_ EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1)
		return zk_fail(err, EIO, "%s: cannot initialise sha1", path);

	uint64_t total = 0;
	int r = digest_fd(fd, ctx, &total);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot read %s", path);

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 20)
		return zk_fail(err, EIO, "%s: cannot finish sha1", path);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (size != NULL)
		*size = total;
	return 0;
}
