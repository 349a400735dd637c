#include "zone/zone_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
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

#include "config/manifest.h"
#include "config/rctl.h"
#include "term/pty.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/json_util.h"
#include "util/proc.h"
#include "zone/privileges.h"
#include "zone/userns.h"
#include "zone/zone_root.h"

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
	    zk_json_str(cfg, "init_name", ZK_MANIFEST_INIT_NAME_DEFAULT));
	snprintf(spec->dns_domain, sizeof(spec->dns_domain), "%s",
	    zk_json_str(cfg, "dns_domain", "local"));
	long long mpm = zk_json_int(cfg, "max_physical_memory",
	    ZK_RCTL_MEMORY_DEFAULT_MIB);
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
	zk_error none;
	spec->has_ids = zk_idmap_from_config(cfg, &spec->ids, &none) == 0;
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
		    type ? type : src ? src : "(remount)", dst);
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
		    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
	return r;
}

static int
ensure_dir(const char *path, mode_t mode, zk_error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return zk_fail_errno(err, errno, "cannot create %s", path);
	return 0;
}

/*
 * Work from the root zoneadmd mounted (zone_root.h); private first, so
 * nothing mounted here reaches the host's mount table.
 */
static int
enter_target(const zk_zone_spec *s, int root, zk_error *err)
{
	int r = do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, err);
	if (r < 0)
		return r;
	if (fchdir(root) < 0)
		return zk_fail_errno(err, errno, "cannot enter %s",
		    s->layers.target);
	return 0;
}

/* Make the zone's root "/", dropping every host mount from its view. */
static int
pivot(const zk_zone_spec *s, zk_error *err)
{
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

/*
 * proc and sysfs, relative to the zone's root before pivot_root: inside a
 * user namespace the kernel allows a new proc or sysfs only while a full
 * one is still in view.
 */
static int
mount_proc_sys(zk_error *err)
{
	const unsigned long safe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int r;
	if ((r = ensure_dir("proc", 0555, err)) < 0 ||
	    (r = do_mount("proc", "proc", "proc", safe, NULL, err)) < 0 ||
	    (r = ensure_dir("sys", 0555, err)) < 0 ||
	    (r = do_mount("sysfs", "sys", "sysfs", safe | MS_RDONLY, NULL,
	    err)) < 0)
		return r;
	return 0;
}

/* Host-wide knobs stay out of a tenant's reach, root or not. */
static const char *const read_only_paths[] = { "/proc/sys",
    "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs" };

/* Kernel internals and host hardware: hidden (files behind /dev/null,
 * directories behind an empty read-only tmpfs). */
static const char *const masked_paths[] = { "/proc/kcore", "/proc/keys",
    "/proc/kmsg", "/proc/timer_list", "/proc/timer_stats",
    "/proc/latency_stats", "/proc/sched_debug", "/proc/acpi", "/proc/asound",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap" };

static int
mask_path(const char *path, zk_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return do_mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID |
		    MS_NODEV | MS_NOEXEC, "size=0,mode=0555", err);
	return do_mount("/dev/null", path, NULL, MS_BIND, NULL, err);
}

/* After pivot_root: needs the zone's own /dev/null in place. */
static int
protect_proc_sys(zk_error *err)
{
	int r;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(read_only_paths); i++)
		if ((r = bind_readonly(read_only_paths[i], err)) < 0)
			return r;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(masked_paths); i++)
		if ((r = mask_path(masked_paths[i], err)) < 0)
			return r;
	return 0;
}

/* The devices a zone gets, bound from the host's /dev: a user namespace
 * cannot make device nodes, and the devices cgroup limits it to these. */
static const char *const zone_devices[] = { "null", "zero", "full", "random",
    "urandom", "tty" };

static int
bind_host_device(const char *name, zk_error *err)
{
	char host[64], zone[64];
	snprintf(host, sizeof(host), "/dev/%s", name);
	snprintf(zone, sizeof(zone), "dev/%s", name);
	int fd = open(zone, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot create /%s", zone);
	close(fd);
	return do_mount(host, zone, NULL, MS_BIND, NULL, err);
}

/* The zone's /dev, relative to its root before pivot_root (the host's
 * devices are still in view). */
static int
populate_dev(zk_error *err)
{
	int r;
	if ((r = ensure_dir("dev", 0755, err)) < 0 ||
	    (r = do_mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
	    "mode=755,size=1024k", err)) < 0)
		return r;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(zone_devices); i++)
		if ((r = bind_host_device(zone_devices[i], err)) < 0)
			return r;
	static const char *const links[][2] = { { "pts/ptmx", "dev/ptmx" },
	    { "/proc/self/fd", "dev/fd" }, { "/proc/self/fd/0", "dev/stdin" },
	    { "/proc/self/fd/1", "dev/stdout" },
	    { "/proc/self/fd/2", "dev/stderr" } };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			return zk_fail_errno(err, errno, "cannot create /%s",
			    links[i][1]);
	if ((r = ensure_dir("dev/pts", 0755, err)) < 0 ||
	    (r = do_mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	    "newinstance,ptmxmode=0666,mode=0620,gid=5", err)) < 0 ||
	    (r = ensure_dir("dev/shm", 01777, err)) < 0 ||
	    (r = do_mount("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=1777", err)) < 0)
		return r;
	return 0;
}

/*
 * The console is a pty of the zone's own devpts: its slave is bound over
 * /dev/console and the master goes to zoneadmd.  Returns the master.
 * At boot no zone code has run yet and its paths are ours; in a live zone
 * (adoption) nothing in them is trusted (pty.h).
 */
