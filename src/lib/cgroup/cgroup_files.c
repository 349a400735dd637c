/*
 * The file helpers both cgroup backends share (cgroup_backend.h): knob
 * files read through the handle's kept descriptors, written, parsed;
 * cgroup directories made and removed; membership lists read and opened
 * for joining; the device program attached; time for their waits.
 */
#include "cgroup/cgroup_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/device_policy.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fsutil.h"

#define RMDIR_POLL_MS	10

/* ---- small helpers shared with the backends ---- */

int64_t
zk_cg_now_ms(void)
{
	return (int64_t)(zk_now_ns() / 1000000);
}

void
zk_cg_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
zk_cg_sleep_ms(int ms)
{
	zk_cg_sleep_us((long)ms * 1000);
}

char *
zk_cg_join(char *buf, const char *base, const char *rel)
{
	if (rel[0] == '\0')
		snprintf(buf, PATH_MAX, "%s", base);
	else
		snprintf(buf, PATH_MAX, "%s/%s", base, rel);
	return buf;
}

bool
zk_cg_exists(const char *dir, const char *file)
{
	char path[PATH_MAX];
	return zk_path_exists(zk_cg_join(path, dir, file));
}

int
zk_cg_write(const char *dir, const char *file, const char *value,
    zk_error *err)
{
	char path[PATH_MAX];
	/* zk_write_file never creates: a typo must not litter a cgroupfs. */
	return zk_write_file(zk_cg_join(path, dir, file), value, err);
}

int
zk_cg_set_frozen(zk_cgroup *cg, const char *dir, const char *file,
    const char *on, const char *off, bool frozen, int timeout_ms,
    int (*wait)(zk_cgroup *cg, const char *dir, int timeout_ms,
    zk_error *err), zk_error *err)
{
	int r = zk_cg_write(dir, file, frozen ? on : off, err);
	if (r < 0 || !frozen)
		return r;
	if ((r = wait(cg, dir, timeout_ms, err)) < 0) {
		zk_error ignored = { 0 };
		(void)zk_cg_write(dir, file, off, &ignored);
	}
	return r;
}

/* ---- kept files (cgroup_backend.h) ---- */

/* Their iterator state lives in the open file: always read afresh. */
static bool
keepable(const char *file)
{
	return strcmp(file, "cgroup.procs") != 0 &&
	    strcmp(file, "tasks") != 0 && strcmp(file, "cgroup.threads") != 0;
}

static zk_cg_kept *
kept_find(zk_cgroup *cg, const char *path)
{
	for (size_t i = 0; i < ZK_CG_KEEP_MAX; i++)
		if (cg->kept[i].path != NULL &&
		    strcmp(cg->kept[i].path, path) == 0)
			return &cg->kept[i];
	return NULL;
}

static void
kept_drop(zk_cg_kept *k)
{
	close(k->fd);
	free(k->path);
	k->path = NULL;
	k->fd = -1;
}

/* Takes *fd when there is room; a full table only costs the saving. */
static void
kept_add(zk_cgroup *cg, const char *path, int *fd)
{
	for (size_t i = 0; i < ZK_CG_KEEP_MAX; i++) {
		zk_cg_kept *k = &cg->kept[i];
		if (k->path != NULL)
			continue;
		if ((k->path = strdup(path)) != NULL)
			k->fd = TAKE_FD(*fd);
		return;
	}
}

void
zk_cg_forget(zk_cgroup *cg)
{
	for (size_t i = 0; i < ZK_CG_KEEP_MAX; i++)
		if (cg->kept[i].path != NULL)
			kept_drop(&cg->kept[i]);
}

/*
 * The whole text in one read from offset 0, so it is one snapshot; a
 * buffer it fills is too small, and the read is repeated with a bigger one.
 */
#define KEPT_READ_MIN	4096
#define KEPT_READ_MAX	(1 << 20)

