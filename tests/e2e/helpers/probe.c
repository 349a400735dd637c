/*
 * Runs inside a zone and tries one thing a tenant must not be able to do,
 * printing the errno name (or "OK").  Built static so it needs nothing
 * from the zone's image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

static int
attempt(const char *what)
{
	if (strcmp(what, "mount") == 0)
		return mount("none", "/mnt", "tmpfs", 0, NULL);
	if (strcmp(what, "init_module") == 0)
		return (int)syscall(SYS_init_module, "", 0, "");
	if (strcmp(what, "finit_module") == 0)
		return (int)syscall(SYS_finit_module, 0, "", 0);
	if (strcmp(what, "mknod") == 0)
		return mknod("/tmp/disk", S_IFBLK | 0600, makedev(8, 0));
	if (strcmp(what, "swapon") == 0)
		return swapon("/tmp/nothing", 0);
	if (strcmp(what, "settimeofday") == 0) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		return settimeofday(&tv, NULL);
	}
	if (strcmp(what, "kexec_load") == 0)
		return (int)syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (strcmp(what, "bpf") == 0) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	}
	if (strcmp(what, "perf_event_open") == 0) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	}
	if (strcmp(what, "unshare_user") == 0)
		return unshare(CLONE_NEWUSER);
	if (strcmp(what, "keyctl") == 0)
		return (int)syscall(SYS_add_key, "user", "k", "v", 1, -2);
	if (strcmp(what, "raw_disk") == 0)
		return open("/dev/vda", O_RDONLY);
	fprintf(stderr, "probe: unknown attempt %s\n", what);
	return -2;
}

/* Device attempts (test_isolation_devices.py), at the end of this file. */
static int device_attempt(const char *what);

int
main(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		errno = 0;
		int r = device_attempt(argv[i]);
		if (r == -3)
			r = attempt(argv[i]);
		if (r == -2)
			return 2;
		printf("%s %s\n", argv[i], r >= 0 ? "OK" : strerrorname_np(errno));
	}
	return 0;
}

/* ---- devices (test_isolation_devices.py) ----
 *   open_r:PATH  open_rw:PATH   open, never as controlling tty
 *   read:PATH                   16 bytes read (fails short with EIO)
 *   write:PATH                  16 bytes written
 *   mknod_b:PATH:MAJ:MIN  mknod_c:PATH:MAJ:MIN
 *   pty                         a new pty pair from /dev/ptmx
 *   pty_many:N                  N ptys held open at once, each slave
 *                               opened; any slave not of major 136 is
 *                               ERANGE (N > 256 reaches 20-bit minors)
 * -3: not a device attempt.
 */
#include <stdbool.h>
#include <stdlib.h>

static int
open_path(const char *path, int flags)
{
	int fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd;
}

static int
transfer(const char *path, bool writing)
{
	char buf[16] = { 0 };
	int fd = open(path, (writing ? O_WRONLY : O_RDONLY) | O_NOCTTY |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = writing ? write(fd, buf, sizeof(buf)) :
	    read(fd, buf, sizeof(buf));
	int saved = errno;
	close(fd);
	errno = n == (ssize_t)sizeof(buf) ? 0 : n < 0 ? saved : EIO;
	return errno == 0 ? 0 : -1;
}

static int
make_node(const char *spec, mode_t type)
{
	char path[256];
	unsigned maj, min;
	if (sscanf(spec, "%255[^:]:%u:%u", path, &maj, &min) != 3) {
		errno = EINVAL;
		return -1;
	}
	int r = mknod(path, type | 0666, makedev(maj, min));
	if (r == 0)
		unlink(path);
	return r;
}

/* Returns the master; the slave has been opened and closed. */
static int
new_pty(dev_t *slave_dev)
{
	char name[64];
	struct stat st;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	if (unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0 ||
	    open_path(name, O_RDWR) < 0 || stat(name, &st) < 0) {
		int saved = errno;
		close(m);
		errno = saved;
		return -1;
	}
	*slave_dev = st.st_rdev;
	return m;
}

static int
many_ptys(int n)
{
	int fds[1024], opened = 0, saved = 0;
	if (n < 1 || n > 1024) {
		errno = EINVAL;
		return -1;
	}
	for (; opened < n; opened++) {
		dev_t dev;
		if ((fds[opened] = new_pty(&dev)) < 0) {
			saved = errno;
			break;
		}
		if (major(dev) != 136) {
			saved = ERANGE;
			opened++;
			break;
		}
	}
	while (opened > 0)
		close(fds[--opened]);
	errno = saved;
	return saved == 0 ? 0 : -1;
}

static int
device_attempt(const char *what)
{
	const char *arg = strchr(what, ':');
	size_t len = arg != NULL ? (size_t)(arg - what) : strlen(what);
	arg = arg != NULL ? arg + 1 : "";
#define IS(name) (len == strlen(name) && strncmp(what, name, len) == 0)
	if (IS("open_r"))
		return open_path(arg, O_RDONLY);
	if (IS("open_rw"))
		return open_path(arg, O_RDWR);
	if (IS("read"))
		return transfer(arg, false);
	if (IS("write"))
		return transfer(arg, true);
	if (IS("mknod_b"))
		return make_node(arg, S_IFBLK);
	if (IS("mknod_c"))
		return make_node(arg, S_IFCHR);
	if (IS("pty")) {
		dev_t dev;
		int m = new_pty(&dev);
		return m < 0 ? -1 : close(m);
	}
	if (IS("pty_many"))
		return many_ptys(atoi(arg));
#undef IS
	return -3;
}
