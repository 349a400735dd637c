/*
 * The zone's seccomp filter: the array generated at build time must be
 * exactly what libseccomp builds from the rule lists now (so a rule change
 * that somehow bypasses the generator fails here), the loader must get it
 * into the kernel both through seccomp(2) and, where that is missing as
 * under valgrind, through prctl, and the filter must do what the lists say
 * on all three x86 ABIs: every syscall number that is on no list gets
 * ENOSYS, the EPERM list EPERM, and what zones run keeps working.  That is
 * checked twice: by running the program through a BPF interpreter (every
 * ABI, allowed calls included, whatever this kernel supports) and in the
 * kernel, by calling every number the filter does not allow.
 *
 * Probes run in forked children with no_new_privs (so no root is needed)
 * and, once the filter is in, no capabilities: should the filter wrongly
 * let a probe's zero-argument call through, it runs unprivileged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "zk_config.h"
#include "zone/privileges.h"
#include "zone/zone_filter.h"
#if ZK_SECCOMP_PREBUILT
#include "zone_filter_bpf.h"
#endif

#define X32_SYSCALL_BIT 0x40000000
#define SYSCALL_SPAN 1024	/* numbers swept per ABI: all there are, and more */

/* In a child: report the first failed expectation and give up. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s failed (errno %s)\n",	\
		    __FILE__, __LINE__, #cond, strerrorname_np(errno));	\
		return 1;						\
	}								\
} while (0)

/* Syscalls newer than libseccomp 2.5.4 (Linux 6.8 and later), which the
 * lists may name before the build's libseccomp knows them. */
static const char *const newer_than_libseccomp[] = {
	"statmount", "listmount", "lsm_get_self_attr", "lsm_set_self_attr",
	"lsm_list_modules", "mseal", "setxattrat", "getxattrat",
	"listxattrat", "removexattrat", "open_tree_attr", "file_getattr",
	"file_setattr",
};

static bool
denied(long r, int want)
{
	return r == -1 && errno == want;
}

/* A raw i386 system call, as a 32-bit program makes it: the kernel sees
 * it under AUDIT_ARCH_I386, so the filter's x86 rules apply. */
static long
int80(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80"
	    : "=a"(r)
	    : "a"(nr), "b"(a), "c"(b), "d"(c)
	    : "memory", "cc", "r8", "r9", "r10", "r11");
	return (int)r;
}

