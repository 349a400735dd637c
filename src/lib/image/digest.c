/*
 * sha1 and sha256 of image files (digest.h), fed together so a file is
 * read once for both.
 */
#include "image/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/cleanup.h"

#define READ_CHUNK (256 * 1024)

struct zk_digest {
	EVP_MD_CTX *sha1;	/* NULL: not asked for */
	EVP_MD_CTX *sha256;
	uint64_t size;
};

void
zk_digest_free(zk_digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->sha1);
	EVP_MD_CTX_free(d->sha256);
	free(d);
}

zk_digest *
zk_digest_new(bool sha1)
{
	zk_digest *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->sha1 = sha1 ? EVP_MD_CTX_new() : NULL;
	d->sha256 = EVP_MD_CTX_new();
	if ((sha1 && (d->sha1 == NULL ||
	    EVP_DigestInit_ex(d->sha1, EVP_sha1(), NULL) != 1)) ||
	    d->sha256 == NULL ||
	    EVP_DigestInit_ex(d->sha256, EVP_sha256(), NULL) != 1) {
		zk_digest_free(d);
		return NULL;
	}
	return d;
}

int
zk_digest_update(zk_digest *d, const void *buf, size_t len)
{
	if ((d->sha1 != NULL && EVP_DigestUpdate(d->sha1, buf, len) != 1) ||
	    EVP_DigestUpdate(d->sha256, buf, len) != 1)
		return -EIO;
	d->size += len;
	return 0;
}

static int
hex_final(EVP_MD_CTX *ctx, char *hex, unsigned int want)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != want)
		return -EIO;
	for (unsigned int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
zk_digest_end(zk_digest *d, zk_file_digest *out)
{
	out->size = d->size;
	out->sha1[0] = '\0';
	if ((d->sha1 != NULL && hex_final(d->sha1, out->sha1, 20) < 0) ||
	    hex_final(d->sha256, out->sha256, 32) < 0)
		return -EIO;
	return 0;
}

int
zk_digest_fd(int fd, const char *name, zk_file_digest *out, zk_error *err)
{
	_cleanup_digest_ zk_digest *d = zk_digest_new(true);
	_cleanup_free_ unsigned char *buf = malloc(READ_CHUNK);
	if (d == NULL || buf == NULL)
		return zk_fail(err, ENOMEM, "%s: cannot set up digests", name);
	for (off_t off = 0; ; ) {
		ssize_t n = pread(fd, buf, READ_CHUNK, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return zk_fail_errno(err, errno, "cannot read %s", name);
		if (n == 0)
			break;
		if (zk_digest_update(d, buf, (size_t)n) < 0)
			return zk_fail(err, EIO, "%s: cannot compute digests",
			    name);
		off += n;
	}
	if (zk_digest_end(d, out) < 0)
		return zk_fail(err, EIO, "%s: cannot finish digests", name);
	return 0;
}
