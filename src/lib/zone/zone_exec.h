/*
 * Running a process in a running zone, as zlogin does (crun has
 * libcrun_container_exec): a non-dumpable helper enters the zone
 * (zone_enter.h) and forks the zone's process, which alone joins the
 * zone's cgroups and user namespace, takes its stdio (a pty of the zone's
 * own devpts, or pipes the caller's side owns), keeps no other fd, takes
 * the zone's privileges and executes /bin/sh.  This side never enters the
 * zone: it relays the stdio and waits.
 */
#ifndef ZK_ZONE_EXEC_H
#define ZK_ZONE_EXEC_H

#include <stdbool.h>
#include "util/error.h"
#include "util/paths.h"

typedef struct zk_exec_opts {
	/*
	 * The command, as zlogin's operands: one is handed to the zone's
	 * `sh -c` as it is, several are each quoted and joined so the shell
	 * sees those words.  None (argc 0): a shell reading stdin, a login
	 * shell with tty.
	 */
	int argc;
	char *const *argv;
	/* A pty of the zone's devpts, relayed to in/out in raw mode with
	 * "~." to leave; else three pipes relayed to in, out and err. */
	bool tty;
	const char *term;	/* TERM for the zone's process, or NULL */
	int in, out, err;	/* the caller's side of the relay */
} zk_exec_opts;

/*
 * Run it and relay until it exits; *status is its exit status, 128 + N if
 * it was killed by signal N, 127 when /bin/sh could not be executed in
 * the zone.  A failure to enter the zone or to set the process up comes
 * back as an error, whichever process it happened in.  -ESRCH when the
 * zone is not running.
 */
int zk_zone_exec(const zk_paths *p, const char *uuid, const zk_exec_opts *o,
    int *status, zk_error *err);

#endif
