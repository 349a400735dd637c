#include "config/store.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/json_util.h"
#include "util/uuid.h"

int
zk_store_load(const zk_paths *p, const char *uuid, json_t **cfg, zk_error *err)
{
	char path[PATH_MAX];
	zk_path_config(p, uuid, path);
	if (!zk_path_exists(path))
		return zk_fail(err, ZK_ENOZONE, "%s: No such zone configured",
		    uuid);
	return zk_json_load_file(path, cfg, err);
}

int
zk_store_save(const zk_paths *p, const json_t *cfg, zk_error *err)
{
	const char *uuid = zk_json_str(cfg, "uuid", NULL);
	if (!zk_uuid_valid(uuid))
		return zk_fail(err, EINVAL, "zone config has no valid uuid");
	char dir[PATH_MAX], path[PATH_MAX];
	int r = zk_mkdir_p(zk_path_config_dir(p, dir), 0700, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *text = zk_json_dump_pretty(cfg);
	if (text == NULL)
		return zk_fail(err, ENOMEM, "%s: cannot serialise config", uuid);
	return zk_write_file_atomic(zk_path_config(p, uuid, path), text,
	    strlen(text), 0600, err);
}

int
zk_store_remove(const zk_paths *p, const char *uuid, zk_error *err)
{
	char path[PATH_MAX];
	if (unlink(zk_path_config(p, uuid, path)) < 0 && errno != ENOENT)
		return zk_fail_errno(err, errno, "cannot remove %s", path);
	return 0;
}

void
zk_strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
zk_store_list(const zk_paths *p, char ***uuids, size_t *n, zk_error *err)
{
	char dir[PATH_MAX];
	*uuids = NULL;
	*n = 0;
	_cleanup_closedir_ DIR *d = opendir(zk_path_config_dir(p, dir));
	if (d == NULL)
		return errno == ENOENT ? 0 :
		    zk_fail_errno(err, errno, "cannot read %s", dir);
	char **v = NULL;
	size_t count = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len != ZK_UUID_LEN + 5 ||
		    strcmp(de->d_name + ZK_UUID_LEN, ".json") != 0)
			continue;
		char **t = realloc(v, (count + 1) * sizeof(*v));
		char *s = strndup(de->d_name, ZK_UUID_LEN);
		if (t == NULL || s == NULL) {
			free(s);
			zk_strv_free(t ? t : v, count);
			return zk_fail(err, ENOMEM, "out of memory listing %s", dir);
		}
		v = t;
		if (!zk_uuid_valid(s)) {
			free(s);
			continue;
		}
		v[count++] = s;
	}
	if (count > 1)
		qsort(v, count, sizeof(*v), cmp_str);
	*uuids = v;
	*n = count;
	return 0;
}
