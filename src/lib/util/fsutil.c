#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

int
zk_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_dir(const char *dir)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return -errno;
	return 0;
}

static int
fsync_parent(const char *path)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	return fsync_dir(dirname(copy));
}

int
zk_fsync_dir(const char *dir, zk_error *err)
{
	int r = fsync_dir(dir);
	return r < 0 ? zk_fail_errno(err, -r, "cannot sync %s", dir) : 0;
}

static int
write_replace(const char *path, const char *data, size_t len, mode_t mode,
    bool durable, zk_error *err)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return zk_fail(err, ENAMETOOLONG, "%s: path too long", path);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot create %s", tmp);
	int r = zk_write_all(fd, data, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return zk_fail_errno(err, -r, "cannot write %s", path);
	}
	if (durable && (r = fsync_parent(path)) < 0)
		return zk_fail_errno(err, -r, "cannot sync the directory of %s",
		    path);
	return 0;
}

int
zk_write_file_atomic(const char *path, const char *data, size_t len,
    mode_t mode, zk_error *err)
{
	return write_replace(path, data, len, mode, true, err);
}

int
zk_write_file_replace(const char *path, const char *data, size_t len,
    mode_t mode, zk_error *err)
{
	return write_replace(path, data, len, mode, false, err);
}

int
zk_write_file(const char *path, const char *data, zk_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	int r = zk_write_all(fd, data, strlen(data));
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot write \"%s\" to %s", data,
		    path);
	return 0;
}

int
zk_read_file(const char *path, char **out, size_t *len, zk_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (buf == NULL)
		return zk_fail(err, ENOMEM, "%s: out of memory", path);
	for (;;) {
		if (n + 1 >= cap) {
			char *t = realloc(buf, cap * 2);
			if (t == NULL)
				return zk_fail(err, ENOMEM, "%s: out of memory",
				    path);
			buf = t;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return zk_fail_errno(err, errno, "cannot read %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

int
zk_mkdir_p(const char *path, mode_t mode, zk_error *err)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return zk_fail(err, ENAMETOOLONG, "%s: path too long", path);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return zk_fail_errno(err, errno, "cannot create %s", buf);
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

static int
rm_at(int dfd, const char *name, dev_t dev)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;	/* a mount point: refuse to descend */
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int q = rm_at(dirfd(d), de->d_name, dev);
		if (q < 0 && r == 0)
			r = q;
	}
	if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int
zk_rm_rf(const char *path, zk_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return zk_fail_errno(err, errno, "cannot remove %s", path);
	}
	int r = rm_at(AT_FDCWD, path, st.st_dev);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot remove %s", path);
	return 0;
}

bool
zk_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int
zk_openat2(int dirfd, const char *path, int flags, mode_t mode,
    unsigned long long resolve)
{
	struct open_how how = {
		.flags = (unsigned long long)flags,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = resolve,
	};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int
zk_open_in_root(int dirfd, const char *path, int flags, mode_t mode)
{
	return zk_openat2(dirfd, path, flags | O_CLOEXEC | O_NOFOLLOW, mode,
	    RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}
