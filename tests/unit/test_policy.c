/*
 * The zone's policy object (controllers/policy.h) on fake cgroup trees,
 * v1 and v2, with a fake clock: it publishes every controller's kstats,
 * wakes through its one fd for a controller's event and for a deadline,
 * reloads new limits (and lays the kstat file out anew when the cap comes
 * or goes), reports a failed reload as an error value, and tears down
 * without leaving an fd or, when asked, its kstat file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/store.h"
#include "controllers/policy.h"
#include "fake_tree.h"
#include "kstat/kstat_store.h"
#include "util/fsutil.h"
#include "util/json_util.h"

#define UUID "11111111-2222-4333-8444-555555555555"
#define SEC UINT64_C(1000000000)
#define MIB (UINT64_C(1024) * 1024)

typedef struct fixture {
	char base[PATH_MAX];
	char cgroot[PATH_MAX];	/* <base>/cg */
	char zone[PATH_MAX];	/* the zone's dir, relative to cgroot (v2) */
	bool v1;
	zk_paths paths;
	zk_cgroup *cg;
	zk_policy *policy;
	uint64_t now;		/* the fake clock */
	char log[4096];		/* every message, one per line */
} fixture;

/* ---- the fake trees -------------------------------------------------------- */

static void
put(fixture *f, const char *rel, const char *content)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		fake_mkdirs(f->cgroot, dir);
	}
	fake_put(f->cgroot, rel, content);
}

/* A file of the zone's cgroup, relative to cgroot: v2 "zk/<uuid>/<file>",
 * v1 "<hierarchy>/zk/<uuid>/<file>". */
static char *
zrel(const fixture *f, const char *hier, const char *file, char *buf)
{
	if (f->v1)
		snprintf(buf, PATH_MAX, "%s/zk/%s/%s", hier, UUID, file);
	else
		snprintf(buf, PATH_MAX, "zk/%s/%s", UUID, file);
	return buf;
}

static char *
zpath(const fixture *f, const char *hier, const char *file, char *buf)
{
	char rel[PATH_MAX];
	snprintf(buf, PATH_MAX, "%s/%s", f->cgroot, zrel(f, hier, file, rel));
	return buf;
}

static void
zput(fixture *f, const char *hier, const char *file, const char *content)
{
	char rel[PATH_MAX];
	put(f, zrel(f, hier, file, rel), content);
}

static void
zunlink(fixture *f, const char *hier, const char *file)
{
	char path[PATH_MAX];
	assert_int_equal(unlink(zpath(f, hier, file, path)), 0);
}

static char *
zread(fixture *f, const char *hier, const char *file)
{
	char path[PATH_MAX], *text = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_read_file(zpath(f, hier, file, path), &text, NULL,
	    &err), 0);
	return text;
}

static void
fake_v2(fixture *f)
{
	put(f, "cgroup.controllers", "cpu io memory pids\n");
	static const char *const files[][2] = {
		{ "memory.max", "max\n" }, { "memory.swap.max", "max\n" },
		{ "memory.current", "4194304\n" }, { "memory.swap.current", "0\n" },
		{ "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n" },
		{ "memory.stat", "anon 4096\npgmajfault 0\npgsteal 0\n" },
		{ "cpu.max", "max 100000\n" }, { "cpu.weight", "100\n" },
		{ "cpu.stat", "usage_usec 1000\nuser_usec 600\n"
		    "system_usec 400\nnr_periods 0\nnr_throttled 0\n" },
		{ "pids.max", "max\n" }, { "pids.events", "max 0\n" },
	};
	for (size_t i = 0; i < ZK_ARRAY_SIZE(files); i++)
		zput(f, "", files[i][0], files[i][1]);
}