/* The result of int80 in syscall(2)'s convention (-1 and errno). */
static long
int80_errno(long nr, long a, long b, long c)
{
	long r = int80(nr, a, b, c);
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* The number of a syscall on an ABI, as the filter sees it: i386's socket
 * is its own call (359) here, not libseccomp's socketcall multiplexing. */
static int
nr_on(uint32_t arch, const char *name)
{
	uint32_t base = arch == SCMP_ARCH_X32 ? X32_SYSCALL_BIT : 0;
	for (int i = 0; i < SYSCALL_SPAN; i++) {
		char *n = seccomp_syscall_resolve_num_arch(arch, (int)(base | i));
		bool found = n != NULL && strcmp(n, name) == 0;
		free(n);
		if (found)
			return (int)(base | i);
	}
	fail_msg("libseccomp does not know %s on arch 0x%x", name, arch);
	return -1;
}

static bool
on_list(zk_filter_list list, const char *name)
{
	size_t n;
	const char *const *names = zk_zone_filter_names(list, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Make seccomp(2) fail with ENOSYS, as it does under valgrind. */
static int
hide_seccomp_syscall(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -1;
	unsigned int action = SECCOMP_RET_ALLOW;
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0 ||
	    errno != ENOSYS)
		return -1;
	return 0;
}

/* capset is on the allowlist: zk_privileges_apply drops capabilities
 * after loading the filter. */
static int
drop_all_capabilities(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	return (int)syscall(SYS_capset, &h, d);
}

enum how { UNFILTERED, FILTERED, FILTERED_BY_PRCTL };

static int
enter(enum how how)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 10;
	if (how == FILTERED_BY_PRCTL && hide_seccomp_syscall() < 0)
		return 11;
	zk_error err = { 0 };
	if (how != UNFILTERED && zk_privileges_load_filter(&err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 12;
	}
	if (drop_all_capabilities() < 0)
		return 13;
	return 0;
}

/* Run probe in a child set up as `how` says; its exit status. */
static int
child_status(int (*probe)(void), enum how how)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would resume its test loop in the child */
		static const int fatal[] = { SIGSEGV, SIGILL, SIGBUS, SIGFPE };
		for (size_t i = 0; i < ZK_ARRAY_SIZE(fatal); i++)
			signal(fatal[i], SIG_DFL);
		int r = enter(how);
		_exit(r != 0 ? r : probe());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
run_child(int (*probe)(void), enum how how)
{
	assert_int_equal(child_status(probe, how), 0);
}

/* The filter as libseccomp builds it from the lists now. */
static struct sock_filter *
built_filter(size_t *len)
{
	struct sock_filter *prog = NULL;
	zk_error err = { 0 };
	if (zk_zone_filter_bpf(&prog, len, &err) < 0)
		fail_msg("%s", err.msg);
	return prog;
}

static void
test_generated_filter_is_the_rule_list(void **state)
{
	(void)state;
#if ZK_SECCOMP_PREBUILT
	size_t len = 0;
	struct sock_filter *prog = built_filter(&len);
	size_t want = sizeof(zk_zone_filter_prebuilt) /
	    sizeof(zk_zone_filter_prebuilt[0]);
	for (size_t i = 0; i < len && i < want; i++) {
		const struct sock_filter *a = &prog[i];
		const struct sock_filter *b = &zk_zone_filter_prebuilt[i];
		if (memcmp(a, b, sizeof(*a)) != 0)
			fail_msg("instruction %zu: libseccomp builds {0x%04x, %u, "
			    "%u, 0x%08x}, zone_filter_bpf.h has {0x%04x, %u, %u, "
			    "0x%08x}", i, a->code, a->jt, a->jf, a->k, b->code,
			    b->jt, b->jf, b->k);
	}
	assert_int_equal(len, want);
	free(prog);
#else
	skip();		/* cross build: the filter is built at run time */
#endif
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
test_lists_name_each_syscall_once(void **state)
{
	(void)state;
	const char *all[1024];
	size_t total = 0;
	for (int l = ZK_FILTER_ALLOWED; l <= ZK_FILTER_BY_ARGS; l++) {
		size_t n;
		const char *const *names = zk_zone_filter_names(l, &n);
		assert_true(total + n <= ZK_ARRAY_SIZE(all));
		memcpy(all + total, names, n * sizeof(*names));
		total += n;
	}
	qsort(all, total, sizeof(*all), compare_names);
	for (size_t i = 1; i < total; i++)
		if (strcmp(all[i - 1], all[i]) == 0)
			fail_msg("%s is on the filter's lists twice", all[i]);
}

static bool
newer_than_libseccomp_2_5_4(const char *name)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(newer_than_libseccomp); i++)
		if (strcmp(newer_than_libseccomp[i], name) == 0)
			return true;
	return false;
}

/* Listed names libseccomp cannot resolve get ENOSYS like any unlisted
 * call; they are reported, and must be real syscalls, not typos. */
static void
test_names_libseccomp_cannot_resolve_are_reported(void **state)
{
	(void)state;
	const struct scmp_version *v = seccomp_version();
	for (int l = ZK_FILTER_ALLOWED; l <= ZK_FILTER_BY_ARGS; l++) {
		size_t n;
		const char *const *names = zk_zone_filter_names(l, &n);
		for (size_t i = 0; i < n; i++) {
			if (zk_zone_filter_knows(names[i]))
				continue;
			print_message("unknown to libseccomp %u.%u.%u, so ENOSYS "
			    "in zones: %s\n", v->major, v->minor, v->micro,
			    names[i]);
			if (!newer_than_libseccomp_2_5_4(names[i]))
				fail_msg("%s: no syscall libseccomp knows, nor one "
				    "newer than it (a typo?)", names[i]);
		}
	}
}

/* What the filter's lists expect of number nr on arch: 0 when it is
 * allowed (or decided by its arguments), else the errno. */
static int
expected_errno(uint32_t arch, int nr)
{
	char *name = seccomp_syscall_resolve_num_arch(arch, nr);
	int want = ENOSYS;
	if (name != NULL && (on_list(ZK_FILTER_ALLOWED, name) ||
	    on_list(ZK_FILTER_BY_ARGS, name)))
		want = 0;
	else if (name != NULL && on_list(ZK_FILTER_EPERM, name))
		want = EPERM;
	free(name);
	return want;
}

/* The action the lists expect for a call with zero arguments (which the
 * argument rules of clone, personality and socket all allow). */
static uint32_t
expected_action(uint32_t arch, int nr)
{
	int want = expected_errno(arch, nr);
	return want ? SECCOMP_RET_ERRNO | (uint32_t)want : SECCOMP_RET_ALLOW;
}

/* The filter as the kernel runs it on d: a classic BPF interpreter for
 * the instructions libseccomp emits, so every ABI's rules can be checked
 * whatever ABIs this kernel runs. */
static uint32_t
bpf_run(const struct sock_filter *prog, size_t len,
    const struct seccomp_data *d)
{
	uint32_t a = 0;
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(f->k + sizeof(a) <= sizeof(*d));
			memcpy(&a, (const char *)d + f->k, sizeof(a));
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & f->k) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			fail_msg("instruction %zu: opcode 0x%04x is new to this "
			    "test's interpreter", pc, f->code);
		}
	}
	fail_msg("the filter runs off its end");
	return 0;
}

