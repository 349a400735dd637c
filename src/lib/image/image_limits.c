/*
 * How much an image may unpack (image_install.h): ceilings from
 * <root>/config/imgadm.conf, and what the pool has free.  An image is
 * untrusted input, so without these a small file could fill the pool or
 * exhaust its inodes (a gzip bomb), and take every zone on it down.
 */
#include "image/image_install.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/json_util.h"

#define RESERVE_BYTES_MAX (1ULL << 30)
#define RESERVE_INODES_MAX 100000ULL

static int
read_key(const json_t *conf, const char *path, const char *key,
    const char *unit, uint64_t *out, zk_error *err)
{
	const json_t *v = json_object_get(conf, key);
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return zk_fail(err, EINVAL, "%s: \"%s\" must be a positive "
		    "integer (%s)", path, key, unit);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int
zk_image_config_parse(const json_t *conf, const char *path,
    zk_image_config *c, zk_error *err)
{
	*c = (zk_image_config){
		.max_unpacked_size = ZK_IMAGE_MAX_UNPACKED_SIZE,
		.max_apparent_size = ZK_IMAGE_MAX_APPARENT_SIZE,
		.max_unpacked_files = ZK_IMAGE_MAX_UNPACKED_FILES,
	};
	if (conf == NULL)
		return 0;
	int r;
	if ((r = read_key(conf, path, "maxUnpackedSize", "bytes",
	    &c->max_unpacked_size, err)) < 0 ||
	    (r = read_key(conf, path, "maxApparentSize", "bytes",
	    &c->max_apparent_size, err)) < 0 ||
	    (r = read_key(conf, path, "maxUnpackedFiles", "files",
	    &c->max_unpacked_files, err)) < 0)
		return r;
	return 0;
}

int
zk_image_config_load(const char *path, zk_image_config *c, zk_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r = zk_read_file(path, &text, NULL, err);
	if (r == -ENOENT)
		return zk_image_config_parse(NULL, path, c, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *conf = NULL;
	if ((r = zk_json_parse_object(text, path, &conf, err)) < 0)
		return r;
	return zk_image_config_parse(conf, path, c, err);
}

/* What is free beyond the reserve: 5 % of the total, at most cap. */
static uint64_t
usable(uint64_t free, uint64_t total, uint64_t cap, uint64_t *reserve)
{
	*reserve = total / 20 < cap ? total / 20 : cap;
	return free > *reserve ? free - *reserve : 0;
}

/* The smaller of the ceiling and what the file system has free. */
static void
pick(zk_unpack_limit *l, uint64_t ceiling, const char *key,
    const char *conf_path, uint64_t room, const char *room_what)
{
	if (ceiling <= room) {
		l->max = ceiling;
		snprintf(l->what, sizeof(l->what), "%s in %s", key, conf_path);
	} else {
		l->max = room;
		snprintf(l->what, sizeof(l->what), "%s", room_what);
	}
}

/* Bytes written: the ceiling, or the free space beyond the reserve. */
static void
limit_data(const zk_image_config *c, const char *conf_path,
    const struct statvfs *fs, const char *dir, zk_unpack_limit *l)
{
	uint64_t frsize = fs->f_frsize ? fs->f_frsize : fs->f_bsize;
	uint64_t reserve;
	uint64_t room = usable((uint64_t)fs->f_bavail * frsize,
	    (uint64_t)fs->f_blocks * frsize, RESERVE_BYTES_MAX, &reserve);
	char what[sizeof(l->what)];
	snprintf(what, sizeof(what), "free space on %s less a reserve of "
	    "%" PRIu64 " bytes", dir, reserve);
	pick(l, c->max_unpacked_size, "maxUnpackedSize", conf_path, room, what);
}

/* f_files 0: inodes are allocated as needed (btrfs), so only the
 * ceiling counts. */
static void
limit_files(const zk_image_config *c, const char *conf_path,
    const struct statvfs *fs, const char *dir, zk_unpack_limit *l)
{
	uint64_t reserve = 0, room = UINT64_MAX;
	if (fs->f_files != 0)
		room = usable(fs->f_favail, fs->f_files, RESERVE_INODES_MAX,
		    &reserve);
	char what[sizeof(l->what)];
	snprintf(what, sizeof(what), "free inodes on %s less a reserve of "
	    "%" PRIu64, dir, reserve);
	pick(l, c->max_unpacked_files, "maxUnpackedFiles", conf_path, room,
	    what);
}

void
zk_unpack_limits_for(const zk_image_config *c, const char *conf_path,
    const struct statvfs *fs, const char *dir, zk_unpack_limits *out)
{
	limit_data(c, conf_path, fs, dir, &out->data);
	limit_files(c, conf_path, fs, dir, &out->files);
	/* Holes take no room, so only the ceiling bounds them. */
	pick(&out->apparent, c->max_apparent_size, "maxApparentSize",
	    conf_path, UINT64_MAX, "");
	/* A hostile archive of long-named directories must not grow imgadm
	 * without bound while their metadata waits for the end. */
	out->memory.max = ZK_UNPACK_MEMORY_MAX;
	snprintf(out->memory.what, sizeof(out->memory.what),
	    "memory held until the end of the archive");
}
