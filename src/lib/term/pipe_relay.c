#include "term/pipe_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

#define CHUNK 65536

typedef struct stdin_buf {
	char data[CHUNK];
	size_t off, len;
} stdin_buf;

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* One read from a zone pipe to the caller; false at end of file. */
static bool
copy_out(int *src, int dst)
{
	char buf[CHUNK];
	ssize_t n = read(*src, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0 || zk_write_all(dst, buf, (size_t)n) < 0) {
		close_fd(src);
		return false;
	}
	return true;
}

static void
drain(int *src, int dst)
{
	if (*src < 0)
		return;
	fcntl(*src, F_SETFL, fcntl(*src, F_GETFL) | O_NONBLOCK);
	for (;;) {
		char buf[CHUNK];
		ssize_t n = read(*src, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || zk_write_all(dst, buf, (size_t)n) < 0)
			break;
	}
	close_fd(src);
}

/* Caller's stdin into the zone; the zone not reading must not stall the
 * outputs, so the pipe is written only when poll says it has room. */
static void
pump_stdin(zk_pipe_relay *r, stdin_buf *b, short in_ev, short out_ev)
{
	if (b->len == 0 && (in_ev & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = read(r->in_src, b->data, sizeof(b->data));
		if (n < 0 && errno == EINTR)
			return;
		if (n <= 0) {
			r->in_src = -1;		/* the caller's: not ours */
			close_fd(&r->in_dst);	/* the zone sees end of file */
			return;
		}
		b->off = 0;
		b->len = (size_t)n;
	}
	if (b->len > 0 && (out_ev & (POLLOUT | POLLERR | POLLHUP))) {
		ssize_t w = write(r->in_dst, b->data + b->off, b->len);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (w < 0) {		/* the zone closed its stdin */
			r->in_src = -1;
			close_fd(&r->in_dst);
			return;
		}
		b->off += (size_t)w;
		b->len -= (size_t)w;
	}
}

int
zk_pipe_relay_run(zk_pipe_relay *r, zk_error *err)
{
	_cleanup_free_ stdin_buf *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return zk_fail(err, ENOMEM, "zlogin relay: out of memory");
	if (r->in_dst >= 0)
		fcntl(r->in_dst, F_SETFL, fcntl(r->in_dst, F_GETFL) | O_NONBLOCK);
	while (r->out_src >= 0 || r->err_src >= 0) {
		bool feeding = r->in_dst >= 0 && r->in_src >= 0;
		struct pollfd p[5] = {
			{ .fd = r->out_src, .events = POLLIN },
			{ .fd = r->err_src, .events = POLLIN },
			{ .fd = r->done_fd, .events = POLLIN },
			{ .fd = feeding && b->len == 0 ? r->in_src : -1,
			    .events = POLLIN },
			{ .fd = feeding && b->len > 0 ? r->in_dst : -1,
			    .events = POLLOUT },
		};
		if (poll(p, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			close_fd(&r->in_dst);
			close_fd(&r->out_src);
			close_fd(&r->err_src);
			return zk_fail_errno(err, errno, "poll");
		}
		if (p[0].revents)
			copy_out(&r->out_src, r->out_dst);
		if (p[1].revents)
			copy_out(&r->err_src, r->err_dst);
		if (feeding)
			pump_stdin(r, b, p[3].revents, p[4].revents);
		if (p[2].revents) {
			drain(&r->out_src, r->out_dst);
			drain(&r->err_src, r->err_dst);
		}
	}
	close_fd(&r->in_dst);
	return 0;
}
