/*
 * The device allowlist in both its forms.  The v1 lines are compared as
 * text; the cgroup device program is run by a small interpreter of the
 * instructions the builder may emit, over many (type, major, minor,
 * access) requests, and must answer exactly what the table says.  The
 * interpreter refuses what the kernel's verifier would (unknown opcodes,
 * jumps out of the program or backwards, registers read before written,
 * context reads other than the three u32 fields), so a program that
 * passes here is also well formed.  As root, the kernel checks it too
 * (the verifier; a create on a real cgroup2 mount, where there is one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/device_policy.h"

/* ---- a cgroup device program interpreter ---- */

#define R_CTX	1
#define STEPS	1000

typedef struct request {
	char type;		/* 'c' or 'b' */
	uint32_t major, minor;
	unsigned access;	/* ZK_DEV_* */
} request;

typedef struct machine {
	uint64_t reg[11];
	bool set[11];
	bool ctx[11];		/* holds the context pointer */
	struct bpf_cgroup_dev_ctx c;
} machine;

static uint64_t
get(const machine *m, unsigned r)
{
	assert_true(r < 11);
	assert_true(m->set[r]);
	assert_false(m->ctx[r]);	/* no arithmetic on the pointer */
	return m->reg[r];
}

static void
put(machine *m, unsigned r, uint64_t v)
{
	assert_true(r < 10);		/* r10, the frame pointer, is read-only */
	m->reg[r] = v;
	m->set[r] = true;
	m->ctx[r] = false;
}

static uint32_t
load_ctx(const machine *m, const struct bpf_insn *i)
{
	assert_true(m->ctx[i->src_reg]);
	switch (i->off) {
	case offsetof(struct bpf_cgroup_dev_ctx, access_type):
		return m->c.access_type;
	case offsetof(struct bpf_cgroup_dev_ctx, major):
		return m->c.major;
	case offsetof(struct bpf_cgroup_dev_ctx, minor):
		return m->c.minor;
	}
	fail_msg("context read at offset %d", i->off);
	return 0;
}

static uint32_t
alu32(uint8_t op, uint32_t dst, uint32_t src)
{
	switch (op) {
	case BPF_MOV:
		return src;
	case BPF_AND:
		return dst & src;
	case BPF_RSH:
		assert_true(src < 32);
		return dst >> src;
	}
	fail_msg("ALU op 0x%x", op);
	return 0;
}

/* One instruction; returns the index of the next, or -1 on exit. */
static long
step(machine *m, const struct bpf_insn *p, size_t n, size_t pc)
{
	const struct bpf_insn *i = &p[pc];
	uint8_t cls = BPF_CLASS(i->code);
	bool imm = BPF_SRC(i->code) == BPF_K;
	if (i->code == (BPF_LDX | BPF_MEM | BPF_W)) {
		put(m, i->dst_reg, load_ctx(m, i));
	} else if (cls == BPF_ALU) {
		uint32_t src = imm ? (uint32_t)i->imm : (uint32_t)get(m,
		    i->src_reg);
		uint32_t dst = BPF_OP(i->code) == BPF_MOV ? 0 :
		    (uint32_t)get(m, i->dst_reg);
		put(m, i->dst_reg, alu32(BPF_OP(i->code), dst, src));
	} else if (i->code == (BPF_ALU64 | BPF_MOV | BPF_K)) {
		put(m, i->dst_reg, (uint64_t)(int64_t)i->imm);
	} else if (i->code == (BPF_JMP | BPF_JNE | BPF_K)) {
		assert_true(i->off >= 0);	/* forward only: no loops */
		assert_true(pc + 1 + (size_t)i->off < n);
		if (get(m, i->dst_reg) != (uint64_t)(int64_t)i->imm)
			return (long)(pc + 1 + (size_t)i->off);
	} else if (i->code == (BPF_JMP | BPF_EXIT)) {
		return -1;
	} else {
		fail_msg("opcode 0x%x at %zu", i->code, pc);
	}
	assert_true(pc + 1 < n);		/* never falls off the end */
	return (long)(pc + 1);
}

