#include "zone/zone_root.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fault.h"

static int
open_ns(pid_t pid, const char *ns, zk_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	return fd;
}

/* A detached copy of the image's root, idmapped, read-only and nodev. */
static int
idmapped_image(const char *lower, int userns, zk_error *err)
{
	_cleanup_close_ int tree = open_tree(AT_FDCWD, lower, OPEN_TREE_CLONE |
	    OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return zk_fail_errno(err, errno, "cannot open image %s", lower);
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY |
		    MOUNT_ATTR_NODEV,
		.userns_fd = (unsigned)userns,
	};
	int r = zk_fault("boot.idmap", err);
	if (r == 0 && mount_setattr(tree, "", AT_EMPTY_PATH, &attr,
	    sizeof(attr)) < 0)
		r = zk_fail_errno(err, errno, "cannot idmap image %s", lower);
	if (r < 0)
		return zk_error_prefix(err, "zones need idmapped mounts "
		    "(Linux 5.12) under overlayfs (Linux 5.19) on the pool's "
		    "file system");
	return TAKE_FD(tree);
}

/*
 * In the zone's mount namespace: the idmapped image goes on the mount
 * point first, and the overlay on top takes it (the mount now below it)
 * as its lower layer, so no other directory is needed.
 */
static int
mount_layers(const zk_root_layers *l, int image, zk_error *err)
{
	if (move_mount(image, "", AT_FDCWD, l->target,
	    MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return zk_fail_errno(err, errno, "cannot attach the image on %s",
		    l->target);
	char opts[3 * PATH_MAX + 64];
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
	    l->target, l->upper, l->work);
	if (mount("overlay", l->target, "overlay", MS_NODEV, opts) < 0)
		return zk_fail_errno(err, errno, "cannot mount the zone root "
		    "on %s", l->target);
	return 0;
}

int
zk_zone_root_mount_in(const zk_root_layers *l, pid_t pid, zk_error *err)
{
	_cleanup_close_ int userns = open_ns(pid, "user", err);
	if (userns < 0)
		return userns;
	_cleanup_close_ int zone_mnt = open_ns(pid, "mnt", err);
	if (zone_mnt < 0)
		return zone_mnt;
	_cleanup_close_ int own_mnt = open("/proc/self/ns/mnt",
	    O_RDONLY | O_CLOEXEC);
	if (own_mnt < 0)
		return zk_fail_errno(err, errno, "cannot open /proc/self/ns/mnt");
	_cleanup_close_ int image = idmapped_image(l->lower, userns, err);
	if (image < 0)
		return image;
	/* zoneadmd is single-threaded: it can step into the zone's mount
	 * namespace and back without a helper process. */
	if (setns(zone_mnt, CLONE_NEWNS) < 0)
		return zk_fail_errno(err, errno, "cannot enter the zone's mount "
		    "namespace");
	int r = mount_layers(l, image, err);
	if (setns(own_mnt, CLONE_NEWNS) < 0 || chdir("/") < 0)
		_exit(125);	/* never carry on inside the zone's mounts */
	return r;
}

/*
 * Where the mount API is missing from the process itself though the
 * kernel has it (valgrind 3.19 knows none of open_tree, move_mount and
 * mount_setattr), the same steps run in a fresh exec of this program,
 * outside the tool; its error comes back on a pipe.
 */
static int
mount_by_helper(const zk_root_layers *l, pid_t pid, zk_error *err)
{
	char self[PATH_MAX], pidtext[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return zk_fail_errno(err, errno, "cannot find this program");
	self[n] = '\0';
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return zk_fail_errno(err, errno, "pipe");
	pid_t child = fork();
	if (child == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		char *argv[] = { self, (char *)ZK_ZONE_ROOT_HELPER, pidtext,
		    (char *)l->lower, (char *)l->upper, (char *)l->work,
		    (char *)l->target, NULL };
		execv(self, argv);
		_exit(127);
	}
	close(fds[1]);
	char msg[ZK_ERROR_MAX];
	ssize_t got = child < 0 ? -1 : read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	int status = 0;
	if (child < 0 || waitpid(child, &status, 0) < 0)
		return zk_fail_errno(err, errno, "cannot run %s", self);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[got > 0 ? got : 0] = '\0';
	return zk_fail(err, EIO, "%s", got > 0 ? msg : "zone root helper failed");
}

int
zk_zone_root_helper_args(int argc, char *argv[], zk_root_layers *l, pid_t *pid,
    zk_error *err)
{
	if (argc != 7)
		return zk_fail(err, EINVAL, "usage: %s <pid> <lower> <upper> "
		    "<work> <target>", ZK_ZONE_ROOT_HELPER);
	*pid = (pid_t)atoi(argv[2]);
	snprintf(l->lower, sizeof(l->lower), "%s", argv[3]);
	snprintf(l->upper, sizeof(l->upper), "%s", argv[4]);
	snprintf(l->work, sizeof(l->work), "%s", argv[5]);
	snprintf(l->target, sizeof(l->target), "%s", argv[6]);
	return 0;
}

int
zk_zone_root_mount(const zk_root_layers *l, pid_t pid, int *root,
    zk_error *err)
{
	int r = zk_zone_root_mount_in(l, pid, err);
	if (r == -ENOSYS)
		r = mount_by_helper(l, pid, err);
	if (r < 0)
		return r;
	/* The root as the zone's init sees it: its root is still the host's,
	 * in its own mount namespace. */
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, l->target);
	*root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*root < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	return 0;
}
