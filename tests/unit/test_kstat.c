/*
 * The kstat store (writer/reader round trip, seqlock consistency against a
 * live writer process, hostile files), the global zone's kstats from a
 * fake /proc, and kstat(1M)'s selection, ordering and layouts (golden
 * files under data/kstat/; ZK_UPDATE_GOLDEN=1 rewrites them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kstat/kstat_store.h"
#include "kstat/kstat_view.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

#define UUID "87b5509f-7c02-47e2-8b31-b26eadfc0746"
#define UUID30 "87b5509f-7c02-47e2-8b31-b26ead"

/* ---- helpers ------------------------------------------------------------- */

static char *
make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *d = NULL;
	assert_true(asprintf(&d, "%s/zk-kstat-XXXXXX", base ? base : "/tmp") >
	    0);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
remove_tmpdir(char *d)
{
	zk_error err = { 0 };
	assert_int_equal(zk_rm_rf(d, &err), 0);
	free(d);
}

static void
write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static const zk_kstat *
find(const zk_kstat *ks, size_t n, const char *module, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ks[i].module, module) == 0 &&
		    strcmp(ks[i].name, name) == 0)
			return &ks[i];
	return NULL;
}

static const zk_kstat_value *
value(const zk_kstat *k, const char *name)
{
	for (size_t i = 0; k && i < k->nvalues; i++)
		if (strcmp(k->values[i].name, name) == 0)
			return &k->values[i];
	return NULL;
}

static uint64_t
u64_of(const zk_kstat *k, const char *name)
{
	const zk_kstat_value *v = value(k, name);
	assert_non_null(v);
	return v->v.u64;
}

/* ---- store: round trip ----------------------------------------------------- */

static const zk_kstat_stat_def mixed_stats[] = {
	{ "zonename", ZK_KSTAT_STRING },
	{ "rss", ZK_KSTAT_UINT64 },
	{ "delta", ZK_KSTAT_INT64 },
	{ "a_statistic_name_longer_than_thirty_chars", ZK_KSTAT_UINT64 },
};

static const zk_kstat_stat_def one_stat[] = { { "value", ZK_KSTAT_UINT64 } };

static void
test_def_init_cuts_names(void **state)
{
	(void)state;
	zk_kstat_def d;
	zk_kstat_def_init(&d, "a_module_name_that_is_much_too_long", 3, UUID,
	    "zone_memory_cap", one_stat, 1);
	assert_string_equal(d.module, "a_module_name_that_is_much_too");
	assert_string_equal(d.name, UUID30);
	assert_int_equal(strlen(d.name), 30);
	assert_string_equal(d.class, "zone_memory_cap");
	assert_int_equal(d.instance, 3);
	assert_int_equal(d.nstats, 1);
}

static void
test_round_trip(void **state)
{
	(void)state;
	char *dir = make_tmpdir(), kdir[PATH_MAX];
	snprintf(kdir, sizeof(kdir), "%s/run/kstat", dir);	/* mkdir -p */
	zk_kstat_def defs[2];
	zk_kstat_def_init(&defs[0], "memory_cap", 3, UUID, "zone_memory_cap",
	    mixed_stats, ZK_ARRAY_SIZE(mixed_stats));
	zk_kstat_def_init(&defs[1], "caps", 3, "cpucaps_zone_3", "zone_caps",
	    one_stat, 1);
	zk_kstat_pub *pub = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_pub_create(kdir, UUID, defs, 2, &pub, &err),
	    0);
	zk_kstat_pub_begin(pub);
	zk_kstat_set_str(pub, 0, 0, UUID);
	zk_kstat_set_u64(pub, 0, 1, UINT64_MAX);
	zk_kstat_set_i64(pub, 0, 2, -42);
	zk_kstat_set_u64(pub, 0, 3, 7);
	zk_kstat_set_u64(pub, 1, 0, 350);
	zk_kstat_set_u64(pub, 9, 0, 1);		/* out of range: ignored */
	zk_kstat_set_u64(pub, 0, 0, 1);		/* wrong type: ignored */
	zk_kstat_pub_end(pub);
	assert_int_equal(zk_kstat_get_u64(pub, 1, 0), 350);

	zk_kstat *ks = NULL;
	size_t n = 0;
	assert_int_equal(zk_kstat_read_dir(kdir, &ks, &n, &err), 0);
	assert_int_equal(n, 2);
	const zk_kstat *mc = find(ks, n, "memory_cap", UUID30);
	assert_non_null(mc);
	assert_int_equal(mc->instance, 3);
	assert_string_equal(mc->class, "zone_memory_cap");
	assert_true(mc->crtime_ns > 0 && mc->crtime_ns <= mc->snaptime_ns);
	assert_int_equal(mc->nvalues, 4);
	assert_string_equal(value(mc, "zonename")->v.str, UUID);
	assert_true(u64_of(mc, "rss") == UINT64_MAX);
	assert_int_equal(value(mc, "delta")->type, ZK_KSTAT_INT64);
	assert_int_equal(value(mc, "delta")->v.i64, -42);
	assert_int_equal(u64_of(mc, "a_statistic_name_longer_than_t"), 7);
	const zk_kstat *caps = find(ks, n, "caps", "cpucaps_zone_3");
	assert_non_null(caps);
	assert_int_equal(u64_of(caps, "value"), 350);
	zk_kstat_free(ks, n);

	/* Halting removes the file; a zone's kstats go with it. */
	zk_kstat_pub_close(pub, true);
	ks = NULL;
	n = 0;
	assert_int_equal(zk_kstat_read_dir(kdir, &ks, &n, &err), 0);
	assert_int_equal(n, 0);
	zk_kstat_free(ks, n);
	remove_tmpdir(dir);
}

/* Re-creating a publisher replaces its file, values reset, nothing left. */
static void
test_create_replaces(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	zk_kstat_def d;
	zk_kstat_def_init(&d, "caps", 1, "cpucaps_zone_1", "zone_caps",
	    one_stat, 1);
	zk_kstat_pub *a = NULL, *b = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_pub_create(dir, "z1", &d, 1, &a, &err), 0);
	zk_kstat_pub_begin(a);
	zk_kstat_set_u64(a, 0, 0, 5);
	zk_kstat_pub_end(a);
	assert_int_equal(zk_kstat_pub_create(dir, "z1", &d, 1, &b, &err), 0);
	zk_kstat_pub_close(a, false);
	zk_kstat *ks = NULL;
	size_t n = 0;
	assert_int_equal(zk_kstat_read_dir(dir, &ks, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(u64_of(&ks[0], "value"), 0);
	zk_kstat_free(ks, n);
	zk_kstat_pub_close(b, false);
	remove_tmpdir(dir);
}

static void
test_missing_dir_is_empty(void **state)
{
	(void)state;
	zk_kstat *ks = NULL;
	size_t n = 0;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_read_dir("/nonexistent/zk/kstat", &ks, &n,
	    &err), 0);
	assert_int_equal(n, 0);
	assert_null(ks);
}

/* A zone whose kstat file could not be made runs on: NULL is a no-op. */
static void
test_null_publisher_ignored(void **state)
{
	(void)state;
	zk_kstat_pub_begin(NULL);
	zk_kstat_set_u64(NULL, 0, 0, 1);
	zk_kstat_set_i64(NULL, 0, 0, 1);
	zk_kstat_set_str(NULL, 0, 0, "x");
	zk_kstat_pub_end(NULL);
	assert_int_equal(zk_kstat_get_u64(NULL, 0, 0), 0);
	zk_kstat_pub_close(NULL, true);
}

