#include "term/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <termios.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

int
zk_pty_open(int *master, int *slave, zk_error *err)
{
	_cleanup_close_ int m = zk_open_in_root(AT_FDCWD, "/dev/pts/ptmx",
	    O_RDWR | O_NOCTTY, 0);
	if (m < 0)
		return zk_fail_errno(err, errno, "cannot open the zone's "
		    "/dev/pts/ptmx");
	struct statfs fs;
	if (fstatfs(m, &fs) < 0 || fs.f_type != DEVPTS_SUPER_MAGIC)
		return zk_fail(err, EPERM, "the zone's /dev/pts/ptmx is not a "
		    "devpts ptmx");
	if (unlockpt(m) < 0)
		return zk_fail_errno(err, errno, "cannot unlock a zone pty");
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return zk_fail_errno(err, errno, "cannot open a zone pty's slave");
	*master = TAKE_FD(m);
	*slave = s;
	return 0;
}

static int
open_mount_point(const char *path, zk_error *err)
{
	int fd = zk_open_in_root(AT_FDCWD, path, O_PATH, 0);
	if (fd < 0 && errno == ENOENT) {
		int c = zk_open_in_root(AT_FDCWD, path, O_WRONLY | O_CREAT |
		    O_EXCL, 0600);
		if (c >= 0) {
			close(c);
			fd = zk_open_in_root(AT_FDCWD, path, O_PATH, 0);
		}
	}
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		close(fd);
		return zk_fail(err, EISDIR, "%s is not a file", path);
	}
	return fd;
}

int
zk_bind_fd_over(int fd, const char *path, zk_error *err)
{
	_cleanup_close_ int target = open_mount_point(path, err);
	if (target < 0)
		return target;
	_cleanup_close_ int tree = open_tree(fd, "", OPEN_TREE_CLONE |
	    OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0 || move_mount(tree, "", target, "",
	    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return zk_fail_errno(err, errno, "cannot bind over %s", path);
	return 0;
}
