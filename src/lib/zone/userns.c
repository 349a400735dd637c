#include "zone/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/proc.h"

pid_t
zk_userns_clone(const zk_idmap *m, uint64_t flags, int *pidfd, int cgroup_fd,
    bool *into)
{
	/* The owner of a new user namespace is its creator's euid.  With
	 * SECBIT_NO_SETUID_FIXUP the capabilities survive the switch, and
	 * fsuid 0 keeps the cgroup.procs write CLONE_INTO_CGROUP checks. */
	int bits = prctl(PR_GET_SECUREBITS);
	if (bits < 0 || prctl(PR_SET_SECUREBITS, bits |
	    SECBIT_NO_SETUID_FIXUP) < 0)
		return -1;
	pid_t pid = -1;
	int saved = 0;
	if (setresuid(-1, m->base, -1) == 0) {
		setfsuid(0);
		pid = zk_clone(flags | CLONE_NEWUSER, pidfd, cgroup_fd, into);
		saved = errno;
		if (pid == 0)
			return 0;
		if (setresuid(-1, 0, -1) < 0)
			_exit(125);	/* never a root daemon with a zone's euid */
	} else {
		saved = errno;
	}
	prctl(PR_SET_SECUREBITS, bits);
	errno = saved;
	return pid;
}

static int
write_map(pid_t pid, const char *file, const zk_idmap *m, zk_error *err)
{
	char path[64], line[48];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	zk_idmap_format(m, line);
	size_t n = strlen(line);
	line[n++] = '\n';
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, line, n) != (ssize_t)n)
		return zk_fail_errno(err, errno, "cannot write %s", path);
	return 0;
}

int
zk_userns_write_maps(pid_t pid, const zk_idmap *m, zk_error *err)
{
	int r = write_map(pid, "uid_map", m, err);
	return r < 0 ? r : write_map(pid, "gid_map", m, err);
}

int
zk_userns_become_root(zk_error *err)
{
	if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0)
		return zk_fail_errno(err, errno, "cannot become the zone's root "
		    "group");
	if (setresuid(0, 0, 0) < 0)
		return zk_fail_errno(err, errno, "cannot become the zone's root");
	return 0;
}
