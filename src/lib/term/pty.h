/*
 * Ptys of a zone's own devpts, taken from inside the zone's mount
 * namespace, where every path is the tenant's: nothing here follows a
 * link or trusts a name.  The master is checked to be a devpts ptmx and
 * the slave is its peer (TIOCGPTPEER), never a path looked up again.
 */
#ifndef ZK_PTY_H
#define ZK_PTY_H

#include "util/error.h"

/* A new pty from the caller's root's /dev/pts/ptmx; both fds O_CLOEXEC. */
int zk_pty_open(int *master, int *slave, zk_error *err);

/* Bind the open file fd over path (made if missing), both resolved
 * inside the caller's root without following links. */
int zk_bind_fd_over(int fd, const char *path, zk_error *err);

#endif
