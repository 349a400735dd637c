#include "zone/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/json_util.h"

void
zk_idmap_format(const zk_idmap *m, char buf[48])
{
	snprintf(buf, 48, "0 %" PRIu32 " %" PRIu32, m->base, m->count);
}

int
zk_idmap_parse(const char *text, zk_idmap *m, zk_error *err)
{
	unsigned long long inside, base, count;
	char tail;
	if (text == NULL || sscanf(text, "%llu %llu %llu %c", &inside, &base,
	    &count, &tail) != 3 || inside != 0 || count == 0 ||
	    count > ZK_IDMAP_COUNT || base == 0 || base + count > UINT32_MAX)
		return zk_fail(err, EINVAL, "invalid id map \"%s\" (want "
		    "\"0 <host id> <count>\")", text ? text : "");
	m->base = (uint32_t)base;
	m->count = (uint32_t)count;
	return 0;
}

int
zk_idmap_from_config(const json_t *cfg, zk_idmap *m, zk_error *err)
{
	const char *uid = zk_json_str(cfg, "uid_map", NULL);
	const char *gid = zk_json_str(cfg, "gid_map", NULL);
	if (uid == NULL && gid == NULL)
		return zk_fail(err, ENOENT, "zone %s has no uid_map",
		    zk_json_str(cfg, "uuid", ""));
	zk_idmap g;
	int r = zk_idmap_parse(uid, m, err);
	if (r == 0)
		r = zk_idmap_parse(gid, &g, err);
	if (r < 0)
		return r;
	/* Zones get one range for both; a hand-edited mismatch is refused
	 * rather than half honoured. */
	if (g.base != m->base || g.count != m->count)
		return zk_fail(err, EINVAL, "uid_map and gid_map differ");
	return 0;
}

void
zk_idmap_to_config(json_t *cfg, const zk_idmap *m)
{
	char text[48];
	zk_idmap_format(m, text);
	json_object_set_new(cfg, "uid_map", json_string(text));
	json_object_set_new(cfg, "gid_map", json_string(text));
}

/* ---- the host-wide registry ---------------------------------------------- */

static int
registry_lock(const zk_paths *p, int *fd, zk_error *err)
{
	int r = zk_mkdir_p(p->idmap_dir, 0700, err);
	if (r < 0)
		return r;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/.lock", p->idmap_dir);
	_cleanup_close_ int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (lfd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	while (flock(lfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return zk_fail_errno(err, errno, "cannot lock %s", path);
	*fd = TAKE_FD(lfd);
	return 0;
}

static void
slot_path(const zk_paths *p, uint32_t slot, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%s/%" PRIu32, p->idmap_dir, slot);
}

/* Who holds the slot: the dataset path it names, "" when free. */
static int
slot_owner(const char *path, char owner[PATH_MAX], zk_error *err)
{
	_cleanup_free_ char *buf = NULL;
	owner[0] = '\0';
	int r = zk_read_file(path, &buf, NULL, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(owner, PATH_MAX, "%s", buf);
	return 0;
}

static bool
slot_free(const char *owner, const char *dataset)
{
	struct stat st;
	if (owner[0] == '\0' || strcmp(owner, dataset) == 0)
		return true;
	/* A range whose dataset is gone owns nothing on disk any more. */
	return lstat(owner, &st) < 0 && errno == ENOENT;
}

/* Start where the uuid points, so allocation is one probe on average. */
static uint32_t
first_slot(const char *uuid)
{
	unsigned int head = 0;
	sscanf(uuid, "%8x", &head);
	return head % ZK_IDMAP_SLOTS;
}

int
zk_idmap_alloc(const zk_paths *p, const char *uuid, zk_idmap *m,
    zk_error *err)
{
	char dataset[PATH_MAX], path[PATH_MAX], owner[PATH_MAX];
	zk_path_zone(p, uuid, dataset);
	_cleanup_close_ int lock = -1;
	int r = registry_lock(p, &lock, err);
	if (r < 0)
		return r;
	uint32_t start = first_slot(uuid);
	for (uint32_t i = 0; i < ZK_IDMAP_SLOTS; i++) {
		uint32_t slot = (start + i) % ZK_IDMAP_SLOTS;
		slot_path(p, slot, path);
		if ((r = slot_owner(path, owner, err)) < 0)
			return r;
		if (!slot_free(owner, dataset))
			continue;
		char line[PATH_MAX + 1];
		int n = snprintf(line, sizeof(line), "%s\n", dataset);
		if ((r = zk_write_file_atomic(path, line, (size_t)n, 0600,
		    err)) < 0)
			return r;
		m->base = ZK_IDMAP_FIRST + slot * ZK_IDMAP_COUNT;
		m->count = ZK_IDMAP_COUNT;
		return 0;
	}
	return zk_fail(err, ENOSPC, "no free id range in %s for zone %s "
	    "(%u zones hold one each)", p->idmap_dir, uuid, ZK_IDMAP_SLOTS);
}

int
zk_idmap_release(const zk_paths *p, const char *uuid, const zk_idmap *m,
    zk_error *err)
{
	if (m->base < ZK_IDMAP_FIRST || (m->base - ZK_IDMAP_FIRST) %
	    ZK_IDMAP_COUNT != 0)
		return 0;	/* not from the registry: nothing to give back */
	uint32_t slot = (m->base - ZK_IDMAP_FIRST) / ZK_IDMAP_COUNT;
	if (slot >= ZK_IDMAP_SLOTS)
		return 0;
	char dataset[PATH_MAX], path[PATH_MAX], owner[PATH_MAX];
	zk_path_zone(p, uuid, dataset);
	slot_path(p, slot, path);
	_cleanup_close_ int lock = -1;
	int r = registry_lock(p, &lock, err);
	if (r < 0 || (r = slot_owner(path, owner, err)) < 0)
		return r;
	if (strcmp(owner, dataset) != 0)
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return zk_fail_errno(err, errno, "cannot release %s", path);
	return 0;
}
