/*
 * The zone's seccomp rules, an allowlist built with libseccomp; see
 * zone_filter.h for when this runs, and docs/privileges.md for why each
 * rule is there.
 */
#include "zone/zone_filter.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/cleanup.h"

/*
 * What a zone's programs may call, by what they do; docs/privileges.md
 * gives each group's reason.  Names that exist only on some of the
 * filter's ABIs (chown32, mmap2, socketcall, the *_time64 calls on i386,
 * arch_prctl on x86-64 and x32) are listed once and apply where they exist.
 */
static const char *const allowed_syscalls[] = {
	/* Starting a program and managing its memory: what every libc and
	 * dynamic loader does before main, and what allocators, JITs and
	 * language runtimes do after.  NUMA placement and locking apply to
	 * the caller's own memory, within its rlimits. */
	"execve", "execveat", "exit", "exit_group",
	"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise",
	"mincore", "msync", "mlock", "mlock2", "munlock", "mlockall",
	"munlockall", "remap_file_pages", "mseal", "map_shadow_stack",
	"pkey_alloc", "pkey_free", "pkey_mprotect",
	"memfd_create", "memfd_secret", "membarrier",
	"get_mempolicy", "set_mempolicy", "mbind", "set_mempolicy_home_node",
	"arch_prctl", "set_thread_area", "get_thread_area", "set_tid_address",
	"set_robust_list", "get_robust_list", "rseq", "restart_syscall",
	"prctl", "getrandom", "uname", "sysinfo", "getcpu",

	/* Processes, threads and signals.  clone is allowed by its flags
	 * (below); clone3 is not listed, so libc falls back to clone.  The
	 * zone's pid namespace limits whom kill and pidfds can reach. */
	"fork", "vfork", "wait4", "waitid", "waitpid",
	"getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid",
	"getsid", "setsid",
	"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
	"pidfd_open", "pidfd_send_signal", "process_mrelease",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
	"rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
	"sigaltstack", "sigreturn", "sigprocmask", "pause",
	"futex", "futex_time64", "futex_waitv", "futex_wake", "futex_wait",
	"futex_requeue", "sched_yield",

	/* Credentials, limits and scheduling of the caller and its own
	 * processes: login, su, sshd and every daemon that drops privileges.
	 * The kernel still checks the capabilities the zone lacks
	 * (CAP_SYS_NICE, CAP_SYS_RESOURCE).  seccomp and landlock only ever
	 * restrict the caller further (systemd and sshd sandbox with them). */
	"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
	"getgroups", "setuid", "setgid", "setreuid", "setregid", "setresuid",
	"setresgid", "setgroups", "setfsuid", "setfsgid",
	"getuid32", "geteuid32", "getgid32", "getegid32", "getresuid32",
	"getresgid32", "getgroups32", "setuid32", "setgid32", "setreuid32",
	"setregid32", "setresuid32", "setresgid32", "setgroups32",
	"setfsuid32", "setfsgid32",
	"capget", "capset", "umask",
	"getrlimit", "setrlimit", "prlimit64", "ugetrlimit", "getrusage",
	"times", "getpriority", "setpriority",
	"sched_getaffinity", "sched_setaffinity", "sched_getparam",
	"sched_setparam", "sched_getscheduler", "sched_setscheduler",
	"sched_getattr", "sched_setattr", "sched_get_priority_max",
	"sched_get_priority_min", "sched_rr_get_interval",
	"sched_rr_get_interval_time64", "ioprio_get", "ioprio_set",
	"seccomp", "landlock_create_ruleset", "landlock_add_rule",
	"landlock_restrict_self", "lsm_get_self_attr", "lsm_list_modules",

	/* Files and directories, all resolved inside the zone's root.
	 * mknod makes FIFOs and sockets (device nodes need CAP_MKNOD, which
	 * the zone lacks); name_to_handle_at only reads a handle, which
	 * nothing in the zone can open (open_by_handle_at is denied). */
	"open", "openat", "openat2", "creat", "close", "close_range",
	"stat", "fstat", "lstat", "newfstatat", "stat64", "fstat64",
	"lstat64", "fstatat64", "statx", "statfs", "fstatfs", "statfs64",
	"fstatfs64", "access", "faccessat", "faccessat2",
	"readlink", "readlinkat", "getdents", "getdents64", "getcwd",
	"chdir", "fchdir", "chroot", "mkdir", "mkdirat", "rmdir", "mknod",
	"mknodat", "link", "linkat", "symlink", "symlinkat", "unlink",
	"unlinkat", "rename", "renameat", "renameat2",
	"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown",
	"lchown", "fchownat", "chown32", "fchown32", "lchown32",
	"truncate", "ftruncate", "truncate64", "ftruncate64", "fallocate",
	"utime", "utimes", "futimesat", "utimensat", "utimensat_time64",
	"setxattr", "lsetxattr", "fsetxattr", "getxattr", "lgetxattr",
	"fgetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr",
	"lremovexattr", "fremovexattr", "setxattrat", "getxattrat",
	"listxattrat", "removexattrat", "file_getattr", "file_setattr",
	"name_to_handle_at", "flock", "fsync", "fdatasync", "sync", "syncfs",
	"sync_file_range", "fadvise64", "fadvise64_64", "readahead",
	"cachestat", "statmount", "listmount",

	/* File descriptors, I/O and event loops.  Linux AIO (io_setup...)
	 * is the old interface databases and qemu use; io_uring is denied. */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "lseek", "_llseek",
	"dup", "dup2", "dup3", "fcntl", "fcntl64", "ioctl", "pipe", "pipe2",
	"sendfile", "sendfile64", "splice", "tee", "vmsplice",
	"copy_file_range",
	"poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6",
	"pselect6_time64", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
	"signalfd", "signalfd4", "timerfd_create", "timerfd_settime",
	"timerfd_settime64", "timerfd_gettime", "timerfd_gettime64",
	"inotify_init", "inotify_init1", "inotify_add_watch",
	"inotify_rm_watch",
	"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents",
	"io_pgetevents", "io_pgetevents_time64",

	/* Reading the clocks, sleeping and timers (setting a clock is
	 * denied below). */
	"clock_gettime", "clock_gettime64", "clock_getres",
	"clock_getres_time64", "clock_nanosleep", "clock_nanosleep_time64",
	"nanosleep", "gettimeofday", "time", "alarm", "getitimer",
	"setitimer", "timer_create", "timer_settime", "timer_settime64",
	"timer_gettime", "timer_gettime64", "timer_getoverrun",
	"timer_delete",

	/* Sockets (socket itself by family, below) and System V and POSIX
	 * IPC, in the zone's own network and IPC namespaces.  socketcall
	 * and ipc are how i386 programs reach the same calls. */
	"socketpair", "connect", "accept", "accept4", "bind", "listen",
	"getsockname", "getpeername", "getsockopt", "setsockopt", "sendto",
	"recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"recvmmsg_time64", "shutdown", "socketcall",
	"shmget", "shmat", "shmdt", "shmctl", "semget", "semop",
	"semtimedop", "semtimedop_time64", "semctl", "msgget", "msgsnd",
	"msgrcv", "msgctl", "ipc", "mq_open", "mq_unlink", "mq_timedsend",
	"mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64",
	"mq_notify", "mq_getsetattr",

	/* The zone's own machine: reboot ends the zone's init (its pid
	 * namespace), the hostname is the zone's UTS namespace's, and
	 * vhangup is refused by the kernel without CAP_SYS_TTY_CONFIG, which
	 * login programs expect and ignore. */
	"reboot", "sethostname", "setdomainname", "vhangup",
};

