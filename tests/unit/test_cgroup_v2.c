/*
 * The cgroup module against fake cgroup trees in a temporary directory.
 * A fake tree does not grow knob files on mkdir, so tests create the files
 * the kernel would after zk_cgroup_create, then check what the setters
 * wrote.  Mostly v2; a v1 (hybrid) tree covers hierarchy resolution,
 * devices rules and the memory/memsw write order.  The device program
 * cannot be attached to a fake tree: the tests see it requested and
 * skipped (tests/unit/test_device_policy.c checks the program itself).
 *
 * The fake tree models kernfs where the library can tell: a knob file is
 * rewritten in place (put truncates the same inode), never replaced, as a
 * handle keeps statistics files open and re-reads them from offset 0.  A
 * knob that is absent on some kernel is absent from the start, seen
 * through a fresh handle, as a cgroup's files do not come and go while it
 * exists.
 *
 * Nothing here may send a signal: fake cgroup.procs files hold made-up
 * pids, so kill_all is only exercised where cgroup.kill does the killing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "fake_tree.h"
#include "util/fsutil.h"

#define GiB (INT64_C(1) << 30)

typedef struct fixture {
	char root[PATH_MAX];
} fixture;

/* ---- fake tree helpers ---- */

static char *
at(const fixture *f, const char *rel, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s", f->root, rel);
	return buf;
}

static void
put(const fixture *f, const char *rel, const char *content)
{
	fake_put(f->root, rel, content);
}

static void
mkdirs(const fixture *f, const char *rel)
{
	fake_mkdirs(f->root, rel);
}

static void
assert_file(const fixture *f, const char *rel, const char *want)
{
	char path[PATH_MAX];
	char *got = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_read_file(at(f, rel, path), &got, NULL, &err), 0);
	assert_string_equal(got, want);
	free(got);
}

static bool
exists(const fixture *f, const char *rel)
{
	char path[PATH_MAX];
	return zk_path_exists(at(f, rel, path));
}

static void
rm(const fixture *f, const char *rel)
{
	char path[PATH_MAX];
	assert_int_equal(unlink(at(f, rel, path)), 0);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/zk-cgtest-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_rm_rf(f->root, &err);
	free(f);
	return 0;
}

/* A cgroup2 root offering the four controllers zonekit wants. */
static void
fake_v2(const fixture *f)
{
	put(f, "cgroup.controllers", "cpu io memory pids\n");
	put(f, "cgroup.subtree_control", "");
}

/* A v2 zone at zonekit/z, created, with the given knob files in it. */
static zk_cgroup *
v2_zone(const fixture *f, const char *const *knobs)
{
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	fake_v2(f);
	assert_int_equal(zk_cgroup_open(f->root, "zonekit", "z", &cg, &err), 0);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	for (; knobs != NULL && *knobs != NULL; knobs++) {
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "zonekit/z/%s", *knobs);
		put(f, rel, "");
	}
	return cg;
}

/*
 * A hybrid v1 host: memory, cpu (with cpuacct as a symlink, like the
 * co-mounted cpu,cpuacct), pids, freezer, devices, and a cgroup2 mount at
 * unified/.
 */
/* A v1 hierarchy mounted at <root>/<name>. */
static void
fake_hierarchy(const fixture *f, const char *name)
{
	char path[PATH_MAX];
	mkdirs(f, name);
	snprintf(path, sizeof(path), "%s/cgroup.procs", name);
	put(f, path, "");
}

static void
fake_v1(const fixture *f)
{
	static const char *const hier[] = { "memory", "cpu", "pids", "freezer",
	    "devices" };
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof(hier) / sizeof(hier[0]); i++)
		fake_hierarchy(f, hier[i]);
	put(f, "memory/memory.limit_in_bytes", "9223372036854771712\n");
	assert_int_equal(symlink("cpu", at(f, "cpuacct", path)), 0);
	mkdirs(f, "unified");
	put(f, "unified/cgroup.controllers", "hugetlb\n");
}

static zk_cgroup *
v1_open(const fixture *f)
{
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_cgroup_open(f->root, "zonekit", "z", &cg, &err), 0);
	assert_int_equal(zk_cgroup_get_mode(cg), ZK_CGROUP_V1);
	return cg;
}

/* ---- detection and handles ---- */

static void
test_detect_v2(void **state)
{
	fixture *f = *state;
	zk_cgroup_mode mode = ZK_CGROUP_V1;
	zk_error err = { 0 };
	fake_v2(f);
	assert_int_equal(zk_cgroup_detect(f->root, &mode, &err), 0);
	assert_int_equal(mode, ZK_CGROUP_V2);
}

