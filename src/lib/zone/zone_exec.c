#include "zone/zone_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "term/pipe_relay.h"
#include "term/pty.h"
#include "term/relay.h"
#include "util/cleanup.h"
#include "util/proc.h"
#include "zone/privileges.h"
#include "zone/zone_enter.h"

#define ENV_MAX 8
/* The report pipe's end, in the zone's process, once its stdio is set. */
#define REPORT_FD 3

/* One argument as it is; several single-quoted ('\'' for a quote) and
 * joined, so the zone's shell sees exactly those words. */
static char *
shell_command(int argc, char *const *argv)
{
	if (argc == 1)
		return strdup(argv[0]);
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) * 4 + 3;
	char *s = malloc(len), *o = s;
	if (s == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			*o++ = ' ';
		*o++ = '\'';
		for (const char *c = argv[i]; *c; c++) {
			if (*c == '\'') {
				memcpy(o, "'\\''", 4);
				o += 4;
			} else {
				*o++ = *c;
			}
		}
		*o++ = '\'';
	}
	*o = '\0';
	return s;
}

static int
exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static int
wait_exit_code(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return exit_code(status);
}

/* A failure before the exec, for the caller to return: the helper and
 * the zone's process have no one else to tell. */
static void __attribute__((noreturn))
report_exit(int report, const zk_error *err)
{
	if (write(report, err, sizeof(*err)) < 0) {
		/* the caller is gone: nobody to tell */
	}
	_exit(1);
}

/* What the forked processes share; set up before the fork. */
typedef struct exec_ctx {
	const zk_paths *p;
	const char *uuid;
	const char *command;	/* NULL: a shell */
	const char *term;
	int sock;		/* tty: hands the pty master back, else -1 */
	int stdio[3];		/* pipes: the zone's ends, else -1 */
	int report;		/* write end of the report pipe */
} exec_ctx;

/* The report pipe on REPORT_FD (close-on-exec), stdio from the pty or
 * the pipes, nothing else.  REPORT_FD first: the pty's fds may take any
 * free number. */
static int
take_stdio(const exec_ctx *x, zk_error *err)
{
	if (x->report != REPORT_FD && dup3(x->report, REPORT_FD,
	    O_CLOEXEC) < 0)
		return zk_fail_errno(err, errno, "dup3");
	int fds[3] = { x->stdio[0], x->stdio[1], x->stdio[2] };
	if (x->sock >= 0) {
		int master, slave;
		if (zk_pty_open(&master, &slave, err) < 0)
			return -1;
		if (zk_send_fd(x->sock, 'M', master) < 0 ||
		    ioctl(slave, TIOCSCTTY, 0) < 0)
			return zk_fail_errno(err, errno, "cannot hand over the "
			    "zone's pty");
		fds[0] = fds[1] = fds[2] = slave;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			return zk_fail_errno(err, errno, "dup2");
	syscall(SYS_close_range, REPORT_FD + 1U, ~0U, 0U);
	return 0;
}

/*
 * The zone's process: in the zone's pid namespace from birth.  It joins
 * the zone (zone_enter.h), takes its stdio, closes every other fd and
 * execs.  A failed exec says nothing, on an fd the zone now owns, and
 * exits 127 as a shell does.
 */
static void __attribute__((noreturn))
zone_process(zk_zone_entry *e, const exec_ctx *x)
{
	zk_error err = { 0 };
	if (zk_zone_entry_join(e, &err) < 0)
		report_exit(x->report, &err);
	setsid();
	if (take_stdio(x, &err) < 0)
		report_exit(x->report, &err);
	char storage[ENV_MAX][128];
	char *envp[ENV_MAX];
	zk_zone_login_env(x->term, envp, storage, ENV_MAX);
	if (zk_privileges_apply(&err) < 0)
		report_exit(REPORT_FD, &err);
	if (x->command != NULL) {
		char *argv[] = { "sh", "-c", (char *)x->command, NULL };
		execve("/bin/sh", argv, envp);
	} else {
		char *argv[] = { x->sock >= 0 ? "-sh" : "sh", NULL };
		execve("/bin/sh", argv, envp);
	}
	_exit(127);
}

/*
 * The helper enters the zone's namespaces and forks the zone's process,
 * which alone joins the zone's cgroups and user namespace: the caller
 * never leaves the host and nothing of it is charged to the zone.  The
 * zone's process gets its own session, so it has no controlling terminal
 * on a host tty.
 */
static void __attribute__((noreturn))
helper_main(const exec_ctx *x)
{
	zk_error err = { 0 };
	zk_zone_entry entry;
	if (zk_zone_enter(x->p, x->uuid, &entry, &err) < 0)
		report_exit(x->report, &err);
	pid_t pid = zk_zone_entry_fork(&entry);
	if (pid == 0)
		zone_process(&entry, x);
	if (pid < 0) {
		zk_fail_errno(&err, errno, "zone %s: fork", x->uuid);
		report_exit(x->report, &err);
	}
	for (int i = 0; i < 3; i++)
		if (x->stdio[i] >= 0)
			close(x->stdio[i]);
	if (x->sock >= 0)
		close(x->sock);
	close(x->report);
	_exit(wait_exit_code(pid));
}

static void
resize(void *arg, unsigned short rows, unsigned short cols)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	ioctl(*(int *)arg, TIOCSWINSZ, &ws);
}

