#include "util/paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
take(char *dst, const char *env, const char *fallback, int absolute,
    zk_error *err)
{
	const char *v = getenv(env);
	if (v == NULL || *v == '\0')
		v = fallback;
	if (absolute && v[0] != '/')
		return zk_fail(err, EINVAL, "%s must be an absolute path, got \"%s\"",
		    env, v);
	if (!absolute && (v[0] == '/' || strstr(v, "..") != NULL))
		return zk_fail(err, EINVAL,
		    "%s must be a relative cgroup path without \"..\", got \"%s\"",
		    env, v);
	size_t n = strlen(v);
	if (n >= PATH_MAX - 128)
		return zk_fail(err, ENAMETOOLONG, "%s is too long", env);
	memcpy(dst, v, n + 1);
	while (n > 1 && dst[n - 1] == '/')	/* "/zones/" is "/zones" */
		dst[--n] = '\0';
	return 0;
}

int
zk_paths_from_env(zk_paths *p, zk_error *err)
{
	int r;
	if ((r = take(p->root, "ZONEKIT_ROOT", "/zones", 1, err)) < 0 ||
	    (r = take(p->rundir, "ZONEKIT_RUNDIR", "/run/zonekit", 1, err)) < 0 ||
	    (r = take(p->cgroup_parent, "ZONEKIT_CGROUP_PARENT", "zonekit", 0,
	    err)) < 0 ||
	    (r = take(p->cgroup_root, "ZONEKIT_CGROUP_ROOT", "/sys/fs/cgroup", 1,
	    err)) < 0 ||
	    (r = take(p->idmap_dir, "ZONEKIT_IDMAP_DIR",
	    "/var/lib/zonekit/idmap", 1, err)) < 0)
		return r;
	return 0;
}

char *
zk_path_config_dir(const zk_paths *p, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/config", p->root);
	return buf;
}

char *
zk_path_config(const zk_paths *p, const char *uuid, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/config/%s.json", p->root, uuid);
	return buf;
}

char *
zk_path_zone(const zk_paths *p, const char *uuid, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s", p->root, uuid);
	return buf;
}

char *
zk_path_images_dir(const zk_paths *p, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/images", p->root);
	return buf;
}

char *
zk_path_image(const zk_paths *p, const char *uuid, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/images/%s", p->root, uuid);
	return buf;
}

char *
zk_path_image_root(const zk_paths *p, const char *uuid, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/images/%s/root", p->root, uuid);
	return buf;
}

char *
zk_path_run(const zk_paths *p, const char *uuid, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s", p->rundir, uuid);
	return buf;
}

char *
zk_path_run_file(const zk_paths *p, const char *uuid, const char *file,
    char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s/%s", p->rundir, uuid, file);
	return buf;
}

char *
zk_path_zone_log(const zk_paths *p, const char *uuid, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s/logs/zoneadmd.log", p->root, uuid);
	return buf;
}
