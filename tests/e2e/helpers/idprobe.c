/*
 * Runs inside a zone, for the id cases of the isolation battery
 * (test_isolation.py).  Built static, so it needs nothing from the image.
 *
 *   idprobe euid                  print the effective uid
 *   idprobe as UID PROG ARGS...   drop to UID (all ids), then exec PROG
 *   idprobe inotify N             open up to N inotify instances, print how
 *                                 many opened, hold them until stdin closes
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static int
hold_inotify(int n)
{
	int opened = 0;
	for (int i = 0; i < n; i++) {
		if (inotify_init1(IN_CLOEXEC) < 0)
			break;
		opened++;
	}
	printf("%d\n", opened);
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "euid") == 0) {
		printf("%d\n", (int)geteuid());
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "as") == 0) {
		uid_t id = (uid_t)atoi(argv[2]);
		if (setgroups(0, NULL) < 0 || setresgid(id, id, id) < 0 ||
		    setresuid(id, id, id) < 0) {
			perror("idprobe: drop");
			return 1;
		}
		execv(argv[3], argv + 3);
		perror("idprobe: exec");
		return 127;
	}
	if (argc == 3 && strcmp(argv[1], "inotify") == 0)
		return hold_inotify(atoi(argv[2]));
	fprintf(stderr, "usage: idprobe euid | as UID PROG... | inotify N\n");
	return 2;
}
