/*
 * Runs inside a zone and tries, for each argument, one thing a tenant must
 * not be able to do (or, for the positive cases, must), printing
 * "<attempt> <errno name>", "<attempt> OK", or "<attempt> SIGSEGV" when
 * the attempt faulted (int $0x80 on a kernel without i386 emulation).
 * Built static so it needs nothing from the zone's image.
 *
 * Where it can, an attempt is one the kernel itself would let through, so
 * that only the seccomp filter makes it fail: an io_uring, a descriptor
 * taken through the probe's own pidfd, its own memory read, itself traced.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOT_AN_ATTEMPT (-2)
#define NOT_A_DEVICE_ATTEMPT (-3)
#define FAULTED (-4)
#define X32_SYSCALL_BIT 0x40000000
#define I386_GETPID 20
#define I386_MOUNT 21
#define X32_MOUNT 165
#define LSM_SET_SELF_ATTR 460	/* Linux 6.8; on none of the filter's lists */

static sigjmp_buf fault;

static void
on_fault(int sig)
{
	siglongjmp(fault, sig);
}

/* A raw i386 system call; FAULTED where the kernel has no int $0x80. */
static int
int80(long nr, long a, long b, long c)
{
	struct sigaction sa = { .sa_handler = on_fault }, old;
	sigaction(SIGSEGV, &sa, &old);
	long r = FAULTED;
	if (sigsetjmp(fault, 1) == 0)
		__asm__ volatile("int $0x80"
		    : "=a"(r)
		    : "a"(nr), "b"(a), "c"(b), "d"(c)
		    : "memory", "cc", "r8", "r9", "r10", "r11");
	sigaction(SIGSEGV, &old, NULL);
	if (r == FAULTED)
		return FAULTED;
	if ((int)r < 0) {
		errno = -(int)r;
		return -1;
	}
	return (int)r;
}

/* Reopen "/" from a file handle: the "shocker" escape's open.  Where the
 * zone's root cannot make handles (overlayfs without index), a made-up
 * handle still asks the kernel to decode it. */
static int
reopen_by_handle(void)
{
	char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	struct file_handle *h = (struct file_handle *)buf;
	h->handle_bytes = MAX_HANDLE_SZ;
	int mount_id;
	if (name_to_handle_at(AT_FDCWD, "/", h, &mount_id, 0) < 0) {
		memset(buf, 0, sizeof(buf));
		h->handle_bytes = 8;
		h->handle_type = 1;	/* FILEID_INO32_GEN */
	}
	int root = open("/", O_RDONLY | O_DIRECTORY);
	return (int)syscall(SYS_open_by_handle_at, root, h, O_RDONLY);
}

static int
own_pidfd(void)
{
	return (int)syscall(SYS_pidfd_open, getpid(), 0);
}

static int
read_own_memory(void)
{
	int secret = 42, copy = 0;
	struct iovec local = { &copy, sizeof(copy) };
	struct iovec remote = { &secret, sizeof(secret) };
	return (int)process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
}

static void *
thread_main(void *arg)
{
	return arg;
}

static int
start_thread(void)
{
	pthread_t t;
	int token = 0;
	void *out = NULL;
	if ((errno = pthread_create(&t, NULL, thread_main, &token)) != 0 ||
	    (errno = pthread_join(t, &out)) != 0)
		return -1;
	return out == &token ? 0 : -1;
}

static int
fork_exec_true(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
epoll_wait2(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev;
	struct timespec zero = { 0, 0 };
	return (int)syscall(SYS_epoll_pwait2, ep, &ev, 1, &zero, NULL, 0);
}

/* Calls the seccomp filter denies, newest first. */
static int
attempt_filtered(const char *what)
{
	if (strcmp(what, "io_uring_setup") == 0) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		return (int)syscall(SYS_io_uring_setup, 1, &p);
	}
	if (strcmp(what, "open_by_handle_at") == 0)
		return reopen_by_handle();
	if (strcmp(what, "pidfd_getfd") == 0)
		return (int)syscall(SYS_pidfd_getfd, own_pidfd(), 0, 0);
	if (strcmp(what, "userfaultfd") == 0)
		return (int)syscall(SYS_userfaultfd,
		    O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (strcmp(what, "fsopen") == 0)
		return (int)syscall(SYS_fsopen, "tmpfs", 0);
	if (strcmp(what, "mount_int80") == 0)
		return int80(I386_MOUNT, 0, 0, 0);
	if (strcmp(what, "mount_x32") == 0)
		return (int)syscall(X32_MOUNT | X32_SYSCALL_BIT, 0, 0, 0, 0, 0);
	if (strcmp(what, "unknown_syscall") == 0)
		return (int)syscall(1000, 0, 0, 0, 0, 0);
	if (strcmp(what, "newer_syscall") == 0)
		return (int)syscall(LSM_SET_SELF_ATTR, 0, 0, 0, 0);
	if (strcmp(what, "process_vm_readv") == 0)
		return read_own_memory();
	if (strcmp(what, "ptrace") == 0)
		return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	if (strcmp(what, "clone3") == 0)
		return (int)syscall(SYS_clone3, NULL, 0);
	if (strcmp(what, "vsock") == 0)
		return socket(AF_VSOCK, SOCK_STREAM, 0);
	if (strcmp(what, "keyctl") == 0)
		return (int)syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
		    KEY_SPEC_SESSION_KEYRING, 1);
	if (strcmp(what, "add_key") == 0)
		return (int)syscall(SYS_add_key, "user", "k", "v", 1, -2);
	return NOT_AN_ATTEMPT;
}

/* What a zone's programs do, which must keep working. */
static int
attempt_allowed(const char *what)
{
	if (strcmp(what, "threads") == 0)
		return start_thread();
	if (strcmp(what, "fork_exec") == 0)
		return fork_exec_true();
	if (strcmp(what, "statx") == 0) {
		struct statx stx;
		return statx(AT_FDCWD, "/", 0, STATX_BASIC_STATS, &stx);
	}
	if (strcmp(what, "memfd_create") == 0)
		return memfd_create("probe", MFD_CLOEXEC);
	if (strcmp(what, "pidfd") == 0)
		return (int)syscall(SYS_pidfd_send_signal, own_pidfd(), 0, NULL, 0);
	if (strcmp(what, "close_range") == 0)
		return (int)syscall(SYS_close_range, 100, 200, 0);
	if (strcmp(what, "epoll_pwait2") == 0)
		return epoll_wait2();
	if (strcmp(what, "int80_getpid") == 0)
		return int80(I386_GETPID, 0, 0, 0);
	return NOT_AN_ATTEMPT;
}

static int
attempt(const char *what)
{
	int r = attempt_filtered(what);
	if (r != NOT_AN_ATTEMPT)
		return r;
	if ((r = attempt_allowed(what)) != NOT_AN_ATTEMPT)
		return r;
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
	if (strcmp(what, "raw_disk") == 0)
		return open("/dev/vda", O_RDONLY);
	fprintf(stderr, "probe: unknown attempt %s\n", what);
	return NOT_AN_ATTEMPT;
}

/* Device attempts (test_isolation_devices.py), at the end of this file. */
static int device_attempt(const char *what);

int
main(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		errno = 0;
		int r = device_attempt(argv[i]);
		if (r == NOT_A_DEVICE_ATTEMPT)
			r = attempt(argv[i]);
		if (r == NOT_AN_ATTEMPT)
			return 2;
		printf("%s %s\n", argv[i], r == FAULTED ? "SIGSEGV" :
		    r >= 0 ? "OK" : strerrorname_np(errno));
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
	return NOT_A_DEVICE_ATTEMPT;
}
