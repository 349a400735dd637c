/*
 * The zone's seccomp filter: the array generated at build time must be
 * exactly what libseccomp builds from the rule list now (so a rule change
 * that somehow bypasses the generator fails here), and the loader must get
 * it into the kernel both through seccomp(2) and, where that is missing as
 * under valgrind, through prctl.  Children set no_new_privs, so no root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privileges.h"
#include "zk_config.h"
#include "zone_filter.h"
#if ZK_SECCOMP_PREBUILT
#include "zone_filter_bpf.h"
#endif

static void
test_generated_filter_is_the_rule_list(void **state)
{
	(void)state;
#if ZK_SECCOMP_PREBUILT
	struct sock_filter *prog = NULL;
	size_t len = 0;
	zk_error err = { 0 };
	assert_int_equal(zk_zone_filter_bpf(&prog, &len, &err), 0);
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

static bool
denied(long r, int want)
{
	return r == -1 && errno == want;
}

/* In a child: load the filter, then try what it must deny and allow. */
static int
load_and_probe(bool without_seccomp_syscall)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 10;
	if (without_seccomp_syscall && hide_seccomp_syscall() < 0)
		return 11;
	zk_error err = { 0 };
	if (zk_privileges_load_filter(&err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 12;
	}
	if (!denied(syscall(SYS_personality, 0x0040000UL), EPERM))
		return 13;	/* ADDR_NO_RANDOMIZE */
	if (syscall(SYS_personality, 0xffffffffUL) < 0)
		return 14;	/* the query stays allowed */
	if (!denied(unshare(CLONE_NEWUSER), EPERM))
		return 15;
	if (!denied(syscall(SYS_clone3, NULL, 0), ENOSYS))
		return 16;
	if (!denied(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM))
		return 17;
	return getppid() > 0 ? 0 : 18;
}

static void
run_child(bool without_seccomp_syscall)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(load_and_probe(without_seccomp_syscall));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_loads_with_seccomp_syscall(void **state)
{
	(void)state;
	run_child(false);
}

static void
test_loads_with_prctl_where_seccomp_syscall_is_missing(void **state)
{
	(void)state;
	run_child(true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_filter_is_the_rule_list),
		cmocka_unit_test(test_loads_with_seccomp_syscall),
		cmocka_unit_test(test_loads_with_prctl_where_seccomp_syscall_is_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
