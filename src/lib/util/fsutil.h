/* File-system helpers shared by every module. */
#ifndef ZK_FSUTIL_H
#define ZK_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"

/* Write a whole file atomically: tmp in the same dir, fsync, rename, fsync dir. */
int zk_write_file_atomic(const char *path, const char *data, size_t len,
    mode_t mode, zk_error *err);
/*
 * Replace a file atomically (readers see the old or the new content) but
 * without fsync: for run-time state that means nothing after a host
 * reboot (pid files, zone state), where each fsync costs milliseconds.
 */
int zk_write_file_replace(const char *path, const char *data, size_t len,
    mode_t mode, zk_error *err);
/* fsync a directory, so the entries just renamed or created in it last. */
int zk_fsync_dir(const char *dir, zk_error *err);
/* write(2) until all of data is written (EINTR retried); -errno. */
int zk_write_all(int fd, const char *data, size_t len);
/* Write (truncating) a small file such as a cgroup knob; no atomicity. */
int zk_write_file(const char *path, const char *data, zk_error *err);
/* Read a whole file into a NUL-terminated malloc'd buffer. */
int zk_read_file(const char *path, char **out, size_t *len, zk_error *err);
/* mkdir -p; existing directories are fine. */
int zk_mkdir_p(const char *path, mode_t mode, zk_error *err);
/*
 * rm -rf that never follows symlinks and never leaves the file system it
 * starts on (a zone's mount points must not drag host files with them).
 * A missing path is not an error.
 */
int zk_rm_rf(const char *path, zk_error *err);
bool zk_path_exists(const char *path);

/* openat2(2); resolve is RESOLVE_* (linux/openat2.h).  -1 with errno. */
int zk_openat2(int dirfd, const char *path, int flags, mode_t mode,
    unsigned long long resolve);

/*
 * Open a path a tenant controls (inside a zone's root, as seen by the
 * caller's root or by dirfd): no symlink or magic link is followed and
 * nothing resolves outside.  -1 with errno.
 */
int zk_open_in_root(int dirfd, const char *path, int flags, mode_t mode);

#endif
