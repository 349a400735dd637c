/*
 * Interactive terminal relay for zlogin, zlogin -C and vmadm console: put
 * the local tty in raw mode, copy bytes both ways between the local
 * terminal and `fd`, and leave on "~." typed at the start of a line
 * (the illumos console escape).  Restores the terminal on every exit path.
 */
#ifndef ZK_RELAY_H
#define ZK_RELAY_H

#include <stdbool.h>
#include "util/error.h"

typedef struct zk_relay_opts {
	bool escape;		/* honour "~." at line start */
	/* Called when the local window size changes (may be NULL); the
	 * interactive zlogin uses it to resize the zone-side pty. */
	void (*winch)(void *arg, unsigned short rows, unsigned short cols);
	void *winch_arg;
} zk_relay_opts;

/*
 * Relay until the peer closes `fd` (returns 0), the user types the escape
 * (returns 1), or an error.  in/out are the local terminal fds.
 */
int zk_relay_run(int in, int out, int fd, const zk_relay_opts *opts,
    zk_error *err);

#endif
