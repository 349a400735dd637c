/*
 * Installing images (image.h has the layout and the reading half): check
 * the file against the manifest, stage the complete image in a hidden
 * <root>/images/.<uuid>-partial, rename it into place, all under the
 * image's exclusive lock.  Its own file because it pulls in the unpacker
 * (libarchive) and the digest (libcrypto), which only imgadm should load.
 *
 * The file is opened once, and that one open file is both verified and
 * unpacked: a file swapped at its path after the check is never read.
 * The unpacker digests what it reads again, so a file rewritten in place
 * by someone who can write to it is caught as well.
 */
#include "image/image_install.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "image/image.h"
#include "image/image_internal.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/json_util.h"

/* One install: what was verified and what bounds the unpacking. */
typedef struct install_job {
	const zk_paths *p;
	const json_t *m;
	const char *uuid;
	const char *file_path;
	int fd;			/* the image file, open once */
	zk_file_digest digest;	/* of fd, checked against the manifest */
	zk_image_config conf;
	char conf_path[PATH_MAX];
} install_job;

/* Only images zonekit can lay zones over: a tar of a root file system. */
static int
check_installable(const json_t *m, const char *uuid, zk_error *err)
{
	const char *type = zk_json_str(m, "type", "");
	if (strcmp(type, "zone-dataset") != 0 && strcmp(type, "lx-dataset") != 0)
		return zk_fail(err, ENOTSUP,
		    "image %s: type \"%s\" is not supported (zone-dataset and "
		    "lx-dataset are)", uuid, type);
	const char *origin = zk_json_str(m, "origin", NULL);
	if (origin != NULL)
		return zk_fail(err, ENOTSUP,
		    "image %s: incremental images (origin %s) are not supported",
		    uuid, origin);
	return 0;
}

/* O_NONBLOCK: a FIFO given as the file must not hang the open. */
static int
open_image_file(const char *path, int *out, zk_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return zk_fail_errno(err, errno, "cannot stat %s", path);
	if (!S_ISREG(st.st_mode))
		return zk_fail(err, EINVAL, "%s is not a regular file", path);
	*out = TAKE_FD(fd);
	return 0;
}

static int
check_sum(const char *uuid, const char *algo, const char *want,
    const char *got, zk_error *err)
{
	if (strcasecmp(want, got) == 0)
		return 0;
	return zk_fail(err, EINVAL, "image %s file checksum (%s) error: "
	    "expected \"%s\", file checksum was \"%s\"", uuid, algo, want, got);
}

/* Size, sha1 and (if given) sha256 against files[0], before anything is
 * created. */
static int
verify_file(install_job *j, zk_error *err)
{
	const json_t *f = json_array_get(json_object_get(j->m, "files"), 0);
	uint64_t want_size = (uint64_t)zk_json_int(f, "size", 0);
	int r = zk_digest_fd(j->fd, j->file_path, &j->digest, err);
	if (r < 0)
		return r;
	if (j->digest.size != want_size)
		return zk_fail(err, EINVAL, "image %s file size error: expected "
		    "%" PRIu64 ", file size was %" PRIu64, j->uuid, want_size,
		    j->digest.size);
	if ((r = check_sum(j->uuid, "sha1", zk_json_str(f, "sha1", ""),
	    j->digest.sha1, err)) < 0)
		return r;
	const char *sha256 = zk_json_str(f, "sha256", NULL);
	return sha256 == NULL ? 0 :
	    check_sum(j->uuid, "sha256", sha256, j->digest.sha256, err);
}

/* Unpack within the limits of the file system the image lands on. */
static int
unpack_bounded(const install_job *j, int rootfd, zk_error *err)
{
	struct statvfs fs;
	if (fstatvfs(rootfd, &fs) < 0)
		return zk_fail_errno(err, errno, "cannot tell the free space "
		    "for image %s", j->uuid);
	char images[PATH_MAX];
	zk_unpack_limits limits;
	zk_unpack_limits_for(&j->conf, j->conf_path, &fs,
	    zk_path_images_dir(j->p, images), &limits);
	zk_file_digest seen;
	if (zk_unpack_archive(j->fd, j->file_path, rootfd, &limits, &seen,
	    err) < 0)
		return zk_error_prefix(err, "cannot unpack image %s", j->uuid);
	if (seen.size != j->digest.size ||
	    strcmp(seen.sha256, j->digest.sha256) != 0)
		return zk_fail(err, EIO, "image %s: %s changed while it was "
		    "being installed", j->uuid, j->file_path);
	return 0;
}

