/*
 * zoneadmd: one per running zone, as on SmartOS.  It boots the zone's init
 * into new namespaces and stays its parent and reaper, holds the zone
 * console, and answers vmadm on a control socket (see ctl.h).  If it is
 * killed the zone keeps running; the next zoneadmd (-a) adopts it.
 *
 * Single-threaded and event-driven: it sleeps in epoll_wait until the
 * zone's init exits, a request arrives, console bytes flow, the zone's
 * policy (controllers/policy.h) has work, or a client's request is due.
 * Nothing in the loop waits for a client.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "config/rctl.h"
#include "config/store.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/fsutil.h"
#include "util/json_util.h"
#include "util/lock.h"
#include "util/proc.h"
#include "util/uuid.h"
#include "vm/ctl.h"
#include "zone/zone_root.h"
#include "zone/zone_runtime.h"
#include "zoneadmd.h"

static void __attribute__((format(printf, 2, 3)))
zlog(const zoneadmd *z, const char *fmt, ...)
{
	char ts[32], line[ZK_ERROR_MAX + 128];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	int n = snprintf(line, sizeof(line), "%s zoneadmd[%d]: ", ts,
	    (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (z->log_fd >= 0 && write(z->log_fd, line, (size_t)n) < 0) {
		/* nowhere else to say it */
	}
}

static void
usage(void)
{
	fprintf(stderr, "Usage: zoneadmd -z <uuid> [-a] [-n notify-fd]\n");
	exit(2);
}

static int
write_run_file(const zoneadmd *z, const char *name, const char *text)
{
	char path[PATH_MAX];
	zk_error err;
	zk_path_run_file(&z->paths, z->uuid, name, path);
	int r = zk_write_file_replace(path, text, strlen(text), 0600, &err);
	if (r < 0)
		zlog(z, "%s", err.msg);
	return r;
}

static void
set_state(const zoneadmd *z, const char *state)
{
	char line[40];
	snprintf(line, sizeof(line), "%s\n", state);
	write_run_file(z, ZK_RUN_STATE, line);
}

/* ---- epoll bookkeeping ---------------------------------------------------- */

static int
watch(const zoneadmd *z, int fd, const char *what, zk_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (epoll_ctl(z->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return zk_fail_errno(err, errno, "cannot watch %s", what);
	return 0;
}

static void
unwatch(const zoneadmd *z, int fd)
{
	epoll_ctl(z->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static client *
find_client(zoneadmd *z, int fd)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (z->clients[i].fd == fd)
			return &z->clients[i];
	return NULL;
}

static void
drop_client(zoneadmd *z, client *c)
{
	unwatch(z, c->fd);
	close(c->fd);
	c->fd = -1;
}

/* One protocol line to a client or to vmadm's notify pipe; a reader that
 * went away learns the outcome from the zone's state instead. */
static void __attribute__((format(printf, 2, 0)))
vsend_line(int fd, const char *fmt, va_list ap)
{
	char line[ZK_ERROR_MAX + 64];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) < 0 && errno == ENOTSOCK &&
	    write(fd, line, (size_t)n) < 0) {
		/* nobody listening */
	}
}

static void __attribute__((format(printf, 2, 3)))
reply(client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsend_line(c->fd, fmt, ap);
	va_end(ap);
}

/* Every failure a request meets is answered here (ctl.h's "error"). */
static void
reply_error(client *c, const zk_error *err)
{
	reply(c, ZK_CTL_ERROR_FMT, err->code, err->msg);
}

/* Answer everyone waiting for a stop or reboot to finish. */
static void
reply_waiters(zoneadmd *z, client_kind kind, const char *text)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		client *c = &z->clients[i];
		if (c->fd >= 0 && c->kind == kind) {
			reply(c, "%s", text);
			drop_client(z, c);
		}
	}
}

/* ---- zone ids ------------------------------------------------------------- */

