/*
 * The zone's seccomp rules, built with libseccomp; see zone_filter.h for
 * when this runs, and docs/privileges.md for why each rule is there.
 */
#include "zone_filter.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"

/* Syscalls that reach past the zone (kernel, clock, mounts, keys, ...). */
static const char *const denied_syscalls[] = {
	"init_module", "finit_module", "delete_module",
	"kexec_load", "kexec_file_load",
	"swapon", "swapoff",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"mount", "umount", "umount2", "pivot_root",
	"move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick",
	"mount_setattr",
	"bpf", "perf_event_open",
	"add_key", "request_key", "keyctl",
	"acct", "quotactl", "quotactl_fd", "lookup_dcookie", "syslog",
	"iopl", "ioperm", "uselib", "userfaultfd",
	"open_by_handle_at", "name_to_handle_at",
	"unshare", "setns",
	"ptrace", "fanotify_init", "nfsservctl",
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

static int
add_deny(scmp_filter_ctx ctx, const char *name, zk_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	/* Unknown to this libseccomp: it cannot be named on any arch. */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	/* A negative (pseudo) number is a syscall the native arch lacks
	 * (umount on x86_64); it matters only where a filter arch has it. */
	if (r < 0 && nr >= 0)
		return zk_fail_errno(err, -r, "cannot add seccomp rule for %s",
		    name);
	return 0;
}

static int
add_clone_rules(scmp_filter_ctx ctx, zk_error *err)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(clone_ns_flags); i++) {
		uint32_t f = clone_ns_flags[i];
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(clone), 1, SCMP_A0_32(SCMP_CMP_MASKED_EQ, f, f));
		if (r < 0)
			return zk_fail_errno(err, -r,
			    "cannot add seccomp rule for clone");
	}
	/* clone3 passes its flags in memory the filter cannot read; ENOSYS
	 * makes libc fall back to clone, whose flags it can. */
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot add seccomp rule for clone3");
	return 0;
}

static size_t
count_under(uint32_t mask, uint32_t prefix)
{
	size_t n = 0;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(allowed_personalities); i++)
		if ((allowed_personalities[i] & mask) == prefix)
			n++;
	return n;
}

/*
 * libseccomp ANDs comparisons only across different arguments, so "arg0
 * is none of these values" cannot be one rule.  Instead walk the binary
 * trie of the allowed values from the top bit: every subtree that holds
 * none of them is denied by one masked-equality rule (about 64 rules).
 * The kernel reads the argument as an unsigned int, hence 32 bits.
 */
static int
deny_personality_subtree(scmp_filter_ctx ctx, int bit, uint32_t prefix,
    zk_error *err)
{
	uint32_t mask = bit >= 31 ? 0 : ~((UINT32_C(1) << (bit + 1)) - 1);
	if (count_under(mask, prefix) == 0) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(personality), 1,
		    SCMP_A0_32(SCMP_CMP_MASKED_EQ, mask, prefix));
		if (r < 0)
			return zk_fail_errno(err, -r,
			    "cannot add seccomp rule for personality");
		return 0;
	}
	if (bit < 0)
		return 0;	/* an allowed value */
	int r = deny_personality_subtree(ctx, bit - 1, prefix, err);
	if (r == 0)
		r = deny_personality_subtree(ctx, bit - 1,
		    prefix | (UINT32_C(1) << bit), err);
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
build_filter(scmp_filter_ctx ctx, zk_error *err)
{
	/* setuid programs in the zone (su, ping) must keep working. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot clear no_new_privs in the "
		    "seccomp filter");
	if ((r = add_compat_arches(ctx, err)) < 0)
		return r;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(denied_syscalls); i++)
		if ((r = add_deny(ctx, denied_syscalls[i], err)) < 0)
			return r;
	if ((r = add_clone_rules(ctx, err)) < 0)
		return r;
	return deny_personality_subtree(ctx, 31, 0, err);
}

static int
new_filter(scmp_filter_ctx *out, zk_error *err)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx =
	    seccomp_init(SCMP_ACT_ALLOW);
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
