#include "storage/storage.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "util/fsutil.h"

static const char *const dataset_dirs[] = { "root", "delta", ".work",
    "cores", "logs" };

int
zk_pool_probe(const zk_paths *p, zk_pool_info *info, zk_error *err)
{
	struct stat st;
	if (stat(p->root, &st) < 0 && errno != ENOENT)
		return zk_fail_errno(err, errno, "cannot use pool %s", p->root);
	info->kind = "dir";
	info->has_quota = false;
	info->name = ZK_POOL_DEFAULT_NAME;
	return 0;
}

int
zk_dataset_create(const zk_paths *p, const char *uuid, zk_error *err)
{
	char zonepath[PATH_MAX], sub[PATH_MAX];
	int r = zk_mkdir_p(p->root, 0755, err);
	if (r < 0)
		return r;
	zk_path_zone(p, uuid, zonepath);
	if (mkdir(zonepath, 0700) < 0)
		return zk_fail_errno(err, errno, "cannot create dataset %s",
		    zonepath);
	for (size_t i = 0; i < sizeof(dataset_dirs) / sizeof(*dataset_dirs);
	    i++) {
		/* root/ is the zone's /: as on SmartOS, 0755 for its users. */
		mode_t mode = i == 0 ? 0755 : 0700;
		snprintf(sub, sizeof(sub), "%s/%s", zonepath, dataset_dirs[i]);
		if (mkdir(sub, mode) < 0) {
			r = zk_fail_errno(err, errno, "cannot create %s", sub);
			zk_rm_rf(zonepath, NULL);
			return r;
		}
	}
	return 0;
}

int
zk_dataset_destroy(const zk_paths *p, const char *uuid, zk_error *err)
{
	char zonepath[PATH_MAX];
	return zk_rm_rf(zk_path_zone(p, uuid, zonepath), err);
}

void
zk_dataset_layers(const zk_paths *p, const char *uuid, const char *image_uuid,
    zk_root_layers *l)
{
	char zonepath[PATH_MAX];
	zk_path_zone(p, uuid, zonepath);
	zk_path_image_root(p, image_uuid, l->lower);
	snprintf(l->upper, sizeof(l->upper), "%s/delta", zonepath);
	snprintf(l->work, sizeof(l->work), "%s/.work", zonepath);
	snprintf(l->target, sizeof(l->target), "%s/root", zonepath);
}
