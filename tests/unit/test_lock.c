/*
 * Named locks (util/lock.h) whose files their holder may remove: a waiter
 * blocked on a removed file must not end up holding it while another
 * takes the path's new file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/lock.h"

static zk_paths paths;

static int
setup(void **state)
{
	(void)state;
	memset(&paths, 0, sizeof(paths));
	char tmpl[] = "/tmp/zk-lock-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(paths.rundir, sizeof(paths.rundir), "%s", tmpl);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return zk_rm_rf(paths.rundir, NULL) < 0 ? -1 : 0;
}

static char *
lock_file(const char *name, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/locks/%s.lock", paths.rundir, name);
	return buf;
}

static bool
holds_path(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void
test_remove_takes_the_file_away(void **state)
{
	(void)state;
	char path[PATH_MAX];
	zk_error err = { 0 };
	int fd;
	assert_int_equal(zk_zone_lock(&paths, "zone-a", &fd, &err), 0);
	assert_true(holds_path(fd, lock_file("zone-a", path)));
	assert_int_equal(zk_zone_lock_remove(&paths, "zone-a", fd, &err), 0);
	close(fd);
	assert_int_equal(access(path, F_OK), -1);
	/* and the next taker makes a new one */
	assert_int_equal(zk_zone_lock(&paths, "zone-a", &fd, &err), 0);
	assert_true(holds_path(fd, path));
	close(fd);
}

/* A file at the path that is not the one held is not removed. */
static void
test_remove_leaves_another_file(void **state)
{
	(void)state;
	char path[PATH_MAX];
	zk_error err = { 0 };
	int fd;
	assert_int_equal(zk_lock(&paths, "img", false, &fd, &err), 0);
	lock_file("img", path);
	assert_int_equal(unlink(path), 0);
	int other = open(path, O_CREAT | O_RDWR, 0600);
	assert_true(other >= 0);
	assert_int_equal(zk_lock_remove(&paths, "img", fd, &err), 0);
	assert_int_equal(access(path, F_OK), 0);
	close(other);
	close(fd);
}

/*
 * The race: a child waits on the lock file; the holder removes it and
 * lets go.  The child must come back holding the path's (new) file, not
 * the removed one, or two processes would hold "the" lock at once.
 */
static void
test_waiter_on_a_removed_file_starts_again(void **state)
{
	(void)state;
	char path[PATH_MAX];
	zk_error err = { 0 };
	int fd;
	assert_int_equal(zk_zone_lock(&paths, "zone-b", &fd, &err), 0);
	lock_file("zone-b", path);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int held;
		close(fd);	/* the parent's hold, shared by the fork */
		if (zk_zone_lock(&paths, "zone-b", &held, NULL) < 0)
			_exit(2);
		_exit(holds_path(held, path) ? 0 : 1);
	}
	usleep(200000);		/* the child is blocked in flock by now */
	assert_int_equal(zk_zone_lock_remove(&paths, "zone-b", fd, &err), 0);
	close(fd);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Shared holders (image holds) take the same care. */
static void
test_shared_locks_share(void **state)
{
	(void)state;
	zk_error err = { 0 };
	int a, b;
	assert_int_equal(zk_lock(&paths, "image-x", true, &a, &err), 0);
	assert_int_equal(zk_lock(&paths, "image-x", true, &b, &err), 0);
	assert_int_equal(flock(a, LOCK_EX | LOCK_NB), -1);
	close(a);
	close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_remove_takes_the_file_away,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_leaves_another_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_waiter_on_a_removed_file_starts_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_locks_share, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