/* The smallest id >= 1 no other running zone holds, under a host lock. */
static int
alloc_zoneid(zoneadmd *z, zk_error *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int lock = -1;
	int r = zk_lock(&z->paths, ZK_LOCK_ZONEIDS, false, &lock, err);
	if (r < 0)
		return r;
	_cleanup_closedir_ DIR *d = opendir(z->paths.rundir);
	if (d == NULL)
		return zk_fail_errno(err, errno, "cannot read %s", z->paths.rundir);
	unsigned char used[8192] = { 0 };
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!zk_uuid_valid(de->d_name) || strcmp(de->d_name, z->uuid) == 0)
			continue;
		_cleanup_free_ char *text = NULL;
		zk_path_run_file(&z->paths, de->d_name, ZK_RUN_ZONEID, path);
		if (zk_read_file(path, &text, NULL, NULL) == 0) {
			int id = atoi(text);
			if (id > 0 && id < (int)sizeof(used))
				used[id] = 1;
		}
	}
	int id = 1;
	while (id < (int)sizeof(used) - 1 && used[id])
		id++;
	char line[16];
	snprintf(line, sizeof(line), "%d\n", id);
	zk_path_run_file(&z->paths, z->uuid, ZK_RUN_ZONEID, path);
	r = zk_write_file_replace(path, line, strlen(line), 0600, err);
	if (r == 0)
		z->zoneid = id;
	return r;
}

/* ---- booting and halting -------------------------------------------------- */

static int
load_spec(zoneadmd *z, zk_error *err)
{
	_cleanup_json_ json_t *cfg = NULL;
	int r = zk_store_load(&z->paths, z->uuid, &cfg, err);
	if (r == 0)
		r = zk_zone_spec_from_config(&z->paths, cfg, &z->spec, err);
	if (r == 0)
		r = zk_rctl_apply_all(z->cg, cfg, err);
	if (r == 0)
		zk_init_signals_for(&z->spec, &z->sigs);
	return r;
}

static int
attach_console(zoneadmd *z, int master, zk_error *err)
{
	z->zone.console = master;
	z->console_peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY |
	    O_CLOEXEC);
	fcntl(master, F_SETFL, O_NONBLOCK);
	return watch(z, master, "the zone's console", err);
}

static void
release_console(zoneadmd *z)
{
	if (z->zone.console >= 0) {
		unwatch(z, z->zone.console);
		close(z->zone.console);
	}
	if (z->console_peer >= 0)
		close(z->console_peer);
	z->zone.console = z->console_peer = -1;
}

static void
policy_log(void *arg, const char *msg)
{
	zlog(arg, "%s", msg);
}

static int
start_policy(zoneadmd *z, zk_error *err)
{
	zk_policy_params prm = { .cg = z->cg, .paths = &z->paths,
	    .uuid = z->uuid, .zoneid = z->zoneid, .init_pid = z->zone.pid,
	    .log = policy_log, .log_arg = z };
	int r = zk_policy_new(&prm, &z->policy, err);
	if (r == 0 && (r = watch(z, zk_policy_fd(z->policy),
	    "the resource policy", err)) < 0) {
		zk_policy_free(z->policy, true);
		z->policy = NULL;
	}
	return r < 0 ? zk_error_prefix(err, "resource policy") : 0;
}

/* Kstats and controllers are the zone's figures, not its life: a zone
 * whose policy cannot start keeps running, with the kernel's limits, and
 * the next reload tries again. */
static void
try_start_policy(zoneadmd *z)
{
	zk_error err = { 0 };
	if (start_policy(z, &err) < 0)
		zlog(z, "%s", err.msg);
}

static void
stop_policy(zoneadmd *z, bool remove_kstats)
{
	if (z->policy == NULL)
		return;
	unwatch(z, zk_policy_fd(z->policy));
	zk_policy_free(z->policy, remove_kstats);
	z->policy = NULL;
}