/* A hybrid-less v1 host: memory, cpu, cpuacct and pids hierarchies. */
static void
fake_v1(fixture *f)
{
	static const char *const hier[] = { "memory", "cpu", "cpuacct",
	    "pids" };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(hier); i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "%s/cgroup.procs", hier[i]);
		put(f, rel, "");
	}
	static const char *const files[][3] = {
		{ "memory", "memory.limit_in_bytes", "9223372036854771712\n" },
		{ "memory", "memory.memsw.limit_in_bytes",
		    "9223372036854771712\n" },
		{ "memory", "memory.usage_in_bytes", "4194304\n" },
		{ "memory", "memory.memsw.usage_in_bytes", "4194304\n" },
		{ "memory", "memory.failcnt", "0\n" },
		{ "memory", "memory.oom_control",
		    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n" },
		{ "memory", "memory.stat", "pgpgin 0\npgpgout 0\n" },
		{ "memory", "cgroup.event_control", "" },
		{ "cpu", "cpu.cfs_period_us", "100000\n" },
		{ "cpu", "cpu.cfs_quota_us", "-1\n" },
		{ "cpu", "cpu.shares", "1024\n" },
		{ "cpu", "cpu.stat", "nr_periods 0\nnr_throttled 0\n"
		    "throttled_time 0\n" },
		{ "cpuacct", "cpuacct.usage", "1000000\n" },
		{ "cpuacct", "cpuacct.usage_user", "600000\n" },
		{ "cpuacct", "cpuacct.usage_sys", "400000\n" },
		{ "pids", "pids.max", "max\n" }, { "pids", "pids.events", "max 0\n" },
	};
	for (size_t i = 0; i < ZK_ARRAY_SIZE(files); i++)
		zput(f, files[i][0], files[i][1], files[i][2]);
}

/* CPU time so far, in µs, as the zone's cgroup reports it. */
static void
set_cpu_usec(fixture *f, uint64_t user, uint64_t sys)
{
	char text[256];
	if (f->v1) {
		snprintf(text, sizeof(text), "%llu\n",
		    (unsigned long long)(user + sys) * 1000);
		zput(f, "cpuacct", "cpuacct.usage", text);
		snprintf(text, sizeof(text), "%llu\n",
		    (unsigned long long)user * 1000);
		zput(f, "cpuacct", "cpuacct.usage_user", text);
		snprintf(text, sizeof(text), "%llu\n",
		    (unsigned long long)sys * 1000);
		zput(f, "cpuacct", "cpuacct.usage_sys", text);
		return;
	}
	snprintf(text, sizeof(text), "usage_usec %llu\nuser_usec %llu\n"
	    "system_usec %llu\nnr_periods 0\nnr_throttled 0\n",
	    (unsigned long long)(user + sys), (unsigned long long)user,
	    (unsigned long long)sys);
	zput(f, "", "cpu.stat", text);
}

static void
save_config(fixture *f, const char *props)
{
	json_error_t e;
	json_t *cfg = json_loads(props, 0, &e);
	assert_non_null(cfg);
	json_object_set_new(cfg, "uuid", json_string(UUID));
	zk_error err = { 0 };
	assert_int_equal(zk_store_save(&f->paths, cfg, &err), 0);
	json_decref(cfg);
}

/* Limits as numbers: the fake tree keeps what is written, and v1's "-1"
 * (unlimited) reads back as itself, not as the kernel's huge number. */
#define MEM "\"max_physical_memory\": 128, \"max_swap\": 256"

/* ---- the policy's surroundings --------------------------------------------- */

static uint64_t
fake_clock(void *arg)
{
	return ((fixture *)arg)->now;
}

static void
collect_log(void *arg, const char *msg)
{
	fixture *f = arg;
	size_t n = strlen(f->log);
	snprintf(f->log + n, sizeof(f->log) - n, "%s\n", msg);
}

static int
new_policy(fixture *f, zk_error *err)
{
	zk_policy_params prm = { .cg = f->cg, .paths = &f->paths,
	    .uuid = UUID, .zoneid = 5, .init_pid = getpid(),
	    .log = collect_log, .log_arg = f, .clock = fake_clock,
	    .clock_arg = f };
	return zk_policy_new(&prm, &f->policy, err);
}

/* A policy on the zone's config `props` (JSON without the uuid). */
static void
start_with(fixture *f, const char *props)
{
	zk_error err = { 0 };
	save_config(f, props);
	if (new_policy(f, &err) < 0)
		fail_msg("%s", err.msg);
}

