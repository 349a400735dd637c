/*
 * naive_snapshot: the "no kstats" way to learn what every zone uses.
 *
 *   naive_snapshot <memory-cgroup-dir-of-the-zones'-parent>
 *
 * For each zone cgroup below the directory: read cgroup.procs (nested
 * cgroups too), then /proc/<pid>/smaps_rollup of every process, and sum Rss
 * and Pss.  Prints one line per zone: "<name> <nprocs> <rss_kib> <pss_kib>".
 *
 * bench/run compiles it (cc -O2) and times one pass, to compare with
 * `kstat -p` and `zonememstat` over the same zones.  Built separately so
 * the comparison is C against C, not Python against C.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sums {
	long procs, rss, pss;
};

static void
add_pid(long pid, struct sums *s)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* exited meanwhile */
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	s->procs++;
	for (char *line = buf; line != NULL && *line != '\0'; ) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "Rss:", 4) == 0)
			s->rss += strtol(line + 4, NULL, 10);
		else if (strncmp(line, "Pss:", 4) == 0)
			s->pss += strtol(line + 4, NULL, 10);
		line = next;
	}
}

static void
walk(const char *dir, struct sums *s)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (f != NULL) {
		long pid;
		while (fscanf(f, "%ld", &pid) == 1)
			add_pid(pid, s);
		fclose(f);
	}
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		walk(path, s);
	}
	closedir(d);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: naive_snapshot <cgroup-dir>\n");
		return 2;
	}
	DIR *d = opendir(argv[1]);
	if (d == NULL) {
		perror(argv[1]);
		return 1;
	}
	struct dirent *de;
	char path[4096];
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		struct sums s = { 0 };
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		walk(path, &s);
		printf("%s %ld %ld %ld\n", de->d_name, s.procs, s.rss, s.pss);
	}
	closedir(d);
	return 0;
}
