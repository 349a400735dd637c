#include "zone/zone_ids.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/store.h"
#include "util/fsutil.h"
#include "util/json_util.h"
#include "zone/idshift.h"

/* Present while a shift is under way: a start after a crash finishes it. */
#define SHIFT_MARK ".idshift"

static void
layer_path(const zk_paths *p, const char *uuid, const char *leaf,
    char path[PATH_MAX])
{
	char zonepath[PATH_MAX];
	snprintf(path, PATH_MAX, "%s/%s", zk_path_zone(p, uuid, zonepath), leaf);
}

/* The writable layer's top is the zone's "/": the zone's root owns it,
 * and its users must be able to walk it. */
static int
own_layer(const zk_paths *p, const char *uuid, const zk_idmap *m,
    zk_error *err)
{
	char delta[PATH_MAX];
	layer_path(p, uuid, "delta", delta);
	if (lchown(delta, m->base, m->base) < 0 || chmod(delta, 0755) < 0)
		return zk_fail_errno(err, errno, "cannot hand %s to the zone",
		    delta);
	return 0;
}

int
zk_zone_ids_assign(const zk_paths *p, json_t *cfg, zk_error *err)
{
	const char *uuid = zk_json_str(cfg, "uuid", "");
	zk_idmap m;
	int r = zk_idmap_alloc(p, uuid, &m, err);
	if (r < 0)
		return r;
	if ((r = own_layer(p, uuid, &m, err)) < 0) {
		zk_idmap_release(p, uuid, &m, NULL);
		return r;
	}
	zk_idmap_to_config(cfg, &m);
	return 0;
}

static int
shift_layer(const zk_paths *p, const char *uuid, const zk_idmap *m,
    const char *mark, zk_error *err)
{
	char delta[PATH_MAX];
	layer_path(p, uuid, "delta", delta);
	int r = zk_idshift_tree(delta, m, err);
	if (r == 0)
		r = own_layer(p, uuid, m, err);
	if (r < 0)
		return zk_error_prefix(err, "zone %s: shifting its files into "
		    "its id range", uuid);
	if (unlink(mark) < 0 && errno != ENOENT)
		return zk_fail_errno(err, errno, "cannot remove %s", mark);
	return 0;
}

int
zk_zone_ids_ensure(const zk_paths *p, json_t *cfg, zk_idmap *m,
    zk_error *err)
{
	const char *uuid = zk_json_str(cfg, "uuid", "");
	char mark[PATH_MAX];
	layer_path(p, uuid, SHIFT_MARK, mark);
	zk_error none;
	int r = zk_idmap_from_config(cfg, m, &none);
	if (r == 0)
		return zk_path_exists(mark) ? shift_layer(p, uuid, m, mark,
		    err) : 0;
	if (r != -ENOENT)
		return zk_fail(err, -r, "zone %s: %s", uuid, none.msg);
	/* Made before user namespaces: take a range, mark, record, shift. */
	if ((r = zk_idmap_alloc(p, uuid, m, err)) < 0)
		return r;
	int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = zk_fail_errno(err, errno, "cannot create %s", mark);
		zk_idmap_release(p, uuid, m, NULL);
		return r;
	}
	close(fd);
	zk_idmap_to_config(cfg, m);
	if ((r = zk_store_save(p, cfg, err)) < 0) {
		zk_idmap_release(p, uuid, m, NULL);
		unlink(mark);
		return r;
	}
	return shift_layer(p, uuid, m, mark, err);
}

int
zk_zone_ids_release(const zk_paths *p, const json_t *cfg, zk_error *err)
{
	zk_idmap m;
	zk_error none;
	if (zk_idmap_from_config(cfg, &m, &none) < 0)
		return 0;
	return zk_idmap_release(p, zk_json_str(cfg, "uuid", ""), &m, err);
}
