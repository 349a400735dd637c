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
	zk_path_run_file(p, uuid, ZK_RUN_SOCKET, buf);
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

/* ---- replies, and the typed client --------------------------------------- */

/* "<code> <message>" with a code zoneadmd may send: 1-4 digits, no sign,
 * no leading zero, at most ZK_ECODE_MAX. */
static bool
reply_code(const char *s, int *code, const char **msg)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 4 || s[0] == '0' || s[n] != ' ')
		return false;
	int v = atoi(s);
	if (v > ZK_ECODE_MAX)
		return false;
	*code = v;
	*msg = s + n + 1;
	return true;
}

int
zk_ctl_parse_reply(const char *line, char *detail, size_t len, zk_error *err)
{
	if (strcmp(line, "ok") == 0 || strncmp(line, "ok ", 3) == 0) {
		if (detail != NULL)
			snprintf(detail, len, "%s", line[2] == ' ' ? line + 3 : "");
		return 0;
	}
	if (strncmp(line, "error ", 6) != 0)
		return zk_fail(err, EPROTO, "zoneadmd answered \"%s\"", line);
	int code;
	const char *msg;
	if (!reply_code(line + 6, &code, &msg)) {
		code = EIO;
		msg = line + 6;
	}
	return zk_fail(err, code, "%s", msg);
}

void
zk_ctl_format_request(const zk_ctl_request *req, char *buf, size_t len)
{
	switch (req->op) {
	case ZK_CTL_STATUS: snprintf(buf, len, "status"); break;
	case ZK_CTL_RELOAD: snprintf(buf, len, "reload"); break;
	case ZK_CTL_CONSOLE: snprintf(buf, len, "console"); break;
	case ZK_CTL_RCTL_GET: snprintf(buf, len, "rctl get"); break;
	case ZK_CTL_STOP:
		snprintf(buf, len, "stop %d %d", req->timeout_s, req->force);
		break;
	case ZK_CTL_REBOOT: snprintf(buf, len, "reboot %d", req->force); break;
	case ZK_CTL_RCTL_SET:
		snprintf(buf, len, "rctl set %s %s", req->rctl, req->value);
		break;
	case ZK_CTL_RCTL_DELETE:
		snprintf(buf, len, "rctl delete %s", req->rctl);
		break;
	}
}

/* How long the reply may take: a stop first waits its own timeout. */
static int
reply_timeout_ms(const zk_ctl_request *req)
{
	long long ms;
	switch (req->op) {
	case ZK_CTL_STOP:
		ms = ((long long)req->timeout_s + 30) * 1000;
		return ms > INT_MAX ? -1 : (int)ms;
	case ZK_CTL_REBOOT:
		return 120000;
	case ZK_CTL_RELOAD:
	case ZK_CTL_RCTL_SET:
	case ZK_CTL_RCTL_DELETE:
		return 10000;
	default:
		return 5000;
	}
}

/* Send req on fd and read its reply; the detail after "ok" into detail. */
static int
ctl_exchange(int fd, const zk_ctl_request *req, char *detail, size_t len,
    zk_error *err)
{
	char text[ZK_CTL_REPLY_MAX];
	zk_ctl_format_request(req, text, sizeof(text) - 1);
	size_t n = strlen(text);
	text[n++] = '\n';
	if (send(fd, text, n, MSG_NOSIGNAL) != (ssize_t)n)
		return zk_fail_errno(err, errno, "cannot talk to zoneadmd");
	text[n - 1] = '\0';
	char line[ZK_CTL_REPLY_MAX];
	int r = zk_ctl_read_line(fd, line, sizeof(line), reply_timeout_ms(req));
	if (r == -ETIMEDOUT)
		return zk_fail(err, ETIMEDOUT, "zoneadmd did not answer \"%s\" "
		    "in time", text);
	if (r < 0)
		return zk_fail_errno(err, -r, "no answer from zoneadmd to \"%s\"",
		    text);
	return zk_ctl_parse_reply(line, detail, len, err);
}

int
zk_ctl_open(const zk_paths *p, const char *uuid, const zk_ctl_request *req,
    int *fd, zk_error *err)
{
	_cleanup_close_ int s = -1;
	int r = zk_ctl_connect(p, uuid, &s, err);
	if (r == 0)
		r = ctl_exchange(s, req, NULL, 0, err);
	if (r == 0)
		*fd = TAKE_FD(s);
	return r;
}

int
zk_ctl_call(const zk_paths *p, const char *uuid, const zk_ctl_request *req,
    zk_ctl_reply *reply, zk_error *err)
{
	_cleanup_close_ int s = -1;
	int r = zk_ctl_connect(p, uuid, &s, err);
	if (r < 0)
		return r;
	return ctl_exchange(s, req, reply != NULL ? reply->detail : NULL,
	    reply != NULL ? sizeof(reply->detail) : 0, err);
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