static void
test_bad_file_names_refused(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	zk_kstat_def d;
	zk_kstat_def_init(&d, "caps", 1, "x", "c", one_stat, 1);
	zk_kstat_pub *pub = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_pub_create(dir, "a/b", &d, 1, &pub, &err),
	    -EINVAL);
	assert_int_equal(zk_kstat_pub_create(dir, ".hidden", &d, 1, &pub,
	    &err), -EINVAL);
	remove_tmpdir(dir);
}

/* ---- store: hostile files ---------------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	char *data = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_read_file(path, &data, len, &err), 0);
	return data;
}

/*
 * Next to one good file: garbage, empty, truncated copies, a copy with an
 * absurd statistic count, a copy stuck mid-update (writer died inside a
 * batch), a dot-file and a directory.  Only the good file's kstat shows.
 */
static void
test_garbage_skipped(void **state)
{
	(void)state;
	char *dir = make_tmpdir(), good[PATH_MAX];
	zk_kstat_def d;
	zk_kstat_def_init(&d, "caps", 1, "cpucaps_zone_1", "zone_caps",
	    one_stat, 1);
	zk_kstat_pub *pub = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_pub_create(dir, "good", &d, 1, &pub, &err),
	    0);
	snprintf(good, sizeof(good), "%s/good", dir);
	size_t len;
	_cleanup_free_ char *img = slurp(good, &len);

	char noise[4096];
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (char)(i * 7919 + 13);
	write_bytes(dir, "garbage", noise, sizeof(noise));
	write_bytes(dir, "empty", "", 0);
	write_bytes(dir, "short", img, 10);
	write_bytes(dir, "truncated", img, len - 8);
	write_bytes(dir, ".dotfile", img, len);
	char *copy = malloc(len + 64);
	memcpy(copy, img, len);
	memset(copy + len, 0, 64);
	write_bytes(dir, "longer", copy, len + 64);	/* size mismatch */
	uint32_t huge = 0x7fffffff;	/* nstats of the first kstat */
	memcpy(copy + 64 + 3 * 32 + 4, &huge, sizeof(huge));
	write_bytes(dir, "hugecount", copy, len);
	memcpy(copy, img, len);
	copy[8] |= 1;	/* sequence odd: a writer died inside a batch */
	write_bytes(dir, "stuck", copy, len);
	free(copy);
	char sub[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/subdir", dir);
	assert_int_equal(mkdir(sub, 0755), 0);

	zk_kstat *ks = NULL;
	size_t n = 0;
	assert_int_equal(zk_kstat_read_dir(dir, &ks, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ks[0].name, "cpucaps_zone_1");
	zk_kstat_free(ks, n);
	zk_kstat_pub_close(pub, false);
	remove_tmpdir(dir);
}

/* A publisher stuck between begin and end: its file is skipped, not read
 * torn, and the reader does not hang. */
static void
test_stuck_writer_skipped(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	zk_kstat_def d;
	zk_kstat_def_init(&d, "caps", 1, "cpucaps_zone_1", "zone_caps",
	    one_stat, 1);
	zk_kstat_pub *pub = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_pub_create(dir, "z", &d, 1, &pub, &err), 0);
	zk_kstat_pub_begin(pub);
	zk_kstat *ks = NULL;
	size_t n = 0;
	assert_int_equal(zk_kstat_read_dir(dir, &ks, &n, &err), 0);
	assert_int_equal(n, 0);
	zk_kstat_pub_end(pub);
	assert_int_equal(zk_kstat_read_dir(dir, &ks, &n, &err), 0);
	assert_int_equal(n, 1);
	zk_kstat_free(ks, n);
	zk_kstat_pub_close(pub, false);
	remove_tmpdir(dir);
}

/* ---- store: seqlock against a live writer ------------------------------- */

static const zk_kstat_stat_def pair_stats[] = {
	{ "first", ZK_KSTAT_UINT64 },
	{ "label", ZK_KSTAT_STRING },
	{ "second", ZK_KSTAT_UINT64 },
};

/* The child: update first, label and second together as fast as it can. */
static void __attribute__((noreturn))
writer_loop(zk_kstat_pub *pub)
{
	char label[ZK_KSTAT_STR_VALUE];
	for (uint64_t i = 1;; i++) {
		snprintf(label, sizeof(label), "%llu", (unsigned long long)i);
		zk_kstat_pub_begin(pub);
		zk_kstat_set_u64(pub, 0, 0, i);
		zk_kstat_set_str(pub, 0, 1, label);
		zk_kstat_set_u64(pub, 0, 2, i);
		zk_kstat_pub_end(pub);
	}
}

/* A "pair" kstat in a fresh directory, updated by a forked writer_loop. */
static pid_t
start_pair_writer(char **dir, zk_kstat_pub **pub)
{
	zk_kstat_def d;
	zk_error err = { 0 };
	*dir = make_tmpdir();
	zk_kstat_def_init(&d, "test", 0, "pair", "misc", pair_stats,
	    ZK_ARRAY_SIZE(pair_stats));
	assert_int_equal(zk_kstat_pub_create(*dir, "pair", &d, 1, pub, &err),
	    0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		writer_loop(*pub);
	return child;
}

static void
test_seqlock_consistent(void **state)
{
	(void)state;
	char *dir;
	zk_kstat_pub *pub;
	zk_error err = { 0 };
	pid_t child = start_pair_writer(&dir, &pub);

	size_t snapshots = 0, missed = 0;
	uint64_t first_seen = 0, last_seen = 0;
	for (int i = 0; i < 20000; i++) {
		zk_kstat *ks = NULL;
		size_t n = 0;
		assert_int_equal(zk_kstat_read_dir(dir, &ks, &n, &err), 0);
		if (n == 0) {	/* writer never let us in within the retries */
			missed++;
			continue;
		}
		uint64_t a = u64_of(&ks[0], "first"), b = u64_of(&ks[0], "second");
		char want[32];
		snprintf(want, sizeof(want), "%llu", (unsigned long long)a);
		if (a != b || (a > 0 && strcmp(value(&ks[0], "label")->v.str,
		    want) != 0)) {
			kill(child, SIGKILL);
			fail_msg("torn snapshot: first %llu second %llu label %s",
			    (unsigned long long)a, (unsigned long long)b,
			    value(&ks[0], "label")->v.str);
		}
		if (first_seen == 0)
			first_seen = a;
		last_seen = a;
		snapshots++;
		zk_kstat_free(ks, n);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	print_message("seqlock: %zu consistent snapshots, %zu skipped, writer "
	    "advanced %llu batches\n", snapshots, missed,
	    (unsigned long long)(last_seen - first_seen));
	/* A writer this hot often keeps a reader out for all its retries
	 * (real publishers update a few times a second); enough snapshots
	 * must still get through for the check above to mean something. */
	assert_true(snapshots >= 200);
	assert_true(last_seen > first_seen);	/* the writer really ran */
	zk_kstat_pub_close(pub, false);
	remove_tmpdir(dir);
}

/* ---- global zone from a fake /proc --------------------------------------- */

static char *
data_path(const char *rel, char *buf)
{
	const char *base = getenv("ZK_TEST_DATA");
	snprintf(buf, PATH_MAX, "%s/kstat/%s", base ? base : "data", rel);
	return buf;
}

static void
test_host_from_fake_proc(void **state)
{
	(void)state;
	char proc[PATH_MAX];
	zk_kstat *ks = NULL;
	size_t n = 0;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_read_host_at(data_path("proc", proc), &ks,
	    &n, &err), 0);
	assert_int_equal(n, 2);
	const zk_kstat *mc = find(ks, n, "memory_cap", "global");
	const zk_kstat *zm = find(ks, n, "zones", "global");
	assert_non_null(mc);
	assert_non_null(zm);
	assert_int_equal(mc->instance, 0);
	assert_string_equal(mc->class, "zone_memory_cap");
	assert_string_equal(zm->class, "zone_misc");
	assert_true(mc->crtime_ns <= mc->snaptime_ns);
	assert_string_equal(value(mc, "zonename")->v.str, "global");
	/* meminfo: MemTotal 8000000 kB, MemAvailable 6000000 kB */
	assert_int_equal(u64_of(mc, "rss"), 2000000ULL * 1024);
	assert_true(u64_of(mc, "physcap") == UINT64_MAX);
	/* SwapTotal 1000000, SwapFree 750000 */
	assert_int_equal(u64_of(mc, "swap"), 250000ULL * 1024);
	assert_true(u64_of(mc, "swapcap") == UINT64_MAX);
	uint64_t pages = 4096000ULL * 1024 / (uint64_t)sysconf(_SC_PAGESIZE);
	assert_int_equal(u64_of(mc, "pgpgin"), pages);	/* pgpgin 4096000 KiB */
	assert_int_equal(u64_of(mc, "anonpgin"), 100);	/* pswpin */
	assert_int_equal(u64_of(mc, "fspgin"), pages - 100);
	assert_int_equal(u64_of(mc, "execpgin"), 0);
	assert_int_equal(u64_of(mc, "nover"), 0);
	assert_int_equal(u64_of(mc, "pagedout"), 0);
	assert_int_equal(u64_of(mc, "anon_alloc_fail"), 0);

	assert_string_equal(value(zm, "zonename")->v.str, "global");
	/* loadavg 0.50 1.25 12.00 */
	assert_int_equal(u64_of(zm, "avenrun_1min"), 128);
	assert_int_equal(u64_of(zm, "avenrun_5min"), 320);
	assert_int_equal(u64_of(zm, "avenrun_15min"), 3072);
	uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK);
	/* cpu  1000 200 300 ... irq 40 softirq 60: user+nice, sys+irq+softirq */
	assert_int_equal(u64_of(zm, "nsec_user"), 1200 * 1000000000ULL / hz);
	assert_int_equal(u64_of(zm, "nsec_sys"), 400 * 1000000000ULL / hz);
	assert_int_equal(u64_of(zm, "nsec_waitrq"), 123456789ULL * 1000);
	assert_int_equal(u64_of(zm, "init_pid"), 1);
	assert_int_equal(u64_of(zm, "boot_time"), 1700000000);
	assert_int_equal(u64_of(zm, "forkfail_cap"), 0);
	assert_int_equal(u64_of(zm, "forkfail_noproc"), 0);
	zk_kstat_free(ks, n);
}