static int
boot(zoneadmd *z, zk_error *err)
{
	char path[PATH_MAX], ts[40];
	set_state(z, "ready");
	int r = load_spec(z, err);
	if (r == 0)
		r = zk_fault("boot.clone", err);
	if (r == 0)
		r = zk_zone_boot(&z->spec, z->cg, &z->zone, err);
	if (r < 0)
		return r;
	z->is_parent = true;
	if ((r = attach_console(z, z->zone.console, err)) < 0 ||
	    (r = watch(z, z->zone.pidfd, "the zone's init", err)) < 0)
		return r;
	zk_path_run_file(&z->paths, z->uuid, ZK_RUN_INIT, path);
	if ((r = zk_pidfile_write(path, z->zone.pid, err)) < 0)
		return r;
	zk_iso8601_now(ts, sizeof(ts) - 1);
	strcat(ts, "\n");
	write_run_file(z, ZK_RUN_BOOT_TIMESTAMP, ts);
	set_state(z, "running");
	zlog(z, "zone %s booted: init %s is pid %d, zoneid %d", z->uuid,
	    z->spec.init_name, (int)z->zone.pid, z->zoneid);
	try_start_policy(z);
	return 0;
}

/*
 * The kernel deletes a zone's veth pairs when its network namespace dies,
 * but later and on its own schedule: deleting the host ends here makes
 * them gone by the time stop returns and frees their names for a reboot.
 * (A zone whose config lost all its nics while it ran leaves its pairs to
 * the kernel.)
 */
static void
remove_nics(zoneadmd *z)
{
	zk_error err;
	if (z->spec.net.nnics > 0 && zk_net_teardown(z->uuid, &err) < 0)
		zlog(z, "teardown: %s", err.msg);
}

/* Remove every trace of the running zone; the dataset and config stay. */
static void
teardown(zoneadmd *z)
{
	zk_error err;
	if (zk_cgroup_kill_all(z->cg, KILL_TIMEOUT_MS, &err) < 0 ||
	    zk_cgroup_destroy(z->cg, &err) < 0)
		zlog(z, "teardown: %s", err.msg);
	remove_nics(z);
	release_console(z);
	if (zk_rm_rf(z->run, &err) < 0)
		zlog(z, "teardown: %s", err.msg);
}

/*
 * After adoption we are not init's parent, so waitid() cannot tell how it
 * ended.  Linux 6.15+ keeps the wait status for pidfd holders
 * (PIDFD_GET_INFO with PIDFD_INFO_EXIT) once the real parent has reaped it;
 * older kernels give nothing, and the zone is treated as halted.
 */
struct pidfd_info_v0 {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid,
	    fsgid;
	int32_t exit_code;
};
#define ZK_PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info_v0)
#define ZK_PIDFD_INFO_EXIT (1ULL << 3)

static bool
adopted_init_wants_reboot(zoneadmd *z)
{
	for (int tries = 0; tries < 50; tries++) {
		struct pidfd_info_v0 info = { .mask = ZK_PIDFD_INFO_EXIT };
		if (ioctl(z->zone.pidfd, ZK_PIDFD_GET_INFO, &info) < 0 &&
		    errno != ESRCH)
			break;
		if (info.mask & ZK_PIDFD_INFO_EXIT) {
			zlog(z, "adopted zone init exited (status %#x)",
			    (unsigned)info.exit_code);
			return WIFSIGNALED(info.exit_code) &&
			    WTERMSIG(info.exit_code) == SIGHUP;
		}
		usleep(10000);	/* not reaped by its parent yet */
	}
	zlog(z, "adopted zone init exited; kernel gives no exit status: halt");
	return false;
}

/* The init's end: was it a halt or a reboot (reboot(2) in a pid namespace
 * kills init with SIGHUP for restart, SIGINT for halt/power-off)? */
