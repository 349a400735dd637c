/*
 * The zone's device allowlist, and the two forms the kernel takes it in:
 * devices.allow lines (v1) and a cgroup device program (cgroup2).
 */
#include "cgroup/device_policy.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

/*
 * The usual pseudo devices, the controlling tty, and the zone's ptys.  The
 * zone's /dev/pts is its own devpts instance (newinstance): its ptmx is
 * 5:2 and its pty N is 136:N for every N, since the kernel numbers ptys
 * with 20-bit minors (the 137-143 majors of the old 8-bit scheme are never
 * used).  The console is one of those ptys bound over /dev/console, so the
 * host console (5:1) is not allowed.  Nothing needing a capability the
 * zone lacks is listed (/dev/net/tun wants CAP_NET_ADMIN, fuse mounts).
 * Read and write only: the zone's /dev is bound from the host's nodes and
 * devpts makes its own, so nothing in a zone's cgroup ever needs mknod.
 */
static const zk_device_rule rules[] = {
	{ 'c', 1, 3, ZK_DEV_RW, "null" },
	{ 'c', 1, 5, ZK_DEV_RW, "zero" },
	{ 'c', 1, 7, ZK_DEV_RW, "full" },
	{ 'c', 1, 8, ZK_DEV_RW, "random" },
	{ 'c', 1, 9, ZK_DEV_RW, "urandom" },
	{ 'c', 5, 0, ZK_DEV_RW, "tty" },
	{ 'c', 5, 2, ZK_DEV_RW, "ptmx" },
	{ 'c', 136, ZK_DEV_ANY, ZK_DEV_RW, "pts" },
};

const zk_device_rule *
zk_device_policy(size_t *n)
{
	*n = ZK_ARRAY_SIZE(rules);
	return rules;
}

static char *
fmt_number(char *buf, size_t len, int32_t v)
{
	if (v == ZK_DEV_ANY)
		snprintf(buf, len, "*");
	else
		snprintf(buf, len, "%d", (int)v);
	return buf;
}

char *
zk_device_rule_v1(const zk_device_rule *r, char buf[ZK_DEV_RULE_MAX])
{
	char major[12], minor[12];
	snprintf(buf, ZK_DEV_RULE_MAX, "%c %s:%s %s%s%s", r->type,
	    fmt_number(major, sizeof(major), r->major),
	    fmt_number(minor, sizeof(minor), r->minor),
	    r->access & ZK_DEV_READ ? "r" : "",
	    r->access & ZK_DEV_WRITE ? "w" : "",
	    r->access & ZK_DEV_MKNOD ? "m" : "");
	return buf;
}

/* ---- the program ---- */

/*
 * Registers while the rules run: the request's device type (w3), access
 * bits (w2), major (w4) and minor (w5); r1 is scratch once they are read.
 */
enum { R_ACCESS = 2, R_TYPE = 3, R_MAJOR = 4, R_MINOR = 5, R_SCRATCH = 1 };

typedef struct prog {
	struct bpf_insn *insns;
	size_t n, max;
	bool full;
} prog;

/* Jump offsets are filled in once the target is known (emit_rule). */
static size_t
emit(prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
    int32_t imm)
{
	if (p->n == p->max) {
		p->full = true;
		return p->n;
	}
	p->insns[p->n] = (struct bpf_insn){ .code = code, .dst_reg = dst,
	    .src_reg = src, .off = off, .imm = imm };
	return p->n++;
}

static void
emit_load(prog *p, uint8_t dst, size_t field)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, dst, 1, (int16_t)field, 0);
}