static int
setup(void **state, bool v1)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	const char *tmp = getenv("TMPDIR");
	snprintf(f->base, sizeof(f->base), "%s/zk-policy-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->cgroot, sizeof(f->cgroot), "%s/cg", f->base);
	snprintf(f->paths.root, sizeof(f->paths.root), "%s/zones", f->base);
	snprintf(f->paths.rundir, sizeof(f->paths.rundir), "%s/run", f->base);
	fake_mkdirs(f->base, "cg");
	f->v1 = v1;
	f->now = 100 * SEC;
	if (v1)
		fake_v1(f);
	else
		fake_v2(f);
	zk_error err = { 0 };
	assert_int_equal(zk_cgroup_open(f->cgroot, "zk", UUID, &f->cg, &err), 0);
	assert_int_equal(zk_cgroup_get_mode(f->cg), v1 ? ZK_CGROUP_V1 :
	    ZK_CGROUP_V2);
	*state = f;
	return 0;
}

static int
setup_v1(void **state)
{
	return setup(state, true);
}

static int
setup_v2(void **state)
{
	return setup(state, false);
}

static int
teardown(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_policy_free(f->policy, true);
	zk_cgroup_free(f->cg);
	zk_rm_rf(f->base, &err);
	free(f);
	return 0;
}

/* ---- reading what it published ------------------------------------------------ */

typedef struct published {
	zk_kstat *ks;
	size_t n;
} published;

static published
read_kstats(fixture *f)
{
	char dir[PATH_MAX];
	published p = { 0 };
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_read_dir(zk_kstat_dir(f->paths.rundir, dir),
	    &p.ks, &p.n, &err), 0);
	return p;
}

static const zk_kstat *
find_kstat(const published *p, const char *module)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->ks[i].module, module) == 0)
			return &p->ks[i];
	return NULL;
}

/* module:stat as a number; UINT64_MAX when there is no such kstat. */
static uint64_t
stat_u64(fixture *f, const char *module, const char *stat)
{
	published p = read_kstats(f);
	const zk_kstat *k = find_kstat(&p, module);
	uint64_t v = UINT64_MAX;
	for (size_t i = 0; k != NULL && i < k->nvalues; i++)
		if (strcmp(k->values[i].name, stat) == 0)
			v = k->values[i].v.u64;
	bool found = k != NULL;
	zk_kstat_free(p.ks, p.n);
	if (found && v == UINT64_MAX)
		fail_msg("%s has no statistic %s", module, stat);
	return v;
}

static bool
readable_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, ms) == 1;
}

/* The policy's one fd says there is work: the clock moves on (a
 * deadline's work is due on it), and dispatch does the work. */
static void
wake(fixture *f, uint64_t advance_ns)
{
	assert_true(readable_within(zk_policy_fd(f->policy), 2000));
	f->now += advance_ns;
	zk_policy_dispatch(f->policy);
}

static void
assert_quiet(fixture *f)
{
	assert_false(readable_within(zk_policy_fd(f->policy), 0));
}