static bool
init_wants_reboot(zoneadmd *z)
{
	if (!z->is_parent)
		return adopted_init_wants_reboot(z);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)z->zone.pidfd, &si, WEXITED) < 0)
		return false;
	zlog(z, "zone init exited (code %d, status %d)", si.si_code,
	    si.si_status);
	return si.si_code == CLD_KILLED && si.si_status == SIGHUP;
}

static int
reboot_zone(zoneadmd *z)
{
	zk_error err;
	if (zk_cgroup_kill_all(z->cg, KILL_TIMEOUT_MS, &err) < 0)
		zlog(z, "reboot: %s", err.msg);
	remove_nics(z);
	release_console(z);
	int r = boot(z, &err);
	if (r < 0) {
		zlog(z, "reboot failed: %s", err.msg);
		return r;
	}
	/* Attached consoles stay attached: they now see the new boot. */
	reply_waiters(z, CLIENT_WAIT_REBOOT, "ok");
	return 0;
}

/* Returns true when zoneadmd's work is done (zone halted). */
static bool
on_init_exit(zoneadmd *z)
{
	bool reboot = init_wants_reboot(z);
	stop_policy(z, true);
	unwatch(z, z->zone.pidfd);
	close(z->zone.pidfd);
	z->zone.pidfd = -1;
	zk_timer_set(z->timer_fd, 0);
	if ((reboot || z->rebooting) && !z->stopping) {
		z->rebooting = false;
		zlog(z, "zone %s rebooting", z->uuid);
		if (reboot_zone(z) == 0)
			return false;
	}
	zlog(z, "zone %s halted", z->uuid);
	set_state(z, "down");
	teardown(z);
	reply_waiters(z, CLIENT_WAIT_STOP, "ok");
	char line[64];
	snprintf(line, sizeof(line), ZK_CTL_ERROR_FMT, ECANCELED,
	    "zone halted while rebooting");
	reply_waiters(z, CLIENT_WAIT_REBOOT, line);
	return true;
}

/* Through the pidfd, immune to pid reuse; kill(2) where the pidfd call is
 * missing (valgrind, old kernels), while init is still our child or alive. */
static void
signal_init(zoneadmd *z, int sig)
{
	if (zk_pidfd_send_signal(z->zone.pidfd, sig) == -ENOSYS)
		kill(z->zone.pid, sig);
}

/*
 * init is the zone's pid-namespace init: when it dies the kernel kills
 * every other process of the namespace, and init's pidfd turns readable
 * once they are all gone.  No freeze, no polling of the cgroup; teardown()
 * still sweeps it for zlogin helpers, which live outside the namespace.
 */
static void
force_kill(zoneadmd *z)
{
	zk_error err;
	zlog(z, "killing every process of zone %s", z->uuid);
	if (z->zone.pidfd >= 0) {
		signal_init(z, SIGKILL);
		return;
	}
	if (zk_cgroup_kill_all(z->cg, KILL_TIMEOUT_MS, &err) < 0)
		zlog(z, "kill: %s", err.msg);
}

static void
begin_shutdown(zoneadmd *z, bool reboot, bool force, int timeout_s)
{
	if (reboot)
		z->rebooting = true;
	else
		z->stopping = true;
	set_state(z, "shutting_down");
	if (force || timeout_s <= 0) {
		force_kill(z);
		return;
	}
	int sig = reboot ? z->sigs.reboot : z->sigs.poweroff;
	zlog(z, "asking init to %s (signal %d), %d s before force",
	    reboot ? "reboot" : "power off", sig, timeout_s);
	signal_init(z, sig);
	int r = zk_timer_set(z->timer_fd, (uint64_t)timeout_s * 1000000000ULL);
	if (r < 0) {
		zlog(z, "stop timer: %s", strerror(-r));
		force_kill(z);
	}
}

/* ---- requests --------------------------------------------------------------- */