static void
emit_prologue(prog *p)
{
	emit_load(p, R_ACCESS, offsetof(struct bpf_cgroup_dev_ctx,
	    access_type));
	/* access_type is (access << 16) | type */
	emit(p, BPF_ALU | BPF_MOV | BPF_X, R_TYPE, R_ACCESS, 0, 0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
	emit(p, BPF_ALU | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
	emit_load(p, R_MAJOR, offsetof(struct bpf_cgroup_dev_ctx, major));
	emit_load(p, R_MINOR, offsetof(struct bpf_cgroup_dev_ctx, minor));
}

static void
emit_return(prog *p, int32_t verdict)
{
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, verdict);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static size_t
emit_jne(prog *p, uint8_t reg, int32_t imm)
{
	return emit(p, BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, imm);
}

/* A jump at `at` to the instruction about to be emitted. */
static void
land_here(prog *p, size_t at)
{
	if (!p->full)
		p->insns[at].off = (int16_t)(p->n - at - 1);
}

/* Asks for an access bit outside `granted`: jump (offset filled later). */
static size_t
emit_access_test(prog *p, unsigned granted)
{
	emit(p, BPF_ALU | BPF_MOV | BPF_X, R_SCRATCH, R_ACCESS, 0, 0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, R_SCRATCH, 0, 0, (int32_t)~granted);
	return emit_jne(p, R_SCRATCH, 0);
}

/*
 * One rule: every test that fails jumps past the rule's "allow".  The
 * access is tested only where the rule grants less than all rules
 * together (`all`): a request for more has been denied already.
 */
static int
emit_rule(prog *p, const zk_device_rule *r, unsigned all)
{
	size_t skip[4], nskip = 0;
	int32_t type = r->type == 'c' ? BPF_DEVCG_DEV_CHAR :
	    r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : 0;
	if ((type == 0 && r->type != 'a') || r->major < ZK_DEV_ANY ||
	    r->minor < ZK_DEV_ANY)
		return -EINVAL;
	if (type != 0)
		skip[nskip++] = emit_jne(p, R_TYPE, type);
	if (r->major != ZK_DEV_ANY)
		skip[nskip++] = emit_jne(p, R_MAJOR, r->major);
	if (r->minor != ZK_DEV_ANY)
		skip[nskip++] = emit_jne(p, R_MINOR, r->minor);
	if ((all & ~r->access) != 0)
		skip[nskip++] = emit_access_test(p, r->access);
	emit_return(p, 1);
	for (size_t i = 0; i < nskip; i++)
		land_here(p, skip[i]);
	return 0;
}

int
zk_device_prog_build(const zk_device_rule *list, size_t nrules,
    struct bpf_insn *insns, size_t max, size_t *n)
{
	prog p = { .insns = insns, .max = max };
	unsigned all = 0;
	for (size_t i = 0; i < nrules; i++)
		all |= list[i].access & ZK_DEV_RWM;
	emit_prologue(&p);
	/* Access no rule grants (mknod, for the zone) is denied up front,
	 * once, instead of in every rule. */
	size_t deny = all != ZK_DEV_RWM ? emit_access_test(&p, all) : SIZE_MAX;
	for (size_t i = 0; i < nrules; i++) {
		int r = emit_rule(&p, &list[i], all);
		if (r < 0)
			return r;
	}
	if (deny != SIZE_MAX)
		land_here(&p, deny);
	emit_return(&p, 0);
	if (p.full)
		return -E2BIG;
	*n = p.n;
	return 0;
}

/* ---- loading and attaching ---- */

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int
load_prog(const char *dir, zk_error *err)
{
	struct bpf_insn insns[ZK_DEV_PROG_MAX];
	size_t n;
	int r = zk_device_prog_build(rules, ZK_ARRAY_SIZE(rules), insns,
	    ZK_ARRAY_SIZE(insns), &n);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot build the device program "
		    "for cgroup %s", dir);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	/* No helper is called, so no GPL-only one either. */
	a.license = (uintptr_t)"MPL-2.0";
	snprintf(a.prog_name, sizeof(a.prog_name), "zk_devices");
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot load the device program "
		    "for cgroup %s", dir);
	return fd;
}

int
zk_device_prog_attach(int dir_fd, const char *dir, zk_error *err)
{
	_cleanup_close_ int prog_fd = load_prog(dir, err);
	if (prog_fd < 0)
		return prog_fd;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)dir_fd;
	a.attach_bpf_fd = (uint32_t)prog_fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = 0;	/* device_policy.h: replaceable, exclusive */
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0) {
		int e = errno;
		return zk_fail(err, e, "cannot attach the device program to "
		    "cgroup %s: %s%s", dir, strerror(e), e != EPERM ? "" :
		    " (an ancestor's device program forbids one below it, or "
		    "one is attached there with other flags)");
	}
	return 0;
}