static uint32_t
run_on(const struct sock_filter *prog, size_t len, uint32_t audit_arch,
    int nr, uint64_t arg0)
{
	struct seccomp_data d = { .nr = nr, .arch = audit_arch,
	    .args = { arg0 } };
	return bpf_run(prog, len, &d);
}

static const struct abi {
	const char *name;
	uint32_t scmp_arch, audit_arch, base;
} abis[] = {
	{ "x86-64", SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64, 0 },
	{ "i386", SCMP_ARCH_X86, AUDIT_ARCH_I386, 0 },
	{ "x32", SCMP_ARCH_X32, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT },
};

/* Argument rules, the same on every ABI; 64-bit values only where
 * arguments have 64 bits. */
static const struct arg_case {
	const char *name;
	uint64_t arg0;
	uint32_t action;
	bool wide;
} arg_cases[] = {
	{ "clone", CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
	    CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
	    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID, SECCOMP_RET_ALLOW,
	    false },
	{ "clone", CLONE_NEWUSER | SIGCHLD, SECCOMP_RET_ERRNO | EPERM, false },
	{ "clone", CLONE_NEWNS, SECCOMP_RET_ERRNO | EPERM, false },
	{ "clone", CLONE_NEWCGROUP | CLONE_VM, SECCOMP_RET_ERRNO | EPERM,
	    false },
	{ "personality", 0x8, SECCOMP_RET_ALLOW, false },
	{ "personality", 0xffffffff, SECCOMP_RET_ALLOW, false },
	{ "personality", 0x0040000, SECCOMP_RET_ERRNO | EPERM, false },
	{ "personality", 0x0400000, SECCOMP_RET_ERRNO | EPERM, false },
	{ "personality", 0x100400000, SECCOMP_RET_ERRNO | EPERM, true },
	{ "socket", AF_INET6, SECCOMP_RET_ALLOW, false },
	{ "socket", AF_VSOCK, SECCOMP_RET_ERRNO | EAFNOSUPPORT, false },
	{ "socket", 0x100000000 | AF_VSOCK, SECCOMP_RET_ERRNO | EAFNOSUPPORT,
	    true },
};

