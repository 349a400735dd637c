/*
 * Files of a fake cgroupfs under a test's root.  Include after cmocka.h.
 * Writes are in place, like kernfs: a cgroup handle keeps statistics files
 * open and re-reads them, and fopen "w" truncates the same inode.
 */
#ifndef ZK_TEST_FAKE_TREE_H
#define ZK_TEST_FAKE_TREE_H

#include <limits.h>
#include <stdio.h>

#include "util/fsutil.h"

static inline void
fake_put(const char *root, const char *rel, const char *content)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static inline void
fake_mkdirs(const char *root, const char *rel)
{
	char path[PATH_MAX];
	zk_error err = { 0 };
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(zk_mkdir_p(path, 0755, &err), 0);
}

#endif