/* Without vmstat and PSI the figures they give are 0; without meminfo it
 * is an error naming the file. */
static void
test_host_optional_files(void **state)
{
	(void)state;
	char proc[PATH_MAX];
	zk_kstat *ks = NULL;
	size_t n = 0;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_read_host_at(data_path("proc-minimal", proc),
	    &ks, &n, &err), 0);
	assert_int_equal(n, 2);
	const zk_kstat *mc = find(ks, n, "memory_cap", "global");
	const zk_kstat *zm = find(ks, n, "zones", "global");
	assert_int_equal(u64_of(mc, "pgpgin"), 0);
	assert_int_equal(u64_of(mc, "rss"), (8000000ULL - 7000000) * 1024);
	assert_int_equal(u64_of(zm, "nsec_waitrq"), 0);
	zk_kstat_free(ks, n);
	ks = NULL;
	n = 0;
	assert_int_equal(zk_kstat_read_host_at("/nonexistent", &ks, &n, &err),
	    -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/meminfo"));
	assert_int_equal(n, 0);
}

/* The real /proc works and agrees with itself. */
static void
test_host_real_proc(void **state)
{
	(void)state;
	zk_kstat *ks = NULL;
	size_t n = 0;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_read_host_at("/proc", &ks, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true(u64_of(find(ks, n, "memory_cap", "global"), "rss") > 0);
	assert_true(u64_of(find(ks, n, "zones", "global"), "boot_time") > 0);
	zk_kstat_free(ks, n);
}

/* ---- view: a fixed set of kstats -------------------------------------------- */

static zk_kstat_value
u(const char *name, uint64_t v)
{
	zk_kstat_value x = { .type = ZK_KSTAT_UINT64, .v.u64 = v };
	snprintf(x.name, sizeof(x.name), "%s", name);
	return x;
}

static zk_kstat_value
s(const char *name, const char *v)
{
	zk_kstat_value x = { .type = ZK_KSTAT_STRING };
	snprintf(x.name, sizeof(x.name), "%s", name);
	snprintf(x.v.str, sizeof(x.v.str), "%s", v);
	return x;
}

/* memory_cap and caps of zone 895 as in the 2011 SmartOS talk. */
static zk_kstat_value talk_mc[] = {
	{ "zonename", ZK_KSTAT_STRING, { .str = UUID } },
	{ "rss", ZK_KSTAT_UINT64, { .u64 = 256745472 } },
	{ "physcap", ZK_KSTAT_UINT64, { .u64 = 1073741824 } },
	{ "swap", ZK_KSTAT_UINT64, { .u64 = 483696640 } },
	{ "swapcap", ZK_KSTAT_UINT64, { .u64 = 2147483648 } },
	{ "nover", ZK_KSTAT_UINT64, { .u64 = 0 } },
	{ "pagedout", ZK_KSTAT_UINT64, { .u64 = 0 } },
	{ "pgpgin", ZK_KSTAT_UINT64, { .u64 = 51 } },
	{ "anonpgin", ZK_KSTAT_UINT64, { .u64 = 0 } },
	{ "execpgin", ZK_KSTAT_UINT64, { .u64 = 0 } },
	{ "fspgin", ZK_KSTAT_UINT64, { .u64 = 51 } },
	{ "anon_alloc_fail", ZK_KSTAT_UINT64, { .u64 = 0 } },
};

static zk_kstat_value talk_caps[] = {
	{ "value", ZK_KSTAT_UINT64, { .u64 = 350 } },
	{ "baseline", ZK_KSTAT_UINT64, { .u64 = 40 } },
	{ "effective", ZK_KSTAT_UINT64, { .u64 = 40 } },
	{ "usage", ZK_KSTAT_UINT64, { .u64 = 40 } },
	{ "maxusage", ZK_KSTAT_UINT64, { .u64 = 356 } },
	{ "burst_limit_sec", ZK_KSTAT_UINT64, { .u64 = 10 } },
	{ "bursting_sec", ZK_KSTAT_UINT64, { .u64 = 3 } },
	{ "below_sec", ZK_KSTAT_UINT64, { .u64 = 691880 } },
	{ "above_sec", ZK_KSTAT_UINT64, { .u64 = 23 } },
	{ "above_base_sec", ZK_KSTAT_UINT64, { .u64 = 243038 } },
	{ "nwait", ZK_KSTAT_UINT64, { .u64 = 5 } },
	{ "zonename", ZK_KSTAT_STRING, { .str = UUID } },
	{ "drift", ZK_KSTAT_INT64, { .i64 = -3 } },
};

static void
talk_kstats(zk_kstat *k)
{
	k[0] = (zk_kstat){ "memory_cap", 895, UUID30, "zone_memory_cap",
	    8748783895714790ULL, 8757319362901280ULL,
	    ZK_ARRAY_SIZE(talk_mc), talk_mc };
	k[1] = (zk_kstat){ "caps", 895, "cpucaps_zone_895", "zone_caps",
	    8748783895829750ULL, 9440687287526770ULL,
	    ZK_ARRAY_SIZE(talk_caps), talk_caps };
}

/* A spread of modules, instances and names to select from and sort. */
typedef struct fixture {
	zk_kstat ks[8];
	zk_kstat_value v[8][3];
} fixture;

static void
fixture_init(fixture *f)
{
	static const struct { const char *m; int i; const char *n, *c; } k[] = {
		{ "zones", 10, "zone10", "zone_misc" },
		{ "memory_cap", 2, "zone2", "zone_memory_cap" },
		{ "Caps", 2, "cpucaps_zone_2", "zone_caps" },
		{ "zones", 2, "zone2", "zone_misc" },
		{ "memory_cap", 0, "global", "zone_memory_cap" },
		{ "alpha", 1, "b", "misc" },
		{ "alpha", 1, "a", "misc" },
		{ "memory_cap", 10, "zone10", "zone_memory_cap" },
	};
	for (size_t i = 0; i < ZK_ARRAY_SIZE(k); i++) {
		f->v[i][0] = u("rss", 100 + i);
		f->v[i][1] = s("zonename", k[i].n);
		f->v[i][2] = u("nover", i);
		f->ks[i] = (zk_kstat){ .instance = k[i].i, .crtime_ns = 1,
		    .snaptime_ns = 2, .nvalues = 3, .values = f->v[i] };
		snprintf(f->ks[i].module, ZK_KSTAT_STRLEN, "%s", k[i].m);
		snprintf(f->ks[i].name, ZK_KSTAT_STRLEN, "%s", k[i].n);
		snprintf(f->ks[i].class, ZK_KSTAT_STRLEN, "%s", k[i].c);
	}
}

/* Render the fixture in -l layout with the given operands ("" = none). */
static char *
names_for(const char *const *operands, const char *class, size_t *nmatched)
{
	fixture f;
	fixture_init(&f);
	zk_kstat_query *q = zk_kstat_query_new();
	zk_error err = { 0 };
	for (; operands && *operands; operands++)
		assert_int_equal(zk_kstat_query_add_operand(q, *operands, &err),
		    0);
	if (class)
		assert_int_equal(zk_kstat_query_set_class(q, class, &err), 0);
	zk_kstat_view_opts o = { .layout = ZK_KSTAT_NAMES };
	char *text = zk_kstat_render(f.ks, ZK_ARRAY_SIZE(f.ks), q, &o,
	    nmatched);
	zk_kstat_query_free(q);
	assert_non_null(text);
	return text;
}

static void
check_names(const char *const *operands, const char *class, const char *want)
{
	size_t matched = 99;
	_cleanup_free_ char *got = names_for(operands, class, &matched);
	assert_string_equal(got, want);
	size_t lines = 0;
	for (const char *p = want; *p; p++)
		lines += *p == '\n';
	assert_int_equal(matched, lines);
}

#define OPS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
test_sort_order(void **state)
{
	(void)state;
	/* module case-insensitively, instance as a number, then name */
	check_names(OPS("*:*:*:rss"), NULL,
	    "alpha:1:a:rss\n"
	    "alpha:1:b:rss\n"
	    "Caps:2:cpucaps_zone_2:rss\n"
	    "memory_cap:0:global:rss\n"
	    "memory_cap:2:zone2:rss\n"
	    "memory_cap:10:zone10:rss\n"
	    "zones:2:zone2:rss\n"
	    "zones:10:zone10:rss\n");
	/* statistics by name, pseudo-statistics among them */
	check_names(OPS("alpha:1:a"), NULL,
	    "alpha:1:a:class\n"
	    "alpha:1:a:crtime\n"
	    "alpha:1:a:nover\n"
	    "alpha:1:a:rss\n"
	    "alpha:1:a:snaptime\n"
	    "alpha:1:a:zonename\n");
}

static void
test_sort_in_place(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f);
	zk_kstat_sort(f.ks, ZK_ARRAY_SIZE(f.ks));
	assert_string_equal(f.ks[0].name, "a");
	assert_string_equal(f.ks[2].module, "Caps");
	assert_int_equal(f.ks[5].instance, 10);
	assert_string_equal(f.ks[0].values[0].name, "nover");
	assert_string_equal(f.ks[0].values[2].name, "zonename");
	assert_true(zk_kstat_compare(&f.ks[0], &f.ks[1]) < 0);
	assert_int_equal(zk_kstat_compare(&f.ks[3], &f.ks[3]), 0);
}