static int
boot_console(zk_error *err)
{
	_cleanup_close_ int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY |
	    O_CLOEXEC);
	char slave[64];
	if (master < 0 || unlockpt(master) < 0 ||
	    ptsname_r(master, slave, sizeof(slave)) != 0)
		return zk_fail_errno(err, errno, "cannot set up the console pty");
	int fd = open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot create /dev/console");
	close(fd);
	int r = do_mount(slave, "/dev/console", NULL, MS_BIND, NULL, err);
	return r < 0 ? r : TAKE_FD(master);
}

static int
live_console(zk_error *err)
{
	int master, slave;
	int r = zk_pty_open(&master, &slave, err);
	if (r < 0)
		return r;
	r = zk_bind_fd_over(slave, "/dev/console", err);
	close(slave);
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
		    MS_RDONLY | MS_NODEV, NULL, err)) < 0)
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
build_zone(const zk_zone_spec *s, int root, int sock, zk_error *err)
{
	int r;
	if (unshare(CLONE_NEWCGROUP) < 0)
		return zk_fail_errno(err, errno, "cannot create cgroup namespace");
	r = enter_target(s, root, err);
	close(root);
	if (r < 0 || (r = mount_proc_sys(err)) < 0 ||
	    (r = populate_dev(err)) < 0 || (r = pivot(s, err)) < 0 ||
	    (r = protect_proc_sys(err)) < 0)
		return r;
	int master = boot_console(err);
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

/*
 * In the zone's user namespace from birth; released (MSG_GO) once
 * zoneadmd has written its maps and mounted its root.  Only fds 0-2 (the
 * console) survive the exec; the boot socket stays usable until then so
 * that a failed exec is still reported.
 */
static void __attribute__((noreturn))
child_main(const zk_zone_spec *s, zk_cgroup_procs *procs, int sock)
{
	zk_error err = { 0 };
	char go;
	/* Joined before the cgroup namespace is made in build_zone, so that
	 * it is rooted at the zone's own cgroup.  The files were opened by
	 * zoneadmd, whose credentials the kernel checks. */
	int r = zk_cgroup_procs_join(procs, 0, &err);
	zk_cgroup_procs_close(procs);
	if (r < 0)
		child_fail(sock, &err);
	int root = -1;
	if (zk_recv_msg(sock, &go, 1, &root) != 1 || go != MSG_GO || root < 0)
		_exit(126);
	if (zk_userns_become_root(&err) < 0 ||
	    build_zone(s, root, sock, &err) < 0 ||
	    zk_privileges_apply(&err) < 0)
		child_fail(sock, &err);
	char *const argv[] = { (char *)s->init_name, NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "HOME=/", "TERM=vt100", "container=zonekit", NULL };
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
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
	if (!s->has_ids)
		return zk_fail(err, ENOENT, "zone %s has no uid_map: start it "
		    "with vmadm start", s->uuid);
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
	pid_t pid = zk_userns_clone(&s->ids, CLONE_NEWNS | CLONE_NEWPID |
	    CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_PIDFD, &pidfd,
	    procs.dir_fd, &procs.born_inside);
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
	/* init waits for MSG_GO: its ids, root and interfaces are there
	 * before it runs */
	_cleanup_close_ int root = -1;
	r = zk_userns_write_maps(pid, &s->ids, err);
	if (r == 0)
		r = zk_zone_root_mount(&s->layers, pid, &root, err);
	if (r == 0)
		r = zk_net_plumb(plan, &s->net, s->uuid, pid, pidfd, err);
	/* A child that failed to join has already reported why and gone:
	 * await_exec reads that instead of a broken pipe. */
	if (r == 0 && (r = zk_send_fd(parent_end, MSG_GO, root)) < 0 &&
	    r != -EPIPE)
		r = zk_fail_errno(err, -r, "cannot release the zone's init");
	else if (r == -EPIPE)
		r = 0;
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
		/* The pty and the mount are made as the zone's root, so the
		 * console belongs to it; nothing of this host process may be
		 * reached from the zone meanwhile. */
		prctl(PR_SET_DUMPABLE, 0);
		int nsfd = zk_pidfd_open(init_pid);
		bool own_userns = true;
		int r = nsfd < 0 ? -1 : setns(nsfd, CLONE_NEWUSER | CLONE_NEWNS);
		if (r < 0 && errno == EINVAL) {
			/* booted before zones had user namespaces */
			own_userns = false;
			r = setns(nsfd, CLONE_NEWNS);
		}
		if (r < 0) {
			zk_fail_errno(&e, errno, "cannot enter the zone's mounts");
			child_fail(sv[1], &e);
		}
		if (own_userns && zk_userns_become_root(&e) < 0)
			child_fail(sv[1], &e);
		/* Drop the dead console's mount, then stack a live one. */
		umount2("/dev/console", MNT_DETACH);
		int m = live_console(&e);
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
		char target[PATH_MAX];
		/* The zone writes its upper layer: resolve its links as the
		 * zone would, never out into the host. */
		_cleanup_close_ int root = open(dirs[i], O_PATH | O_DIRECTORY |
		    O_CLOEXEC);
		_cleanup_close_ int link = root < 0 ? -1 : zk_openat2(root,
		    s->init_name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
		    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		ssize_t n = link < 0 ? -1 : readlinkat(link, "", target,
		    sizeof(target) - 1);
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
