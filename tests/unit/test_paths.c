/* Paths from the environment, UUID rules, fault points, pid records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fault.h"
#include "util/paths.h"
#include "util/proc.h"
#include "util/uuid.h"

static void
clear_env(void)
{
	unsetenv("ZONEKIT_ROOT");
	unsetenv("ZONEKIT_RUNDIR");
	unsetenv("ZONEKIT_CGROUP_PARENT");
	unsetenv("ZONEKIT_CGROUP_ROOT");
	unsetenv("ZONEKIT_IDMAP_DIR");
}

static void
test_defaults(void **state)
{
	(void)state;
	clear_env();
	zk_paths p;
	zk_error err = { 0 };
	assert_int_equal(zk_paths_from_env(&p, &err), 0);
	assert_string_equal(p.root, "/zones");
	assert_string_equal(p.rundir, "/run/zonekit");
	assert_string_equal(p.cgroup_parent, "zonekit");
	assert_string_equal(p.cgroup_root, "/sys/fs/cgroup");
	assert_string_equal(p.idmap_dir, "/var/lib/zonekit/idmap");
	char buf[PATH_MAX];
	const char *u = "87b5509f-7c02-47e2-8b31-b26eadfc0746";
	assert_string_equal(zk_path_config(&p, u, buf),
	    "/zones/config/87b5509f-7c02-47e2-8b31-b26eadfc0746.json");
	assert_string_equal(zk_path_run_file(&p, u, "init", buf),
	    "/run/zonekit/87b5509f-7c02-47e2-8b31-b26eadfc0746/init");
	assert_string_equal(zk_path_image(&p, u, buf),
	    "/zones/images/87b5509f-7c02-47e2-8b31-b26eadfc0746");
	assert_string_equal(zk_path_zone_log(&p, u, buf),
	    "/zones/87b5509f-7c02-47e2-8b31-b26eadfc0746/logs/zoneadmd.log");
}

static void
test_env_overrides_and_trailing_slash(void **state)
{
	(void)state;
	clear_env();
	setenv("ZONEKIT_ROOT", "/tmp/pool/", 1);
	setenv("ZONEKIT_CGROUP_PARENT", "test/zones", 1);
	setenv("ZONEKIT_IDMAP_DIR", "/tmp/ids/", 1);
	zk_paths p;
	zk_error err = { 0 };
	assert_int_equal(zk_paths_from_env(&p, &err), 0);
	assert_string_equal(p.root, "/tmp/pool");
	assert_string_equal(p.cgroup_parent, "test/zones");
	assert_string_equal(p.idmap_dir, "/tmp/ids");
	clear_env();
	setenv("ZONEKIT_IDMAP_DIR", "ids", 1);
	assert_int_equal(zk_paths_from_env(&p, &err), -EINVAL);
	clear_env();
}

static void
test_env_rejects(void **state)
{
	(void)state;
	zk_paths p;
	zk_error err = { 0 };
	clear_env();
	setenv("ZONEKIT_ROOT", "relative/pool", 1);
	assert_int_equal(zk_paths_from_env(&p, &err), -EINVAL);
	assert_string_equal(err.msg, "ZONEKIT_ROOT must be an absolute path, "
	    "got \"relative/pool\"");
	clear_env();
	setenv("ZONEKIT_CGROUP_PARENT", "../escape", 1);
	assert_int_equal(zk_paths_from_env(&p, &err), -EINVAL);
	assert_string_equal(err.msg, "ZONEKIT_CGROUP_PARENT must be a relative "
	    "cgroup path without \"..\", got \"../escape\"");
	clear_env();
}

static void
test_uuid_rules(void **state)
{
	(void)state;
	assert_true(zk_uuid_valid("87b5509f-7c02-47e2-8b31-b26eadfc0746"));
	assert_true(zk_uuid_valid("87B5509F-7C02-47E2-8B31-B26EADFC0746"));
	assert_false(zk_uuid_valid(NULL));
	assert_false(zk_uuid_valid(""));
	assert_false(zk_uuid_valid("87b5509f-7c02-47e2-8b31-b26eadfc074"));
	assert_false(zk_uuid_valid("87b5509f-7c02-47e2-8b31-b26eadfc07466"));
	assert_false(zk_uuid_valid("87b5509f7c02-47e2-8b31-b26eadfc07466"));
	assert_false(zk_uuid_valid("87b5509g-7c02-47e2-8b31-b26eadfc0746"));
	char a[37], b[37];
	zk_error err = { 0 };
	assert_int_equal(zk_uuid_generate(a, &err), 0);
	assert_int_equal(zk_uuid_generate(b, &err), 0);
	assert_true(zk_uuid_valid(a));
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');
}

static void
test_fault_points_match_whole_names(void **state)
{
	(void)state;
	zk_error err = { 0 };
	unsetenv("ZONEKIT_FAULT");
	assert_int_equal(zk_fault("boot.clone", &err), 0);
	setenv("ZONEKIT_FAULT", "create.config,boot.clone", 1);
	assert_int_equal(zk_fault("boot.clone", &err), -EIO);
	assert_string_equal(err.msg, "injected fault at boot.clone");
	assert_int_equal(zk_fault("create.config", &err), -EIO);
	assert_int_equal(zk_fault("boot", &err), 0);
	assert_int_equal(zk_fault("clone", &err), 0);
	unsetenv("ZONEKIT_FAULT");
}

static void
test_pidfile_detects_reuse(void **state)
{
	(void)state;
	char path[] = "/tmp/zk-test-pidfile-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	zk_error err = { 0 };
	pid_t pid = 0;
	assert_int_equal(zk_pidfile_write(path, getpid(), &err), 0);
	assert_int_equal(zk_pidfile_read_live(path, &pid), 0);
	assert_int_equal(pid, getpid());
	/* same pid, different start time: a recycled pid is not our process */
	FILE *f = fopen(path, "w");
	fprintf(f, "%d 1\n", (int)getpid());
	fclose(f);
	assert_int_equal(zk_pidfile_read_live(path, &pid), -ESRCH);
	unlink(path);
	assert_int_equal(zk_pidfile_read_live(path, &pid), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_env_overrides_and_trailing_slash),
		cmocka_unit_test(test_env_rejects),
		cmocka_unit_test(test_uuid_rules),
		cmocka_unit_test(test_fault_points_match_whole_names),
		cmocka_unit_test(test_pidfile_detects_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