static void
test_detect_v1(void **state)
{
	fixture *f = *state;
	zk_cgroup_mode mode = ZK_CGROUP_V2;
	zk_error err = { 0 };
	fake_v1(f);
	put(f, "memory/memory.usage_in_bytes", "0\n");
	put(f, "cpu/cpu.shares", "1024\n");
	assert_int_equal(zk_cgroup_detect(f->root, &mode, &err), 0);
	assert_int_equal(mode, ZK_CGROUP_V1);
}

static void
test_detect_nothing(void **state)
{
	fixture *f = *state;
	zk_cgroup_mode mode;
	zk_error err = { 0 };
	mkdirs(f, "memory");	/* a directory, but no cgroup in it */
	assert_int_equal(zk_cgroup_detect(f->root, &mode, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, f->root));
}

static void
test_open_validates_names(void **state)
{
	fixture *f = *state;
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	char buf[PATH_MAX], want[PATH_MAX];
	fake_v2(f);
	assert_int_equal(zk_cgroup_open(f->root, "zonekit", "..", &cg, &err),
	    -EINVAL);
	assert_int_equal(zk_cgroup_open(f->root, "zonekit", "a/b", &cg, &err),
	    -EINVAL);
	assert_int_equal(zk_cgroup_open(f->root, "a/../b", "z", &cg, &err),
	    -EINVAL);
	assert_int_equal(zk_cgroup_open(f->root, "a//b", "z", &cg, &err),
	    -EINVAL);
	assert_null(cg);
	assert_int_equal(zk_cgroup_open(f->root, "/zonekit/", "z", &cg, &err),
	    0);
	assert_string_equal(zk_cgroup_dir(cg, "memory", buf),
	    at(f, "zonekit/z", want));
	zk_cgroup_free(cg);
}

/* ---- v2 create ---- */

static void
test_v2_create_enables_each_ancestor(void **state)
{
	fixture *f = *state;
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	fake_v2(f);
	mkdirs(f, "a/b");
	put(f, "a/cgroup.controllers", "cpu io memory pids\n");
	put(f, "a/cgroup.subtree_control", "memory\n");	/* half done */
	put(f, "a/b/cgroup.controllers", "cpu memory pids\n");	/* no io */
	put(f, "a/b/cgroup.subtree_control", "");
	assert_int_equal(zk_cgroup_open(f->root, "a/b", "z", &cg, &err), 0);
	assert_int_equal(zk_cgroup_get_mode(cg), ZK_CGROUP_V2);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_file(f, "cgroup.subtree_control", "+memory +cpu +pids +io");
	assert_file(f, "a/cgroup.subtree_control", "+cpu +pids +io");
	assert_file(f, "a/b/cgroup.subtree_control", "+memory +cpu +pids");
	assert_true(exists(f, "a/b/z"));
	assert_false(exists(f, "a/b/z/cgroup.subtree_control"));
	/* Again, as on adoption: nothing left to enable, nothing fails. */
	put(f, "cgroup.subtree_control", "cpu io memory pids\n");
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_file(f, "cgroup.subtree_control", "cpu io memory pids\n");
	zk_cgroup_free(cg);
}

static void
test_v2_create_makes_parent(void **state)
{
	fixture *f = *state;
	zk_cgroup *cg = v2_zone(f, NULL);
	assert_true(exists(f, "zonekit/z"));
	assert_file(f, "cgroup.subtree_control", "+memory +cpu +pids +io");
	zk_cgroup_free(cg);
}

static void
test_v2_create_rolls_back_new_parent(void **state)
{
	fixture *f = *state;
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	fake_v2(f);
	/* A directory where the file should be: the write must fail. */
	rm(f, "cgroup.subtree_control");
	mkdirs(f, "cgroup.subtree_control");
	assert_int_equal(zk_cgroup_open(f->root, "zonekit", "z", &cg, &err), 0);
	assert_int_not_equal(zk_cgroup_create(cg, &err), 0);
	assert_non_null(strstr(err.msg, "cgroup.subtree_control"));
	assert_false(exists(f, "zonekit"));
	zk_cgroup_free(cg);
}

static void
test_v2_create_keeps_existing_parent(void **state)
{
	fixture *f = *state;
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	fake_v2(f);
	mkdirs(f, "zonekit/cgroup.subtree_control");
	put(f, "zonekit/cgroup.controllers", "memory\n");
	assert_int_equal(zk_cgroup_open(f->root, "zonekit", "z", &cg, &err), 0);
	assert_int_not_equal(zk_cgroup_create(cg, &err), 0);
	assert_true(exists(f, "zonekit"));
	assert_false(exists(f, "zonekit/z"));
	zk_cgroup_free(cg);
}

/* The device program is requested for the zone's directory; a fake tree
 * is no cgroup2 file system, so it is skipped, saying so. */