/*
 * Denied with EPERM rather than the default ENOSYS: calls that exist but
 * reach past the zone (host kernel, clock, mounts, keyrings, other
 * processes' memory), so programs that check see "Operation not
 * permitted" and do not take the call for a missing kernel feature.
 */
static const char *const denied_syscalls[] = {
	"init_module", "finit_module", "delete_module",
	"kexec_load", "kexec_file_load",
	"swapon", "swapoff",
	"settimeofday", "stime", "clock_settime", "clock_settime64",
	"clock_adjtime", "clock_adjtime64", "adjtimex",
	"mount", "umount", "umount2", "pivot_root",
	"move_mount", "open_tree", "open_tree_attr", "fsopen", "fsmount",
	"fsconfig", "fspick", "mount_setattr",
	"bpf", "perf_event_open",
	"add_key", "request_key", "keyctl",
	"acct", "quotactl", "quotactl_fd", "lookup_dcookie", "syslog",
	"fanotify_init", "uselib",
	"iopl", "ioperm",
	"userfaultfd", "open_by_handle_at",
	"unshare", "setns",
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
	"pidfd_getfd", "kcmp",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
};

/* Allowed or denied by their arguments, in add_arg_rules(). */
static const char *const arg_rule_syscalls[] = {
	"clone", "personality", "socket",
};

/* Namespace creation through clone(2) flags (unshare/setns are denied). */
static const uint32_t clone_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
	CLONE_NEWNET, CLONE_NEWCGROUP,
};