/* "rctl get", "rctl set <rctl> <value>" or "rctl delete <rctl>", from prctl. */
static void
handle_rctl(zoneadmd *z, client *c, const zk_ctl_request *req)
{
	zk_error err = { 0 };
	if (req->op == ZK_CTL_RCTL_GET) {
		_cleanup_free_ char *values = z->policy != NULL ?
		    zk_policy_rctl_values(z->policy) : NULL;
		reply(c, "ok %s", values != NULL ? values : "{}");
		return;
	}
	int r = z->policy != NULL ? 0 : zk_fail(&err, ESRCH, "zone %s has no "
	    "resource policy running", z->uuid);
	if (r == 0)
		r = zk_policy_set_rctl(z->policy, req->rctl,
		    req->op == ZK_CTL_RCTL_SET ? req->value : NULL, &err);
	if (r < 0)
		reply_error(c, &err);
	else
		reply(c, "ok");
}

/* The limits in force after `vmadm update`, or why not: a policy that
 * could not start before is started now. */
static void
handle_reload(zoneadmd *z, client *c)
{
	zk_error err = { 0 };
	int r = z->policy != NULL ? zk_policy_reload(z->policy, &err) :
	    start_policy(z, &err);
	if (r < 0) {
		zlog(z, "reload: %s", err.msg);
		reply_error(c, &err);
	} else {
		reply(c, "ok");
	}
}

/* The request is read by the library (ctl.h), where it is fuzzed. */
static void
handle_request(zoneadmd *z, client *c, const char *line)
{
	zk_ctl_request req;
	zk_error err = { 0 };
	if (zk_ctl_parse_request(line, &req, &err) < 0) {
		reply_error(c, &err);
	} else if (req.op == ZK_CTL_STATUS) {
		reply(c, "ok %s %d %d", z->stopping ? "shutting_down" : "running",
		    (int)z->zone.pid, z->zoneid);
	} else if (req.op == ZK_CTL_STOP) {
		c->kind = CLIENT_WAIT_STOP;
		begin_shutdown(z, false, req.force, req.timeout_s);
	} else if (req.op == ZK_CTL_REBOOT) {
		c->kind = CLIENT_WAIT_REBOOT;
		begin_shutdown(z, true, req.force, 60);
	} else if (req.op == ZK_CTL_RELOAD) {
		handle_reload(z, c);
	} else if (req.op == ZK_CTL_CONSOLE) {
		c->kind = CLIENT_CONSOLE;
		reply(c, "ok");
		return;
	} else {
		handle_rctl(z, c, &req);
	}
	if (c->kind == CLIENT_REQUEST)
		drop_client(z, c);
}