static void
test_v2_device_program_requested(void **state)
{
	fixture *f = *state;
	zk_cgroup *cg = NULL;
	zk_error err = { 0 };
	const char *why = NULL;
	fake_v2(f);
	assert_int_equal(zk_cgroup_open(f->root, "zonekit", "z", &cg, &err), 0);
	assert_int_equal(zk_cgroup_device_program(cg, &why), ZK_CG_DEVPROG_NONE);
	assert_string_equal(why, "");
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_int_equal(zk_cgroup_device_program(cg, &why),
	    ZK_CG_DEVPROG_SKIPPED);
	assert_non_null(strstr(why, "/zonekit/z is not on a cgroup2 file "
	    "system"));
	zk_cgroup_free(cg);
}

/* ---- v2 controls ---- */

static const char *const v2_knobs[] = { "memory.max", "memory.swap.max",
    "cpu.max", "cpu.weight", "pids.max", "cgroup.procs", NULL };

static void
test_v2_memory(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup *cg = v2_zone(f, v2_knobs);
	assert_int_equal(zk_cgroup_set_memory(cg, 1 * GiB, 3 * GiB, &err), 0);
	assert_file(f, "zonekit/z/memory.max", "1073741824");
	assert_file(f, "zonekit/z/memory.swap.max", "2147483648");
	assert_int_equal(zk_cgroup_set_memory(cg, 1 * GiB, 1 * GiB, &err), 0);
	assert_file(f, "zonekit/z/memory.swap.max", "0");
	assert_int_equal(zk_cgroup_set_memory(cg, 1 * GiB, ZK_CG_UNLIMITED,
	    &err), 0);
	assert_file(f, "zonekit/z/memory.max", "1073741824");
	assert_file(f, "zonekit/z/memory.swap.max", "max");
	assert_int_equal(zk_cgroup_set_memory(cg, ZK_CG_UNLIMITED,
	    ZK_CG_UNLIMITED, &err), 0);
	assert_file(f, "zonekit/z/memory.max", "max");
	assert_file(f, "zonekit/z/memory.swap.max", "max");
	zk_cgroup_free(cg);
}

static void
test_v2_memory_rejects_bad_caps(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup *cg = v2_zone(f, v2_knobs);
	put(f, "zonekit/z/memory.max", "untouched");
	assert_int_equal(zk_cgroup_set_memory(cg, 2 * GiB, 1 * GiB, &err),
	    -EINVAL);
	assert_int_equal(zk_cgroup_set_memory(cg, ZK_CG_UNLIMITED, 1 * GiB,
	    &err), -EINVAL);
	assert_int_equal(zk_cgroup_set_memory(cg, -1, ZK_CG_UNLIMITED, &err),
	    -EINVAL);
	assert_file(f, "zonekit/z/memory.max", "untouched");
	zk_cgroup_free(cg);
}

static void
test_v2_memory_without_swap_accounting(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	static const char *const knobs[] = { "memory.max", NULL };
	zk_cgroup *cg = v2_zone(f, knobs);
	assert_int_equal(zk_cgroup_set_memory(cg, 1 * GiB, 2 * GiB, &err), 0);
	assert_file(f, "zonekit/z/memory.max", "1073741824");
	assert_false(exists(f, "zonekit/z/memory.swap.max"));
	zk_cgroup_free(cg);
}

static void
test_v2_cpu(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup *cg = v2_zone(f, v2_knobs);
	assert_int_equal(zk_cgroup_set_cpu_cap(cg, 150, &err), 0);
	assert_file(f, "zonekit/z/cpu.max", "150000 100000");
	assert_int_equal(zk_cgroup_set_cpu_cap(cg, 0, &err), 0);
	assert_file(f, "zonekit/z/cpu.max", "max 100000");
	assert_int_equal(zk_cgroup_set_cpu_cap(cg, UINT64_MAX, &err), -ERANGE);
	assert_int_equal(zk_cgroup_set_cpu_shares(cg, 100, &err), 0);
	assert_file(f, "zonekit/z/cpu.weight", "100");
	assert_int_equal(zk_cgroup_set_cpu_shares(cg, 0, &err), 0);
	assert_file(f, "zonekit/z/cpu.weight", "1");
	assert_int_equal(zk_cgroup_set_cpu_shares(cg, 65535, &err), 0);
	assert_file(f, "zonekit/z/cpu.weight", "10000");
	zk_cgroup_free(cg);
}

static void
test_v2_pids_and_attach(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup *cg = v2_zone(f, v2_knobs);
	assert_int_equal(zk_cgroup_set_pids_max(cg, 2000, &err), 0);
	assert_file(f, "zonekit/z/pids.max", "2000");
	assert_int_equal(zk_cgroup_set_pids_max(cg, ZK_CG_UNLIMITED, &err), 0);
	assert_file(f, "zonekit/z/pids.max", "max");
	assert_int_equal(zk_cgroup_set_pids_max(cg, -2, &err), -EINVAL);
	assert_int_equal(zk_cgroup_attach(cg, 4321, &err), 0);
	assert_file(f, "zonekit/z/cgroup.procs", "4321");
	assert_int_equal(zk_cgroup_attach(cg, 0, &err), -EINVAL);
	zk_cgroup_free(cg);
}