static int
pread_text(int fd, char **out)
{
	for (size_t cap = KEPT_READ_MIN; cap <= KEPT_READ_MAX; cap *= 2) {
		_cleanup_free_ char *buf = malloc(cap);
		if (buf == NULL)
			return -ENOMEM;
		ssize_t n;
		while ((n = pread(fd, buf, cap - 1, 0)) < 0 && errno == EINTR)
			;
		if (n < 0)
			return -errno;
		if ((size_t)n < cap - 1) {
			buf[n] = '\0';
			*out = TAKE_PTR(buf);
			return 0;
		}
	}
	return -EFBIG;
}

int
zk_cg_read_once(const char *dir, const char *file, char **out, zk_error *err)
{
	char path[PATH_MAX];
	return zk_read_file(zk_cg_join(path, dir, file), out, NULL, err);
}

int
zk_cg_read(zk_cgroup *cg, const char *dir, const char *file, char **out,
    zk_error *err)
{
	char path[PATH_MAX];
	if (!keepable(file))
		return zk_cg_read_once(dir, file, out, err);
	zk_cg_join(path, dir, file);
	zk_cg_kept *k = kept_find(cg, path);
	if (k != NULL) {
		if (pread_text(k->fd, out) == 0)
			return 0;
		/* ENODEV: the cgroup was removed, and may have been made
		 * again since.  The path tells which (-ENOENT if gone). */
		kept_drop(k);
	}
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open %s", path);
	int r = pread_text(fd, out);
	if (r < 0)
		return zk_fail_errno(err, -r, "cannot read %s", path);
	kept_add(cg, path, &fd);
	return 0;
}

bool
zk_cg_has(zk_cgroup *cg, const char *dir, const char *file)
{
	char path[PATH_MAX];
	zk_cg_join(path, dir, file);
	return kept_find(cg, path) != NULL || zk_path_exists(path);
}

static int
parse_u64(const char *s, uint64_t *v)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "max", 3) == 0 && (s[3] == '\0' || s[3] == '\n')) {
		*v = UINT64_MAX;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '\n' && *end != ' '))
		return -EINVAL;
	*v = x;
	return 0;
}

int
zk_cg_read_u64(zk_cgroup *cg, const char *dir, const char *file, uint64_t *v,
    zk_error *err)
{
	_cleanup_free_ char *s = NULL;
	int r = zk_cg_read(cg, dir, file, &s, err);
	if (r < 0)
		return r;
	if (parse_u64(s, v) < 0)
		return zk_fail(err, EINVAL, "%s/%s: not a number: \"%.32s\"",
		    dir, file, s);
	return 0;
}

int
zk_cg_read_key(zk_cgroup *cg, const char *dir, const char *file,
    const char *key, uint64_t *v, zk_error *err)
{
	_cleanup_free_ char *s = NULL;
	int r = zk_cg_read(cg, dir, file, &s, err);
	if (r < 0)
		return r;
	size_t klen = strlen(key);
	for (char *line = s; line != NULL && *line != '\0'; ) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			if (parse_u64(line + klen + 1, v) < 0)
				return zk_fail(err, EINVAL,
				    "%s/%s: bad value for %s", dir, file, key);
			return 0;
		}
		line = next;
	}
	return zk_fail(err, ENOENT, "%s/%s: no \"%s\" line", dir, file, key);
}

int
zk_cg_read_key_opt(zk_cgroup *cg, const char *dir, const char *file,
    const char *key, uint64_t *v, zk_error *err)
{
	int r = zk_cg_read_key(cg, dir, file, key, v, err);
	if (r == -ENOENT && zk_cg_has(cg, dir, file)) {
		zk_error_clear(err);
		*v = 0;
		return 0;
	}
	return r;
}

int
zk_cg_find_key(const char *text, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	for (const char *line = text; *line != '\0'; ) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return parse_u64(line + klen + 1, v);
		const char *next = strchr(line, '\n');
		if (next == NULL)
			break;
		line = next + 1;
	}
	return -ENOENT;
}

uint64_t
zk_cg_stat_key(const char *text, const char *key)
{
	uint64_t v = 0;
	return zk_cg_find_key(text, key, &v) == 0 ? v : 0;
}