static void
test_select_globs_and_empty_fields(void **state)
{
	(void)state;
	check_names(OPS("mem*:1?:zone*:rss"), NULL,
	    "memory_cap:10:zone10:rss\n");
	check_names(OPS(":2::nover"), NULL,
	    "Caps:2:cpucaps_zone_2:nover\n"
	    "memory_cap:2:zone2:nover\n"
	    "zones:2:zone2:nover\n");
	check_names(OPS("::global:z*"), NULL,
	    "memory_cap:0:global:zonename\n");
	/* a bare module operand: everything of it */
	check_names(OPS("alpha"), "*",
	    "alpha:1:a:class\nalpha:1:a:crtime\nalpha:1:a:nover\n"
	    "alpha:1:a:rss\nalpha:1:a:snaptime\nalpha:1:a:zonename\n"
	    "alpha:1:b:class\nalpha:1:b:crtime\nalpha:1:b:nover\n"
	    "alpha:1:b:rss\nalpha:1:b:snaptime\nalpha:1:b:zonename\n");
	/* globs match whole names: "memory" is not "memory_cap" */
	check_names(OPS("memory:::rss"), NULL, "");
}

static void
test_select_regex(void **state)
{
	(void)state;
	check_names(OPS("/^[mz]/:/^1/::/^rs/"), NULL,
	    "memory_cap:10:zone10:rss\n"
	    "zones:10:zone10:rss\n");
	/* unanchored, as regexec searches */
	check_names(OPS("/aps/:::/ove/"), NULL,
	    "Caps:2:cpucaps_zone_2:nover\n");
	zk_kstat_query *q = zk_kstat_query_new();
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_query_add_operand(q, "/(/", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "/(/"));
	assert_int_equal(zk_kstat_query_add_operand(q, "a:b:c:d:e", &err),
	    -EINVAL);
	assert_int_equal(zk_kstat_query_set_class(q, "/[/", &err), -EINVAL);
	/* "/" alone is a glob, not an empty regex */
	assert_int_equal(zk_kstat_query_add_operand(q, "/", &err), 0);
	zk_kstat_query_free(q);
}

/*
 * fuzz_kstat_operand: glibc copies the operand of each + and {m,n}, so
 * "/m+++...+/" compiled to gigabytes, and repeating what can match
 * nothing took minutes.  Such patterns are refused before regcomp
 * (tests/fuzz/corpus/kstat_operand/oom-plus-chain, slow-nested-
 * repetition, slow-empty-repetition); every ordinary one compiles.
 */