/* A process being created joins by itself: born in the directory, no
 * write needed; without CLONE_INTO_CGROUP it writes 0 itself. */
static void
test_v2_join_self(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup_procs procs;
	zk_cgroup *cg = v2_zone(f, NULL);
	put(f, "zonekit/z/cgroup.procs", "");
	assert_int_equal(zk_cgroup_procs_open(cg, &procs, ZK_CG_JOIN_SELF,
	    &err), 0);
	assert_true(procs.dir_fd >= 0);
	struct stat a, b;
	char dir[PATH_MAX];
	assert_int_equal(fstat(procs.dir_fd, &a), 0);
	assert_int_equal(stat(zk_cgroup_dir(cg, NULL, dir), &b), 0);
	assert_true(a.st_ino == b.st_ino && S_ISDIR(a.st_mode));
	procs.born_inside = true;
	assert_int_equal(zk_cgroup_procs_join(&procs, 0, &err), 0);
	assert_file(f, "zonekit/z/cgroup.procs", "");
	procs.born_inside = false;
	assert_int_equal(zk_cgroup_procs_join(&procs, 0, &err), 0);
	assert_file(f, "zonekit/z/cgroup.procs", "0");
	/* tasks-style files move only the caller: another pid is refused */
	assert_int_equal(zk_cgroup_procs_join(&procs, 4321, &err), -EINVAL);
	zk_cgroup_procs_close(&procs);
	assert_int_equal(procs.dir_fd, -1);
	zk_cgroup_free(cg);
}

/* Writes never create files: a knob the kernel lacks is an error. */
static void
test_v2_missing_knob_is_not_created(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup *cg = v2_zone(f, NULL);
	assert_int_equal(zk_cgroup_set_pids_max(cg, 10, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "pids.max"));
	assert_false(exists(f, "zonekit/z/pids.max"));
	zk_cgroup_free(cg);
}

static void
test_v2_memory_stat(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup_memstat st;
	zk_cgroup *cg = v2_zone(f, NULL);
	put(f, "zonekit/z/memory.current", "1048576\n");
	put(f, "zonekit/z/memory.swap.current", "4096\n");
	put(f, "zonekit/z/memory.max", "max\n");
	put(f, "zonekit/z/memory.events",
	    "low 0\nhigh 3\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n");
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.rss, 1048576);
	assert_int_equal(st.swap, 4096);
	assert_true(st.limit == UINT64_MAX);
	assert_int_equal(st.failcnt, 7);
	assert_int_equal(st.oom_kill, 1);
	/* A host without swap accounting, an older kernel without oom_kill:
	 * seen by a new handle, as zoneadmd there would. */
	zk_cgroup_free(cg);
	rm(f, "zonekit/z/memory.swap.current");
	put(f, "zonekit/z/memory.max", "2147483648\n");
	put(f, "zonekit/z/memory.events", "low 0\nhigh 0\nmax 0\noom 0\n");
	assert_int_equal(zk_cgroup_open(f->root, "zonekit", "z", &cg, &err), 0);
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.swap, 0);
	assert_int_equal(st.limit, 2147483648);
	assert_int_equal(st.oom_kill, 0);
	zk_cgroup_free(cg);
}

static void
test_v2_freeze(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup *cg = v2_zone(f, NULL);
	assert_int_equal(zk_cgroup_freeze(cg, true, &err), -EOPNOTSUPP);
	put(f, "zonekit/z/cgroup.freeze", "0\n");
	put(f, "zonekit/z/cgroup.events", "populated 1\nfrozen 1\n");
	assert_int_equal(zk_cgroup_freeze(cg, true, &err), 0);
	assert_file(f, "zonekit/z/cgroup.freeze", "1");
	assert_int_equal(zk_cgroup_freeze(cg, false, &err), 0);
	assert_file(f, "zonekit/z/cgroup.freeze", "0");
	zk_cgroup_free(cg);
}

/* Children's processes count: kill_all and destroy must see them. */
static void
test_v2_pids_include_children(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	pid_t *pids = NULL;
	size_t n = 0;
	zk_cgroup *cg = v2_zone(f, NULL);
	put(f, "zonekit/z/cgroup.procs", "");
	assert_true(zk_cgroup_is_empty(cg));
	put(f, "zonekit/z/cgroup.procs", "12\n34\n");
	mkdirs(f, "zonekit/z/sub");
	put(f, "zonekit/z/sub/cgroup.procs", "56\n");
	assert_int_equal(zk_cgroup_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pids[0] + pids[1] + pids[2], 12 + 34 + 56);
	assert_false(zk_cgroup_is_empty(cg));
	free(pids);
	zk_cgroup_free(cg);
}