static void
accept_client(zoneadmd *z)
{
	zk_error err = { 0 };
	int fd = accept4(z->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	client *c = find_client(z, -1);
	if (c == NULL || watch(z, fd, "a control client", &err) < 0) {
		if (c != NULL)
			zlog(z, "%s", err.msg);
		close(fd);
		return;
	}
	*c = (client){ .fd = fd, .kind = CLIENT_REQUEST,
	    .deadline_ns = zk_now_ns() + REQUEST_DEADLINE_MS * 1000000ULL };
}

/*
 * Whatever part of the request line has arrived, without waiting for the
 * rest.  Bytes are taken up to the newline only: after "console" the same
 * connection carries the console stream.
 */
static void
read_request(zoneadmd *z, client *c)
{
	size_t room = sizeof(c->line) - 1 - c->len;
	ssize_t n = recv(c->fd, c->line + c->len, room, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {	/* a last line without its newline still counts */
		c->line[c->len] = '\0';
		if (n == 0 && c->len > 0)
			handle_request(z, c, c->line);
		else
			drop_client(z, c);
		return;
	}
	char *nl = memchr(c->line + c->len, '\n', (size_t)n);
	size_t take = nl != NULL ? (size_t)(nl - (c->line + c->len)) + 1 :
	    (size_t)n;
	if (recv(c->fd, c->line + c->len, take, 0) != (ssize_t)take) {
		drop_client(z, c);
		return;
	}
	c->len += take;
	if (nl != NULL) {
		c->line[c->len - 1] = '\0';
		handle_request(z, c, c->line);
	} else if (c->len == sizeof(c->line) - 1) {
		reply(c, "error %d request longer than %zu bytes", E2BIG,
		    sizeof(c->line) - 1);
		drop_client(z, c);
	}
}

static void
client_readable(zoneadmd *z, client *c)
{
	char buf[4096];
	if (c->kind == CLIENT_REQUEST) {
		read_request(z, c);
		return;
	}
	ssize_t n = read(c->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(z, c);
		return;
	}
	/* a client waiting for a stop or reboot: only its EOF matters */
	if (c->kind == CLIENT_CONSOLE && z->zone.console >= 0 &&
	    write(z->zone.console, buf, (size_t)n) < 0)
		zlog(z, "console write: %s", strerror(errno));
}

/* Clients whose request line is overdue lose their slot; returns the
 * epoll timeout (ms) until the next one is due, -1 if none is pending. */
static int
expire_clients(zoneadmd *z)
{
	uint64_t now = zk_now_ns(), next = 0;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		client *c = &z->clients[i];
		if (c->fd < 0 || c->kind != CLIENT_REQUEST)
			continue;
		if (c->deadline_ns <= now) {
			reply(c, "error %d no request line within %d ms",
			    ETIMEDOUT, REQUEST_DEADLINE_MS);
			drop_client(z, c);
		} else if (next == 0 || c->deadline_ns < next) {
			next = c->deadline_ns;
		}
	}
	/* rounded up: waking a little early would only spin */
	return next == 0 ? -1 : (int)((next - now + 999999) / 1000000);
}

/* Console output goes to every attached client; with none it is drained
 * so the zone never blocks on a full console. */
static void
console_readable(zoneadmd *z)
{
	char buf[4096];
	ssize_t n = read(z->zone.console, buf, sizeof(buf));
	if (n <= 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		client *c = &z->clients[i];
		if (c->fd >= 0 && c->kind == CLIENT_CONSOLE &&
		    send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN)
			drop_client(z, c);
	}
}

/* ---- set-up ------------------------------------------------------------------ */

static int
listen_socket(zoneadmd *z, zk_error *err)
{
	char path[PATH_MAX];
	int r = zk_ctl_socket_path(&z->paths, z->uuid, path, err);
	if (r < 0)
		return r;
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return zk_fail_errno(err, errno, "socket");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		close(fd);
		return zk_fail_errno(err, errno, "cannot listen on %s", path);
	}
	z->listen_fd = fd;
	return 0;
}

static int
setup_events(zoneadmd *z, zk_error *err)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	z->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	z->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (z->sigfd < 0 || z->epfd < 0)
		return zk_fail_errno(err, errno, "cannot set up the event loop");
	z->timer_fd = zk_timer_new();
	if (z->timer_fd < 0)
		return zk_fail_errno(err, -z->timer_fd, "cannot set up the "
		    "stop timer");
	int r;
	if ((r = watch(z, z->sigfd, "signals", err)) < 0 ||
	    (r = watch(z, z->timer_fd, "the stop timer", err)) < 0 ||
	    (r = listen_socket(z, err)) < 0)
		return r;
	return watch(z, z->listen_fd, "the control socket", err);
}

