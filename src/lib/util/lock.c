#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

int
zk_lock(const zk_paths *p, const char *name, bool shared, int *fd,
    zk_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/locks", p->rundir);
	int r = zk_mkdir_p(dir, 0700, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s.lock", dir, name);
	_cleanup_close_ int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (lfd < 0)
		return zk_fail_errno(err, errno, "cannot open lock %s", path);
	while (flock(lfd, shared ? LOCK_SH : LOCK_EX) < 0) {
		if (errno != EINTR)
			return zk_fail_errno(err, errno, "cannot take lock %s",
			    path);
	}
	*fd = TAKE_FD(lfd);
	return 0;
}

int
zk_zone_lock(const zk_paths *p, const char *uuid, int *fd, zk_error *err)
{
	return zk_lock(p, uuid, false, fd, err);
}