/* cgroup.kill does the killing; the made-up pid never leaves, so the wait
 * times out, and no signal is sent to a real process. */
static void
test_v2_kill_all_uses_cgroup_kill(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup *cg = v2_zone(f, NULL);
	put(f, "zonekit/z/cgroup.procs", "");
	put(f, "zonekit/z/cgroup.kill", "");
	assert_int_equal(zk_cgroup_kill_all(cg, 30, &err), 0);
	assert_file(f, "zonekit/z/cgroup.kill", "");	/* empty: no kill */
	put(f, "zonekit/z/cgroup.procs", "999999\n");
	assert_int_equal(zk_cgroup_kill_all(cg, 30, &err), -ETIMEDOUT);
	assert_file(f, "zonekit/z/cgroup.kill", "1");
	assert_non_null(strstr(err.msg, "1 processes"));
	zk_cgroup_free(cg);
}

static void
test_v2_destroy(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup *cg = v2_zone(f, NULL);
	mkdirs(f, "zonekit/z/sub/subsub");
	put(f, "zonekit/z/memory.max", "max\n");
	/* A fake knob file is not the kernel's to drop: rmdir must fail. */
	assert_int_equal(zk_cgroup_destroy(cg, &err), -ENOTEMPTY);
	assert_true(exists(f, "zonekit/z"));
	rm(f, "zonekit/z/memory.max");
	assert_int_equal(zk_cgroup_destroy(cg, &err), 0);
	assert_false(exists(f, "zonekit/z"));
	assert_true(exists(f, "zonekit"));
	assert_int_equal(zk_cgroup_destroy(cg, &err), 0);	/* missing */
	assert_true(zk_cgroup_is_empty(cg));
	assert_int_equal(zk_cgroup_kill_all(cg, 10, &err), 0);
	zk_cgroup_free(cg);
}

/* ---- kept statistics files ---- */

/* Descriptors this process has open. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
test_kept_files_reread_and_close(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup_memstat st;
	pid_t *pids = NULL;
	size_t n = 0;
	zk_cgroup *cg = v2_zone(f, NULL);
	put(f, "zonekit/z/memory.current", "1048576\n");
	put(f, "zonekit/z/memory.max", "max\n");
	put(f, "zonekit/z/memory.events", "max 0\noom_kill 0\n");
	put(f, "zonekit/z/cgroup.procs", "12\n");
	int before = open_fds();
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.rss, 1048576);
	/* memory.current, memory.max and memory.events stay open */
	int kept = open_fds();
	assert_int_equal(kept, before + 3);
	/* rewritten in place, as kernfs regenerates: the next read sees it,
	 * and opens nothing */
	put(f, "zonekit/z/memory.current", "2097152\n");
	put(f, "zonekit/z/memory.events", "max 1\noom_kill 1\n");
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.rss, 2097152);
	assert_int_equal(st.failcnt, 1);
	assert_int_equal(st.oom_kill, 1);
	assert_int_equal(open_fds(), kept);
	/* membership lists are read afresh and never kept */
	assert_int_equal(zk_cgroup_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	free(pids);
	assert_int_equal(open_fds(), kept);
	/* destroy closes them, even where rmdir then fails (fake knobs) */
	assert_int_equal(zk_cgroup_destroy(cg, &err), -ENOTEMPTY);
	assert_int_equal(open_fds(), before);
	/* and so does free */
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(open_fds(), kept);
	zk_cgroup_free(cg);
	assert_int_equal(open_fds(), before);
}

/*
 * A kept file that goes bad is dropped and its path opened afresh.  kernfs
 * fails reads of a removed cgroup's open files (ENODEV); a /proc file of a
 * reaped process fails its open descriptors the same way (ESRCH), so here
 * memory.current is a symlink to a child's oom_score_adj.
 */
static void
test_kept_file_gone_bad(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup_memstat st;
	char target[64], path[PATH_MAX];
	int pfd[2];
	zk_cgroup *cg = v2_zone(f, NULL);
	put(f, "zonekit/z/memory.max", "max\n");
	put(f, "zonekit/z/memory.events", "max 0\n");
	assert_int_equal(pipe(pfd), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {	/* lives until the pipe closes */
		char c;
		close(pfd[1]);
		ssize_t r = read(pfd[0], &c, 1);
		_exit(r < 0);
	}
	close(pfd[0]);
	snprintf(target, sizeof(target), "/proc/%d/oom_score_adj", (int)child);
	assert_int_equal(symlink(target, at(f, "zonekit/z/memory.current",
	    path)), 0);
	char *adj = NULL;
	assert_int_equal(zk_read_file(target, &adj, NULL, &err), 0);
	uint64_t want = strtoull(adj, NULL, 10);
	bool negative = adj[0] == '-';	/* not a usage: cannot stand in */
	free(adj);
	if (negative) {
		close(pfd[1]);
		waitpid(child, NULL, 0);
		zk_cgroup_free(cg);
		skip();
	}
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.rss, want);
	close(pfd[1]);
	int kept = open_fds();
	assert_int_equal(waitpid(child, NULL, 0), child);
	/* the kept descriptor fails; the path is gone: -ENOENT, as callers
	 * expect of a removed cgroup, and the descriptor is closed */
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "memory.current"));
	assert_int_equal(open_fds(), kept - 1);
	/* made again under the same name: read from the new file */
	rm(f, "zonekit/z/memory.current");
	put(f, "zonekit/z/memory.current", "4096\n");
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.rss, 4096);
	assert_int_equal(open_fds(), kept);
	zk_cgroup_free(cg);
}

