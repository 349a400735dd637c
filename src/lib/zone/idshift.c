#include "zone/idshift.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

static uint32_t
shifted(uint32_t id, const zk_idmap *m)
{
	return id < m->count ? id + m->base : id;
}

/* chown clears setuid/setgid bits: put the mode back afterwards. */
static int
shift_entry(int dirfd, const char *name, const struct stat *st,
    const zk_idmap *m, const char *path, zk_error *err)
{
	uid_t uid = shifted(st->st_uid, m);
	gid_t gid = shifted(st->st_gid, m);
	if (uid == st->st_uid && gid == st->st_gid)
		return 0;
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW |
	    (*name ? 0 : AT_EMPTY_PATH)) < 0)
		return zk_fail_errno(err, errno, "cannot shift %s/%s", path,
		    name);
	if (S_ISLNK(st->st_mode) || !(st->st_mode & (S_ISUID | S_ISGID)))
		return 0;
	if ((*name ? fchmodat(dirfd, name, st->st_mode & 07777, 0) :
	    fchmod(dirfd, st->st_mode & 07777)) < 0)
		return zk_fail_errno(err, errno, "cannot restore the mode of "
		    "%s/%s", path, name);
	return 0;
}

static int
shift_dir(int fd, dev_t dev, const zk_idmap *m, const char *path,
    zk_error *err)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0)
		return zk_fail_errno(err, errno, "%s", path);
	_cleanup_closedir_ DIR *d = fdopendir(dup);
	if (d == NULL) {
		close(dup);
		return zk_fail_errno(err, errno, "cannot read %s", path);
	}
	struct dirent *e;
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return zk_fail_errno(err, errno, "cannot stat %s/%s",
			    path, e->d_name);
		if (st.st_dev != dev)
			continue;	/* a mount point: not the zone's files */
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int sub = openat(fd, e->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return zk_fail_errno(err, errno, "cannot open "
				    "%s/%s", path, e->d_name);
			char subpath[PATH_MAX];
			snprintf(subpath, sizeof(subpath), "%s/%s", path,
			    e->d_name);
			int r = shift_dir(sub, dev, m, subpath, err);
			if (r < 0)
				return r;
		}
		int r = shift_entry(fd, e->d_name, &st, m, path, err);
		if (r < 0)
			return r;
	}
	if (errno != 0)
		return zk_fail_errno(err, errno, "cannot read %s", path);
	return 0;
}

int
zk_idshift_tree(const char *dir, const zk_idmap *m, zk_error *err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return zk_fail_errno(err, errno, "cannot open %s", dir);
	int r = shift_dir(fd, st.st_dev, m, dir, err);
	if (r == 0)
		r = shift_entry(fd, "", &st, m, dir, err);
	return r;
}
