#include "zone_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_util.h"
#include "privileges.h"
#include "proc.h"

#define MIB (1024ULL * 1024ULL)

/* Messages on the boot socket between zoneadmd (parent) and the child. */
#define MSG_GO 'G'		/* parent: you are in the zone's cgroups */
#define MSG_CONSOLE 'C'		/* child: here is the console pty master */
#define MSG_ERROR 'E'		/* child: this failed, text follows */

int
zk_zone_spec_from_config(const zk_paths *p, const json_t *cfg,
    zk_zone_spec *spec, zk_error *err)
{
	memset(spec, 0, sizeof(*spec));
	const char *uuid = zk_json_str(cfg, "uuid", "");
	const char *image = zk_json_str(cfg, "image_uuid", NULL);
	if (image == NULL)
		return zk_fail(err, EINVAL, "%s: config has no image_uuid", uuid);
	snprintf(spec->uuid, sizeof(spec->uuid), "%s", uuid);
	snprintf(spec->hostname, sizeof(spec->hostname), "%s",
	    zk_json_str(cfg, "hostname", uuid));
	snprintf(spec->init_name, sizeof(spec->init_name), "%s",
	    zk_json_str(cfg, "init_name", "/sbin/init"));
	snprintf(spec->dns_domain, sizeof(spec->dns_domain), "%s",
	    zk_json_str(cfg, "dns_domain", "local"));
	long long mpm = zk_json_int(cfg, "max_physical_memory", 256);
	spec->tmpfs_mib = (uint64_t)zk_json_int(cfg, "tmpfs", mpm);
	spec->memlock_bytes = (uint64_t)zk_json_int(cfg, "max_locked_memory",
	    mpm) * MIB;
	const json_t *res = json_object_get(cfg, "resolvers");
	size_t i;
	const json_t *v;
	json_array_foreach(res, i, v) {
		if (spec->nresolvers == ZK_MAX_RESOLVERS || !json_is_string(v))
			break;
		snprintf(spec->resolvers[spec->nresolvers++], 64, "%s",
		    json_string_value(v));
	}
	zk_dataset_layers(p, uuid, image, &spec->layers);
	char dir[PATH_MAX], nictags[PATH_MAX + 16];
	snprintf(nictags, sizeof(nictags), "%s/nictags.json",
	    zk_path_config_dir(p, dir));
	zk_net_spec_from_config(cfg, nictags, &spec->net);
	return 0;
}

/* ---- the child: runs in the zone's new namespaces ---------------------- */

/* Child-side failures are reported to zoneadmd as one line, then exit. */
static void __attribute__((noreturn))
child_fail(int sock, const zk_error *err)
{
	char buf[ZK_ERROR_MAX + 1];
	buf[0] = MSG_ERROR;
	size_t n = strlen(err->msg);
	memcpy(buf + 1, err->msg, n);
	if (send(sock, buf, n + 1, MSG_NOSIGNAL) < 0) {
		/* nobody to tell: zoneadmd sees the child die */
	}
	_exit(127);
}

static int
do_mount(const char *src, const char *dst, const char *type,
    unsigned long flags, const char *data, zk_error *err)
{
	/* Bind and remount ignore the type; "none" keeps checkers quiet. */
	if (mount(src, dst, type ? type : "none", flags, data) < 0)
		return zk_fail_errno(err, errno, "cannot mount %s on %s",
		    type ? type : src, dst);
	return 0;
}

/* Bind a path onto itself read-only (missing paths are fine). */
static int
bind_readonly(const char *path, zk_error *err)
{
	if (access(path, F_OK) < 0)
		return 0;
	int r = do_mount(path, path, NULL, MS_BIND | MS_REC, NULL, err);
	if (r == 0)
		r = do_mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY |
		    MS_NOSUID | MS_NODEV, NULL, err);
	return r;
}

