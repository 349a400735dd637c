/* Process records that survive a zoneadmd restart, safe against pid reuse. */
#ifndef ZK_PROC_H
#define ZK_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/error.h"

/* Start time of a process in clock ticks since boot (field 22 of stat). */
int zk_proc_starttime(pid_t pid, uint64_t *ticks);

/* Write "<pid> <starttime>\n" atomically to path. */
int zk_pidfile_write(const char *path, pid_t pid, zk_error *err);
/*
 * Read a pid file and check that the same process still runs (same start
 * time).  Returns 0 with *pid set, -ENOENT if the file is missing, -ESRCH if
 * that process is gone.
 */
int zk_pidfile_read_live(const char *path, pid_t *pid);

int zk_pidfd_open(pid_t pid);

/*
 * fork() with clone flags (namespaces; CLONE_PIDFD fills *pidfd) and, when
 * cgroup_fd >= 0, birth inside that cgroup2 directory (CLONE_INTO_CGROUP),
 * which costs no migration later.  *into tells whether that happened:
 * kernels before 5.7 refuse the flag, and where clone3 is missing (some
 * sandboxes, valgrind) clone(2) is used without it.  Returns like fork().
 */
pid_t zk_clone(uint64_t flags, int *pidfd, int cgroup_fd, bool *into);
int zk_pidfd_send_signal(int pidfd, int sig);

/* Send one fd over a unix socket with a one-byte tag. */
int zk_send_fd(int sock, char tag, int fd);
/*
 * Receive one message (up to len bytes) and the fd riding with it, if any
 * (*fd = -1 otherwise).  Returns the byte count, 0 at end of stream, or a
 * negative errno.
 */
ssize_t zk_recv_msg(int sock, char *buf, size_t len, int *fd);

#endif
