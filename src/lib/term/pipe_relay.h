/*
 * Non-interactive zlogin: the zone's process gets pipes zlogin owns as its
 * stdin, stdout and stderr, never the caller's own files or terminal.
 * This relays the caller's stdin into the first and the other two out,
 * until both reach end of file, or the process has exited (done_fd, a
 * pidfd, becomes readable) and what it wrote before exiting is drained:
 * a daemon the command left running holds the pipes open, and zlogin
 * must not wait for it.
 */
#ifndef ZK_PIPE_RELAY_H
#define ZK_PIPE_RELAY_H

#include "util/error.h"

typedef struct zk_pipe_relay {
	int in_src, in_dst;	/* caller's stdin -> zone's stdin pipe */
	int out_src, out_dst;	/* zone's stdout pipe -> caller's stdout */
	int err_src, err_dst;	/* zone's stderr pipe -> caller's stderr */
	int done_fd;		/* readable once the zone's process is gone */
} zk_pipe_relay;

/* Closes in_dst, out_src and err_src. */
int zk_pipe_relay_run(zk_pipe_relay *r, zk_error *err);

#endif
