#include "util/proc.h"

#include <errno.h>
#include <linux/sched.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

int
zk_proc_starttime(pid_t pid, uint64_t *ticks)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *buf = NULL;
	if (zk_read_file(path, &buf, NULL, NULL) < 0)
		return -ESRCH;
	/* The command name may hold spaces and parens: skip past the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -EINVAL;
	p += 2;
	/* A zombie has exited: its start time lingers until it is reaped. */
	if (*p == 'Z' || *p == 'X')
		return -ESRCH;
	/* p is at field 3 (state); starttime is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -EINVAL;
		p++;
	}
	*ticks = strtoull(p, NULL, 10);
	return 0;
}

int
zk_pidfile_write(const char *path, pid_t pid, zk_error *err)
{
	uint64_t start = 0;
	if (zk_proc_starttime(pid, &start) < 0)
		return zk_fail(err, ESRCH, "process %d vanished", (int)pid);
	char line[64];
	int n = snprintf(line, sizeof(line), "%d %" PRIu64 "\n", (int)pid, start);
	return zk_write_file_replace(path, line, (size_t)n, 0600, err);
}

int
zk_pidfile_read_live(const char *path, pid_t *pid)
{
	_cleanup_free_ char *buf = NULL;
	if (zk_read_file(path, &buf, NULL, NULL) < 0)
		return -ENOENT;
	int p = 0;
	uint64_t want = 0, now = 0;
	if (sscanf(buf, "%d %" SCNu64, &p, &want) != 2 || p <= 0)
		return -ENOENT;
	if (zk_proc_starttime(p, &now) < 0 || now != want)
		return -ESRCH;
	*pid = p;
	return 0;
}

int
zk_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -errno : fd;
}

pid_t
zk_clone(uint64_t flags, int *pidfd, int cgroup_fd, bool *into)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	*into = false;
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
		pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0) {
			*into = true;
			return pid;
		}
		if (errno == ENOSYS)
			goto no_clone3;
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		args.cgroup = 0;
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid >= 0 || errno != ENOSYS)
		return pid;
no_clone3:
	/* clone(2) without a stack is fork-like, and CLONE_PIDFD puts the
	 * pidfd where the parent tid would go (x86-64 argument order). */
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL,
	    pidfd, NULL, 0UL);
}

int
zk_pidfd_send_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ?
	    -errno : 0;
}

int
zk_send_fd(int sock, char tag, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

ssize_t
zk_recv_msg(int sock, char *buf, size_t len, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	*fd = -1;
	ssize_t n;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}
