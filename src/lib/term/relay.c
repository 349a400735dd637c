#include "term/relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "util/cleanup.h"

#define CHUNK 4096

/* ------------------------------------------------------------------ */
/* "~." escape                                                         */

typedef struct escape_state {
	bool enabled;
	bool line_start;	/* next byte begins a line */
	bool held;		/* a '~' at line start awaits the next byte */
} escape_state;

static bool
is_eol(char c)
{
	return c == '\r' || c == '\n';
}

/*
 * Filter typed bytes into `out` (room for 2 * n: a held '~' is re-emitted
 * with the byte after it).  Returns true when "~." was typed at the start
 * of a line; bytes after it are not wanted.  "~~" sends one '~', so a
 * literal "~." can still be typed.
 */
static bool
escape_filter(escape_state *st, const char *in, size_t n, char *out,
    size_t *outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (st->held) {
			st->held = false;
			if (c == '.') {
				*outlen = o;
				return true;
			}
			out[o++] = '~';
			if (c == '~') {
				st->line_start = false;
				continue;
			}
		} else if (st->enabled && st->line_start && c == '~') {
			st->held = true;
			continue;
		}
		out[o++] = c;
		st->line_start = is_eol(c);
	}
	*outlen = o;
	return false;
}

/* ------------------------------------------------------------------ */
/* Terminal and signal state owned by one call                         */

typedef struct tty_guard {
	int fd;
	bool saved;
	struct termios orig;
} tty_guard;

static void
tty_restore(tty_guard *g)
{
	if (g->saved)
		tcsetattr(g->fd, TCSADRAIN, &g->orig);
}

static int
tty_make_raw(tty_guard *g, int fd, zk_error *err)
{
	g->fd = fd;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &g->orig) < 0)
		return zk_fail_errno(err, errno, "cannot read terminal settings");
	struct termios raw = g->orig;
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
		return zk_fail_errno(err, errno, "cannot set the terminal to raw "
		    "mode");
	g->saved = true;
	return 0;
}

/*
 * SIGWINCH arrives through a signalfd while it is blocked for the call,
 * so no handler or global flag is needed; the old mask comes back after.
 */
typedef struct winch_guard {
	int fd;
	bool blocked;
	sigset_t old;
} winch_guard;