static int
ensure_dir(const char *path, mode_t mode, zk_error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return zk_fail_errno(err, errno, "cannot create %s", path);
	return 0;
}

/* Mount the overlay root and make it "/", dropping every host mount. */
static int
enter_root(const zk_zone_spec *s, zk_error *err)
{
	char opts[3 * PATH_MAX + 64];
	int r = do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, err);
	if (r < 0)
		return r;
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
	    s->layers.lower, s->layers.upper, s->layers.work);
	if ((r = do_mount("overlay", s->layers.target, "overlay", 0, opts,
	    err)) < 0)
		return zk_error_prefix(err, "zone root");
	if (chdir(s->layers.target) < 0)
		return zk_fail_errno(err, errno, "cannot enter %s",
		    s->layers.target);
	/* pivot_root(".", ".") stacks the old root under the new one; the
	 * lazy unmount then removes every host mount from the zone's view. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return zk_fail_errno(err, errno, "pivot_root into %s",
		    s->layers.target);
	if (umount2(".", MNT_DETACH) < 0)
		return zk_fail_errno(err, errno, "cannot detach the host root");
	if (chdir("/") < 0)
		return zk_fail_errno(err, errno, "chdir /");
	return 0;
}

static int
mount_proc_sys(zk_error *err)
{
	const unsigned long safe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int r;
	if ((r = ensure_dir("/proc", 0555, err)) < 0 ||
	    (r = do_mount("proc", "/proc", "proc", safe, NULL, err)) < 0 ||
	    (r = ensure_dir("/sys", 0555, err)) < 0 ||
	    (r = do_mount("sysfs", "/sys", "sysfs", safe | MS_RDONLY, NULL,
	    err)) < 0)
		return r;
	/* Host-wide knobs stay out of a tenant's reach, root or not. */
	static const char *const ro[] = { "/proc/sys", "/proc/sysrq-trigger",
	    "/proc/irq", "/proc/bus", "/proc/fs" };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(ro); i++)
		if ((r = bind_readonly(ro[i], err)) < 0)
			return r;
	return 0;
}

