/* Zone id ranges: the map text, the host-wide registry, the one-time shift. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "zone/idmap.h"
#include "zone/idshift.h"

typedef struct fixture {
	char dir[64];
	zk_paths paths;
} fixture;

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/zk-idmap-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->paths.root, sizeof(f->paths.root), "%s/pool", f->dir);
	snprintf(f->paths.idmap_dir, sizeof(f->paths.idmap_dir), "%s/idmap",
	    f->dir);
	mkdir(f->paths.root, 0755);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	zk_rm_rf(f->dir, NULL);
	free(f);
	return 0;
}

static void
make_dataset(const fixture *f, const char *uuid)
{
	char path[PATH_MAX];
	assert_int_equal(mkdir(zk_path_zone(&f->paths, uuid, path), 0700), 0);
}

static void
remove_dataset(const fixture *f, const char *uuid)
{
	char path[PATH_MAX];
	assert_int_equal(rmdir(zk_path_zone(&f->paths, uuid, path)), 0);
}

#define UUID_A "0000beef-7c02-47e2-8b31-b26eadfc0746"
#define UUID_B "0000beef-1111-47e2-8b31-b26eadfc0746"	/* same first slot */

static void
test_format_and_parse(void **state)
{
	(void)state;
	zk_idmap m = { .base = 1073807360, .count = 65536 }, back;
	char text[48];
	zk_idmap_format(&m, text);
	assert_string_equal(text, "0 1073807360 65536");
	zk_error err = { 0 };
	assert_int_equal(zk_idmap_parse(text, &back, &err), 0);
	assert_int_equal(back.base, m.base);
	assert_int_equal(back.count, m.count);
	const char *bad[] = { "", "0 1073807360", "1 1073807360 65536",
	    "0 0 65536", "0 1073807360 0", "0 1073807360 65537",
	    "0 4294967295 2", "0 1073807360 65536 x", "zero 1 2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(zk_idmap_parse(bad[i], &back, &err), -EINVAL);
	assert_int_equal(zk_idmap_parse(NULL, &back, &err), -EINVAL);
}

static void
test_config_round_trip(void **state)
{
	(void)state;
	zk_idmap m = { .base = 1074003968, .count = 65536 }, back;
	zk_error err = { 0 };
	json_t *cfg = json_pack("{s:s}", "uuid", UUID_A);
	assert_int_equal(zk_idmap_from_config(cfg, &back, &err), -ENOENT);
	zk_idmap_to_config(cfg, &m);
	assert_int_equal(zk_idmap_from_config(cfg, &back, &err), 0);
	assert_int_equal(back.base, m.base);
	/* hand-edited so that they differ: refused, not half honoured */
	json_object_set_new(cfg, "gid_map", json_string("0 1074069504 65536"));
	assert_int_equal(zk_idmap_from_config(cfg, &back, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "differ"));
	json_decref(cfg);
}

static void
test_ranges_are_disjoint_and_given_back(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_idmap a, b, again;
	make_dataset(f, UUID_A);
	make_dataset(f, UUID_B);
	assert_int_equal(zk_idmap_alloc(&f->paths, UUID_A, &a, &err), 0);
	assert_int_equal(zk_idmap_alloc(&f->paths, UUID_B, &b, &err), 0);
	assert_int_equal(a.count, ZK_IDMAP_COUNT);
	assert_true(a.base >= ZK_IDMAP_FIRST && b.base >= ZK_IDMAP_FIRST);
	assert_true(a.base + a.count <= b.base || b.base + b.count <= a.base);
	assert_true(a.base + a.count <= ZK_IDMAP_FIRST +
	    ZK_IDMAP_SLOTS * ZK_IDMAP_COUNT);
	/* the same zone asking again keeps its range */
	assert_int_equal(zk_idmap_alloc(&f->paths, UUID_A, &again, &err), 0);
	assert_int_equal(again.base, a.base);
	/* B cannot give back A's range */
	assert_int_equal(zk_idmap_release(&f->paths, UUID_B, &a, &err), 0);
	zk_idmap c;
	make_dataset(f, "0000beef-2222-47e2-8b31-b26eadfc0746");
	assert_int_equal(zk_idmap_alloc(&f->paths,
	    "0000beef-2222-47e2-8b31-b26eadfc0746", &c, &err), 0);
	assert_true(c.base != a.base && c.base != b.base);
	/* once A gives it back, the next zone may have it */
	assert_int_equal(zk_idmap_release(&f->paths, UUID_A, &a, &err), 0);
	make_dataset(f, "0000beef-3333-47e2-8b31-b26eadfc0746");
	assert_int_equal(zk_idmap_alloc(&f->paths,
	    "0000beef-3333-47e2-8b31-b26eadfc0746", &c, &err), 0);
	assert_int_equal(c.base, a.base);
}

static void
test_stale_slot_is_taken_again(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_idmap a, b;
	make_dataset(f, UUID_A);
	assert_int_equal(zk_idmap_alloc(&f->paths, UUID_A, &a, &err), 0);
	/* the dataset went away without a delete (a pool removed by hand) */
	remove_dataset(f, UUID_A);
	make_dataset(f, UUID_B);
	assert_int_equal(zk_idmap_alloc(&f->paths, UUID_B, &b, &err), 0);
	assert_int_equal(b.base, a.base);
}

static void
test_release_of_foreign_range_is_harmless(void **state)
{
	fixture *f = *state;
	zk_error err = { 0 };
	zk_idmap odd = { .base = 100000, .count = 65536 };
	assert_int_equal(zk_idmap_release(&f->paths, UUID_A, &odd, &err), 0);
	odd.base = ZK_IDMAP_FIRST + 5;
	assert_int_equal(zk_idmap_release(&f->paths, UUID_A, &odd, &err), 0);
}

/* ---- shift ------------------------------------------------------------- */

static void
touch(const char *dir, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chown(path, uid, gid), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static struct stat
lstat_of(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(lstat(path, &st), 0);
	return st;
}

static void
test_shift_moves_ids_keeps_modes_and_links(void **state)
{
	fixture *f = *state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	char delta[PATH_MAX], outside[PATH_MAX], sub[PATH_MAX];
	snprintf(delta, sizeof(delta), "%s/delta", f->dir);
	snprintf(outside, sizeof(outside), "%s/outside", f->dir);
	snprintf(sub, sizeof(sub), "%s/home", delta);
	assert_int_equal(mkdir(delta, 0700), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	touch(f->dir, "outside", 0644, 0, 0);
	touch(delta, "suid", 04755, 0, 0);
	touch(sub, "user", 0640, 1000, 1001);
	touch(delta, "big", 0644, 70000, 70000);	/* beyond the range */
	char link[PATH_MAX];
	snprintf(link, sizeof(link), "%s/escape", delta);
	assert_int_equal(symlink(outside, link), 0);
	zk_idmap m = { .base = ZK_IDMAP_FIRST, .count = ZK_IDMAP_COUNT };
	zk_error err = { 0 };
	for (int pass = 0; pass < 2; pass++) {	/* a second run changes nothing */
		assert_int_equal(zk_idshift_tree(delta, &m, &err), 0);
		struct stat st = lstat_of(delta, "suid");
		assert_int_equal(st.st_uid, m.base);
		assert_int_equal(st.st_mode & 07777, 04755);
		st = lstat_of(sub, "user");
		assert_int_equal(st.st_uid, m.base + 1000);
		assert_int_equal(st.st_gid, m.base + 1001);
		assert_int_equal(lstat_of(delta, "home").st_uid, m.base);
		assert_int_equal(lstat_of(f->dir, "delta").st_uid, m.base);
		assert_int_equal(lstat_of(delta, "big").st_uid, 70000);
		/* the link itself moved, never what it points at */
		assert_int_equal(lstat_of(delta, "escape").st_uid, m.base);
		assert_int_equal(lstat_of(f->dir, "outside").st_uid, 0);
	}
}

static void
test_shift_of_missing_tree_names_it(void **state)
{
	fixture *f = *state;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/nope", f->dir);
	zk_idmap m = { .base = ZK_IDMAP_FIRST, .count = ZK_IDMAP_COUNT };
	zk_error err = { 0 };
	assert_int_equal(zk_idshift_tree(path, &m, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_parse),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test_setup_teardown(
		    test_ranges_are_disjoint_and_given_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_slot_is_taken_again,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_release_of_foreign_range_is_harmless, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_shift_moves_ids_keeps_modes_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_shift_of_missing_tree_names_it, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
