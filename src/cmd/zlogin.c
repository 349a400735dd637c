/*
 * zlogin: run a command, or a shell, inside a running zone; -C attaches to
 * the zone console.  A front end over zone_exec.h (entering the zone
 * through its init's pidfd, without zoneadmd) and console.h.  The exit
 * status is the command's (128+N if killed by signal N); 1 when zlogin
 * itself fails, 2 on usage errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/paths.h"
#include "util/uuid.h"
#include "vm/console.h"
#include "zone/zone_exec.h"

static void
usage(void)
{
	fprintf(stderr, "Usage: zlogin [-C] <zone uuid> [command ...]\n");
	exit(2);
}

static int
fail(const zk_error *err)
{
	fprintf(stderr, "zlogin: %s\n", err->msg);
	return 1;
}

int
main(int argc, char *argv[])
{
	bool want_console = false;
	int opt;
	/* "+": options end at the zone name; the rest is the command. */
	while ((opt = getopt(argc, argv, "+C")) != -1) {
		if (opt != 'C')
			usage();
		want_console = true;
	}
	if (optind >= argc)
		usage();
	const char *uuid = argv[optind++];
	if (!zk_uuid_valid(uuid)) {
		fprintf(stderr, "zlogin: invalid zone uuid \"%s\"\n", uuid);
		usage();
	}
	if (want_console && optind != argc)
		usage();
	zk_paths p;
	zk_error err = { 0 };
	if (zk_paths_from_env(&p, &err) < 0)
		return fail(&err);
	if (want_console) {
		if (zk_console_attach(&p, uuid, STDIN_FILENO, STDOUT_FILENO,
		    stderr, &err) < 0)
			return fail(&err);
		return 0;
	}
	zk_exec_opts o = {
		.argc = argc - optind, .argv = argv + optind,
		.tty = optind == argc && isatty(STDIN_FILENO),
		.term = getenv("TERM"),
		.in = STDIN_FILENO, .out = STDOUT_FILENO, .err = STDERR_FILENO,
	};
	int status;
	if (zk_zone_exec(&p, uuid, &o, &status, &err) < 0)
		return fail(&err);
	return status;
}