/* Hide kernel-internal files behind /dev/null (needs /dev in place). */
static int
mask_proc(zk_error *err)
{
	static const char *const masked[] = { "/proc/kcore", "/proc/keys",
	    "/proc/timer_list", "/proc/kmsg", "/proc/latency_stats" };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(masked); i++) {
		if (access(masked[i], F_OK) < 0)
			continue;
		int r = do_mount("/dev/null", masked[i], NULL, MS_BIND, NULL,
		    err);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned major, minor;
} zone_devices[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static int
populate_dev(zk_error *err)
{
	char path[64];
	int r;
	if ((r = ensure_dir("/dev", 0755, err)) < 0 ||
	    (r = do_mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
	    "mode=755,size=1024k", err)) < 0)
		return r;
	mode_t old = umask(0);
	for (size_t i = 0; i < ZK_ARRAY_SIZE(zone_devices); i++) {
		snprintf(path, sizeof(path), "/dev/%s", zone_devices[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(zone_devices[i].major,
		    zone_devices[i].minor)) < 0) {
			umask(old);
			return zk_fail_errno(err, errno, "cannot create %s", path);
		}
	}
	umask(old);
	static const char *const links[][2] = { { "pts/ptmx", "/dev/ptmx" },
	    { "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
	    { "/proc/self/fd/1", "/dev/stdout" },
	    { "/proc/self/fd/2", "/dev/stderr" } };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			return zk_fail_errno(err, errno, "cannot create %s",
			    links[i][1]);
	if ((r = ensure_dir("/dev/pts", 0755, err)) < 0 ||
	    (r = do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	    "newinstance,ptmxmode=0666,mode=0620,gid=5", err)) < 0 ||
	    (r = ensure_dir("/dev/shm", 01777, err)) < 0 ||
	    (r = do_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=1777", err)) < 0)
		return r;
	return 0;
}

/*
 * The console is a pty of the zone's own devpts: its slave is bound over
 * /dev/console and the master goes to zoneadmd.  Returns the master.
 */
static int
make_console(zk_error *err)
{
	int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return zk_fail_errno(err, errno, "cannot open the zone's ptmx");
	char slave[64];
	if (unlockpt(master) < 0 || ptsname_r(master, slave, sizeof(slave)) != 0) {
		close(master);
		return zk_fail_errno(err, errno, "cannot set up the console pty");
	}
	if (access("/dev/console", F_OK) < 0) {
		int fd = open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			close(master);
			return zk_fail_errno(err, errno, "cannot create /dev/console");
		}
		close(fd);
	}
	int r = do_mount(slave, "/dev/console", NULL, MS_BIND, NULL, err);
	if (r < 0) {
		close(master);
		return r;
	}
	return master;
}

static int
mount_tmp_and_usr(const zk_zone_spec *s, zk_error *err)
{
	int r;
	if (s->tmpfs_mib > 0) {
		char opts[64];
		snprintf(opts, sizeof(opts), "mode=1777,size=%llum",
		    (unsigned long long)s->tmpfs_mib);
		if ((r = ensure_dir("/tmp", 01777, err)) < 0 ||
		    (r = do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
		    opts, err)) < 0)
			return r;
	}
	/* Sparse root: /usr is shared image content, never the zone's. */
	struct stat st;
	if (lstat("/usr", &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((r = do_mount("/usr", "/usr", NULL, MS_BIND | MS_REC, NULL,
		    err)) < 0 ||
		    (r = do_mount(NULL, "/usr", NULL, MS_BIND | MS_REMOUNT |
		    MS_RDONLY, NULL, err)) < 0)
			return r;
	}
	return 0;
}

/* Written after pivot_root, so a planted symlink can only point inside. */
static int
write_resolv_conf(const zk_zone_spec *s, zk_error *err)
{
	if (s->nresolvers == 0)
		return 0;
	char buf[ZK_MAX_RESOLVERS * 80 + 300];
	size_t n = 0;
	if (strcmp(s->dns_domain, "local") != 0)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "search %s\n",
		    s->dns_domain);
	for (size_t i = 0; i < s->nresolvers; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "nameserver %s\n", s->resolvers[i]);
	int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot write /etc/resolv.conf");
	ssize_t w = write(fd, buf, n);
	close(fd);
	if (w != (ssize_t)n)
		return zk_fail(err, EIO, "short write to /etc/resolv.conf");
	return 0;
}

static int
take_console(zk_error *err)
{
	if (setsid() < 0)
		return zk_fail_errno(err, errno, "setsid");
	int fd = open("/dev/console", O_RDWR);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open /dev/console");
	if (ioctl(fd, TIOCSCTTY, 0) < 0) {
		close(fd);
		return zk_fail_errno(err, errno, "cannot make the console the "
		    "controlling terminal");
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0) {
			close(fd);
			return zk_fail_errno(err, errno, "dup2 console");
		}
	if (fd > 2)
		close(fd);
	return 0;
}