/* ---- v1 ---- */

static void
test_v1_create_every_hierarchy(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	char buf[PATH_MAX], want[PATH_MAX], real[PATH_MAX];
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_true(exists(f, "memory/zonekit/z"));
	assert_true(exists(f, "cpu/zonekit/z"));
	assert_true(exists(f, "pids/zonekit/z"));
	assert_true(exists(f, "freezer/zonekit/z"));
	assert_true(exists(f, "devices/zonekit/z"));
	assert_true(exists(f, "unified/zonekit/z"));	/* the cgroup2 id */
	/* cpuacct resolves to the mount it shares with cpu. */
	assert_non_null(realpath(f->root, real));
	snprintf(want, sizeof(want), "%s/cpu/zonekit/z", real);
	assert_string_equal(zk_cgroup_dir(cg, "cpuacct", buf), want);

	put(f, "memory/zonekit/z/cgroup.procs", "");
	put(f, "cpu/zonekit/z/cgroup.procs", "");
	put(f, "pids/zonekit/z/cgroup.procs", "");
	put(f, "freezer/zonekit/z/cgroup.procs", "");
	put(f, "devices/zonekit/z/cgroup.procs", "");
	put(f, "unified/zonekit/z/cgroup.procs", "");
	assert_int_equal(zk_cgroup_attach(cg, 777, &err), 0);
	assert_file(f, "memory/zonekit/z/cgroup.procs", "777");
	assert_file(f, "devices/zonekit/z/cgroup.procs", "777");
	assert_file(f, "unified/zonekit/z/cgroup.procs", "777");
	zk_cgroup_free(cg);
}

/* v1 hierarchies are joined through `tasks` (no global lock); the hybrid
 * cgroup2 identity only when not born inside it. */
static void
test_v1_join_self(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup_procs procs;
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	const char *v1[] = { "memory", "cpu", "pids", "freezer", "devices" };
	char rel[64];
	for (size_t i = 0; i < sizeof(v1) / sizeof(*v1); i++) {
		snprintf(rel, sizeof(rel), "%s/zonekit/z/tasks", v1[i]);
		put(f, rel, "");
		snprintf(rel, sizeof(rel), "%s/zonekit/z/cgroup.procs", v1[i]);
		put(f, rel, "");
	}
	put(f, "unified/zonekit/z/cgroup.procs", "");
	assert_int_equal(zk_cgroup_procs_open(cg, &procs, ZK_CG_JOIN_SELF,
	    &err), 0);
	assert_true(procs.dir_fd >= 0);
	procs.born_inside = true;
	assert_int_equal(zk_cgroup_procs_join(&procs, 0, &err), 0);
	for (size_t i = 0; i < sizeof(v1) / sizeof(*v1); i++) {
		snprintf(rel, sizeof(rel), "%s/zonekit/z/tasks", v1[i]);
		assert_file(f, rel, "0");
		snprintf(rel, sizeof(rel), "%s/zonekit/z/cgroup.procs", v1[i]);
		assert_file(f, rel, "");
	}
	assert_file(f, "unified/zonekit/z/cgroup.procs", "");
	procs.born_inside = false;
	assert_int_equal(zk_cgroup_procs_join(&procs, 0, &err), 0);
	assert_file(f, "unified/zonekit/z/cgroup.procs", "0");
	zk_cgroup_procs_close(&procs);
	zk_cgroup_free(cg);
}

static void
test_v1_devices_rules(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_v1(f);
	/* An existing cgroup (adoption) already has the kernel's files. */
	mkdirs(f, "devices/zonekit/z");
	put(f, "devices/zonekit/z/devices.deny", "");
	put(f, "devices/zonekit/z/devices.allow", "");
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_file(f, "devices/zonekit/z/devices.deny", "a");
	/* Each rule is its own write; the fake file keeps the last one. */
	assert_file(f, "devices/zonekit/z/devices.allow", "c 136:* rw");
	zk_cgroup_free(cg);
}

