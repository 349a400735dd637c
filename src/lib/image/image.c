/*
 * Local images: <root>/images/<uuid>/{manifest.json,root/}.  This file
 * reads, holds and deletes them; image_install.c installs them.
 *
 * An image directory exists only once it is complete: installs stage into
 * a hidden <root>/images/.<uuid>-partial and rename into place; deletes
 * rename to a hidden .<uuid>-deleting before removing.  So readers (list,
 * get, vmadm create) never see half an image, and a crash leaves only a
 * hidden directory that the next install or delete of that uuid clears.
 * Both run under a per-image lock so two of them cannot share a staging
 * directory.
 */
#include "image/image.h"
#include "image/image_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/store.h"
#include "storage/storage.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/json_util.h"
#include "util/lock.h"
#include "util/uuid.h"

/* ---- manifest validation -------------------------------------------- */

static const char *const image_states[] = {
	"active", "unactivated", "disabled", "creating", "failed", NULL
};
static const char *const image_types[] = {
	"zone-dataset", "lx-dataset", "zvol", "docker", "other", NULL
};
static const char *const image_oses[] = {
	"smartos", "linux", "windows", "bsd", "illumos", "other", NULL
};
static const char *const compressions[] = {
	"bzip2", "gzip", "xz", "none", NULL
};

static int
bad_field(zk_error *err, const char *field, const char *rule)
{
	return zk_fail(err, EINVAL, "manifest: \"%s\" %s", field, rule);
}