static void
test_regex_refusals(void **state)
{
	(void)state;
#define TOO_LARGE "its repetitions make it too large"
#define EMPTY_REPEAT "it repeats what can match nothing"
	static const struct { const char *re, *why; } refused[] = {
		{ "/m+++++++++++++++++++++++++++++++++++++++++++++++++++++++++"
		    "isc/", TOO_LARGE },
		{ "/a{1000}{1000}/", TOO_LARGE },
		{ "/(ab{100}){100}/", TOO_LARGE },
		{ "/x{1,257}/", TOO_LARGE },
		{ "/(((((((((a+)+)+)+)+)+)+)+)+)/", TOO_LARGE },
		{ "/[]+]{2}{2}{2}{2}{2}{2}{2}{2}{2}/", TOO_LARGE },
		{ "/m++++++//*+++++?????++++++///", EMPTY_REPEAT },
		{ "/m++++++//*++++;?????++++++///", EMPTY_REPEAT },
		{ "/((((a*)?){8})+){8}/", EMPTY_REPEAT },
		{ "/((((((((((a?)+)+)+)+)+)+)+)+)+)+/", EMPTY_REPEAT },
		{ "/(a|b?)+/", EMPTY_REPEAT },
		{ "/(^)*/", EMPTY_REPEAT },
		{ "/a{0,3}+/", EMPTY_REPEAT },
		{ "/*a/", EMPTY_REPEAT },
		{ "/(a)\\1/", "back-references are not supported" },
		{ "/((((((((((((((((((((((((((((((((a))))))))))))))))))))))))"
		    "))))))))/", "its groups nest too deep" },
	};
	static const char *const accepted[] = {
		"/^cpucaps_zone_[0-9]+$/", "/a+b+c+d+e+f+g+h+i+j+k+l+m+n+/",
		"/[[:alpha:]]{1,64}/", "/((((((((a+)+)+)+)+)+)+)+)/",
		"/(a|b|c)+(d|e)*/", "/x{1,256}/", "/(a?b)+/", "/(ab*)+/",
		"/a{,5}/", "/\\++/", "/[+]+[{]{3}/", "/a)+/", "/^(rss|swap)$/",
	};
	zk_kstat_query *q = zk_kstat_query_new();
	zk_error err = { 0 };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(refused); i++) {
		assert_int_equal(zk_kstat_query_add_operand(q, refused[i].re,
		    &err), -EINVAL);
		if (strstr(err.msg, refused[i].why) == NULL)
			fail_msg("%s: %s", refused[i].re, err.msg);
	}
	for (size_t i = 0; i < ZK_ARRAY_SIZE(accepted); i++)
		if (zk_kstat_query_add_operand(q, accepted[i], &err) < 0)
			fail_msg("%s: %s", accepted[i], err.msg);
	zk_kstat_query_free(q);
}

/* Operands are ORed; each kstat shows the statistics any of the selectors
 * that match it asks for. */
static void
test_select_operands_ored(void **state)
{
	(void)state;
	check_names(OPS("memory_cap:0::rss", "memory_cap:0::nover",
	    "zones:10::rss"), NULL,
	    "memory_cap:0:global:nover\n"
	    "memory_cap:0:global:rss\n"
	    "zones:10:zone10:rss\n");
}

static void
test_select_class(void **state)
{
	(void)state;
	check_names(OPS(":::rss"), "zone_caps",
	    "Caps:2:cpucaps_zone_2:rss\n");
	check_names(OPS(":::nover"), "/misc$/",
	    "alpha:1:a:nover\n"
	    "alpha:1:b:nover\n"
	    "zones:2:zone2:nover\n"
	    "zones:10:zone10:nover\n");
	size_t matched = 7;
	_cleanup_free_ char *none = names_for(NULL, "nosuch", &matched);
	assert_string_equal(none, "");
	assert_int_equal(matched, 0);
}

/* -m -i -n -s form one selector, like an operand. */
static void
test_select_fields(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f);
	zk_kstat_query *q = zk_kstat_query_new();
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_query_add_fields(q, "zones", "10", NULL,
	    "rss", &err), 0);
	assert_true(zk_kstat_query_matches(q, &f.ks[0], "rss"));
	assert_false(zk_kstat_query_matches(q, &f.ks[0], "nover"));
	assert_false(zk_kstat_query_matches(q, &f.ks[3], "rss"));
	zk_kstat_query_free(q);
}

/* ---- view: golden layouts ----------------------------------------------- */

static void
check_golden(const char *file, const char *got)
{
	char path[PATH_MAX];
	data_path(file, path);
	zk_error err = { 0 };
	if (getenv("ZK_UPDATE_GOLDEN")) {
		assert_int_equal(zk_write_file_atomic(path, got, strlen(got),
		    0644, &err), 0);
		return;
	}
	char *want = NULL;
	if (zk_read_file(path, &want, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(got, want);
	free(want);
}

static char *
render_talk(zk_kstat_layout layout, bool colon)
{
	zk_kstat k[2];
	talk_kstats(k);
	zk_kstat_view_opts o = { .layout = layout, .colon = colon };
	size_t matched = 0;
	char *text = zk_kstat_render(k, 2, NULL, &o, &matched);
	assert_non_null(text);
	/* 12 + 13 statistics, crtime and snaptime each, class with -p/-l */
	bool with_class = layout == ZK_KSTAT_PARSEABLE ||
	    layout == ZK_KSTAT_NAMES;
	assert_int_equal(matched, 25 + 4 + (with_class ? 2 : 0));
	return text;
}

static void
test_golden_human(void **state)
{
	(void)state;
	_cleanup_free_ char *t = render_talk(ZK_KSTAT_HUMAN, false);
	check_golden("talk.human", t);
}

static void
test_golden_parseable(void **state)
{
	(void)state;
	_cleanup_free_ char *t = render_talk(ZK_KSTAT_PARSEABLE, false);
	check_golden("talk.p", t);
}

static void
test_golden_parseable_colon(void **state)
{
	(void)state;
	_cleanup_free_ char *t = render_talk(ZK_KSTAT_PARSEABLE, true);
	check_golden("talk.pC", t);
}

static void
test_golden_names(void **state)
{
	(void)state;
	_cleanup_free_ char *t = render_talk(ZK_KSTAT_NAMES, false);
	check_golden("talk.l", t);
}

static void
test_golden_json(void **state)
{
	(void)state;
	_cleanup_free_ char *t = render_talk(ZK_KSTAT_JSON, false);
	check_golden("talk.json", t);
	json_error_t jerr;
	json_t *j = json_loads(t, 0, &jerr);
	if (j == NULL)
		fail_msg("-j output is not JSON: %s (line %d)", jerr.text,
		    jerr.line);
	assert_int_equal(json_array_size(j), 2);
	json_t *mc = json_array_get(j, 1);
	assert_string_equal(json_string_value(json_object_get(mc, "module")),
	    "memory_cap");
	assert_int_equal(json_integer_value(json_object_get(mc, "instance")),
	    895);
	assert_int_equal(json_integer_value(json_object_get(mc, "type")), 1);
	json_t *data = json_object_get(mc, "data");
	assert_string_equal(json_string_value(json_object_get(data,
	    "zonename")), UUID);
	assert_int_equal(json_integer_value(json_object_get(data, "rss")),
	    256745472);
	assert_true(json_real_value(json_object_get(mc, "snaptime")) >
	    8757319.0);
	json_decref(j);
}

static void
test_json_escapes_and_empty(void **state)
{
	(void)state;
	zk_kstat_value v[] = { s("label", "a\"b\\c\td") };
	zk_kstat k = { "m", 0, "n", "c", 0, 0, 1, v };
	zk_kstat_view_opts o = { .layout = ZK_KSTAT_JSON };
	_cleanup_free_ char *t = zk_kstat_render(&k, 1, NULL, &o, NULL);
	json_t *j = json_loads(t, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(j, 0), "data"), "label")), "a\"b\\c\td");
	json_decref(j);
	_cleanup_free_ char *empty = zk_kstat_render(NULL, 0, NULL, &o, NULL);
	assert_string_equal(empty, "[]\n");
}

static void
test_timestamps(void **state)
{
	(void)state;
	char buf[128];
	assert_string_equal(zk_kstat_timestamp('u', 1700000000, buf,
	    sizeof(buf)), "1700000000\n");
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(zk_kstat_timestamp('d', 0, buf, sizeof(buf)),
	    "Thu Jan  1 00:00:00 UTC 1970\n");
	assert_null(zk_kstat_timestamp('x', 0, buf, sizeof(buf)));
}

/* ---- speed: one kstat -p over 1000 zones --------------------------------- */