/* A zone whose zoneadmd died: take over its init (we are not its parent). */
static int
adopt(zoneadmd *z, zk_error *err)
{
	char path[PATH_MAX];
	zk_path_run_file(&z->paths, z->uuid, ZK_RUN_INIT, path);
	int r = zk_pidfile_read_live(path, &z->zone.pid);
	if (r < 0)
		return zk_fail(err, ESRCH, "zone %s has no running init to adopt",
		    z->uuid);
	z->zone.pidfd = zk_pidfd_open(z->zone.pid);
	if (z->zone.pidfd < 0)
		return zk_fail_errno(err, -z->zone.pidfd, "pidfd_open %d",
		    (int)z->zone.pid);
	_cleanup_free_ char *text = NULL;
	zk_path_run_file(&z->paths, z->uuid, ZK_RUN_ZONEID, path);
	if (zk_read_file(path, &text, NULL, NULL) == 0)
		z->zoneid = atoi(text);
	_cleanup_json_ json_t *cfg = NULL;
	if ((r = zk_store_load(&z->paths, z->uuid, &cfg, err)) < 0 ||
	    (r = zk_zone_spec_from_config(&z->paths, cfg, &z->spec, err)) < 0)
		return r;
	zk_init_signals_for(&z->spec, &z->sigs);
	/* A zone adopted without a console still runs; one whose init's
	 * exit cannot be watched would never be seen to halt. */
	int master = -1;
	if (zk_zone_new_console(z->zone.pid, &master, err) < 0 ||
	    attach_console(z, master, err) < 0)
		zlog(z, "adopt: no console: %s", err->msg);
	if ((r = watch(z, z->zone.pidfd, "the zone's init", err)) < 0)
		return r;
	zlog(z, "adopted zone %s (init pid %d)", z->uuid, (int)z->zone.pid);
	try_start_policy(z);
	return 0;
}

static int
open_log(zoneadmd *z)
{
	char path[PATH_MAX];
	zk_path_zone_log(&z->paths, z->uuid, path);
	z->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	return z->log_fd;
}

/* One zoneadmd per zone: the loser of a race steps aside. */
static int
take_singleton(zoneadmd *z, int *lock, zk_error *err)
{
	char path[PATH_MAX];
	int r = zk_mkdir_p(z->run, 0700, err);
	if (r < 0)
		return r;
	zk_path_run_file(&z->paths, z->uuid, ZK_RUN_ZONEADMD_LOCK, path);
	*lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*lock < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	if (flock(*lock, LOCK_EX | LOCK_NB) < 0)
		return zk_fail(err, EALREADY, "zoneadmd for %s is already "
		    "running", z->uuid);
	zk_path_run_file(&z->paths, z->uuid, ZK_RUN_ZONEADMD_PID, path);
	return zk_pidfile_write(path, getpid(), err);
}