/*
 * Build the complete image in the staging directory.  It is 0700: the
 * image root holds setuid binaries owned by host uids, which host users
 * must not reach.
 */
static int
stage(const install_job *j, const char *partial, zk_error *err)
{
	char root[PATH_MAX], manifest[PATH_MAX];
	snprintf(root, sizeof(root), "%s/root", partial);
	snprintf(manifest, sizeof(manifest), "%s/manifest.json", partial);
	if (mkdir(partial, 0700) < 0)
		return zk_fail_errno(err, errno, "cannot create %s", partial);
	if (mkdir(root, 0755) < 0)
		return zk_fail_errno(err, errno, "cannot create %s", root);
	_cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", root);
	int r = unpack_bounded(j, fd, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *text = zk_json_dump_pretty(j->m);
	if (text == NULL)
		return zk_fail(err, ENOMEM, "image %s: cannot serialise manifest",
		    j->uuid);
	return zk_write_file_atomic(manifest, text, strlen(text), 0644, err);
}

/* Stage, then rename into place; on failure nothing stays behind. */
static int
install_locked(const install_job *j, zk_error *err)
{
	char images[PATH_MAX], dir[PATH_MAX], partial[PATH_MAX];
	zk_path_images_dir(j->p, images);
	zk_path_image(j->p, j->uuid, dir);
	zk_image_hidden_path(j->p, j->uuid, "partial", partial);
	int r = zk_mkdir_p(images, 0755, err);
	if (r < 0)
		return r;
	/* We hold the lock, so a staging dir is a crashed install's. */
	if ((r = zk_rm_rf(partial, err)) < 0)
		return r;
	r = stage(j, partial, err);
	if (r == 0 && renameat2(AT_FDCWD, partial, AT_FDCWD, dir,
	    RENAME_NOREPLACE) < 0)
		r = zk_fail_errno(err, errno, "cannot rename %s to %s", partial,
		    dir);
	if (r < 0) {
		zk_error ignored;
		zk_rm_rf(partial, &ignored);
		return r;
	}
	return zk_fsync_dir(images, err);
}

/* files[0].sha256 as computed (lower case), beside IMGAPI's sha1. */
static int
record_sha256(json_t *m, const install_job *j, zk_error *err)
{
	json_t *f = json_array_get(json_object_get(m, "files"), 0);
	if (json_object_set_new(f, "sha256", json_string(j->digest.sha256)) < 0)
		return zk_fail(err, ENOMEM, "image %s: out of memory", j->uuid);
	return 0;
}

static int
load_manifest(const char *path, json_t **m, zk_error *err)
{
	int r = zk_json_load_file(path, m, err);
	if (r < 0)
		return r;
	if ((r = zk_image_manifest_validate(*m, err)) < 0)
		return r;
	return check_installable(*m, zk_json_str(*m, "uuid", ""), err);
}

int
zk_image_install(const zk_paths *p, const char *manifest_path,
    const char *file_path, json_t **out, zk_error *err)
{
	_cleanup_json_ json_t *m = NULL;
	int r = load_manifest(manifest_path, &m, err);
	if (r < 0)
		return r;
	install_job j = { .p = p, .m = m, .uuid = zk_json_str(m, "uuid", ""),
	    .file_path = file_path, .fd = -1 };
	char cfgdir[PATH_MAX];
	snprintf(j.conf_path, sizeof(j.conf_path), "%s/imgadm.conf",
	    zk_path_config_dir(p, cfgdir));
	if ((r = zk_image_config_load(j.conf_path, &j.conf, err)) < 0)
		return r;
	_cleanup_close_ int lock = -1;
	if ((r = zk_image_lock(p, j.uuid, false, &lock, err)) < 0)
		return r;
	char dir[PATH_MAX];
	if (zk_path_exists(zk_path_image(p, j.uuid, dir)))
		return zk_fail(err, EEXIST, "image %s is already installed",
		    j.uuid);
	_cleanup_close_ int fd = -1;
	if ((r = open_image_file(file_path, &fd, err)) < 0)
		return r;
	j.fd = fd;
	if ((r = verify_file(&j, err)) < 0 ||
	    (r = record_sha256(m, &j, err)) < 0 ||
	    (r = install_locked(&j, err)) < 0)
		return r;
	if (out != NULL)
		*out = TAKE_PTR(m);
	return 0;
}