static const zk_kstat_stat_def perf_mc[] = {
	{ "zonename", ZK_KSTAT_STRING }, { "rss", ZK_KSTAT_UINT64 },
	{ "physcap", ZK_KSTAT_UINT64 }, { "swap", ZK_KSTAT_UINT64 },
	{ "swapcap", ZK_KSTAT_UINT64 }, { "nover", ZK_KSTAT_UINT64 },
	{ "pagedout", ZK_KSTAT_UINT64 }, { "pgpgin", ZK_KSTAT_UINT64 },
	{ "anonpgin", ZK_KSTAT_UINT64 }, { "execpgin", ZK_KSTAT_UINT64 },
	{ "fspgin", ZK_KSTAT_UINT64 }, { "anon_alloc_fail", ZK_KSTAT_UINT64 },
};
static const zk_kstat_stat_def perf_caps[] = {
	{ "value", ZK_KSTAT_UINT64 }, { "baseline", ZK_KSTAT_UINT64 },
	{ "effective", ZK_KSTAT_UINT64 }, { "usage", ZK_KSTAT_UINT64 },
	{ "maxusage", ZK_KSTAT_UINT64 }, { "burst_limit_sec", ZK_KSTAT_UINT64 },
	{ "bursting_sec", ZK_KSTAT_UINT64 }, { "below_sec", ZK_KSTAT_UINT64 },
	{ "above_sec", ZK_KSTAT_UINT64 }, { "above_base_sec", ZK_KSTAT_UINT64 },
	{ "nwait", ZK_KSTAT_UINT64 }, { "zonename", ZK_KSTAT_STRING },
};
static const zk_kstat_stat_def perf_zones[] = {
	{ "zonename", ZK_KSTAT_STRING }, { "avenrun_1min", ZK_KSTAT_UINT64 },
	{ "avenrun_5min", ZK_KSTAT_UINT64 }, { "avenrun_15min", ZK_KSTAT_UINT64 },
	{ "nsec_user", ZK_KSTAT_UINT64 }, { "nsec_sys", ZK_KSTAT_UINT64 },
	{ "nsec_waitrq", ZK_KSTAT_UINT64 }, { "forkfail_cap", ZK_KSTAT_UINT64 },
	{ "forkfail_noproc", ZK_KSTAT_UINT64 }, { "init_pid", ZK_KSTAT_UINT64 },
	{ "boot_time", ZK_KSTAT_UINT64 },
};

#define PERF_ZONES 1000

static void
make_zone_file(const char *dir, int zoneid)
{
	char uuid[40], caps[32];
	snprintf(uuid, sizeof(uuid), "%08x-7c02-47e2-8b31-b26eadfc0746",
	    zoneid);
	snprintf(caps, sizeof(caps), "cpucaps_zone_%d", zoneid);
	zk_kstat_def d[3];
	zk_kstat_def_init(&d[0], "memory_cap", zoneid, uuid, "zone_memory_cap",
	    perf_mc, ZK_ARRAY_SIZE(perf_mc));
	zk_kstat_def_init(&d[1], "caps", zoneid, caps, "zone_caps", perf_caps,
	    ZK_ARRAY_SIZE(perf_caps));
	zk_kstat_def_init(&d[2], "zones", zoneid, uuid, "zone_misc",
	    perf_zones, ZK_ARRAY_SIZE(perf_zones));
	zk_kstat_pub *pub = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_pub_create(dir, uuid, d, 3, &pub, &err), 0);
	zk_kstat_pub_begin(pub);
	zk_kstat_set_str(pub, 0, 0, uuid);
	zk_kstat_set_u64(pub, 0, 1, 123456789);
	zk_kstat_pub_end(pub);
	zk_kstat_pub_close(pub, false);
}

static double
elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

typedef struct timing {
	double read_ms, render_ms;	/* best of the runs */
	double first_ms;		/* read + render, first run */
	size_t nkstats, bytes;
} timing;

/* A sink that only counts what it is given. */
static int
count_bytes(void *arg, const char *text, size_t len)
{
	(void)text;
	*(size_t *)arg += len;
	return 0;
}

/* Snapshot + render -p, as `kstat -p` does, a few times. */
static void
time_snapshot(const char *dir, timing *t)
{
	t->read_ms = t->render_ms = 1e9;
	zk_kstat_view_opts o = { .layout = ZK_KSTAT_PARSEABLE };
	for (int run = 0; run < 7; run++) {
		struct timespec t0, t1, t2;
		zk_error err = { 0 };
		size_t bytes = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		zk_kstat_snap *snap = zk_kstat_snap_new(NULL, NULL);
		assert_non_null(snap);
		assert_int_equal(zk_kstat_snap_read_dir(snap, dir, &err), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(zk_kstat_render_snap(snap, NULL, &o,
		    count_bytes, &bytes, NULL), 0);
		clock_gettime(CLOCK_MONOTONIC, &t2);
		zk_kstat_snap_recs(snap, &t->nkstats);
		t->bytes = bytes;
		zk_kstat_snap_free(snap);
		double r = elapsed_ms(&t0, &t1), w = elapsed_ms(&t1, &t2);
		if (run == 0)
			t->first_ms = r + w;
		t->read_ms = r < t->read_ms ? r : t->read_ms;
		t->render_ms = w < t->render_ms ? w : t->render_ms;
	}
}

static void
test_snapshot_speed(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	for (int z = 1; z <= PERF_ZONES; z++)
		make_zone_file(dir, z);
	timing t;
	time_snapshot(dir, &t);
	assert_int_equal(t.nkstats, 3 * PERF_ZONES);
	print_message("%d zone files, %zu kstats, %zu bytes of -p output: "
	    "snapshot %.2f ms + render %.2f ms (best of 7); first run %.2f ms\n",
	    PERF_ZONES, t.nkstats, t.bytes, t.read_ms, t.render_ms,
	    t.first_ms);
	/* The target is 10 ms; the bound leaves room for sanitizers and busy
	 * CI machines, the figures above are what to look at. */
	assert_true(t.read_ms + t.render_ms < 250.0);
	remove_tmpdir(dir);
}

/* ---- snapshot: the compact form kstat(1M) reads into ------------------- */

static const zk_kstat_stat_def *
perf_def(size_t k, size_t *n)
{
	switch (k) {
	case 0: *n = ZK_ARRAY_SIZE(perf_mc); return perf_mc;
	case 1: *n = ZK_ARRAY_SIZE(perf_caps); return perf_caps;
	default: *n = ZK_ARRAY_SIZE(perf_zones); return perf_zones;
	}
}

static zk_kstat_snap *
snap_of_dir(const char *dir, zk_kstat_want_fn *want, void *arg)
{
	zk_error err = { 0 };
	zk_kstat_snap *snap = zk_kstat_snap_new(want, arg);
	assert_non_null(snap);
	assert_int_equal(zk_kstat_snap_read_dir(snap, dir, &err), 0);
	return snap;
}

/* Every kstat of every file, its identity, values and shape. */
static void
test_snap_read_dir(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	for (int z = 1; z <= 5; z++)
		make_zone_file(dir, z);
	zk_kstat_snap *snap = snap_of_dir(dir, NULL, NULL);
	size_t n;
	const zk_kstat_rec *r = zk_kstat_snap_recs(snap, &n);
	assert_int_equal(n, 15);
	/* one shape per layout, shared by every zone */
	assert_int_equal(zk_kstat_snap_nshapes(snap), 3);
	for (size_t i = 0; i < n; i++) {
		size_t k = strcmp(r[i].module, "memory_cap") == 0 ? 0 :
		    strcmp(r[i].module, "caps") == 0 ? 1 : 2, nstats;
		const zk_kstat_stat_def *def = perf_def(k, &nstats);
		assert_true(r[i].instance >= 1 && r[i].instance <= 5);
		assert_int_equal(r[i].shape->nstats, nstats);
		for (size_t j = 0; j < nstats; j++) {
			assert_string_equal(r[i].shape->names[j], def[j].name);
			assert_int_equal(r[i].shape->types[j], def[j].type);
		}
		assert_true(r[i].crtime_ns > 0 &&
		    r[i].crtime_ns <= r[i].snaptime_ns);
		if (k == 0) {
			char uuid[40];
			snprintf(uuid, sizeof(uuid),
			    "%08x-7c02-47e2-8b31-b26eadfc0746", r[i].instance);
			assert_string_equal(r[i].data[0].str, uuid);
			assert_int_equal(strlen(r[i].name), 30);
			assert_memory_equal(r[i].name, uuid, 30);
			assert_string_equal(r[i].class, "zone_memory_cap");
			assert_int_equal(r[i].data[1].u64, 123456789);
		}
	}
	zk_kstat_snap_free(snap);
	remove_tmpdir(dir);
}

static bool
only_caps(void *arg, const char *module, int instance, const char *name,
    const char *class)
{
	(void)name;
	(void)class;
	++*(int *)arg;
	return strcmp(module, "caps") == 0 && instance != 3;
}

/* A snapshot keeps what want() accepts; unwanted host kstats are not
 * even read. */
static void
test_snap_want(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	for (int z = 1; z <= 5; z++)
		make_zone_file(dir, z);
	int asked = 0;
	zk_kstat_snap *snap = snap_of_dir(dir, only_caps, &asked);
	assert_int_equal(asked, 15);
	size_t n;
	const zk_kstat_rec *r = zk_kstat_snap_recs(snap, &n);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(r[i].module, "caps");
		assert_int_not_equal(r[i].instance, 3);
	}
	/* the global zone's kstats are not wanted: /proc is never opened */
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_snap_add_host(snap, "/nonexistent", &err),
	    0);
	assert_false(zk_kstat_snap_wants(snap, "zones", 0, "global",
	    "zone_misc"));
	zk_kstat_snap_free(snap);

	/* wanted, they are: a missing /proc is the error it always was */
	snap = zk_kstat_snap_new(NULL, NULL);
	assert_int_equal(zk_kstat_snap_add_host(snap, "/nonexistent", &err),
	    -ENOENT);
	char proc[PATH_MAX];
	assert_int_equal(zk_kstat_snap_add_host(snap, data_path("proc", proc),
	    &err), 0);
	zk_kstat_snap_recs(snap, &n);
	assert_int_equal(n, 2);
	zk_kstat_snap_free(snap);
	remove_tmpdir(dir);
}