static void __attribute__((format(printf, 2, 3)))
notify(int fd, const char *fmt, ...)
{
	if (fd < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsend_line(fd, fmt, ap);
	va_end(ap);
}

static int
start(zoneadmd *z, bool adopting, zk_error *err)
{
	int r = zk_cgroup_open(z->paths.cgroup_root, z->paths.cgroup_parent,
	    z->uuid, &z->cg, err);
	if (r == 0)
		r = setup_events(z, err);
	if (r < 0 || adopting)
		return r < 0 ? r : adopt(z, err);
	if ((r = alloc_zoneid(z, err)) < 0 ||
	    (r = zk_fault("boot.cgroup", err)) < 0 ||
	    (r = zk_cgroup_create(z->cg, err)) < 0)
		return r;
	return boot(z, err);
}

/* ---- the loop ------------------------------------------------------------------ */

static bool
on_signal(zoneadmd *z)
{
	struct signalfd_siginfo si;
	while (read(z->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			/* zoneadmd leaving never takes the zone with it */
			zlog(z, "signal %u: exiting, zone keeps running",
			    si.ssi_signo);
			return true;
		}
		/* SIGCHLD needs nothing: init is reaped through its pidfd,
		 * and helper children are waited for where they are forked. */
	}
	return false;
}

/* One ready fd; true when zoneadmd's work is done. */
static bool
on_event(zoneadmd *z, int fd)
{
	client *c;
	uint64_t x;
	if (fd == z->sigfd)
		return on_signal(z);
	if (fd == z->zone.pidfd)
		return on_init_exit(z);
	if (fd == z->timer_fd) {
		if (read(z->timer_fd, &x, sizeof(x)) > 0)
			force_kill(z);
	} else if (fd == z->listen_fd) {
		accept_client(z);
	} else if (fd == z->zone.console) {
		console_readable(z);
	} else if (z->policy != NULL && fd == zk_policy_fd(z->policy)) {
		zk_policy_dispatch(z->policy);
	} else if ((c = find_client(z, fd)) != NULL) {
		client_readable(z, c);
	}
	return false;
}

static int
run_loop(zoneadmd *z)
{
	for (;;) {
		struct epoll_event ev[16];
		int n = epoll_wait(z->epfd, ev, 16, expire_clients(z));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 1;
		for (int i = 0; i < n; i++)
			if (on_event(z, ev[i].data.fd))
				return 0;
	}
}

/* zone_root.h: the root's mounts, for a zoneadmd run under valgrind. */
static int
zone_root_helper(int argc, char *argv[])
{
	zk_root_layers l;
	pid_t pid;
	zk_error err = { 0 };
	if (zk_zone_root_helper_args(argc, argv, &l, &pid, &err) < 0 ||
	    zk_zone_root_mount_in(&l, pid, &err) < 0) {
		fputs(err.msg, stdout);
		return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	zoneadmd z = { .log_fd = -1, .epfd = -1, .sigfd = -1, .listen_fd = -1,
	    .timer_fd = -1, .console_peer = -1,
	    .zone = { .pidfd = -1, .console = -1 } };
	int notify_fd = -1, opt;
	bool adopting = false;
	if (argc > 1 && strcmp(argv[1], ZK_ZONE_ROOT_HELPER) == 0)
		return zone_root_helper(argc, argv);
	for (int i = 0; i < MAX_CLIENTS; i++)
		z.clients[i].fd = -1;
	while ((opt = getopt(argc, argv, "az:n:")) != -1) {
		switch (opt) {
		case 'a': adopting = true; break;
		case 'z': snprintf(z.uuid, sizeof(z.uuid), "%s", optarg); break;
		case 'n': notify_fd = atoi(optarg); break;
		default: usage();
		}
	}
	if (!zk_uuid_valid(z.uuid) || optind != argc)
		usage();
	/* vmadm's end of the notify pipe is the one fd zoneadmd inherits:
	 * nothing zoneadmd starts may inherit it in turn. */
	if (notify_fd >= 0 && fcntl(notify_fd, F_SETFD, FD_CLOEXEC) < 0)
		notify_fd = -1;
	zk_error err = { 0 };
	if (zk_paths_from_env(&z.paths, &err) < 0) {
		notify(notify_fd, ZK_CTL_ERROR_FMT, err.code, err.msg);
		return 1;
	}
	zk_path_run(&z.paths, z.uuid, z.run);
	open_log(&z);
	_cleanup_close_ int lock = -1;
	int r = take_singleton(&z, &lock, &err);
	if (r == -EALREADY) {
		if (adopting)
			notify(notify_fd, "ok");
		else
			notify(notify_fd, ZK_CTL_ERROR_FMT, err.code, err.msg);
		return adopting ? 0 : 1;
	}
	if (r == 0)
		r = start(&z, adopting, &err);
	if (r < 0) {
		zlog(&z, "%s", err.msg);
		/* Clean up before answering: a vmadm that reads the zone's state
		 * right after the error must find it stopped, not ready. */
		if (!adopting) {
			if (z.zone.pidfd >= 0)
				zk_cgroup_kill_all(z.cg, KILL_TIMEOUT_MS, NULL);
			if (z.cg != NULL)
				zk_cgroup_destroy(z.cg, NULL);
			zk_rm_rf(z.run, NULL);
		}
		notify(notify_fd, ZK_CTL_ERROR_FMT, err.code, err.msg);
		zk_cgroup_free(z.cg);
		return 1;
	}
	notify(notify_fd, "ok");
	if (notify_fd >= 0)
		close(notify_fd);
	r = run_loop(&z);
	stop_policy(&z, false);	/* a zone left running keeps its kstats */
	zk_cgroup_free(z.cg);
	return r;
}