static void
check_abi_by_interpreting(const struct sock_filter *prog, size_t len,
    const struct abi *abi)
{
	for (int i = 0; i < SYSCALL_SPAN; i++) {
		int nr = (int)(abi->base | (uint32_t)i);
		uint32_t got = run_on(prog, len, abi->audit_arch, nr, 0);
		uint32_t want = expected_action(abi->scmp_arch, nr);
		if (got != want)
			fail_msg("%s syscall %d: the filter returns 0x%08x, the "
			    "lists say 0x%08x", abi->name, i, got, want);
	}
	for (size_t i = 0; i < ZK_ARRAY_SIZE(arg_cases); i++) {
		const struct arg_case *c = &arg_cases[i];
		if (c->wide && abi->audit_arch == AUDIT_ARCH_I386)
			continue;
		int nr = nr_on(abi->scmp_arch, c->name);
		uint32_t got = run_on(prog, len, abi->audit_arch, nr, c->arg0);
		if (got != c->action)
			fail_msg("%s %s(0x%llx): the filter returns 0x%08x, not "
			    "0x%08x", abi->name, c->name,
			    (unsigned long long)c->arg0, got, c->action);
	}
}

/* Every number of every ABI, allowed ones included, against the lists;
 * and a foreign architecture is killed, as libseccomp does by default. */
static void
test_every_abi_follows_the_lists(void **state)
{
	(void)state;
	size_t len = 0;
	struct sock_filter *prog = built_filter(&len);
	for (size_t i = 0; i < ZK_ARRAY_SIZE(abis); i++)
		check_abi_by_interpreting(prog, len, &abis[i]);
	assert_int_equal(run_on(prog, len, AUDIT_ARCH_AARCH64, 0, 0),
	    SECCOMP_RET_KILL_THREAD);
	free(prog);
}

/* Fixed here, not read from the lists, so that editing a list cannot
 * quietly let one of these in or lock one of those out (zonekit issue 8's
 * battery, and what a zone's init, sshd, systemd and glibc call). */
static const char *const must_be_eperm[] = {
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"open_by_handle_at", "pidfd_getfd", "process_vm_readv",
	"process_vm_writev", "ptrace", "keyctl", "add_key", "bpf",
	"perf_event_open", "userfaultfd", "init_module", "finit_module",
	"kexec_load", "fsopen", "fsmount", "move_mount", "open_tree", "mount",
	"umount2", "pivot_root", "unshare", "setns", "swapon",
	"settimeofday", "clock_settime",
};

static const char *const must_be_allowed[] = {
	"execve", "capset", "prctl", "close_range", "rseq", "statx",
	"faccessat2", "epoll_pwait2", "pidfd_open", "pidfd_send_signal",
	"memfd_create", "futex", "futex_waitv", "set_robust_list", "sendmsg",
	"setresuid", "setgroups", "chroot", "reboot", "seccomp", "waitid",
	"getrandom", "openat", "openat2", "mmap", "mprotect", "vfork",
};

static void
check_fixed_names(const struct sock_filter *prog, size_t len,
    const struct abi *abi, const char *const *names, size_t n,
    uint32_t want)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name_arch(abi->scmp_arch,
		    names[i]);
		if (nr < 0)
			continue;	/* a pseudo number: not on this ABI */
		uint32_t got = run_on(prog, len, abi->audit_arch, nr, 0);
		if (got != want)
			fail_msg("%s %s: the filter returns 0x%08x, not 0x%08x",
			    abi->name, names[i], got, want);
	}
}