static int
relay_pty(const zk_exec_opts *o, int sock, zk_error *err)
{
	char tag;
	_cleanup_close_ int master = -1;
	if (zk_recv_msg(sock, &tag, 1, &master) <= 0 || master < 0)
		return 0;	/* the report says why */
	struct winsize ws;
	if (ioctl(o->in, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
	zk_relay_opts ro = { .escape = true, .winch = resize,
	    .winch_arg = &master };
	int r = zk_relay_run(o->in, o->out, master, &ro, err);
	return r < 0 ? r : 0;	/* closing master: "~." hangs the shell up */
}

/* The zone's stdio are pipes this side relays until the helper is gone. */
static int
relay_pipes(const zk_exec_opts *o, int fds[3][2], pid_t helper,
    zk_error *err)
{
	_cleanup_close_ int done = zk_pidfd_open(helper);
	zk_pipe_relay r = {
		.in_src = o->in, .in_dst = fds[0][1],
		.out_src = fds[1][0], .out_dst = o->out,
		.err_src = fds[2][0], .err_dst = o->err,
		.done_fd = done,
	};
	/* A reader that went away is an error of the relay, not a signal
	 * that kills the caller; its own handling comes back after. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);
	int rc = zk_pipe_relay_run(&r, err);
	sigaction(SIGPIPE, &old, NULL);
	fds[0][1] = fds[1][0] = fds[2][0] = -1;	/* the relay closed them */
	return rc;
}

static void
close_pair(int fd[2])
{
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0) {
			close(fd[i]);
			fd[i] = -1;
		}
}

/* The pipes, or the socket the pty master comes back on, and the report. */
static int
make_channels(bool tty, int sv[2], int fds[3][2], int report[2],
    zk_error *err)
{
	if (pipe2(report, O_CLOEXEC | O_NONBLOCK) < 0)
		return zk_fail_errno(err, errno, "cannot make a pipe");
	if (tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv) < 0)
		return zk_fail_errno(err, errno, "cannot make a socket pair");
	for (int i = 0; !tty && i < 3; i++)
		if (pipe2(fds[i], O_CLOEXEC) < 0)
			return zk_fail_errno(err, errno, "cannot make the zone's "
			    "stdio pipes");
	return 0;
}

/* The helper's or the zone process's failure, if either reported one. */
static int
read_report(int fd, zk_error *err)
{
	zk_error got;
	if (read(fd, &got, sizeof(got)) != (ssize_t)sizeof(got))
		return 0;
	got.msg[sizeof(got.msg) - 1] = '\0';
	return zk_fail(err, got.code, "%s", got.msg);
}

typedef struct channels {
	int sv[2], fds[3][2], report[2];
} channels;

static void
channels_close(channels *c)
{
	close_pair(c->sv);
	close_pair(c->report);
	for (int i = 0; i < 3; i++)
		close_pair(c->fds[i]);
}

/* The helper's side of every channel: zone stdio, socket, report. */
static void
keep_child_ends(channels *c, exec_ctx *x)
{
	x->sock = c->sv[1];
	x->stdio[0] = c->fds[0][0];
	x->stdio[1] = c->fds[1][1];
	x->stdio[2] = c->fds[2][1];
	x->report = c->report[1];
}

/* After the fork, each side closes the other's ends. */
static void
close_ends(channels *c, bool child)
{
	int *ends[] = { &c->sv[child ? 0 : 1], &c->report[child ? 0 : 1],
	    &c->fds[0][child ? 1 : 0], &c->fds[1][child ? 0 : 1],
	    &c->fds[2][child ? 0 : 1] };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(ends); i++)
		if (*ends[i] >= 0) {
			close(*ends[i]);
			*ends[i] = -1;
		}
}

int
zk_zone_exec(const zk_paths *p, const char *uuid, const zk_exec_opts *o,
    int *status, zk_error *err)
{
	pid_t init;
	int r = zk_zone_init_pid(p, uuid, &init, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *command = o->argc > 0 ?
	    shell_command(o->argc, o->argv) : NULL;
	if (o->argc > 0 && command == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	channels c = { { -1, -1 }, { { -1, -1 }, { -1, -1 }, { -1, -1 } },
	    { -1, -1 } };
	exec_ctx x = { .p = p, .uuid = uuid, .command = command,
	    .term = o->term };
	if ((r = make_channels(o->tty, c.sv, c.fds, c.report, err)) < 0) {
		channels_close(&c);
		return r;
	}
	keep_child_ends(&c, &x);
	pid_t helper = fork();
	if (helper < 0) {
		channels_close(&c);
		return zk_fail_errno(err, errno, "cannot fork");
	}
	if (helper == 0) {
		close_ends(&c, true);
		helper_main(&x);
	}
	close_ends(&c, false);
	r = o->tty ? relay_pty(o, c.sv[0], err) :
	    relay_pipes(o, c.fds, helper, err);
	*status = wait_exit_code(helper);
	int reported = read_report(c.report[0], err);
	channels_close(&c);
	return reported < 0 ? reported : r;
}
