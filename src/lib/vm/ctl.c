#include "vm/ctl.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"

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

/* ---- requests, as zoneadmd reads them ------------------------------------ */

static const struct ctl_verb {
	const char *name;
	zk_ctl_op op;
	size_t min_args, max_args;
} ctl_verbs[] = {
	{ "status", ZK_CTL_STATUS, 0, 0 },
	{ "stop", ZK_CTL_STOP, 1, 2 },
	{ "reboot", ZK_CTL_REBOOT, 1, 1 },
	{ "reload", ZK_CTL_RELOAD, 0, 0 },
	{ "console", ZK_CTL_CONSOLE, 0, 0 },
	{ "rctl get", ZK_CTL_RCTL_GET, 0, 0 },
	{ "rctl set", ZK_CTL_RCTL_SET, 2, 2 },
	{ "rctl delete", ZK_CTL_RCTL_DELETE, 1, 1 },
};

#define CTL_ARGS_MAX 2

/* The verb the line starts with, whole words only; *args follows it. */
static const struct ctl_verb *
ctl_verb_find(const char *line, const char **args)
{
	for (size_t i = 0; i < sizeof(ctl_verbs) / sizeof(ctl_verbs[0]); i++) {
		size_t n = strlen(ctl_verbs[i].name);
		if (strncmp(line, ctl_verbs[i].name, n) != 0 ||
		    (line[n] != ' ' && line[n] != '\0'))
			continue;
		*args = line[n] == ' ' ? line + n + 1 : line + n;
		return &ctl_verbs[i];
	}
	return NULL;
}

/*
 * Split in place on single spaces.  False on an empty word (two spaces in
 * a row, one at the end) or more than max words; "" has no words.
 */
static bool
ctl_split(char *s, char *words[CTL_ARGS_MAX], size_t max, size_t *n)
{
	*n = 0;
	while (*s != '\0') {
		char *sp = strchr(s, ' ');
		if (sp == s || *n == max)
			return false;
		words[(*n)++] = s;
		if (sp == NULL)
			break;
		*sp = '\0';
		if (sp[1] == '\0')
			return false;
		s = sp + 1;
	}
	return true;
}

/* Decimal digits only (no sign, no blanks), at most max. */
static bool
ctl_uint(const char *s, long max, long *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static bool
ctl_flag(const char *s, bool *out)
{
	long v;
	if (!ctl_uint(s, 1, &v))
		return false;
	*out = v == 1;
	return true;
}

/* A copy that must fit whole: a cut name would name another rctl. */
static bool
ctl_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);
	if (n >= len)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

static bool
ctl_args(zk_ctl_request *req, char *const *arg, size_t n)
{
	long timeout;
	switch (req->op) {
	case ZK_CTL_STOP:
		if (!ctl_uint(arg[0], INT_MAX, &timeout))
			return false;
		req->timeout_s = (int)timeout;
		return n < 2 || ctl_flag(arg[1], &req->force);
	case ZK_CTL_REBOOT:
		return ctl_flag(arg[0], &req->force);
	case ZK_CTL_RCTL_SET:
		return ctl_copy(req->rctl, sizeof(req->rctl), arg[0]) &&
		    ctl_copy(req->value, sizeof(req->value), arg[1]);
	case ZK_CTL_RCTL_DELETE:
		return ctl_copy(req->rctl, sizeof(req->rctl), arg[0]);
	default:
		return true;
	}
}

int
zk_ctl_parse_request(const char *line, zk_ctl_request *req, zk_error *err)
{
	*req = (zk_ctl_request){ .timeout_s = 60 };
	const char *rest;
	const struct ctl_verb *v = ctl_verb_find(line, &rest);
	if (v == NULL)
		return zk_fail(err, EINVAL, "unknown request \"%s\"", line);
	req->op = v->op;
	_cleanup_free_ char *copy = strdup(rest);
	if (copy == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	char *arg[CTL_ARGS_MAX];
	size_t n;
	/* a space after a verb promises an argument */
	bool ok = ctl_split(copy, arg, v->max_args, &n) &&
	    (rest == line + strlen(v->name) || n > 0) &&
	    n >= v->min_args && ctl_args(req, arg, n);
	if (!ok)
		return zk_fail(err, EINVAL, "malformed request \"%s\"", line);
	return 0;
}