int
zk_cg_read_psi_some(zk_cgroup *cg, const char *dir, const char *file,
    uint64_t *total_us, bool *present, zk_error *err)
{
	_cleanup_free_ char *s = NULL;
	*present = false;
	*total_us = 0;
	if (!zk_cg_has(cg, dir, file))
		return 0;
	int r = zk_cg_read(cg, dir, file, &s, err);
	if (r == -ENOENT) {	/* removed since: the zone is going away */
		zk_error_clear(err);
		return 0;
	}
	/* EOPNOTSUPP: the file exists but PSI is off (psi=0). */
	if (r == -EOPNOTSUPP) {
		zk_error_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=12345" */
	const char *t = strncmp(s, "some ", 5) == 0 ? strstr(s, " total=") :
	    NULL;
	if (t == NULL || parse_u64(t + 7, total_us) < 0)
		return zk_fail(err, EINVAL, "%s/%s: no \"some ... total=\"",
		    dir, file);
	*present = true;
	return 0;
}

bool
zk_cg_list_has(const char *list, const char *word)
{
	size_t wlen = strlen(word);
	for (const char *p = list; *p != '\0'; ) {
		p += strspn(p, " \t\n+");
		size_t n = strcspn(p, " \t\n");
		if (n == wlen && strncmp(p, word, n) == 0)
			return true;
		p += n;
	}
	return false;
}

char *
zk_cg_fmt_limit(char buf[32], int64_t v, const char *unlimited)
{
	if (v == ZK_CG_UNLIMITED)
		snprintf(buf, 32, "%s", unlimited);
	else
		snprintf(buf, 32, "%" PRId64, v);
	return buf;
}

void
zk_cg_rmdir_created(const char *base, const char *rel, int created)
{
	char path[PATH_MAX];
	zk_cg_join(path, base, rel);
	for (int i = 0; i < created; i++) {
		rmdir(path);
		char *slash = strrchr(path, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
	}
}

int
zk_cg_mkdir_p(const char *base, const char *rel, int *created, zk_error *err)
{
	char path[PATH_MAX];
	*created = 0;
	if (rel[0] == '\0')
		return 0;
	zk_cg_join(path, base, rel);
	for (char *p = path + strlen(base) + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(path, 0755) == 0) {
			(*created)++;
		} else if (errno != EEXIST) {
			int e = errno;
			/* What we made so far are the trailing components of
			 * the prefix that failed: undo them, leave nothing. */
			if (*created > 0) {
				char *slash = strrchr(path, '/');
				*slash = '\0';
				zk_cg_rmdir_created(base,
				    path + strlen(base) + 1, *created);
				*slash = '/';
				*created = 0;
			}
			return zk_fail_errno(err, e, "cannot create cgroup %s",
			    path);
		}
		*p = saved;
		if (saved == '\0')
			return 0;
	}
}

/* Child cgroups only: never follow a symlink out of the tree. */
static bool
is_subdir(DIR *d, const struct dirent *de)
{
	struct stat st;
	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		return false;
	if (de->d_type != DT_UNKNOWN)	/* saves a stat per knob file */
		return de->d_type == DT_DIR;
	return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

/* The path of d's next child cgroup (d is dir, open), or NULL. */
static const char *
next_child(DIR *d, const char *dir, char child[PATH_MAX])
{
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (is_subdir(d, de)) {
			snprintf(child, PATH_MAX, "%s/%s", dir, de->d_name);
			return child;
		}
	return NULL;
}

/* One pass, children first; on failure `failed` names the directory. */
static int
rmdir_pass(const char *dir, char *failed)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(failed, PATH_MAX, "%s", dir);
		return -errno;
	}
	char child[PATH_MAX];
	while (next_child(d, dir, child) != NULL) {
		int r = rmdir_pass(child, failed);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	if (rmdir(dir) < 0) {
		snprintf(failed, PATH_MAX, "%s", dir);
		return -errno;
	}
	return 0;
}

int
zk_cg_rmdir_tree(const char *dir, zk_error *err)
{
	int64_t deadline = zk_cg_now_ms() + ZK_CG_RMDIR_TIMEOUT_MS;
	char failed[PATH_MAX];
	for (;;) {
		int r = rmdir_pass(dir, failed);
		if (r == 0 || (r == -ENOENT && strcmp(failed, dir) == 0))
			return 0;
		/* EBUSY: tasks that were killed have not left yet. */
		if (r != -EBUSY || zk_cg_now_ms() >= deadline)
			return zk_fail_errno(err, -r, "cannot remove cgroup %s",
			    failed);
		zk_cg_sleep_ms(RMDIR_POLL_MS);
	}
}

static int
append_pid(pid_t **pids, size_t *n, size_t *cap, pid_t pid)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		pid_t *t = realloc(*pids, ncap * sizeof(pid_t));
		if (t == NULL)
			return -ENOMEM;
		*pids = t;
		*cap = ncap;
	}
	(*pids)[(*n)++] = pid;
	return 0;
}

