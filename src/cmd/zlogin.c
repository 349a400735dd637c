/*
 * zlogin: run a command, or a shell, inside a running zone; -C attaches to
 * the zone console.  Enters the zone through its init's pidfd, without
 * zoneadmd.  The exit status is the command's (128+N if killed by signal N);
 * 1 when zlogin itself fails, 2 on usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "term/pipe_relay.h"
#include "term/pty.h"
#include "term/relay.h"
#include "util/cleanup.h"
#include "util/paths.h"
#include "util/proc.h"
#include "util/uuid.h"
#include "vm/vm.h"
#include "zone/privileges.h"
#include "zone/zone_enter.h"

#define ENV_MAX 8

static void
usage(void)
{
	fprintf(stderr, "Usage: zlogin [-C] <zone uuid> [command ...]\n");
	exit(2);
}

static int
fail(const zk_error *err)
{
	fprintf(stderr, "zlogin: %s\n", err->msg);
	return 1;
}

/*
 * As on illumos: one argument is handed to the shell as is, several are
 * quoted and joined so the shell sees them as separate words.
 */
static char *
build_command(int argc, char *argv[])
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

/*
 * The zone's process: in the zone's pid namespace from birth.  It joins
 * the zone (zone_enter.h), takes its stdio (a pty of the zone's own
 * devpts, or zlogin's pipes), closes every other fd and execs.  Errors
 * before the exec go to zlogin's stderr; a failed exec says nothing, on
 * an fd the zone now owns, and exits 127 as a shell does.
 */
static void __attribute__((noreturn))
zone_process(zk_zone_entry *e, const char *command, int sock,
    const int stdio[3])
{
	zk_error err = { 0 };
	if (zk_zone_entry_join(e, &err) < 0) {
		fail(&err);
		_exit(1);
	}
	setsid();
	int fds[3] = { stdio[0], stdio[1], stdio[2] };
	if (sock >= 0) {
		int master, slave;
		if (zk_pty_open(&master, &slave, &err) < 0 ||
		    zk_send_fd(sock, 'M', master) < 0 ||
		    ioctl(slave, TIOCSCTTY, 0) < 0) {
			fail(&err);
			_exit(1);
		}
		fds[0] = fds[1] = fds[2] = slave;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(1);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	char storage[ENV_MAX][128];
	char *envp[ENV_MAX];
	zk_zone_login_env(getenv("TERM"), envp, storage, ENV_MAX);
	if (zk_privileges_apply(&err) < 0) {
		fail(&err);
		_exit(1);
	}
	if (command != NULL) {
		char *argv[] = { "sh", "-c", (char *)command, NULL };
		execve("/bin/sh", argv, envp);
	} else {
		char *argv[] = { sock >= 0 ? "-sh" : "sh", NULL };
		execve("/bin/sh", argv, envp);
	}
	_exit(127);
}

/*
 * The helper enters the zone's namespaces and forks the zone process,
 * which alone joins the zone's cgroups and user namespace: zlogin never
 * leaves the host (it only relays and reports the exit status) and
 * nothing of it is charged to the zone.  The zone process gets its own
 * session, so it has no controlling terminal on a host tty.
 */
static void __attribute__((noreturn))
helper_main(const zk_paths *p, const char *uuid, const char *command,
    int sock, const int stdio[3])
{
	zk_error err = { 0 };
	zk_zone_entry entry;
	if (zk_zone_enter(p, uuid, &entry, &err) < 0) {
		fail(&err);
		_exit(1);
	}
	pid_t pid = zk_zone_entry_fork(&entry);
	if (pid == 0)
		zone_process(&entry, command, sock, stdio);
	if (pid < 0) {
		perror("zlogin: fork");
		_exit(1);
	}
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	if (sock >= 0)
		close(sock);
	_exit(wait_exit_code(pid));
}

static void
resize(void *arg, unsigned short rows, unsigned short cols)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	ioctl(*(int *)arg, TIOCSWINSZ, &ws);
}