/* The query's filter: a kstat is kept when some selector could print
 * something of it. */
static void
test_query_wants(void **state)
{
	(void)state;
	zk_kstat_query *q = zk_kstat_query_new();
	zk_error err = { 0 };
	assert_true(zk_kstat_query_wants(q, "caps", 1, "x", "zone_caps"));
	assert_int_equal(zk_kstat_query_add_operand(q, "memory_cap:/^1/::rss",
	    &err), 0);
	assert_int_equal(zk_kstat_query_add_operand(q, "zones:-5", &err), 0);
	assert_true(zk_kstat_query_wants(q, "memory_cap", 12, "x", "c"));
	assert_false(zk_kstat_query_wants(q, "memory_cap", 2, "x", "c"));
	assert_false(zk_kstat_query_wants(q, "caps", 1, "x", "c"));
	assert_true(zk_kstat_query_wants(q, "zones", -5, "x", "c"));
	assert_int_equal(zk_kstat_query_set_class(q, "zone_*", &err), 0);
	assert_false(zk_kstat_query_wants(q, "zones", -5, "x", "c"));
	assert_true(zk_kstat_query_wants(q, "zones", -5, "x", "zone_misc"));
	zk_kstat_query_free(q);
}

/* A sink collecting every piece, as kstat writes them to stdout. */
typedef struct pieces {
	char *text;
	size_t len, max_piece, calls;
	int fail_at;		/* > 0: return -EPIPE on that call */
} pieces;

static int
collect(void *arg, const char *text, size_t len)
{
	pieces *p = arg;
	if (++p->calls == (size_t)p->fail_at)
		return -EPIPE;
	p->text = realloc(p->text, p->len + len + 1);
	assert_non_null(p->text);
	memcpy(p->text + p->len, text, len);
	p->len += len;
	p->text[p->len] = '\0';
	p->max_piece = len > p->max_piece ? len : p->max_piece;
	return 0;
}

/* The snapshot rendered through a sink is exactly what the simple form
 * renders, for every layout and a spread of queries; large output comes
 * in pieces no larger than promised. */
static void
test_snap_render_matches_simple_form(void **state)
{
	(void)state;
	char *dir = make_tmpdir(), proc[PATH_MAX];
	for (int z = 1; z <= 300; z++)
		make_zone_file(dir, z);
	data_path("proc", proc);
	zk_error err = { 0 };
	zk_kstat *ks = NULL;
	size_t nks = 0;
	assert_int_equal(zk_kstat_read_dir(dir, &ks, &nks, &err), 0);
	assert_int_equal(zk_kstat_read_host_at(proc, &ks, &nks, &err), 0);
	static const char *const queries[][3] = {
		{ NULL }, { ":::rss" }, { "/^c/", "zones:::nsec_user" },
		{ "::global" }, { "memory_cap:/^2/:/^0/:/^[a-p]/" },
		{ ":::/time$/" }, { "nosuch" },
	};
	static const zk_kstat_view_opts layouts[] = {
		{ ZK_KSTAT_HUMAN, false }, { ZK_KSTAT_PARSEABLE, false },
		{ ZK_KSTAT_PARSEABLE, true }, { ZK_KSTAT_NAMES, false },
		{ ZK_KSTAT_JSON, false },
	};
	for (size_t qi = 0; qi < ZK_ARRAY_SIZE(queries); qi++) {
		zk_kstat_query *q = zk_kstat_query_new();
		for (size_t i = 0; i < 3 && queries[qi][i]; i++)
			assert_int_equal(zk_kstat_query_add_operand(q,
			    queries[qi][i], &err), 0);
		/* the snapshot keeps only what the query wants */
		zk_kstat_snap *snap = snap_of_dir(dir, zk_kstat_query_wants, q);
		assert_int_equal(zk_kstat_snap_add(snap, ks + nks - 2, 2, &err),
		    0);
		for (size_t li = 0; li < ZK_ARRAY_SIZE(layouts); li++) {
			size_t want_n = 0, got_n = 0, count_n = 0;
			_cleanup_free_ char *want = zk_kstat_render(ks, nks, q,
			    &layouts[li], &want_n);
			pieces p = { 0 };
			assert_int_equal(zk_kstat_render_snap(snap, q,
			    &layouts[li], collect, &p, &got_n), 0);
			assert_string_equal(p.text ? p.text : "", want);
			assert_int_equal(got_n, want_n);
			assert_true(p.max_piece <= ZK_KSTAT_SINK_CHUNK);
			if (strlen(want) > 2 * ZK_KSTAT_SINK_CHUNK)
				assert_true(p.calls > 2);
			/* no sink: the count alone (kstat -q) */
			assert_int_equal(zk_kstat_render_snap(snap, q,
			    &layouts[li], NULL, NULL, &count_n), 0);
			assert_int_equal(count_n, want_n);
			free(p.text);
		}
		zk_kstat_snap_free(snap);
		zk_kstat_query_free(q);
	}
	zk_kstat_free(ks, nks);
	remove_tmpdir(dir);
}

/* A sink's error stops the render and is what it returns. */
static void
test_snap_render_sink_error(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	for (int z = 1; z <= 100; z++)
		make_zone_file(dir, z);
	zk_kstat_snap *snap = snap_of_dir(dir, NULL, NULL);
	zk_kstat_view_opts o = { .layout = ZK_KSTAT_PARSEABLE };
	pieces p = { .fail_at = 2 };
	assert_int_equal(zk_kstat_render_snap(snap, NULL, &o, collect, &p,
	    NULL), -EPIPE);
	assert_int_equal(p.calls, 2);	/* none after the failure */
	free(p.text);
	zk_kstat_snap_free(snap);
	remove_tmpdir(dir);
}

