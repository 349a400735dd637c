/*
 * Installing images (image.h has the layout and the reading half): check
 * the file against the manifest, stage the complete image in a hidden
 * <root>/images/.<uuid>-partial, rename it into place, all under the
 * image's exclusive lock.  Its own file because it pulls in the unpacker
 * (libarchive) and the digest (libcrypto), which only imgadm should load.
 */
#include "image_install.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fsutil.h"
#include "image.h"
#include "image_internal.h"
#include "json_util.h"

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

/* Size and sha1 against files[0], before anything is created. */
static int
verify_file(const json_t *m, const char *uuid, const char *file_path,
    zk_error *err)
{
	const json_t *f = json_array_get(json_object_get(m, "files"), 0);
	const char *want_sha1 = zk_json_str(f, "sha1", "");
	uint64_t want_size = (uint64_t)zk_json_int(f, "size", 0);
	char sha1[41];
	uint64_t size;
	int r = zk_sha1_file(file_path, sha1, &size, err);
	if (r < 0)
		return r;
	if (size != want_size)
		return zk_fail(err, EINVAL, "image %s file size error: expected "
		    "%" PRIu64 ", file size was %" PRIu64, uuid, want_size, size);
	if (strcasecmp(sha1, want_sha1) != 0)
		return zk_fail(err, EINVAL, "image %s file checksum (sha1) error: "
		    "expected \"%s\", file checksum was \"%s\"", uuid, want_sha1,
		    sha1);
	return 0;
}

/*
 * Build the complete image in the staging directory.  It is 0700: the
 * image root holds setuid binaries owned by host uids, which host users
 * must not reach.
 */
static int
stage(const json_t *m, const char *uuid, const char *file_path,
    const char *partial, zk_error *err)
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
	int r = zk_unpack_archive(file_path, fd, err);
	if (r < 0)
		return zk_error_prefix(err, "cannot unpack image %s", uuid);
	_cleanup_free_ char *text = zk_json_dump_pretty(m);
	if (text == NULL)
		return zk_fail(err, ENOMEM, "image %s: cannot serialise manifest",
		    uuid);
	return zk_write_file_atomic(manifest, text, strlen(text), 0644, err);
}

/* Stage, then rename into place; on failure nothing stays behind. */
static int
install_locked(const zk_paths *p, const json_t *m, const char *uuid,
    const char *file_path, zk_error *err)
{
	char images[PATH_MAX], dir[PATH_MAX], partial[PATH_MAX];
	zk_path_images_dir(p, images);
	zk_path_image(p, uuid, dir);
	zk_image_hidden_path(p, uuid, "partial", partial);
	int r = zk_mkdir_p(images, 0755, err);
	if (r < 0)
		return r;
	/* We hold the lock, so a staging dir is a crashed install's. */
	if ((r = zk_rm_rf(partial, err)) < 0)
		return r;
	r = stage(m, uuid, file_path, partial, err);
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

int
zk_image_install(const zk_paths *p, const char *manifest_path,
    const char *file_path, json_t **out, zk_error *err)
{
	_cleanup_json_ json_t *m = NULL;
	int r = zk_json_load_file(manifest_path, &m, err);
	if (r < 0)
		return r;
	if ((r = zk_image_manifest_validate(m, err)) < 0)
		return r;
	const char *uuid = zk_json_str(m, "uuid", "");
	if ((r = check_installable(m, uuid, err)) < 0)
		return r;
	_cleanup_close_ int lock = -1;
	if ((r = zk_image_lock(p, uuid, false, &lock, err)) < 0)
		return r;
	char dir[PATH_MAX];
	if (zk_path_exists(zk_path_image(p, uuid, dir)))
		return zk_fail(err, EEXIST, "image %s is already installed", uuid);
	if ((r = verify_file(m, uuid, file_path, err)) < 0 ||
	    (r = install_locked(p, m, uuid, file_path, err)) < 0)
		return r;
	if (out != NULL)
		*out = TAKE_PTR(m);
	return 0;
}