static bool
one_of(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* YYYY-MM-DDTHH:MM:SS[.fff]Z, the form IMGAPI publishes. */
static bool
iso8601_ok(const char *s)
{
	if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' ||
	    !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
	    s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return false;
	s += 19;
	if (*s == '.') {
		size_t n = strspn(s + 1, "0123456789");
		if (n == 0)
			return false;
		s += 1 + n;
	}
	return strcmp(s, "Z") == 0;
}

static bool
hex_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* A string field of 1..max characters (max 0: any length, may be empty). */
static int
check_string(const json_t *m, const char *key, bool required, size_t max,
    zk_error *err)
{
	const json_t *v = json_object_get(m, key);
	if (v == NULL && !required)
		return 0;
	if (max == 0)
		return json_is_string(v) ? 0 :
		    bad_field(err, key, "must be a string");
	if (json_is_string(v) && json_string_length(v) >= 1 &&
	    json_string_length(v) <= max)
		return 0;
	char rule[64];
	snprintf(rule, sizeof(rule), "must be a string of 1 to %zu characters",
	    max);
	return bad_field(err, key, rule);
}

static int
check_enum(const json_t *m, const char *key, bool required,
    const char *const *allowed, zk_error *err)
{
	const json_t *v = json_object_get(m, key);
	if (v == NULL && !required)
		return 0;
	if (json_is_string(v) && one_of(json_string_value(v), allowed))
		return 0;
	char rule[256] = "must be one of ";
	for (const char *const *a = allowed; *a != NULL; a++) {
		strcat(rule, *a);
		if (a[1] != NULL)
			strcat(rule, ", ");
	}
	return bad_field(err, key, rule);
}

static int
check_uuid(const json_t *m, const char *key, bool required, zk_error *err)
{
	const json_t *v = json_object_get(m, key);
	if (v == NULL && !required)
		return 0;
	if (json_is_string(v) && zk_uuid_valid(json_string_value(v)))
		return 0;
	return bad_field(err, key, "must be a UUID");
}

static int
check_type(const json_t *m, const char *key, int (*is)(const json_t *),
    const char *rule, zk_error *err)
{
	const json_t *v = json_object_get(m, key);
	return v == NULL || is(v) ? 0 : bad_field(err, key, rule);
}

/* jansson's type tests are macros; these give check_type a function. */
static int is_bool(const json_t *v) { return json_is_boolean(v); }
static int is_object(const json_t *v) { return json_is_object(v); }
static int
is_count(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int
check_files(const json_t *m, zk_error *err)
{
	const json_t *files = json_object_get(m, "files");
	if (!json_is_array(files) || json_array_size(files) != 1)
		return bad_field(err, "files",
		    "must be an array of exactly one file");
	const json_t *f = json_array_get(files, 0);
	if (!json_is_object(f))
		return bad_field(err, "files[0]", "must be an object");
	const json_t *sha1 = json_object_get(f, "sha1");
	if (!json_is_string(sha1) || !hex_digits(json_string_value(sha1), 40))
		return bad_field(err, "files[0].sha1", "must be 40 hex digits");
	/* Not IMGAPI's: zonekit records it, and checks it when present. */
	const json_t *sha256 = json_object_get(f, "sha256");
	if (sha256 != NULL && !(json_is_string(sha256) &&
	    hex_digits(json_string_value(sha256), 64)))
		return bad_field(err, "files[0].sha256", "must be 64 hex digits");
	if (!is_count(json_object_get(f, "size")))
		return bad_field(err, "files[0].size",
		    "must be a non-negative integer");
	const json_t *c = json_object_get(f, "compression");
	if (!json_is_string(c) || !one_of(json_string_value(c), compressions))
		return bad_field(err, "files[0].compression",
		    "must be one of bzip2, gzip, xz, none");
	return 0;
}

int
zk_image_manifest_validate(const json_t *m, zk_error *err)
{
	if (!json_is_object(m))
		return zk_fail(err, EINVAL, "manifest: must be a JSON object");
	const json_t *v = json_object_get(m, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return bad_field(err, "v", "must be 2");
	const json_t *pub = json_object_get(m, "published_at");
	int r;
	if ((r = check_uuid(m, "uuid", true, err)) < 0 ||
	    (r = check_uuid(m, "owner", false, err)) < 0 ||
	    (r = check_string(m, "name", true, 512, err)) < 0 ||
	    (r = check_string(m, "version", true, 128, err)) < 0 ||
	    (r = check_string(m, "description", false, 0, err)) < 0 ||
	    (r = check_string(m, "homepage", false, 0, err)) < 0 ||
	    (r = check_enum(m, "state", false, image_states, err)) < 0 ||
	    (r = check_type(m, "disabled", is_bool, "must be true or false",
	    err)) < 0 ||
	    (r = check_type(m, "public", is_bool, "must be true or false",
	    err)) < 0 ||
	    (r = check_enum(m, "type", true, image_types, err)) < 0 ||
	    (r = check_enum(m, "os", true, image_oses, err)) < 0 ||
	    (r = check_uuid(m, "origin", false, err)) < 0 ||
	    (r = check_files(m, err)) < 0 ||
	    (r = check_type(m, "requirements", is_object, "must be an object",
	    err)) < 0 ||
	    (r = check_type(m, "tags", is_object, "must be an object",
	    err)) < 0 ||
	    (r = check_type(m, "image_size", is_count,
	    "must be a non-negative integer", err)) < 0)
		return r;
	if (pub != NULL && !(json_is_string(pub) &&
	    iso8601_ok(json_string_value(pub))))
		return bad_field(err, "published_at",
		    "must be an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SS.sssZ)");
	return 0;
}

/* ---- paths and locking ------------------------------------------------ */

char *
zk_image_hidden_path(const zk_paths *p, const char *uuid, const char *suffix,
    char *buf)
{
	snprintf(buf, PATH_MAX, "%s/images/.%s-%s", p->root, uuid, suffix);
	return buf;
}

static char *
image_lock_name(const char *uuid, char name[64])
{
	snprintf(name, 64, "image-%s", uuid);
	return name;
}

int
zk_image_lock(const zk_paths *p, const char *uuid, bool shared, int *fd,
    zk_error *err)
{
	char name[64];
	return zk_lock(p, image_lock_name(uuid, name), shared, fd, err);
}

static int
not_found(const char *uuid, zk_error *err)
{
	return zk_fail(err, ZK_ENOIMAGE, "image \"%s\" was not found on "
	    "zpool \"%s\"", uuid, ZK_POOL_DEFAULT_NAME);
}

/*
 * The hold is taken only on an installed image, so a create naming a
 * missing one leaves no lock file.  An image deleted while we waited for
 * the lock has had its lock file removed, and ours is a new one: it goes
 * again, under the exclusive lock, unless the image came back meanwhile.
 */
int
zk_image_hold(const zk_paths *p, const char *uuid, int *fd, zk_error *err)
{
	char dir[PATH_MAX], name[64];
	if (!zk_uuid_valid(uuid) || !zk_path_exists(zk_path_image(p, uuid, dir)))
		return not_found(uuid, err);
	_cleanup_close_ int held = -1;
	int r = zk_image_lock(p, uuid, true, &held, err);
	if (r < 0)
		return r;
	if (zk_path_exists(dir)) {
		*fd = TAKE_FD(held);
		return 0;
	}
	close(TAKE_FD(held));
	zk_error ignored = { 0 };
	if (zk_image_lock(p, uuid, false, &held, &ignored) == 0 &&
	    !zk_path_exists(dir))
		(void)zk_lock_remove(p, image_lock_name(uuid, name), held,
		    &ignored);
	return not_found(uuid, err);
}

/* ---- get and list ----------------------------------------------------- */

int
zk_image_get(const zk_paths *p, const char *uuid, json_t **manifest,
    zk_error *err)
{
	if (!zk_uuid_valid(uuid))
		return zk_fail(err, EINVAL, "invalid image uuid \"%s\"", uuid);
	char dir[PATH_MAX], path[PATH_MAX];
	if (!zk_path_exists(zk_path_image(p, uuid, dir)))
		return not_found(uuid, err);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (zk_json_load_file(path, manifest, err) < 0) {
		/* Not "not found": the image is there but unreadable. */
		char why[ZK_ERROR_MAX];
		memcpy(why, err->msg, sizeof(why));
		return zk_fail(err, EIO, "image %s is damaged: %s", uuid, why);
	}
	return 0;
}

static int
manifest_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	static const char *const keys[] = { "published_at", "name", "version",
	    "uuid" };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(keys); i++) {
		int r = strcmp(zk_json_str(x, keys[i], ""),
		    zk_json_str(y, keys[i], ""));
		if (r != 0)
			return r;
	}
	return 0;
}

/* Sorted into a new array; uuid breaks ties so the order is stable. */
static json_t *
sorted(json_t *arr)
{
	size_t n = json_array_size(arr);
	_cleanup_free_ json_t **v = calloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array();
	if (v == NULL || out == NULL) {
		json_decref(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(arr, i);
	qsort(v, n, sizeof(*v), manifest_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	return out;
}

int
zk_image_list(const zk_paths *p, json_t **manifests, zk_error *err)
{
	char images[PATH_MAX];
	zk_path_images_dir(p, images);
	_cleanup_json_ json_t *arr = json_array();
	if (arr == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	_cleanup_closedir_ DIR *d = opendir(images);
	if (d == NULL && errno != ENOENT)
		return zk_fail_errno(err, errno, "cannot open %s", images);
	struct dirent *de;
	while (d != NULL && (errno = 0, de = readdir(d)) != NULL) {
		/* Staging and deleting directories are hidden, not UUIDs. */
		if (!zk_uuid_valid(de->d_name))
			continue;
		json_t *m;
		int r = zk_image_get(p, de->d_name, &m, err);
		if (r == -ZK_ENOIMAGE)
			continue;	/* deleted while we listed */
		if (r < 0)
			return r;
		json_array_append_new(arr, m);
	}
	if (d != NULL && errno != 0)
		return zk_fail_errno(err, errno, "cannot read %s", images);
	if ((*manifests = sorted(arr)) == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	return 0;
}

/* ---- delete ----------------------------------------------------------- */

static bool
zone_uses_image(const json_t *cfg, const char *uuid)
{
	if (strcmp(zk_json_str(cfg, "image_uuid", ""), uuid) == 0)
		return true;
	size_t i;
	const json_t *disk;
	json_array_foreach(json_object_get(cfg, "disks"), i, disk)
		if (strcmp(zk_json_str(disk, "image_uuid", ""), uuid) == 0)
			return true;
	return false;
}

/* Appends the uuids of the zones using the image to users (", "-joined). */
static int
find_users(const zk_paths *p, const char *uuid, char *users, size_t len,
    size_t *count, zk_error *err)
{
	char cfgdir[PATH_MAX];
	*count = 0;
	users[0] = '\0';
	if (!zk_path_exists(zk_path_config_dir(p, cfgdir)))
		return 0;
	char **zones = NULL;
	size_t n = 0;
	int r = zk_store_list(p, &zones, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_json_ json_t *cfg = NULL;
		r = zk_store_load(p, zones[i], &cfg, err);
		if (r == -ZK_ENOZONE) {
			r = 0;		/* deleted while we looked */
			continue;
		}
		if (r == 0 && zone_uses_image(cfg, uuid)) {
			size_t used = strlen(users);
			snprintf(users + used, len - used, "%s%s",
			    *count ? ", " : "", zones[i]);
			(*count)++;
		}
	}
	if (zones != NULL)
		zk_strv_free(zones, n);
	return r;
}

int
zk_image_delete(const zk_paths *p, const char *uuid, zk_error *err)
{
	if (!zk_uuid_valid(uuid))
		return zk_fail(err, EINVAL, "invalid image uuid \"%s\"", uuid);
	_cleanup_close_ int lock = -1;
	int r = zk_image_lock(p, uuid, false, &lock, err);
	if (r < 0)
		return r;
	char dir[PATH_MAX], gone[PATH_MAX];
	if (!zk_path_exists(zk_path_image(p, uuid, dir)))
		return not_found(uuid, err);
	char users[ZK_ERROR_MAX / 2];
	size_t count;
	if ((r = find_users(p, uuid, users, sizeof(users), &count, err)) < 0)
		return zk_error_prefix(err, "cannot tell whether image %s is in "
		    "use", uuid);
	if (count > 0)
		return zk_fail(err, EBUSY, "image %s is used by zone%s %s", uuid,
		    count > 1 ? "s" : "", users);
	/* Out of sight first, so a failed removal leaves no half image. */
	zk_image_hidden_path(p, uuid, "deleting", gone);
	if ((r = zk_rm_rf(gone, err)) < 0)
		return r;
	if (rename(dir, gone) < 0)
		return zk_fail_errno(err, errno, "cannot rename %s", dir);
	if ((r = zk_rm_rf(gone, err)) < 0)
		return r;
	char name[64];	/* held exclusively: the image's lock goes with it */
	return zk_lock_remove(p, image_lock_name(uuid, name), lock, err);
}