/* personality(2) values programs legitimately use: PER_LINUX, the
 * 0xffffffff query and PER_LINUX32 (setarch/linux32).  Others (e.g.
 * ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC) weaken the zone's processes. */
static const uint32_t allowed_personalities[] = { 0x0, 0x8, 0xffffffff };

static void
seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx != NULL)
		seccomp_release(*ctx);
}

bool
zk_zone_filter_knows(const char *name)
{
	return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

const char *const *
zk_zone_filter_names(zk_filter_list list, size_t *n)
{
	switch (list) {
	case ZK_FILTER_ALLOWED:
		*n = ZK_ARRAY_SIZE(allowed_syscalls);
		return allowed_syscalls;
	case ZK_FILTER_EPERM:
		*n = ZK_ARRAY_SIZE(denied_syscalls);
		return denied_syscalls;
	case ZK_FILTER_BY_ARGS:
		*n = ZK_ARRAY_SIZE(arg_rule_syscalls);
		return arg_rule_syscalls;
	}
	*n = 0;
	return NULL;
}

static int
add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned int argc, const struct scmp_arg_cmp *args, zk_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	/* Newer than this libseccomp: it cannot be named on any arch, and
	 * gets the default action (zone_filter_gen reports it). */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int r = seccomp_rule_add_array(ctx, action, nr, argc, args);
	/* A negative (pseudo) number is a syscall the native arch lacks
	 * (umount, chown32 on x86-64); it matters only on the filter's arches
	 * that have it, and libseccomp adds it there. */
	if (r < 0 && nr >= 0)
		return zk_fail_errno(err, -r, "cannot add seccomp rule for %s",
		    name);
	return 0;
}

static int
add_list(scmp_filter_ctx ctx, uint32_t action, const char *const *names,
    size_t n, zk_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = add_rule(ctx, action, names[i], 0, NULL, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Without namespace flags clone is fork or a thread; with any of them it
 * is denied, one masked rule per flag.  clone3 is left to the default
 * ENOSYS: its flags are in memory the filter cannot read, and ENOSYS
 * makes libc fall back to clone, whose flags it can. */
static int
add_clone_rules(scmp_filter_ctx ctx, zk_error *err)
{
	uint32_t all = 0;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(clone_ns_flags); i++) {
		uint32_t f = clone_ns_flags[i];
		struct scmp_arg_cmp has = SCMP_A0_32(SCMP_CMP_MASKED_EQ, f, f);
		int r = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, &has,
		    err);
		if (r < 0)
			return r;
		all |= f;
	}
	struct scmp_arg_cmp none = SCMP_A0_32(SCMP_CMP_MASKED_EQ, all, 0);
	return add_rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &none, err);
}

/* A rule set for a syscall whose 32-bit first argument decides: the
 * listed values get one action, every other value the other. */
typedef struct {
	scmp_filter_ctx ctx;
	const char *name;
	const uint32_t *values;
	size_t n;
	uint32_t listed, others;
} arg0_split;

static size_t
count_under(const arg0_split *s, uint32_t mask, uint32_t prefix)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		if ((s->values[i] & mask) == prefix)
			n++;
	return n;
}

/*
 * libseccomp ANDs comparisons only across different arguments, so "arg0
 * is none of these values" cannot be one rule, and its plain equality
 * tests compare 64 bits where the kernel reads an int (high bits set
 * would slip past).  Instead walk the binary trie of the listed values
 * from the top bit: every subtree that holds none of them is one masked
 * rule for `others` (about 32 per value), each listed value, a leaf, one
 * for `listed`.  The rules partition the 32-bit values exactly.
 */
static int
add_split_subtree(const arg0_split *s, int bit, uint32_t prefix,
    zk_error *err)
{
	uint32_t mask = bit >= 31 ? 0 : ~((UINT32_C(1) << (bit + 1)) - 1);
	size_t listed = count_under(s, mask, prefix);
	if (listed == 0 || bit < 0) {
		struct scmp_arg_cmp cmp = SCMP_A0_32(SCMP_CMP_MASKED_EQ, mask,
		    prefix);
		return add_rule(s->ctx, listed ? s->listed : s->others, s->name,
		    1, &cmp, err);
	}
	int r = add_split_subtree(s, bit - 1, prefix, err);
	if (r == 0)
		r = add_split_subtree(s, bit - 1, prefix | (UINT32_C(1) << bit),
		    err);
	return r;
}

