#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

static char *
lock_path(const zk_paths *p, const char *name, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/locks/%s.lock", p->rundir, name);
	return buf;
}

/* False once the holder of the lock before us removed the file we hold. */
static bool
still_at_path(int fd, const char *path)
{
	struct stat held, named;
	return fstat(fd, &held) == 0 && lstat(path, &named) == 0 &&
	    held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

static int
lock_once(const char *path, bool shared, int *fd, zk_error *err)
{
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return zk_fail_errno(err, errno, "cannot open lock %s", path);
	while (flock(*fd, shared ? LOCK_SH : LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(*fd);
			*fd = -1;
			return zk_fail_errno(err, e, "cannot take lock %s", path);
		}
	}
	return 0;
}

int
zk_lock(const zk_paths *p, const char *name, bool shared, int *fd,
    zk_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/locks", p->rundir);
	int r = zk_mkdir_p(dir, 0700, err);
	if (r < 0)
		return r;
	lock_path(p, name, path);
	for (;;) {
		_cleanup_close_ int lfd = -1;
		if ((r = lock_once(path, shared, &lfd, err)) < 0)
			return r;
		if (still_at_path(lfd, path)) {
			*fd = TAKE_FD(lfd);
			return 0;
		}
	}
}

int
zk_lock_remove(const zk_paths *p, const char *name, int fd, zk_error *err)
{
	char path[PATH_MAX];
	lock_path(p, name, path);
	/* Only the file we hold: a path that names another is not ours. */
	if (still_at_path(fd, path) && unlink(path) < 0 && errno != ENOENT)
		return zk_fail_errno(err, errno, "cannot remove lock %s", path);
	return 0;
}

int
zk_zone_lock(const zk_paths *p, const char *uuid, int *fd, zk_error *err)
{
	return zk_lock(p, uuid, false, fd, err);
}

int
zk_zone_lock_remove(const zk_paths *p, const char *uuid, int fd,
    zk_error *err)
{
	return zk_lock_remove(p, uuid, fd, err);
}