/* On a hybrid host the program goes on the zone's directory in unified/. */
static void
test_v1_device_program_requested_in_unified(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	const char *why = NULL;
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_int_equal(zk_cgroup_device_program(cg, &why),
	    ZK_CG_DEVPROG_SKIPPED);
	assert_non_null(strstr(why, "/unified/zonekit/z is not on a cgroup2 "
	    "file system"));
	zk_cgroup_free(cg);
}

/* Without unified/ the devices hierarchy alone confines the zone... */
static void
test_v1_devices_hierarchy_alone(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_hierarchy(f, "memory");
	fake_hierarchy(f, "devices");
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_int_equal(zk_cgroup_device_program(cg, NULL),
	    ZK_CG_DEVPROG_NONE);
	assert_true(exists(f, "devices/zonekit/z"));
	zk_cgroup_free(cg);
}

/* ...and with neither, the zone's cgroup is not made at all. */
static void
test_v1_devices_unconfined_is_refused(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_hierarchy(f, "memory");
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "cannot confine the devices of cgroup "
	    "zonekit/z"));
	assert_false(exists(f, "memory/zonekit"));
	zk_cgroup_free(cg);
}

static void
test_v1_create_rolls_back(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_v1(f);
	put(f, "pids/zonekit", "not a directory");
	zk_cgroup *cg = v1_open(f);
	assert_int_not_equal(zk_cgroup_create(cg, &err), 0);
	assert_non_null(strstr(err.msg, "pids/zonekit"));
	assert_false(exists(f, "memory/zonekit"));
	assert_false(exists(f, "cpu/zonekit"));
	assert_false(exists(f, "unified/zonekit"));
	zk_cgroup_free(cg);
}

static void
test_v1_cpu_and_pids(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	put(f, "cpu/zonekit/z/cpu.cfs_period_us", "");
	put(f, "cpu/zonekit/z/cpu.cfs_quota_us", "");
	put(f, "cpu/zonekit/z/cpu.shares", "");
	put(f, "pids/zonekit/z/pids.max", "");
	assert_int_equal(zk_cgroup_set_cpu_cap(cg, 150, &err), 0);
	assert_file(f, "cpu/zonekit/z/cpu.cfs_period_us", "100000");
	assert_file(f, "cpu/zonekit/z/cpu.cfs_quota_us", "150000");
	assert_int_equal(zk_cgroup_set_cpu_cap(cg, 0, &err), 0);
	assert_file(f, "cpu/zonekit/z/cpu.cfs_quota_us", "-1");
	assert_int_equal(zk_cgroup_set_cpu_shares(cg, 100, &err), 0);
	assert_file(f, "cpu/zonekit/z/cpu.shares", "1024");
	assert_int_equal(zk_cgroup_set_cpu_shares(cg, 0, &err), 0);
	assert_file(f, "cpu/zonekit/z/cpu.shares", "2");
	assert_int_equal(zk_cgroup_set_cpu_shares(cg, UINT64_MAX, &err), 0);
	assert_file(f, "cpu/zonekit/z/cpu.shares", "262144");
	assert_int_equal(zk_cgroup_set_pids_max(cg, ZK_CG_UNLIMITED, &err), 0);
	assert_file(f, "pids/zonekit/z/pids.max", "max");
	zk_cgroup_free(cg);
}

/*
 * The kernel rejects any single write leaving memsw < mem.  To see the
 * order, memsw's "file" is a directory here: the write to it fails, and
 * whether memory.limit_in_bytes changed first shows the order.
 */
static void
test_v1_memory_order(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	put(f, "memory/zonekit/z/memory.limit_in_bytes", "2147483648\n");
	mkdirs(f, "memory/zonekit/z/memory.memsw.limit_in_bytes");
	/* Raising: memsw first, so mem is untouched when memsw fails. */
	assert_int_not_equal(zk_cgroup_set_memory(cg, 3 * GiB, 4 * GiB, &err),
	    0);
	assert_file(f, "memory/zonekit/z/memory.limit_in_bytes",
	    "2147483648\n");
	/* Lowering: mem first. */
	assert_int_not_equal(zk_cgroup_set_memory(cg, 1 * GiB, 4 * GiB, &err),
	    0);
	assert_file(f, "memory/zonekit/z/memory.limit_in_bytes", "1073741824");
	/* Both written when memsw works; -1 is v1's unlimited. */
	char path[PATH_MAX];
	assert_int_equal(rmdir(at(f,
	    "memory/zonekit/z/memory.memsw.limit_in_bytes", path)), 0);
	put(f, "memory/zonekit/z/memory.memsw.limit_in_bytes", "");
	assert_int_equal(zk_cgroup_set_memory(cg, 1 * GiB, ZK_CG_UNLIMITED,
	    &err), 0);
	assert_file(f, "memory/zonekit/z/memory.memsw.limit_in_bytes", "-1");
	assert_int_equal(zk_cgroup_set_memory(cg, ZK_CG_UNLIMITED,
	    ZK_CG_UNLIMITED, &err), 0);
	assert_file(f, "memory/zonekit/z/memory.limit_in_bytes", "-1");
	zk_cgroup_free(cg);
}