/* A fresh network namespace has lo, down; zones expect it up. */
static int
loopback_up(zk_error *err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return zk_fail_errno(err, errno, "cannot read flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return zk_fail_errno(err, errno, "cannot bring lo up");
	return 0;
}

/*
 * max_locked_memory is the zone's RLIMIT_MEMLOCK (zone processes have no
 * CAP_IPC_LOCK).  Raising a hard limit needs CAP_SYS_RESOURCE, which some
 * hosts withhold even from root, so the limit never goes above the one
 * zoneadmd itself runs with.
 */
static int
limit_memlock(uint64_t bytes, zk_error *err)
{
	struct rlimit cur;
	if (getrlimit(RLIMIT_MEMLOCK, &cur) < 0)
		return zk_fail_errno(err, errno, "cannot read RLIMIT_MEMLOCK");
	rlim_t v = bytes < cur.rlim_max ? (rlim_t)bytes : cur.rlim_max;
	struct rlimit rl = { v, v };
	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return zk_fail_errno(err, errno, "cannot set RLIMIT_MEMLOCK");
	return 0;
}

static int
build_zone(const zk_zone_spec *s, int sock, zk_error *err)
{
	int r;
	if (unshare(CLONE_NEWCGROUP) < 0)
		return zk_fail_errno(err, errno, "cannot create cgroup namespace");
	if ((r = enter_root(s, err)) < 0 || (r = mount_proc_sys(err)) < 0 ||
	    (r = populate_dev(err)) < 0 || (r = mask_proc(err)) < 0)
		return r;
	int master = make_console(err);
	if (master < 0)
		return master;
	r = zk_send_fd(sock, MSG_CONSOLE, master);
	close(master);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot hand the console to zoneadmd");
	if ((r = mount_tmp_and_usr(s, err)) < 0 ||
	    (r = write_resolv_conf(s, err)) < 0)
		return r;
	if ((r = loopback_up(err)) < 0)
		return r;
	if (sethostname(s->hostname, strlen(s->hostname)) < 0)
		return zk_fail_errno(err, errno, "cannot set hostname %s",
		    s->hostname);
	if ((r = limit_memlock(s->memlock_bytes, err)) < 0)
		return r;
	return take_console(err);
}

static void __attribute__((noreturn))
child_main(const zk_zone_spec *s, const zk_cgroup_procs *procs, int sock)
{
	zk_error err = { 0 };
	char go;
	/* Joined before the cgroup namespace is made in build_zone, so that
	 * it is rooted at the zone's own cgroup. */
	if (zk_cgroup_procs_join(procs, 0, &err) < 0)
		child_fail(sock, &err);
	if (read(sock, &go, 1) != 1 || go != MSG_GO)
		_exit(126);
	if (build_zone(s, sock, &err) < 0)
		child_fail(sock, &err);
	if (zk_privileges_apply(&err) < 0)
		child_fail(sock, &err);
	char *const argv[] = { (char *)s->init_name, NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "HOME=/", "TERM=vt100", "container=zonekit", NULL };
	execve(s->init_name, argv, envp);
	zk_fail_errno(&err, errno, "cannot execute init_name %s", s->init_name);
	child_fail(sock, &err);
}

/* Read the child's reports until exec closes its end of the socket. */
static int
await_exec(int sock, zk_zone_proc *out, zk_error *err)
{
	for (;;) {
		char msg[ZK_ERROR_MAX + 1];
		int fd = -1;
		ssize_t n = zk_recv_msg(sock, msg, sizeof(msg) - 1, &fd);
		if (n == 0)
			return out->console >= 0 ? 0 :
			    zk_fail(err, EPROTO, "zone init exited during boot");
		if (n < 0)
			return zk_fail_errno(err, (int)-n, "zone boot channel");
		msg[n] = '\0';
		if (msg[0] == MSG_CONSOLE && fd >= 0) {
			out->console = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (msg[0] == MSG_ERROR)
			return zk_fail(err, EPROTO, "%s", msg + 1);
	}
}

/*
 * The child joins its cgroups itself (cgroup.h: no global lock, no RCU
 * grace period); the parent only releases it once the host side of the
 * zone is ready.
 */
int
zk_zone_boot(const zk_zone_spec *s, zk_cgroup *cg, zk_zone_proc *out,
    zk_error *err)
{
	int sv[2];
	/* Bad nic tags fail here, before there is anything to undo. */
	_cleanup_(zk_net_plan_freep) zk_net_plan *plan = NULL;
	if (zk_net_prepare(&s->net, &plan, err) < 0)
		return zk_error_prefix(err, "zone %s", s->uuid);
	zk_cgroup_procs procs;
	int r = zk_cgroup_procs_open(cg, &procs, ZK_CG_JOIN_SELF, err);
	if (r < 0)
		return zk_error_prefix(err, "zone %s", s->uuid);
	/* SOCK_STREAM would merge the error tag and text with the fd message;
	 * SEQPACKET keeps each report whole. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		zk_cgroup_procs_close(&procs);
		return zk_fail_errno(err, errno, "socketpair");
	}
	_cleanup_close_ int parent_end = sv[0];
	int pidfd = -1;
	pid_t pid = zk_clone(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
	    CLONE_NEWIPC | CLONE_NEWNET | CLONE_PIDFD, &pidfd, procs.dir_fd,
	    &procs.born_inside);
	if (pid == 0) {
		close(sv[0]);
		child_main(s, &procs, sv[1]);
	}
	close(sv[1]);
	zk_cgroup_procs_close(&procs);
	if (pid < 0)
		return zk_fail_errno(err, errno, "cannot create the zone's "
		    "namespaces");
	out->pid = pid;
	out->pidfd = pidfd;
	out->console = -1;
	/* init waits for MSG_GO, so its interfaces are there before it runs */
	r = zk_net_plumb(plan, &s->net, s->uuid, pid, pidfd, err);
	/* A child that failed to join has already reported why and gone:
	 * await_exec reads that instead of a broken pipe. */
	if (r == 0 && send(parent_end, (char[]){ MSG_GO }, 1,
	    MSG_NOSIGNAL) != 1 && errno != EPIPE)
		r = zk_fail_errno(err, errno, "cannot release the zone's init");
	if (r == 0)
		r = await_exec(parent_end, out, err);
	if (r < 0) {
		zk_pidfd_send_signal(pidfd, SIGKILL);
		waitpid(pid, NULL, 0);
		close(pidfd);
		if (out->console >= 0)
			close(out->console);
		out->console = out->pidfd = -1;
		if (plan != NULL)
			zk_net_teardown(s->uuid, NULL);
		return zk_error_prefix(err, "zone %s", s->uuid);
	}
	return 0;
}

/* ---- adoption: a fresh console for a zone whose zoneadmd died --------- */

int
zk_zone_new_console(pid_t init_pid, int *master, zk_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return zk_fail_errno(err, errno, "socketpair");
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return zk_fail_errno(err, errno, "fork");
	}
	if (pid == 0) {
		close(sv[0]);
		zk_error e = { 0 };
		int nsfd = zk_pidfd_open(init_pid);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNS) < 0) {
			zk_fail_errno(&e, errno, "cannot enter the zone's mounts");
			child_fail(sv[1], &e);
		}
		/* Drop the dead console's mount, then stack a live one. */
		umount2("/dev/console", MNT_DETACH);
		int m = make_console(&e);
		if (m < 0 || zk_send_fd(sv[1], MSG_CONSOLE, m) < 0)
			child_fail(sv[1], &e);
		_exit(0);
	}
	close(sv[1]);
	zk_zone_proc p = { .console = -1 };
	int r = await_exec(sv[0], &p, err);
	close(sv[0]);
	waitpid(pid, NULL, 0);
	if (r < 0)
		return r;
	*master = p.console;
	return 0;
}

void
zk_init_signals_for(const zk_zone_spec *s, zk_init_signals *sig)
{
	/* busybox init: SIGUSR2 powers off, SIGTERM reboots.  systemd:
	 * SIGRTMIN+4 powers off, SIGINT reboots. */
	sig->poweroff = SIGUSR2;
	sig->reboot = SIGTERM;
	const char *dirs[] = { s->layers.upper, s->layers.lower };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(dirs); i++) {
		char path[2 * PATH_MAX], target[PATH_MAX];
		snprintf(path, sizeof(path), "%s%s", dirs[i], s->init_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strstr(target, "systemd") != NULL) {
			sig->poweroff = SIGRTMIN + 4;
			sig->reboot = SIGINT;
		}
		return;
	}
}