static void
test_dangerous_calls_eperm_and_needed_calls_allowed(void **state)
{
	(void)state;
	size_t len = 0;
	struct sock_filter *prog = built_filter(&len);
	for (size_t i = 0; i < ZK_ARRAY_SIZE(abis); i++) {
		check_fixed_names(prog, len, &abis[i], must_be_eperm,
		    ZK_ARRAY_SIZE(must_be_eperm), SECCOMP_RET_ERRNO | EPERM);
		check_fixed_names(prog, len, &abis[i], must_be_allowed,
		    ZK_ARRAY_SIZE(must_be_allowed), SECCOMP_RET_ALLOW);
	}
	free(prog);
}

typedef long (*raw_syscall)(long nr);

static long
native_call(long nr)
{
	return syscall(nr, 0, 0, 0, 0, 0, 0);
}

static long
i386_call(long nr)
{
	return int80_errno(nr, 0, 0, 0);
}

/* uretprobe and uprobe: seccomp lets them through (Linux 6.11 and later)
 * and, outside a uprobe trampoline, the kernel kills the caller. */
static bool
passes_seccomp(uint32_t arch, int nr)
{
	return arch == SCMP_ARCH_X86_64 && (nr == 335 || nr == 336);
}

/*
 * The loaded filter, for real: every number of an ABI the filter does not
 * allow, called with zero arguments, fails with the errno the lists say:
 * EPERM for the EPERM list, ENOSYS for the rest, among them numbers no
 * libseccomp knows (this kernel's newest calls, the first number above
 * its highest, 1000).
 */
static int
sweep(uint32_t arch, uint32_t base, raw_syscall call)
{
	int wrong = 0;
	for (int i = 0; i < SYSCALL_SPAN; i++) {
		int nr = (int)(base | (uint32_t)i);
		int want = expected_errno(arch, nr);
		if (want == 0 || passes_seccomp(arch, nr))
			continue;
		errno = 0;
		long r = call(nr);
		if (!denied(r, want)) {
			char *name = seccomp_syscall_resolve_num_arch(arch, nr);
			fprintf(stderr, "arch 0x%x syscall %d (%s): %ld %s, "
			    "want %s\n", arch, i, name ? name : "unnamed", r,
			    r < 0 ? strerrorname_np(errno) : "",
			    strerrorname_np(want));
			free(name);
			wrong++;
		}
	}
	return wrong ? 1 : 0;
}

static int
sweep_x86_64(void)
{
	return sweep(SCMP_ARCH_X86_64, 0, native_call);
}

static int
sweep_i386(void)
{
	return sweep(SCMP_ARCH_X86, 0, i386_call);
}

/* x32 calls reach seccomp even where the kernel lacks the x32 ABI. */
static int
sweep_x32(void)
{
	return sweep(SCMP_ARCH_X32, X32_SYSCALL_BIT, native_call);
}

static int
int80_getpid(void)
{
	return int80(nr_on(SCMP_ARCH_X86, "getpid"), 0, 0, 0) == getpid() ?
	    0 : 1;
}

/* Kernels without IA32 emulation (or with it switched off) fault int
 * $0x80; the i386 rules are then checked by interpretation only. */
static void
skip_without_int80(void)
{
	if (child_status(int80_getpid, UNFILTERED) != 0) {
		print_message("int $0x80 does not work on this kernel\n");
		skip();
	}
}

static void
test_x86_64_denies_all_it_does_not_allow(void **state)
{
	(void)state;
	run_child(sweep_x86_64, FILTERED);
}

static void
test_i386_int80_denies_all_it_does_not_allow(void **state)
{
	(void)state;
	skip_without_int80();
	run_child(sweep_i386, FILTERED);
}

static void
test_x32_denies_all_it_does_not_allow(void **state)
{
	(void)state;
	run_child(sweep_x32, FILTERED);
}