static int
add_arg_rules(scmp_filter_ctx ctx, zk_error *err)
{
	/* AF_VSOCK is not confined by the zone's network namespace: it
	 * reaches the host's (or hypervisor's) vsock services.  The family
	 * is refused as a kernel without vsock would refuse it. */
	static const uint32_t vsock[] = { AF_VSOCK };
	const arg0_split socket_rules = {
		ctx, "socket", vsock, ZK_ARRAY_SIZE(vsock),
		SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_ACT_ALLOW,
	};
	const arg0_split personality_rules = {
		ctx, "personality", allowed_personalities,
		ZK_ARRAY_SIZE(allowed_personalities),
		SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(EPERM),
	};
	int r = add_clone_rules(ctx, err);
	if (r == 0)
		r = add_split_subtree(&socket_rules, 31, 0, err);
	if (r == 0)
		r = add_split_subtree(&personality_rules, 31, 0, err);
	return r;
}

/* Without these the kernel kills 32-bit and x32 programs on sight (bad
 * arch), and with them the same rules hold in those syscall ABIs. */
static int
add_compat_arches(scmp_filter_ctx ctx, zk_error *err)
{
#if defined(__x86_64__)
	static const struct { uint32_t arch; const char *name; } arches[] = {
		{ SCMP_ARCH_X86, "x86" }, { SCMP_ARCH_X32, "x32" },
	};
	for (size_t i = 0; i < ZK_ARRAY_SIZE(arches); i++) {
		int r = seccomp_arch_add(ctx, arches[i].arch);
		if (r < 0 && r != -EEXIST)
			return zk_fail_errno(err, -r, "cannot add the %s "
			    "architecture to the seccomp filter", arches[i].name);
	}
#else
	(void)ctx;
	(void)err;
#endif
	return 0;
}

static int
set_attributes(scmp_filter_ctx ctx, zk_error *err)
{
	/* setuid programs in the zone (su, ping) must keep working. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot clear no_new_privs in the "
		    "seccomp filter");
	/* A binary search over some 360 syscalls per arch instead of a
	 * linear scan, for the calls the kernel's action cache cannot
	 * answer (x32, and those with argument rules). */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot set the seccomp filter's "
		    "optimization");
	return 0;
}

static int
build_filter(scmp_filter_ctx ctx, zk_error *err)
{
	int r;
	if ((r = set_attributes(ctx, err)) < 0 ||
	    (r = add_compat_arches(ctx, err)) < 0 ||
	    (r = add_list(ctx, SCMP_ACT_ALLOW, allowed_syscalls,
	    ZK_ARRAY_SIZE(allowed_syscalls), err)) < 0 ||
	    (r = add_list(ctx, SCMP_ACT_ERRNO(EPERM), denied_syscalls,
	    ZK_ARRAY_SIZE(denied_syscalls), err)) < 0)
		return r;
	return add_arg_rules(ctx, err);
}

static int
new_filter(scmp_filter_ctx *out, zk_error *err)
{
	/* Everything not named, syscalls newer than this list included, is
	 * "not implemented": what libc expects from an older kernel, so it
	 * falls back to the older call where it has one. */
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx =
	    seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	if (ctx == NULL)
		return zk_fail(err, ENOMEM, "cannot create the seccomp filter");
	int r = build_filter(ctx, err);
	if (r < 0)
		return r;
	*out = TAKE_PTR(ctx);
	return 0;
}

/* libseccomp 2.5 exports only to a file descriptor: a memfd, read back. */
static int
read_program(int fd, struct sock_filter **prog, size_t *len, zk_error *err)
{
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return zk_fail_errno(err, errno, "cannot size the exported filter");
	if (size == 0 || size % (off_t)sizeof(struct sock_filter) != 0)
		return zk_fail(err, EIO, "the exported filter has %lld bytes, not "
		    "a whole number of instructions", (long long)size);
	_cleanup_free_ char *buf = malloc((size_t)size);
	if (buf == NULL)
		return zk_fail(err, ENOMEM, "cannot read the exported filter");
	for (off_t done = 0; done < size;) {
		ssize_t n = pread(fd, buf + done, (size_t)(size - done), done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return zk_fail_errno(err, n < 0 ? errno : EIO,
			    "cannot read the exported filter");
		done += n;
	}
	*prog = (struct sock_filter *)TAKE_PTR(buf);
	*len = (size_t)size / sizeof(struct sock_filter);
	return 0;
}

int
zk_zone_filter_bpf(struct sock_filter **prog, size_t *len, zk_error *err)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r = new_filter(&ctx, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = memfd_create("zone-filter", MFD_CLOEXEC);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot create a memfd for the "
		    "seccomp filter");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot export the seccomp filter");
	return read_program(fd, prog, len, err);
}

int
zk_zone_filter_load(zk_error *err)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r = new_filter(&ctx, err);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot load the seccomp filter");
	return 0;
}