static int
relay_pty(int sock, pid_t helper)
{
	zk_error err = { 0 };
	char tag;
	int master = -1;
	if (zk_recv_msg(sock, &tag, 1, &master) <= 0 || master < 0)
		return wait_exit_code(helper);
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
	zk_relay_opts o = { .escape = true, .winch = resize, .winch_arg = &master };
	int r = zk_relay_run(STDIN_FILENO, STDOUT_FILENO, master, &o, &err);
	close(master);		/* "~." typed: the shell gets SIGHUP */
	int code = wait_exit_code(helper);
	return r < 0 ? fail(&err) : code;
}

static int
pipes(int fds[3][2])
{
	for (int i = 0; i < 3; i++)
		if (pipe2(fds[i], O_CLOEXEC) < 0)
			return -1;
	return 0;
}

/* Non-interactive: the zone's stdio are pipes zlogin relays. */
static int
relay_pipes(int fds[3][2], pid_t helper)
{
	zk_error err = { 0 };
	_cleanup_close_ int done = zk_pidfd_open(helper);
	zk_pipe_relay r = {
		.in_src = STDIN_FILENO, .in_dst = fds[0][1],
		.out_src = fds[1][0], .out_dst = STDOUT_FILENO,
		.err_src = fds[2][0], .err_dst = STDERR_FILENO,
		.done_fd = done,
	};
	signal(SIGPIPE, SIG_IGN);
	int rc = zk_pipe_relay_run(&r, &err);
	int code = wait_exit_code(helper);
	return rc < 0 ? fail(&err) : code;
}

static int
login(const zk_paths *p, const char *uuid, const char *command,
    bool interactive)
{
	zk_error err = { 0 };
	pid_t init;
	if (zk_zone_init_pid(p, uuid, &init, &err) < 0)
		return fail(&err);
	int sv[2] = { -1, -1 };
	int fds[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	if (interactive ? socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv) < 0 : pipes(fds) < 0) {
		perror("zlogin: cannot set up the zone's stdio");
		return 1;
	}
	const int zone_stdio[3] = { fds[0][0], fds[1][1], fds[2][1] };
	pid_t helper = fork();
	if (helper < 0) {
		perror("zlogin: fork");
		return 1;
	}
	if (helper == 0) {
		/* zlogin's ends of the zone's stdio stay with zlogin */
		const int ours[] = { sv[0], fds[0][1], fds[1][0], fds[2][0] };
		for (size_t i = 0; i < ZK_ARRAY_SIZE(ours); i++)
			if (ours[i] >= 0)
				close(ours[i]);
		helper_main(p, uuid, command, sv[1], zone_stdio);
	}
	for (int i = 0; i < 3; i++)
		if (zone_stdio[i] >= 0)
			close(zone_stdio[i]);
	if (!interactive)
		return relay_pipes(fds, helper);
	close(sv[1]);
	int code = relay_pty(sv[0], helper);
	close(sv[0]);
	return code;
}

static int
console(const zk_paths *p, const char *uuid)
{
	zk_error err = { 0 };
	int fd;
	if (zk_vm_console_connect(p, uuid, &fd, &err) < 0)
		return fail(&err);
	fprintf(stderr, "[Connected to zone '%s' console]\n", uuid);
	zk_relay_opts o = { .escape = true };
	int r = zk_relay_run(STDIN_FILENO, STDOUT_FILENO, fd, &o, &err);
	close(fd);
	fprintf(stderr, "\n[Connection to zone '%s' console closed]\n", uuid);
	return r < 0 ? fail(&err) : 0;
}

int
main(int argc, char *argv[])
{
	bool want_console = false;
	int opt;
	/* "+": options end at the zone name; the rest is the command. */
	while ((opt = getopt(argc, argv, "+C")) != -1) {
		if (opt != 'C')
			usage();
		want_console = true;
	}
	if (optind >= argc)
		usage();
	const char *uuid = argv[optind++];
	if (!zk_uuid_valid(uuid)) {
		fprintf(stderr, "zlogin: invalid zone uuid \"%s\"\n", uuid);
		usage();
	}
	zk_paths p;
	zk_error err = { 0 };
	if (zk_paths_from_env(&p, &err) < 0)
		return fail(&err);
	if (want_console) {
		if (optind != argc)
			usage();
		return console(&p, uuid);
	}
	_cleanup_free_ char *command = optind < argc ?
	    build_command(argc - optind, argv + optind) : NULL;
	return login(&p, uuid, command, command == NULL && isatty(STDIN_FILENO));
}