/* The first native number above the newest syscall libseccomp knows. */
static int
first_unknown_number(void)
{
	int highest = 0;
	for (int nr = 0; nr < SYSCALL_SPAN; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64,
		    nr);
		if (name != NULL)
			highest = nr;
		free(name);
	}
	return highest + 1;
}

static int
call_unknown(void)
{
	errno = 0;
	long r = syscall(first_unknown_number(), 0, 0, 0, 0, 0, 0);
	return r < 0 ? errno : 0;
}

/* A syscall newer than the filter's lists (on a 6.8 or later kernel with
 * libseccomp 2.5.4, statmount): the kernel answers, the filtered child
 * gets ENOSYS, which is how syscalls of future kernels stay out of zones. */
static void
test_syscall_newer_than_the_filter_gets_enosys(void **state)
{
	(void)state;
	int kernel = child_status(call_unknown, UNFILTERED);
	print_message("syscall %d without the filter: %s\n",
	    first_unknown_number(),
	    kernel ? strerrorname_np(kernel) : "success");
	assert_int_equal(child_status(call_unknown, FILTERED), ENOSYS);
}

/* The argument rules, in the kernel. */
static int
probe_arg_rules(void)
{
	CHECK(denied(syscall(SYS_personality, 0x0040000UL), EPERM));
	/* the kernel reads an unsigned int: high bits must not slip past */
	CHECK(denied(syscall(SYS_personality, 0x100400000UL), EPERM));
	CHECK(syscall(SYS_personality, 0xffffffffUL) >= 0);
	CHECK(syscall(SYS_personality, 0x0UL) >= 0);
	CHECK(denied(unshare(CLONE_NEWUSER), EPERM));
	CHECK(denied(syscall(SYS_clone3, NULL, 0), ENOSYS));
	CHECK(denied(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM));
	static const long ns_flags[] = { CLONE_NEWNS, CLONE_NEWUTS,
	    CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
	    CLONE_NEWCGROUP };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(ns_flags); i++) {
		long r = syscall(SYS_clone, ns_flags[i] | SIGCHLD, 0, 0, 0, 0);
		if (r == 0)
			_exit(99);	/* a child the filter let through */
		CHECK(denied(r, EPERM));
	}
	CHECK(denied(socket(AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT));
	CHECK(denied(syscall(SYS_socket, 0x100000000UL | AF_VSOCK,
	    SOCK_STREAM, 0), EAFNOSUPPORT));
	return 0;
}

static int
probe_x32_arg_rules(void)
{
	long r = syscall(nr_on(SCMP_ARCH_X32, "clone"), CLONE_NEWUSER | SIGCHLD,
	    0, 0, 0, 0);
	if (r == 0)
		_exit(99);
	CHECK(denied(r, EPERM));
	CHECK(denied(syscall(nr_on(SCMP_ARCH_X32, "mount"), 0, 0, 0, 0, 0),
	    EPERM));
	CHECK(denied(syscall(nr_on(SCMP_ARCH_X32, "personality"), 0x0040000,
	    0, 0), EPERM));
	return 0;
}

static int
probe_i386_arg_rules(void)
{
	long r = int80_errno(nr_on(SCMP_ARCH_X86, "clone"),
	    CLONE_NEWUSER | SIGCHLD, 0, 0);
	if (r == 0)
		_exit(99);
	CHECK(denied(r, EPERM));
	CHECK(denied(int80_errno(nr_on(SCMP_ARCH_X86, "personality"),
	    0x0040000, 0, 0), EPERM));
	CHECK(denied(int80_errno(nr_on(SCMP_ARCH_X86, "mount"), 0, 0, 0),
	    EPERM));
	CHECK(denied(int80_errno(nr_on(SCMP_ARCH_X86, "socket"), AF_VSOCK,
	    SOCK_STREAM, 0), EAFNOSUPPORT));
	CHECK(int80(nr_on(SCMP_ARCH_X86, "getpid"), 0, 0, 0) == getpid());
	return 0;
}