static int
read_procs_file(const char *dir, pid_t **pids, size_t *n, size_t *cap,
    zk_error *err)
{
	_cleanup_free_ char *s = NULL;
	int r = zk_cg_read_once(dir, "cgroup.procs", &s, err);
	if (r < 0)
		return r;
	for (char *p = s; *p != '\0'; ) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0 && append_pid(pids, n, cap, (pid_t)v) < 0)
			return zk_fail(err, ENOMEM, "out of memory");
		p = end + strspn(end, "\n ");
	}
	return 0;
}

static int
read_procs_tree(const char *dir, pid_t **pids, size_t *n, size_t *cap,
    bool top, zk_error *err)
{
	int r = read_procs_file(dir, pids, n, cap, err);
	if (r < 0)
		/* A child without cgroup.procs is not a cgroup, or it is
		 * being removed right now: either way it holds nobody. */
		return top || r != -ENOENT ? r : 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (d == NULL)
		return top || errno != ENOENT ? zk_fail_errno(err, errno,
		    "cannot list %s", dir) : 0;
	char child[PATH_MAX];
	while (next_child(d, dir, child) != NULL)
		if ((r = read_procs_tree(child, pids, n, cap, false, err)) < 0)
			return r;
	return 0;
}

int
zk_cg_read_procs(const char *dir, pid_t **pids, size_t *n, zk_error *err)
{
	_cleanup_free_ pid_t *list = NULL;
	size_t cnt = 0, cap = 0;
	int r = read_procs_tree(dir, &list, &cnt, &cap, true, err);
	if (r < 0)
		return r;
	*pids = TAKE_PTR(list);
	*n = cnt;
	return 0;
}

int
zk_cg_attach_device_prog(zk_cgroup *cg, const char *dir, zk_error *err)
{
	struct statfs sfs;
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstatfs(fd, &sfs) < 0)
		return zk_fail_errno(err, errno, "cannot open cgroup %s", dir);
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		cg->devprog = ZK_CG_DEVPROG_SKIPPED;
		snprintf(cg->devprog_why, sizeof(cg->devprog_why), "%s is not "
		    "on a cgroup2 file system", dir);
		return 0;
	}
	int r = zk_device_prog_attach(fd, dir, err);
	if (r == 0)
		cg->devprog = ZK_CG_DEVPROG_ATTACHED;
	return r;
}

int
zk_cg_add_procs(zk_cgroup_procs *procs, const char *dir, const char *file,
    unsigned how, zk_error *err)
{
	char path[PATH_MAX];
	bool optional = (how & ZK_CG_ADD_OPTIONAL) != 0;
	if (procs->n == ZK_CG_PROCS_MAX)
		return zk_fail(err, E2BIG, "too many hierarchies at %s", dir);
	int fd = open(zk_cg_join(path, dir, file), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return optional ? 0 : zk_fail_errno(err, errno, "cannot open %s",
		    path);
	procs->fd[procs->n] = fd;
	procs->optional[procs->n] = optional;
	procs->cgroup2[procs->n++] = (how & ZK_CG_ADD_CGROUP2) != 0;
	if (!procs->self || !(how & ZK_CG_ADD_CGROUP2) || procs->dir_fd >= 0)
		return 0;
	procs->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procs->dir_fd < 0 && !optional)
		return zk_fail_errno(err, errno, "cannot open %s", dir);
	return 0;
}