static uint64_t
run(const struct bpf_insn *p, size_t n, const request *q)
{
	machine m = { 0 };
	m.set[R_CTX] = m.ctx[R_CTX] = true;
	m.c.access_type = (q->access << 16) | (q->type == 'c' ?
	    BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
	m.c.major = q->major;
	m.c.minor = q->minor;
	long pc = 0;
	for (int steps = 0; pc >= 0; steps++) {
		assert_true(steps < STEPS);
		pc = step(&m, p, n, (size_t)pc);
	}
	return get(&m, 0);
}

/* ---- a table read directly, as the reference ---- */

static bool
rule_matches(const zk_device_rule *r, const request *q)
{
	return (r->type == 'a' || r->type == q->type) &&
	    (r->major == ZK_DEV_ANY || (uint32_t)r->major == q->major) &&
	    (r->minor == ZK_DEV_ANY || (uint32_t)r->minor == q->minor) &&
	    (q->access & ~r->access) == 0;
}

static bool
table_allows(const zk_device_rule *rules, size_t n, const request *q)
{
	for (size_t i = 0; i < n; i++)
		if (rule_matches(&rules[i], q))
			return true;
	return false;
}

static size_t
build(const zk_device_rule *rules, size_t nrules, struct bpf_insn *p)
{
	size_t n = 0;
	assert_int_equal(zk_device_prog_build(rules, nrules, p,
	    ZK_DEV_PROG_MAX, &n), 0);
	assert_true(n > 0 && n <= ZK_DEV_PROG_MAX);
	return n;
}

static bool
prog_allows(char type, uint32_t major, uint32_t minor, unsigned access)
{
	struct bpf_insn p[ZK_DEV_PROG_MAX];
	size_t nrules;
	const zk_device_rule *rules = zk_device_policy(&nrules);
	size_t n = build(rules, nrules, p);
	request q = { type, major, minor, access };
	uint64_t v = run(p, n, &q);
	assert_true(v == 0 || v == 1);
	return v == 1;
}

/* Every type, many majors and minors, every access combination: the
 * program says what the table says.  Returns how many were allowed. */
static size_t
check_against_table(const zk_device_rule *rules, size_t nrules)
{
	struct bpf_insn p[ZK_DEV_PROG_MAX];
	size_t n = build(rules, nrules, p);
	static const uint32_t minors[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 200,
	    237, 255, 256, 299, 4095, (1u << 20) - 1, UINT32_MAX };
	static const char types[] = { 'c', 'b' };
	size_t allowed = 0;
	for (size_t t = 0; t < sizeof(types); t++)
		for (uint32_t major = 0; major < 300; major++)
			for (size_t i = 0; i < sizeof(minors) / sizeof(*minors);
			    i++)
				for (unsigned acc = 1; acc <= ZK_DEV_RWM; acc++) {
					request q = { types[t], major, minors[i],
					    acc };
					bool want = table_allows(rules, nrules, &q);
					assert_int_equal(run(p, n, &q), want);
					allowed += want;
				}
	return allowed;
}

/* ---- tests ---- */

static void
test_v1_lines(void **state)
{
	static const char *const want[] = {
		"c 1:3 rw", "c 1:5 rw", "c 1:7 rw", "c 1:8 rw", "c 1:9 rw",
		"c 5:0 rw", "c 5:2 rw", "c 136:* rw",
	};
	size_t n;
	const zk_device_rule *rules = zk_device_policy(&n);
	assert_int_equal(n, sizeof(want) / sizeof(*want));
	for (size_t i = 0; i < n; i++) {
		char buf[ZK_DEV_RULE_MAX];
		assert_string_equal(zk_device_rule_v1(&rules[i], buf), want[i]);
	}
	/* the other forms the v1 syntax has */
	zk_device_rule all = { 'a', ZK_DEV_ANY, ZK_DEV_ANY, ZK_DEV_READ, "" };
	zk_device_rule disk = { 'b', 8, 0, ZK_DEV_READ | ZK_DEV_WRITE, "" };
	char buf[ZK_DEV_RULE_MAX];
	assert_string_equal(zk_device_rule_v1(&all, buf), "a *:* r");
	assert_string_equal(zk_device_rule_v1(&disk, buf), "b 8:0 rw");
}

static void
test_prog_known_answers(void **state)
{
	const unsigned rw = ZK_DEV_READ | ZK_DEV_WRITE;
	assert_true(prog_allows('c', 1, 3, rw));		/* null */
	assert_true(prog_allows('c', 1, 9, ZK_DEV_READ));	/* urandom */
	assert_false(prog_allows('c', 1, 5, ZK_DEV_MKNOD));	/* no mknod */
	assert_false(prog_allows('c', 1, 3, ZK_DEV_RWM));
	assert_true(prog_allows('c', 5, 0, rw));		/* tty */
	assert_true(prog_allows('c', 5, 2, rw));		/* ptmx */
	assert_true(prog_allows('c', 136, 0, rw));		/* pts */
	assert_true(prog_allows('c', 136, 299, rw));		/* 20-bit minors */
	assert_true(prog_allows('c', 136, (1u << 20) - 1, rw));
	assert_false(prog_allows('c', 137, 0, rw));		/* old pts range */
	assert_false(prog_allows('b', 1, 3, rw));		/* type counts */
	assert_false(prog_allows('b', 8, 0, ZK_DEV_READ));	/* a disk */
	assert_false(prog_allows('b', 8, 0, ZK_DEV_MKNOD));
	assert_false(prog_allows('c', 5, 1, rw));		/* host console */
	assert_false(prog_allows('c', 1, 1, ZK_DEV_READ));	/* mem */
	assert_false(prog_allows('c', 1, 11, ZK_DEV_WRITE));	/* kmsg */
	assert_false(prog_allows('c', 10, 200, rw));		/* net/tun */
	assert_false(prog_allows('c', 10, 237, rw));		/* loop-control */
	assert_false(prog_allows('c', 4, 0, rw));		/* tty0 */
	assert_false(prog_allows('c', 0, 0, ZK_DEV_READ));
	/* the immediates are sign-extended: a huge major is no small one */
	assert_false(prog_allows('c', 1 + (1u << 31), 3, rw));
	assert_false(prog_allows('c', UINT32_MAX, 3, rw));
}

static void
test_prog_matches_the_zone_table(void **state)
{
	size_t n;
	const zk_device_rule *rules = zk_device_policy(&n);
	size_t allowed = check_against_table(rules, n);
	/* 7 single devices and 18 pts minors: r, w, rw each */
	assert_int_equal(allowed, (7 + 18) * 3);
}

/* What the zone's table does not use: both types, wildcard majors, rules
 * granting different access, an empty table. */
static void
test_prog_matches_other_tables(void **state)
{
	static const zk_device_rule mixed[] = {
		{ 'b', 7, ZK_DEV_ANY, ZK_DEV_READ, "loop, read only" },
		{ 'a', ZK_DEV_ANY, 3, ZK_DEV_MKNOD, "any x:3, mknod only" },
		{ 'c', 10, 200, ZK_DEV_READ | ZK_DEV_WRITE, "tun" },
		{ 'c', 1, 3, ZK_DEV_WRITE, "null, write only" },
	};
	static const zk_device_rule everything[] = {
		{ 'a', ZK_DEV_ANY, ZK_DEV_ANY, ZK_DEV_RWM, "all" },
	};
	/* rules granting less than the others: tested up front and per rule */
	static const zk_device_rule partial[] = {
		{ 'c', 1, 3, ZK_DEV_WRITE, "null, write only" },
		{ 'c', 1, 5, ZK_DEV_RW, "zero" },
		{ 'b', 7, ZK_DEV_ANY, ZK_DEV_READ, "loop, read only" },
	};
	assert_true(check_against_table(mixed, 4) > 0);
	/* null: w; zero: r, w, rw; loop: r for each of the 18 minors */
	assert_int_equal(check_against_table(partial, 3), 1 + 3 + 18);
	assert_int_equal(check_against_table(everything, 1),
	    2 * 300 * 18 * 7);
	assert_int_equal(check_against_table(NULL, 0), 0);
}

static void
test_prog_rejects_bad_entries(void **state)
{
	struct bpf_insn p[ZK_DEV_PROG_MAX];
	size_t n = 0;
	zk_device_rule bad_type = { 'x', 1, 3, ZK_DEV_RWM, "" };
	zk_device_rule bad_major = { 'c', -2, 3, ZK_DEV_RWM, "" };
	assert_int_equal(zk_device_prog_build(&bad_type, 1, p, ZK_DEV_PROG_MAX,
	    &n), -EINVAL);
	assert_int_equal(zk_device_prog_build(&bad_major, 1, p,
	    ZK_DEV_PROG_MAX, &n), -EINVAL);
}

static void
test_prog_too_small(void **state)
{
	struct bpf_insn p[8];
	size_t n = 0, nrules;
	const zk_device_rule *rules = zk_device_policy(&nrules);
	assert_int_equal(zk_device_prog_build(rules, nrules, p, 8, &n), -E2BIG);
	assert_int_equal(n, 0);
}

/*
 * With privileges, the kernel's verifier has the last word: the program
 * loads, and only the attach (to a directory that is no cgroup) fails.
 */
static void
test_prog_passes_the_verifier(void **state)
{
	if (geteuid() != 0)
		skip();
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	zk_error err = { 0 };
	int r = zk_device_prog_attach(fd, "/", &err);
	close(fd);
	if (r == -EPERM && strstr(err.msg, "cannot load") != NULL)
		skip();		/* a sandbox without BPF */
	assert_true(r < 0);
	assert_non_null(strstr(err.msg, "cannot attach the device program to "
	    "cgroup /"));
}

/*
 * The one test here that needs a kernel: a hybrid host's cgroup2 mount
 * (unified/, offering no controllers, so creating a v2 handle there
 * enables nothing) used as a v2 root.  Creating the cgroup attaches the
 * program; creating it again, as a boot over a leftover cgroup does,
 * replaces it instead of stacking a second.  Skipped without root or
 * without such a mount: a pure v2 host's root is not a test's to touch.
 */
#define UNIFIED "/sys/fs/cgroup/unified"

static int
query_device_progs(const char *dir, uint32_t *flags, uint32_t *id)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)id;
	a.query.prog_cnt = 1;
	int r = (int)syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a));
	close(fd);
	assert_int_equal(r, 0);
	*flags = a.query.attach_flags;
	return (int)a.query.prog_cnt;
}