static size_t
open_fds(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* ---- the tests ---------------------------------------------------------------- */

static void
test_publishes_every_controller(void **state)
{
	fixture *f = *state;
	start_with(f, "{\"cpu_cap\": 100, \"max_physical_memory\": 128}");
	published p = read_kstats(f);
	assert_int_equal(p.n, 3);
	const zk_kstat *caps = find_kstat(&p, "caps");
	assert_non_null(caps);
	assert_string_equal(caps->name, "cpucaps_zone_5");
	assert_int_equal(caps->instance, 5);
	assert_non_null(find_kstat(&p, "memory_cap"));
	/* illumos cuts names to 30 characters */
	assert_string_equal(find_kstat(&p, "zones")->name,
	    "11111111-2222-4333-8444-555555");
	zk_kstat_free(p.ks, p.n);
	assert_int_equal(stat_u64(f, "memory_cap", "rss"), 4 * MIB);
	assert_int_equal(stat_u64(f, "caps", "value"), 100);
	assert_int_equal(stat_u64(f, "zones", "nsec_user"), 600000);
	assert_int_equal(stat_u64(f, "zones", "init_pid"), (uint64_t)getpid());
	assert_quiet(f);	/* nothing is due yet */
	assert_string_equal(f->log, "");
}

/* The earliest deadline (the load average's, 1 s on) arms the timer in
 * the policy's epoll set; dispatch runs what is due on the clock. */
static void
test_deadline_wakes_the_fd(void **state)
{
	fixture *f = *state;
	start_with(f, "{" MEM "}");
	set_cpu_usec(f, 5000, 1000);
	zk_policy_dispatch(f->policy);	/* not due: nothing read */
	assert_int_equal(stat_u64(f, "zones", "nsec_user"), 600000);
	wake(f, SEC);
	assert_int_equal(stat_u64(f, "zones", "nsec_user"), 5000000);
	assert_int_equal(stat_u64(f, "zones", "nsec_sys"), 1000000);
	assert_quiet(f);	/* the timer was read, and set a second on */
}

/* A capped v2 zone's memory.events is watched (inotify) through the
 * policy's fd: the kernel's news reaches the kstat with no deadline. */
static void
test_controller_event_wakes_the_fd(void **state)
{
	fixture *f = *state;
	zput(f, "", "memory.max", "67108864\n");
	start_with(f, "{\"max_physical_memory\": 64}");
	assert_int_equal(stat_u64(f, "memory_cap", "anon_alloc_fail"), 0);
	assert_quiet(f);
	zput(f, "", "memory.events", "low 0\nhigh 0\nmax 3\noom 1\n"
	    "oom_kill 1\n");
	wake(f, 0);
	assert_int_equal(stat_u64(f, "memory_cap", "anon_alloc_fail"), 1);
	assert_int_equal(stat_u64(f, "memory_cap", "nover"), 1);
	assert_quiet(f);
}

static void
test_reload_applies_new_limits(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	start_with(f, "{\"cpu_cap\": 100, \"max_physical_memory\": 128}");
	save_config(f, "{\"cpu_cap\": 50, \"max_physical_memory\": 256, "
	    "\"max_swap\": 512, \"max_lwps\": 300}");
	int r = zk_policy_reload(f->policy, &err);
	if (r < 0)
		fail_msg("%s", err.msg);
	char *q = zread(f, "cpu", f->v1 ? "cpu.cfs_quota_us" : "cpu.max");
	assert_string_equal(q, f->v1 ? "50000" : "50000 100000");
	free(q);
	q = zread(f, "memory", f->v1 ? "memory.limit_in_bytes" : "memory.max");
	assert_string_equal(q, "268435456");
	free(q);
	q = zread(f, "pids", "pids.max");
	assert_string_equal(q, "300");
	free(q);
	assert_int_equal(stat_u64(f, "caps", "value"), 50);
	char *values = zk_policy_rctl_values(f->policy);
	assert_non_null(strstr(values, "\"cpu_cap\":50"));
	assert_non_null(strstr(values, "\"max_lwps\":300"));
	free(values);
}

/* The caps kstat exists only while the zone has a cap; the others carry
 * on in the file laid out anew, filled in at once. */
static void
test_caps_kstat_comes_and_goes(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	start_with(f, "{" MEM "}");
	assert_int_equal(stat_u64(f, "caps", "value"), UINT64_MAX);
	save_config(f, "{\"cpu_cap\": 150, " MEM "}");
	assert_int_equal(zk_policy_reload(f->policy, &err), 0);
	assert_int_equal(stat_u64(f, "caps", "value"), 150);
	assert_int_equal(stat_u64(f, "memory_cap", "rss"), 4 * MIB);
	assert_int_equal(stat_u64(f, "zones", "nsec_user"), 600000);
	save_config(f, "{" MEM "}");
	assert_int_equal(zk_policy_reload(f->policy, &err), 0);
	assert_int_equal(stat_u64(f, "caps", "value"), UINT64_MAX);
	assert_int_equal(stat_u64(f, "memory_cap", "rss"), 4 * MIB);
	assert_int_equal(stat_u64(f, "zones", "nsec_user"), 600000);
	published p = read_kstats(f);
	assert_int_equal(p.n, 2);
	zk_kstat_free(p.ks, p.n);
	/* prctl's way: the same through an override */
	assert_int_equal(zk_policy_set_rctl(f->policy, "zone.cpu-cap", "70",
	    &err), 0);
	assert_int_equal(stat_u64(f, "caps", "value"), 70);
}

static void
test_failed_reload_is_an_error(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	start_with(f, "{\"cpu_cap\": 100}");
	/* the fault point vmadm update's tests use */
	setenv("ZONEKIT_FAULT", "policy.reload", 1);
	int r = zk_policy_reload(f->policy, &err);
	unsetenv("ZONEKIT_FAULT");
	assert_int_equal(r, -EIO);
	assert_string_equal(err.msg, "injected fault at policy.reload");
	/* a control the kernel refuses: its file is gone */
	save_config(f, "{\"cpu_cap\": 50}");
	zunlink(f, "cpu", f->v1 ? "cpu.cfs_quota_us" : "cpu.max");
	zk_error_clear(&err);
	assert_true(zk_policy_reload(f->policy, &err) < 0);
	assert_non_null(strstr(err.msg, "zone.cpu-cap"));
	/* a config that is gone */
	char path[PATH_MAX];
	assert_int_equal(unlink(zk_path_config(&f->paths, UUID, path)), 0);
	zk_error_clear(&err);
	assert_int_equal(zk_policy_reload(f->policy, &err), -ZK_ENOZONE);
	assert_non_null(strstr(err.msg, UUID));
}

/* A controller that cannot start is logged and left out; the others run. */
static void
test_controller_failure_is_logged(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	save_config(f, "{" MEM "}");
	zunlink(f, "cpuacct", f->v1 ? "cpuacct.usage" : "cpu.stat");
	assert_int_equal(new_policy(f, &err), 0);
	assert_non_null(strstr(f->log, "zones"));
	assert_int_equal(stat_u64(f, "memory_cap", "rss"), 4 * MIB);
}

static void
test_teardown_leaves_nothing(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	char dir[PATH_MAX], path[PATH_MAX];
	save_config(f, "{\"cpu_cap\": 100, \"max_physical_memory\": 64}");
	zput(f, "memory", f->v1 ? "memory.limit_in_bytes" : "memory.max",
	    "67108864\n");
	/* the cgroup handle keeps the files it reads open: once opened,
	 * they are its, not the policy's */
	assert_int_equal(new_policy(f, &err), 0);
	zk_policy_free(f->policy, true);
	size_t before = open_fds();
	assert_int_equal(new_policy(f, &err), 0);
	assert_true(open_fds() > before);
	snprintf(path, sizeof(path), "%s/%s",
	    zk_kstat_dir(f->paths.rundir, dir), UUID);
	/* zoneadmd exiting: the zone and its figures stay */
	zk_policy_free(f->policy, false);
	f->policy = NULL;
	assert_int_equal(open_fds(), before);
	assert_true(zk_path_exists(path));
	/* the zone halting: the figures go */
	assert_int_equal(new_policy(f, &err), 0);
	zk_policy_free(f->policy, true);
	f->policy = NULL;
	assert_int_equal(open_fds(), before);
	assert_false(zk_path_exists(path));
}

#define BOTH(fn) \
	cmocka_unit_test_setup_teardown(fn, setup_v1, teardown), \
	cmocka_unit_test_setup_teardown(fn, setup_v2, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_publishes_every_controller),
		BOTH(test_deadline_wakes_the_fd),
		cmocka_unit_test_setup_teardown(
		    test_controller_event_wakes_the_fd, setup_v2, teardown),
		BOTH(test_reload_applies_new_limits),
		BOTH(test_caps_kstat_comes_and_goes),
		BOTH(test_failed_reload_is_an_error),
		BOTH(test_controller_failure_is_logged),
		BOTH(test_teardown_leaves_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
