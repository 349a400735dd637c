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
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"
#include "proc.h"
#include "privileges.h"
#include "relay.h"
#include "uuid.h"
#include "vm.h"
#include "zone_enter.h"

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

/* In the zone's pid namespace: drop to the zone's privileges and exec. */
static void __attribute__((noreturn))
exec_in_zone(const zk_zone_entry *e, const char *command, bool login)
{
	zk_error err = { 0 };
	if (zk_zone_entry_join(e, &err) < 0) {
		fail(&err);
		_exit(1);
	}
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
		char *argv[] = { login ? "-sh" : "sh", NULL };
		execve("/bin/sh", argv, envp);
	}
	fprintf(stderr, "zlogin: cannot execute /bin/sh in the zone: %s\n",
	    strerror(errno));
	_exit(126);
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

/* A login on a pty of the zone's own devpts; the master goes to zlogin. */
static pid_t
spawn_pty_shell(zk_zone_entry *e, int sock)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	char slave[64];
	if (master < 0 || unlockpt(master) < 0 ||
	    ptsname_r(master, slave, sizeof(slave)) != 0 ||
	    zk_send_fd(sock, 'M', master) < 0) {
		fprintf(stderr, "zlogin: cannot allocate a pty in the zone: %s\n",
		    strerror(errno));
		return -1;
	}
	pid_t pid = zk_zone_entry_fork(e);
	if (pid == 0) {
		setsid();
		int s = open(slave, O_RDWR);
		if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
			_exit(126);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		if (s > 2)
			close(s);
		exec_in_zone(e, NULL, true);
	}
	close(master);
	return pid;
}

/*
 * The helper enters the zone's namespaces and forks the zone process,
 * which alone joins the zone's cgroups: zlogin never leaves the host (it
 * only relays and reports the exit status) and nothing of it is charged to
 * the zone.  The zone process gets its own session, so it has no
 * controlling terminal on a host tty.
 */
static void __attribute__((noreturn))
helper_main(const zk_paths *p, const char *uuid, const char *command,
    int sock)
{
	zk_error err = { 0 };
	zk_zone_entry entry;
	if (zk_zone_enter(p, uuid, &entry, &err) < 0) {
		fail(&err);
		_exit(1);
	}
	pid_t pid;
	if (sock >= 0) {
		pid = spawn_pty_shell(&entry, sock);
	} else {
		pid = zk_zone_entry_fork(&entry);
		if (pid == 0) {
			setsid();
			exec_in_zone(&entry, command, false);
		}
	}
	if (pid < 0)
		_exit(1);
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
login(const zk_paths *p, const char *uuid, const char *command,
    bool interactive)
{
	zk_error err = { 0 };
	pid_t init;
	if (zk_zone_init_pid(p, uuid, &init, &err) < 0)
		return fail(&err);
	int sv[2] = { -1, -1 };
	if (interactive && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv) < 0) {
		perror("zlogin: socketpair");
		return 1;
	}
	pid_t helper = fork();
	if (helper < 0) {
		perror("zlogin: fork");
		return 1;
	}
	if (helper == 0) {
		if (sv[0] >= 0)
			close(sv[0]);
		helper_main(p, uuid, command, sv[1]);
	}
	if (!interactive)
		return wait_exit_code(helper);
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