static void
test_arg_rules_with_seccomp_syscall(void **state)
{
	(void)state;
	run_child(probe_arg_rules, FILTERED);
	run_child(probe_x32_arg_rules, FILTERED);
}

static void
test_i386_arg_rules(void **state)
{
	(void)state;
	skip_without_int80();
	run_child(probe_i386_arg_rules, FILTERED);
}

static void
test_arg_rules_loaded_with_prctl_where_seccomp_syscall_is_missing(
    void **state)
{
	(void)state;
	run_child(probe_arg_rules, FILTERED_BY_PRCTL);
}

static void *
thread_main(void *arg)
{
	return arg;
}

/* posix_spawn: glibc's clone3, refused, then clone(CLONE_VM|CLONE_VFORK),
 * then execve. */
static int
spawn_true(void)
{
	char *const argv[] = { "true", NULL };
	pid_t pid;
	int status;
	if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, NULL) != 0 ||
	    waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Neither allowed nor denied: the call ran and failed for its own reason. */
static bool
reached_kernel(long r)
{
	return r >= 0 || (errno != ENOSYS && errno != EPERM);
}

/* What libc and programs call, modern calls with fallbacks among them. */
static int
probe_allowed(void)
{
	pthread_t t;
	int token = 0;
	void *out = NULL;
	CHECK(pthread_create(&t, NULL, thread_main, &token) == 0);
	CHECK(pthread_join(t, &out) == 0 && out == &token);
	CHECK(spawn_true() == 0);
	struct statx stx;
	CHECK(statx(AT_FDCWD, "/", 0, STATX_BASIC_STATS, &stx) == 0);
	CHECK(syscall(SYS_close_range, 1000, 1010, 0) == 0);
	CHECK(syscall(SYS_faccessat2, AT_FDCWD, "/", R_OK, AT_EACCESS) == 0);
	int fd = memfd_create("probe", MFD_CLOEXEC);
	CHECK(fd >= 0 && close(fd) == 0);
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	CHECK(pidfd >= 0);
	CHECK(syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev;
	struct timespec zero = { 0, 0 };
	CHECK(ep >= 0 && syscall(SYS_epoll_pwait2, ep, &ev, 1, &zero, NULL,
	    0) == 0);
	CHECK(reached_kernel(syscall(SYS_futex_waitv, NULL, 0, 0, NULL, 0)));
	CHECK(reached_kernel(syscall(SYS_rseq, NULL, 0, 0, 0)));
	CHECK(reached_kernel(syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION)));
	char buf[8];
	CHECK(getrandom(buf, sizeof(buf), 0) == sizeof(buf));
	CHECK(drop_all_capabilities() == 0);
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && close(fd) == 0);
	return 0;
}

static void
test_what_zones_run_keeps_working(void **state)
{
	(void)state;
	run_child(probe_allowed, FILTERED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_filter_is_the_rule_list),
		cmocka_unit_test(test_lists_name_each_syscall_once),
		cmocka_unit_test(test_names_libseccomp_cannot_resolve_are_reported),
		cmocka_unit_test(test_every_abi_follows_the_lists),
		cmocka_unit_test(test_dangerous_calls_eperm_and_needed_calls_allowed),
		cmocka_unit_test(test_x86_64_denies_all_it_does_not_allow),
		cmocka_unit_test(test_i386_int80_denies_all_it_does_not_allow),
		cmocka_unit_test(test_x32_denies_all_it_does_not_allow),
		cmocka_unit_test(test_syscall_newer_than_the_filter_gets_enosys),
		cmocka_unit_test(test_arg_rules_with_seccomp_syscall),
		cmocka_unit_test(test_i386_arg_rules),
		cmocka_unit_test(test_arg_rules_loaded_with_prctl_where_seccomp_syscall_is_missing),
		cmocka_unit_test(test_what_zones_run_keeps_working),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
