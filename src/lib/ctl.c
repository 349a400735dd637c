#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

int
zk_ctl_socket_path(const zk_paths *p, const char *uuid, char *buf,
    zk_error *err)
{
	struct sockaddr_un sa;
	zk_path_run_file(p, uuid, "zoneadmd.sock", buf);
	if (strlen(buf) >= sizeof(sa.sun_path))
		return zk_fail(err, ENAMETOOLONG, "control socket path %s is "
		    "longer than %zu bytes: use a shorter ZONEKIT_RUNDIR", buf,
		    sizeof(sa.sun_path) - 1);
	return 0;
}

int
zk_ctl_connect(const zk_paths *p, const char *uuid, int *fd, zk_error *err)
{
	char path[PATH_MAX];
	int r = zk_ctl_socket_path(p, uuid, path, err);
	if (r < 0)
		return r;
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return zk_fail_errno(err, errno, "socket");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return zk_fail_errno(err, errno, "zoneadmd for %s", uuid);
	*fd = TAKE_FD(s);
	return 0;
}

int
zk_ctl_read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;
	while (n + 1 < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		if (pr == 0)
			return -ETIMEDOUT;
		/* One byte at a time: after "ok" the same socket may carry a
		 * console stream that must not be swallowed here. */
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return n == 0 ? -EPIPE : (buf[n] = '\0', 0);
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

int
zk_ctl_call(int fd, const char *request, int timeout_ms, char *detail,
    size_t len, zk_error *err)
{
	char line[ZK_ERROR_MAX + 64];
	int n = snprintf(line, sizeof(line), "%s\n", request);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		return zk_fail_errno(err, errno, "cannot talk to zoneadmd");
	int r = zk_ctl_read_line(fd, line, sizeof(line), timeout_ms);
	if (r == -ETIMEDOUT)
		return zk_fail(err, ETIMEDOUT, "zoneadmd did not answer \"%s\" "
		    "in time", request);
	if (r < 0)
		return zk_fail_errno(err, -r, "no answer from zoneadmd to \"%s\"",
		    request);
	if (strncmp(line, "error ", 6) == 0)
		return zk_fail(err, EIO, "%s", line + 6);
	if (strncmp(line, "ok", 2) != 0)
		return zk_fail(err, EPROTO, "zoneadmd answered \"%s\"", line);
	if (detail != NULL)
		snprintf(detail, len, "%s", line[2] == ' ' ? line + 3 : "");
	return 0;
}