static void
test_v1_memory_without_swap_accounting(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	put(f, "memory/zonekit/z/memory.limit_in_bytes", "");
	assert_int_equal(zk_cgroup_set_memory(cg, 1 * GiB, 2 * GiB, &err), 0);
	assert_file(f, "memory/zonekit/z/memory.limit_in_bytes", "1073741824");
	assert_false(exists(f, "memory/zonekit/z/memory.memsw.limit_in_bytes"));
	zk_cgroup_free(cg);
}

static void
test_v1_memory_stat(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_cgroup_memstat st;
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	put(f, "memory/zonekit/z/memory.usage_in_bytes", "1000000\n");
	put(f, "memory/zonekit/z/memory.memsw.usage_in_bytes", "1500000\n");
	put(f, "memory/zonekit/z/memory.limit_in_bytes",
	    "9223372036854771712\n");
	put(f, "memory/zonekit/z/memory.failcnt", "3\n");
	put(f, "memory/zonekit/z/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.rss, 1000000);
	assert_int_equal(st.swap, 500000);
	assert_true(st.limit == UINT64_MAX);
	assert_int_equal(st.failcnt, 3);
	assert_int_equal(st.oom_kill, 2);
	/* A cap set: the kept file reads the new value. */
	put(f, "memory/zonekit/z/memory.limit_in_bytes", "536870912\n");
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.limit, 536870912);
	/* A host without swap accounting, through its own handle. */
	zk_cgroup_free(cg);
	rm(f, "memory/zonekit/z/memory.memsw.usage_in_bytes");
	cg = v1_open(f);
	assert_int_equal(zk_cgroup_memory_stat(cg, &st, &err), 0);
	assert_int_equal(st.limit, 536870912);
	assert_int_equal(st.swap, 0);
	zk_cgroup_free(cg);
}

static void
test_v1_freeze(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	/* The fake file reads back what was written: FROZEN at once. */
	put(f, "freezer/zonekit/z/freezer.state", "THAWED\n");
	assert_int_equal(zk_cgroup_freeze(cg, true, &err), 0);
	assert_file(f, "freezer/zonekit/z/freezer.state", "FROZEN");
	assert_int_equal(zk_cgroup_freeze(cg, false, &err), 0);
	assert_file(f, "freezer/zonekit/z/freezer.state", "THAWED");
	zk_cgroup_free(cg);
}

static void
test_v1_destroy(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	fake_v1(f);
	zk_cgroup *cg = v1_open(f);
	assert_int_equal(zk_cgroup_create(cg, &err), 0);
	assert_int_equal(zk_cgroup_destroy(cg, &err), 0);
	assert_false(exists(f, "memory/zonekit/z"));
	assert_false(exists(f, "cpu/zonekit/z"));
	assert_false(exists(f, "devices/zonekit/z"));
	assert_false(exists(f, "unified/zonekit/z"));
	assert_true(exists(f, "memory/zonekit"));
	assert_true(exists(f, "unified/zonekit"));
	assert_int_equal(zk_cgroup_destroy(cg, &err), 0);
	zk_cgroup_free(cg);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_detect_v2),
		T(test_detect_v1),
		T(test_detect_nothing),
		T(test_open_validates_names),
		T(test_v2_create_enables_each_ancestor),
		T(test_v2_create_makes_parent),
		T(test_v2_create_rolls_back_new_parent),
		T(test_v2_create_keeps_existing_parent),
		T(test_v2_device_program_requested),
		T(test_v2_memory),
		T(test_v2_memory_rejects_bad_caps),
		T(test_v2_memory_without_swap_accounting),
		T(test_v2_cpu),
		T(test_v2_pids_and_attach),
		T(test_v2_join_self),
		T(test_v2_missing_knob_is_not_created),
		T(test_v2_memory_stat),
		T(test_v2_freeze),
		T(test_v2_pids_include_children),
		T(test_v2_kill_all_uses_cgroup_kill),
		T(test_v2_destroy),
		T(test_kept_files_reread_and_close),
		T(test_kept_file_gone_bad),
		T(test_v1_create_every_hierarchy),
		T(test_v1_join_self),
		T(test_v1_devices_rules),
		T(test_v1_device_program_requested_in_unified),
		T(test_v1_devices_hierarchy_alone),
		T(test_v1_devices_unconfined_is_refused),
		T(test_v1_create_rolls_back),
		T(test_v1_cpu_and_pids),
		T(test_v1_memory_order),
		T(test_v1_memory_without_swap_accounting),
		T(test_v1_memory_stat),
		T(test_v1_freeze),
		T(test_v1_destroy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