/* Numbers are formatted by hand: every width, both extremes, and times
 * whose fractions have leading zeros, against printf. */
static void
test_render_numbers(void **state)
{
	(void)state;
	static const uint64_t u[] = {
		0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000, 65535,
		99999999, 100000000, 100000001, 1234567890123ULL,
		9999999999999999ULL, 10000000000000000ULL,
		10000000000000000000ULL, UINT64_MAX,
	};
	static const int64_t i[] = { INT64_MIN, INT64_MIN + 1, -100000000,
	    -99, -1, 0, 1, INT64_MAX };
	static const uint64_t t[] = { 0, 1, 999999999, 1000000000,
	    1000000001, 8748783895714790ULL, UINT64_MAX };
	zk_kstat_value v[ZK_ARRAY_SIZE(u) + ZK_ARRAY_SIZE(i)];
	char want[4096] = "", line[128];
	for (size_t x = 0; x < ZK_ARRAY_SIZE(t); x++) {
		size_t n = 0;
		for (size_t k = 0; k < ZK_ARRAY_SIZE(u); k++, n++) {
			v[n] = (zk_kstat_value){ .type = ZK_KSTAT_UINT64,
			    .v.u64 = u[k] };
			snprintf(v[n].name, sizeof(v[n].name), "u%02zu", k);
		}
		for (size_t k = 0; k < ZK_ARRAY_SIZE(i); k++, n++) {
			v[n] = (zk_kstat_value){ .type = ZK_KSTAT_INT64,
			    .v.i64 = i[k] };
			snprintf(v[n].name, sizeof(v[n].name), "v%02zu", k);
		}
		zk_kstat ks = { "m", -7, "n", "c", t[x],
		    t[ZK_ARRAY_SIZE(t) - 1 - x], n, v };
		want[0] = '\0';
		snprintf(line, sizeof(line), "m:-7:n:class\tc\n"
		    "m:-7:n:crtime\t%llu.%09llu\n",
		    (unsigned long long)(t[x] / 1000000000),
		    (unsigned long long)(t[x] % 1000000000));
		strcat(want, line);
		uint64_t st = t[ZK_ARRAY_SIZE(t) - 1 - x];
		snprintf(line, sizeof(line), "m:-7:n:snaptime\t%llu.%09llu\n",
		    (unsigned long long)(st / 1000000000),
		    (unsigned long long)(st % 1000000000));
		strcat(want, line);
		for (size_t k = 0; k < ZK_ARRAY_SIZE(u); k++) {
			snprintf(line, sizeof(line), "m:-7:n:u%02zu\t%llu\n", k,
			    (unsigned long long)u[k]);
			strcat(want, line);
		}
		for (size_t k = 0; k < ZK_ARRAY_SIZE(i); k++) {
			snprintf(line, sizeof(line), "m:-7:n:v%02zu\t%lld\n", k,
			    (long long)i[k]);
			strcat(want, line);
		}
		zk_kstat_view_opts o = { .layout = ZK_KSTAT_PARSEABLE };
		_cleanup_free_ char *got = zk_kstat_render(&ks, 1, NULL, &o,
		    NULL);
		assert_string_equal(got, want);
	}
}

/* Modules equal but for case sort by exact spelling; kstats equal in
 * module, instance and name keep the order they were read in. */
static void
test_sort_case_and_ties(void **state)
{
	(void)state;
	zk_kstat_value v[4] = { u("a", 1), u("a", 2), u("a", 3), u("a", 4) };
	zk_kstat k[] = {
		{ "caps", 1, "z", "c", 0, 0, 1, &v[0] },
		{ "Caps", 1, "z", "c", 0, 0, 1, &v[1] },
		{ "caps", 1, "z", "c", 0, 0, 1, &v[2] },
		{ "CAPS", 1, "z", "c", 0, 0, 1, &v[3] },
	};
	zk_kstat_view_opts o = { .layout = ZK_KSTAT_PARSEABLE };
	zk_kstat_query *q = zk_kstat_query_new();
	zk_error err = { 0 };
	assert_int_equal(zk_kstat_query_add_operand(q, ":::a", &err), 0);
	_cleanup_free_ char *got = zk_kstat_render(k, ZK_ARRAY_SIZE(k), q, &o,
	    NULL);
	assert_string_equal(got,
	    "CAPS:1:z:a\t4\n"
	    "Caps:1:z:a\t2\n"
	    "caps:1:z:a\t1\n"
	    "caps:1:z:a\t3\n");
	zk_kstat_query_free(q);
}

/* The snapshot reads files with the same seqlock: never torn. */
static void
test_snap_seqlock_consistent(void **state)
{
	(void)state;
	char *dir;
	zk_kstat_pub *pub;
	pid_t child = start_pair_writer(&dir, &pub);
	size_t snapshots = 0;
	for (int i = 0; i < 5000; i++) {
		zk_kstat_snap *snap = snap_of_dir(dir, NULL, NULL);
		size_t n;
		const zk_kstat_rec *r = zk_kstat_snap_recs(snap, &n);
		if (n == 1) {
			uint64_t a = r[0].data[0].u64, b = r[0].data[2].u64;
			char want[32];
			snprintf(want, sizeof(want), "%llu",
			    (unsigned long long)a);
			if (a != b || (a > 0 && strcmp(r[0].data[1].str,
			    want) != 0)) {
				kill(child, SIGKILL);
				fail_msg("torn snapshot: %llu %llu %s",
				    (unsigned long long)a,
				    (unsigned long long)b, r[0].data[1].str);
			}
			snapshots++;
		}
		zk_kstat_snap_free(snap);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_true(snapshots >= 50);
	zk_kstat_pub_close(pub, false);
	remove_tmpdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_def_init_cuts_names),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_create_replaces),
		cmocka_unit_test(test_missing_dir_is_empty),
		cmocka_unit_test(test_null_publisher_ignored),
		cmocka_unit_test(test_bad_file_names_refused),
		cmocka_unit_test(test_garbage_skipped),
		cmocka_unit_test(test_stuck_writer_skipped),
		cmocka_unit_test(test_seqlock_consistent),
		cmocka_unit_test(test_host_from_fake_proc),
		cmocka_unit_test(test_host_optional_files),
		cmocka_unit_test(test_host_real_proc),
		cmocka_unit_test(test_sort_order),
		cmocka_unit_test(test_sort_in_place),
		cmocka_unit_test(test_select_globs_and_empty_fields),
		cmocka_unit_test(test_select_regex),
		cmocka_unit_test(test_regex_refusals),
		cmocka_unit_test(test_select_operands_ored),
		cmocka_unit_test(test_select_class),
		cmocka_unit_test(test_select_fields),
		cmocka_unit_test(test_golden_human),
		cmocka_unit_test(test_golden_parseable),
		cmocka_unit_test(test_golden_parseable_colon),
		cmocka_unit_test(test_golden_names),
		cmocka_unit_test(test_golden_json),
		cmocka_unit_test(test_json_escapes_and_empty),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_snap_read_dir),
		cmocka_unit_test(test_snap_want),
		cmocka_unit_test(test_query_wants),
		cmocka_unit_test(test_snap_render_matches_simple_form),
		cmocka_unit_test(test_snap_render_sink_error),
		cmocka_unit_test(test_render_numbers),
		cmocka_unit_test(test_sort_case_and_ties),
		cmocka_unit_test(test_snap_seqlock_consistent),
		cmocka_unit_test(test_snapshot_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
