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

int
main(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		errno = 0;
		int r = attempt(argv[i]);
		if (r == -2)
			return 2;
		printf("%s %s\n", argv[i], r >= 0 ? "OK" : strerrorname_np(errno));
	}
	return 0;
}