static void
winch_release(winch_guard *g)
{
	if (g->fd >= 0)
		close(g->fd);
	if (g->blocked)
		pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static int
winch_watch(winch_guard *g, zk_error *err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	int r = pthread_sigmask(SIG_BLOCK, &set, &g->old);
	if (r != 0)
		return zk_fail_errno(err, r, "cannot block SIGWINCH");
	g->blocked = true;
	g->fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (g->fd < 0)
		return zk_fail_errno(err, errno, "cannot watch SIGWINCH");
	return 0;
}

/* ------------------------------------------------------------------ */
/* The copy loop                                                       */

typedef struct byte_buf {
	char data[2 * CHUNK];
	size_t off, len;
} byte_buf;

static bool
pending(const byte_buf *b)
{
	return b->off < b->len;
}

typedef struct relay {
	int in, out, fd;
	bool fd_is_socket;
	bool in_done;		/* no more local input (EOF or peer stopped reading) */
	bool shut;		/* the peer has been told about in_done */
	bool fd_done;		/* the peer closed: finish writing, then leave */
	escape_state esc;
	byte_buf to_peer, to_local;
	const zk_relay_opts *opts;
	int winch_fd;
} relay;

enum { P_IN, P_FD, P_OUT, P_WINCH, P_COUNT };

/* A socket peer may be gone: EPIPE must not raise SIGPIPE in zlogin. */
static ssize_t
write_peer(const relay *rl, const char *p, size_t n)
{
	if (rl->fd_is_socket)
		return send(rl->fd, p, n, MSG_NOSIGNAL);
	return write(rl->fd, p, n);
}

/* A peer that has gone away reads as EOF: EIO from a pty master whose
 * slave closed, ECONNRESET from a socket. */
static bool
is_hangup(int e)
{
	return e == EIO || e == ECONNRESET || e == EPIPE;
}

static void
leave_line(int out)
{
	static const char crlf[] = "\r\n";
	size_t off = 0;
	while (off < sizeof(crlf) - 1) {
		ssize_t w = write(out, crlf + off, sizeof(crlf) - 1 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/*
 * What was typed just before "~." in the same read ("ls\r~.") is still
 * sent, but only if the peer can take it now: the user asked to leave.
 */
static void
send_typed_nowait(const relay *rl)
{
	struct pollfd p = { .fd = rl->fd, .events = POLLOUT };
	const byte_buf *b = &rl->to_peer;
	if (!pending(b) || rl->shut || poll(&p, 1, 0) != 1 ||
	    !(p.revents & POLLOUT))
		return;
	(void)write_peer(rl, b->data + b->off, b->len - b->off);
}

/* Returns 1 when the escape was typed. */
static int
read_local(relay *rl, zk_error *err)
{
	char chunk[CHUNK];
	ssize_t n = read(rl->in, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0 && !is_hangup(errno))
		return zk_fail_errno(err, errno, "cannot read from the terminal");
	rl->to_peer.off = 0;
	if (n <= 0) {
		/* A '~' held back at EOF was meant literally. */
		rl->to_peer.len = 0;
		if (rl->esc.held)
			rl->to_peer.data[rl->to_peer.len++] = '~';
		rl->esc.held = false;
		rl->in_done = true;
		return 0;
	}
	if (escape_filter(&rl->esc, chunk, (size_t)n, rl->to_peer.data,
	    &rl->to_peer.len)) {
		send_typed_nowait(rl);
		leave_line(rl->out);
		return 1;
	}
	return 0;
}

static int
read_peer(relay *rl, zk_error *err)
{
	ssize_t n = read(rl->fd, rl->to_local.data, sizeof(rl->to_local.data));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0 && !is_hangup(errno))
		return zk_fail_errno(err, errno, "cannot read from the zone");
	if (n <= 0) {
		rl->fd_done = true;
		return 0;
	}
	rl->to_local.off = 0;
	rl->to_local.len = (size_t)n;
	return 0;
}

static int
write_to_peer(relay *rl, zk_error *err)
{
	byte_buf *b = &rl->to_peer;
	ssize_t w = write_peer(rl, b->data + b->off, b->len - b->off);
	if (w < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (w < 0 && is_hangup(errno)) {
		/* It stopped reading; its output may still be coming. */
		b->off = b->len = 0;
		rl->in_done = rl->shut = true;
		return 0;
	}
	if (w < 0)
		return zk_fail_errno(err, errno, "cannot write to the zone");
	b->off += (size_t)w;
	return 0;
}

static int
write_to_local(relay *rl, zk_error *err)
{
	byte_buf *b = &rl->to_local;
	ssize_t w = write(rl->out, b->data + b->off, b->len - b->off);
	if (w < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (w < 0)
		return zk_fail_errno(err, errno, "cannot write to the terminal");
	b->off += (size_t)w;
	return 0;
}

static void
report_winch(relay *rl)
{
	struct signalfd_siginfo si;
	while (read(rl->winch_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	struct winsize ws;
	if (rl->opts->winch != NULL && ioctl(rl->in, TIOCGWINSZ, &ws) == 0)
		rl->opts->winch(rl->opts->winch_arg, ws.ws_row, ws.ws_col);
}

/* Local EOF: let the peer see it too, once what was typed has gone. */
static void
maybe_shutdown(relay *rl)
{
	if (!rl->in_done || rl->shut || pending(&rl->to_peer))
		return;
	if (rl->fd_is_socket)
		shutdown(rl->fd, SHUT_WR);
	rl->shut = true;
}

/* Poll only for what can be handled now, so nothing spins: an fd with no
 * wanted events is left out (it would still report POLLHUP). */
static void
set_poll(struct pollfd *p, int fd, short events)
{
	p->fd = events ? fd : -1;
	p->events = events;
	p->revents = 0;
}

static void
fill_polls(const relay *rl, struct pollfd *p)
{
	set_poll(&p[P_IN], rl->in,
	    !rl->in_done && !pending(&rl->to_peer) ? POLLIN : 0);
	set_poll(&p[P_FD], rl->fd,
	    (short)((!rl->fd_done && !pending(&rl->to_local) ? POLLIN : 0) |
	    (pending(&rl->to_peer) && !rl->shut ? POLLOUT : 0)));
	set_poll(&p[P_OUT], rl->out, pending(&rl->to_local) ? POLLOUT : 0);
	set_poll(&p[P_WINCH], rl->winch_fd, POLLIN);
}

static bool
ready(const struct pollfd *p, short what)
{
	return (p->events & what) &&
	    (p->revents & (what | POLLHUP | POLLERR | POLLNVAL));
}

/* One round of the loop: 1 = escape typed, 0 = go on, <0 = error. */
static int
relay_step(relay *rl, zk_error *err)
{
	struct pollfd p[P_COUNT];
	fill_polls(rl, p);
	if (poll(p, P_COUNT, -1) < 0)
		return errno == EINTR ? 0 :
		    zk_fail_errno(err, errno, "cannot wait for the terminal");

	int r = 0;
	if (ready(&p[P_WINCH], POLLIN))
		report_winch(rl);
	if (r == 0 && ready(&p[P_OUT], POLLOUT))
		r = write_to_local(rl, err);
	if (r == 0 && ready(&p[P_FD], POLLOUT))
		r = write_to_peer(rl, err);
	if (r == 0 && ready(&p[P_FD], POLLIN))
		r = read_peer(rl, err);
	if (r == 0 && ready(&p[P_IN], POLLIN))
		r = read_local(rl, err);
	return r;
}

static bool
is_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int
zk_relay_run(int in, int out, int fd, const zk_relay_opts *opts,
    zk_error *err)
{
	static const zk_relay_opts no_opts = { 0 };
	_cleanup_(tty_restore) tty_guard tty = { .fd = -1 };
	_cleanup_(winch_release) winch_guard winch = { .fd = -1 };
	relay rl = {
		.in = in, .out = out, .fd = fd, .fd_is_socket = is_socket(fd),
		.esc = { .enabled = opts && opts->escape, .line_start = true },
		.opts = opts ? opts : &no_opts, .winch_fd = -1,
	};

	int r = tty_make_raw(&tty, in, err);
	if (r == 0 && rl.opts->winch != NULL) {
		r = winch_watch(&winch, err);
		rl.winch_fd = winch.fd;
	}
	while (r == 0) {
		maybe_shutdown(&rl);
		if (rl.fd_done && !pending(&rl.to_local))
			return 0;
		r = relay_step(&rl, err);
	}
	return r;
}