static int
unified_setup(void **state)
{
	static char parent[64];
	snprintf(parent, sizeof(parent), "zk-unit-%d", (int)getpid());
	*state = parent;
	return 0;
}

static int
unified_teardown(void **state)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s/z", UNIFIED, (char *)*state);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/%s", UNIFIED, (char *)*state);
	rmdir(dir);
	return 0;
}

static void
test_real_cgroup2_create_twice(void **state)
{
	struct statfs sfs;
	if (geteuid() != 0 || statfs(UNIFIED, &sfs) < 0 ||
	    sfs.f_type != CGROUP2_SUPER_MAGIC)
		skip();
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	char dir[PATH_MAX];
	uint32_t flags = 1, first = 0, second = 0;
	assert_int_equal(zk_cgroup_open(UNIFIED, *state, "z", &cg, &err), 0);
	assert_int_equal(zk_cgroup_get_mode(cg), ZK_CGROUP_V2);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_int_equal(zk_cgroup_device_program(cg, NULL),
	    ZK_CG_DEVPROG_ATTACHED);
	zk_cgroup_dir(cg, NULL, dir);
	assert_int_equal(query_device_progs(dir, &flags, &first), 1);
	assert_int_equal(flags, 0);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_int_equal(query_device_progs(dir, &flags, &second), 1);
	assert_int_not_equal(first, second);
	assert_int_equal(zk_cgroup_destroy(cg, &err), 0);
	zk_cgroup_free(cg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_lines),
		cmocka_unit_test(test_prog_known_answers),
		cmocka_unit_test(test_prog_matches_the_zone_table),
		cmocka_unit_test(test_prog_matches_other_tables),
		cmocka_unit_test(test_prog_rejects_bad_entries),
		cmocka_unit_test(test_prog_too_small),
		cmocka_unit_test(test_prog_passes_the_verifier),
		cmocka_unit_test_setup_teardown(test_real_cgroup2_create_twice,
		    unified_setup, unified_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
