/*
 * The cgroup interface: detection, handles, argument checks, kill_all, and
 * the file helpers both backends share.  Everything kernel-specific goes
 * through cg->ops (cgroup_v1.c, cgroup_v2.c).
 */
#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup_backend.h"
#include "cgroup/device_policy.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fsutil.h"

#define KILL_POLL_MS	5
#define KILL_RETRY_MS	250	/* re-signal survivors this often */
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

/* One pass, children first; on failure `failed` names the directory. */
static int
rmdir_pass(const char *dir, char *failed)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(failed, PATH_MAX, "%s", dir);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!is_subdir(d, de))
			continue;
		char child[PATH_MAX];
		snprintf(child, sizeof(child), "%s/%s", dir, de->d_name);
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
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!is_subdir(d, de))
			continue;
		char child[PATH_MAX];
		snprintf(child, sizeof(child), "%s/%s", dir, de->d_name);
		if ((r = read_procs_tree(child, pids, n, cap, false, err)) < 0)
			return r;
	}
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

/* ---- detection and handles ---- */

static bool
has_v1_hierarchy(const char *root)
{
	static const char *const controllers[] = ZK_CG_V1_CONTROLLERS;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(controllers); i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s", root, controllers[i]);
		if (zk_cg_exists(dir, "cgroup.procs"))
			return true;
	}
	return false;
}

int
zk_cgroup_detect(const char *cgroup_root, zk_cgroup_mode *mode,
    zk_error *err)
{
	struct stat st;
	if (stat(cgroup_root, &st) < 0)
		return zk_fail_errno(err, errno, "cannot use cgroup root %s",
		    cgroup_root);
	if (zk_cg_exists(cgroup_root, "cgroup.controllers")) {
		*mode = ZK_CGROUP_V2;
		return 0;
	}
	if (has_v1_hierarchy(cgroup_root)) {
		*mode = ZK_CGROUP_V1;
		return 0;
	}
	return zk_fail(err, ENOTSUP, "%s holds neither a cgroup2 tree nor "
	    "cgroup v1 controller hierarchies", cgroup_root);
}

static int
check_name(const char *name, zk_error *err)
{
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return zk_fail(err, EINVAL, "invalid cgroup name \"%s\"", name);
	return 0;
}

/* Strip slashes at both ends; refuse empty, "." and ".." components so the
 * handle can never point outside <root>/<parent>. */
static int
normalize_parent(const char *parent, char *out, zk_error *err)
{
	while (*parent == '/')
		parent++;
	if (snprintf(out, PATH_MAX, "%s", parent) >= PATH_MAX)
		return zk_fail(err, ENAMETOOLONG, "cgroup parent too long");
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	for (const char *p = out; *p != '\0'; ) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return zk_fail(err, EINVAL, "invalid cgroup parent "
			    "\"%s\"", parent);
		p += len;
		p += *p == '/';
	}
	return 0;
}

static int
fill_handle(zk_cgroup *cg, const char *root, const char *parent,
    const char *name, zk_error *err)
{
	int r;
	if ((r = check_name(name, err)) < 0 ||
	    (r = normalize_parent(parent, cg->parent, err)) < 0)
		return r;
	/* Bound every path built later: root/<hierarchy>/rel/<knob>. */
	if (strlen(root) + strlen(cg->parent) + strlen(name) +
	    2 * ZK_CG_FILE_RESERVE >= PATH_MAX)
		return zk_fail(err, ENAMETOOLONG, "cgroup path too long: "
		    "%s/%s/%s", root, cg->parent, name);
	snprintf(cg->root, PATH_MAX, "%s", root);
	if (cg->parent[0] == '\0')
		snprintf(cg->rel, PATH_MAX, "%s", name);
	else
		snprintf(cg->rel, PATH_MAX, "%s/%s", cg->parent, name);
	return 0;
}

int
zk_cgroup_open(const char *cgroup_root, const char *parent, const char *name,
    zk_cgroup **out, zk_error *err)
{
	zk_cgroup *cg = calloc(1, sizeof(*cg));
	if (cg == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	_cleanup_cgroup_ zk_cgroup *owned = cg;
	int r;
	if ((r = fill_handle(cg, cgroup_root, parent, name, err)) < 0 ||
	    (r = zk_cgroup_detect(cgroup_root, &cg->mode, err)) < 0)
		return r;
	cg->ops = cg->mode == ZK_CGROUP_V2 ? &zk_cgroup_v2_ops :
	    &zk_cgroup_v1_ops;
	if ((r = cg->ops->init(cg, err)) < 0)
		return r;
	*out = TAKE_PTR(owned);
	return 0;
}

void
zk_cgroup_free(zk_cgroup *cg)
{
	if (cg == NULL)
		return;
	zk_cg_forget(cg);
	free(cg);
}

zk_cgroup_mode
zk_cgroup_get_mode(const zk_cgroup *cg)
{
	return cg->mode;
}

zk_cgroup_devprog
zk_cgroup_device_program(const zk_cgroup *cg, const char **why)
{
	if (why != NULL)
		*why = cg->devprog_why;
	return cg->devprog;
}

/* ---- dispatch ---- */

int
zk_cgroup_create(zk_cgroup *cg, zk_error *err)
{
	cg->devprog = ZK_CG_DEVPROG_NONE;
	cg->devprog_why[0] = '\0';
	return cg->ops->create(cg, err);
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

int
zk_cgroup_procs_open(zk_cgroup *cg, zk_cgroup_procs *procs, unsigned flags,
    zk_error *err)
{
	procs->n = 0;
	procs->self = (flags & ZK_CG_JOIN_SELF) != 0;
	procs->dir_fd = -1;
	procs->born_inside = false;
	int r = cg->ops->open_procs(cg, procs, err);
	if (r < 0)
		zk_cgroup_procs_close(procs);
	return r;
}

int
zk_cgroup_procs_join(const zk_cgroup_procs *procs, pid_t pid, zk_error *err)
{
	char val[16];
	int n = snprintf(val, sizeof(val), "%d", (int)pid);
	if (procs->self && pid != 0)
		return zk_fail(err, EINVAL, "cgroup files opened for a process "
		    "joining by itself cannot move process %d", (int)pid);
	for (size_t i = 0; i < procs->n; i++) {
		if ((procs->cgroup2[i] && procs->born_inside) ||
		    pwrite(procs->fd[i], val, (size_t)n, 0) == n ||
		    procs->optional[i])
			continue;
		return zk_fail_errno(err, errno, "cannot move process %d into "
		    "its cgroup", (int)pid);
	}
	return 0;
}

void
zk_cgroup_procs_close(zk_cgroup_procs *procs)
{
	for (size_t i = 0; i < procs->n; i++)
		close(procs->fd[i]);
	procs->n = 0;
	if (procs->dir_fd >= 0)
		close(procs->dir_fd);
	procs->dir_fd = -1;
}

int
zk_cgroup_attach(zk_cgroup *cg, pid_t pid, zk_error *err)
{
	if (pid <= 0)
		return zk_fail(err, EINVAL, "invalid pid %d", (int)pid);
	zk_cgroup_procs procs;
	int r = zk_cgroup_procs_open(cg, &procs, 0, err);
	if (r == 0)
		r = zk_cgroup_procs_join(&procs, pid, err);
	zk_cgroup_procs_close(&procs);
	return r;
}

char *
zk_cgroup_dir(const zk_cgroup *cg, const char *controller, char *buf)
{
	return cg->ops->dir(cg, controller, buf);
}

static int
check_limit(int64_t v, const char *what, zk_error *err)
{
	if (v < 0)
		return zk_fail(err, EINVAL, "invalid %s %" PRId64, what, v);
	return 0;
}

int
zk_cgroup_set_memory(zk_cgroup *cg, int64_t mem_bytes, int64_t mem_swap_bytes,
    zk_error *err)
{
	int r;
	if ((r = check_limit(mem_bytes, "memory cap", err)) < 0 ||
	    (r = check_limit(mem_swap_bytes, "swap cap", err)) < 0)
		return r;
	/* SmartOS's max_swap counts memory too; v1 enforces the same. */
	if (mem_swap_bytes != ZK_CG_UNLIMITED &&
	    (mem_bytes == ZK_CG_UNLIMITED || mem_swap_bytes < mem_bytes))
		return zk_fail(err, EINVAL, "swap cap (memory + swap) must not "
		    "be below the memory cap");
	return cg->ops->set_memory(cg, mem_bytes, mem_swap_bytes, err);
}

int
zk_cgroup_set_cpu_cap(zk_cgroup *cg, uint64_t cap_pct, zk_error *err)
{
	/* Keeps cap * 1000 microseconds within a signed 64-bit quota. */
	if (cap_pct > (uint64_t)INT64_MAX / (ZK_CG_PERIOD_US / 100))
		return zk_fail(err, ERANGE, "cpu cap %" PRIu64 "%% is too big",
		    cap_pct);
	return cg->ops->set_cpu_cap(cg, cap_pct, err);
}

int
zk_cgroup_set_cpu_shares(zk_cgroup *cg, uint64_t shares, zk_error *err)
{
	return cg->ops->set_cpu_shares(cg, shares, err);
}

int
zk_cgroup_set_pids_max(zk_cgroup *cg, int64_t max, zk_error *err)
{
	int r = check_limit(max, "process limit", err);
	return r < 0 ? r : cg->ops->set_pids_max(cg, max, err);
}

int
zk_cgroup_freeze(zk_cgroup *cg, bool frozen, zk_error *err)
{
	return cg->ops->freeze(cg, frozen, ZK_CG_FREEZE_TIMEOUT_MS, err);
}

int
zk_cgroup_pids(zk_cgroup *cg, pid_t **pids, size_t *n, zk_error *err)
{
	char dir[PATH_MAX];
	return zk_cg_read_procs(cg->ops->procs_dir(cg, dir), pids, n, err);
}

bool
zk_cgroup_is_empty(zk_cgroup *cg)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	zk_error err = { 0 };
	int r = zk_cgroup_pids(cg, &pids, &n, &err);
	if (r == -ENOENT)
		return true;	/* never created, or already destroyed */
	return r == 0 && n == 0;
}

int
zk_cgroup_destroy(zk_cgroup *cg, zk_error *err)
{
	zk_cg_forget(cg);	/* they would only read ENODEV from now on */
	return cg->ops->destroy(cg, err);
}

int
zk_cgroup_memory_stat(zk_cgroup *cg, zk_cgroup_memstat *st, zk_error *err)
{
	memset(st, 0, sizeof(*st));
	return cg->ops->memory_stat(cg, st, err);
}

int
zk_cgroup_cpu_stat(zk_cgroup *cg, zk_cgroup_cpustat *st, zk_error *err)
{
	memset(st, 0, sizeof(*st));
	return cg->ops->cpu_stat(cg, st, err);
}

int
zk_cgroup_memory_counters(zk_cgroup *cg, zk_cgroup_memcounters *c,
    zk_error *err)
{
	memset(c, 0, sizeof(*c));
	return cg->ops->memory_counters(cg, c, err);
}

int
zk_cgroup_memory_watch(zk_cgroup *cg, int *fd, zk_error *err)
{
	*fd = -1;
	return cg->ops->memory_watch(cg, fd, err);
}

int
zk_cgroup_memory_pressure(zk_cgroup *cg, int *fd, zk_error *err)
{
	*fd = -1;
	return cg->ops->memory_pressure(cg, fd, err);
}

int
zk_cgroup_memory_threshold(zk_cgroup *cg, uint64_t threshold, int *fd,
    zk_error *err)
{
	*fd = -1;
	return cg->ops->memory_threshold(cg, threshold, fd, err);
}

/* Eventfds read as 8 bytes, inotify as whole events: one buffer that
 * fits both, read until the descriptor is empty. */
void
zk_cgroup_event_drain(int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
zk_cgroup_load_stat(zk_cgroup *cg, zk_cgroup_loadstat *st, zk_error *err)
{
	memset(st, 0, sizeof(*st));
	return cg->ops->load_stat(cg, st, err);
}

/* ---- kill_all ---- */

static int
signal_all(zk_cgroup *cg, zk_error *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = zk_cgroup_pids(cg, &pids, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		(void)kill(pids[i], SIGKILL);	/* ESRCH: already gone */
	return 0;
}

/*
 * While the cgroup is frozen nothing in it can fork, so the pids read are
 * all there is.  Without a freezer (or if freezing times out) signal
 * anyway: kill_all's repeated rounds and pids.max bound what escapes.
 */
static int
kill_frozen(zk_cgroup *cg, int timeout_ms, zk_error *err)
{
	zk_error ferr = { 0 };
	if (timeout_ms < 50)
		timeout_ms = 50;
	if (timeout_ms > ZK_CG_FREEZE_TIMEOUT_MS)
		timeout_ms = ZK_CG_FREEZE_TIMEOUT_MS;
	bool frozen = cg->ops->freeze(cg, true, timeout_ms, &ferr) == 0;
	int r = signal_all(cg, err);
	if (frozen) {
		/* Killed tasks only die once thawed. */
		int t = cg->ops->freeze(cg, false, 0, r < 0 ? &ferr : err);
		if (r == 0)
			r = t;
	}
	return r;
}

static int
kill_round(zk_cgroup *cg, int64_t deadline, zk_error *err)
{
	zk_error kerr = { 0 };
	int r = cg->ops->kill(cg, &kerr);
	if (r != -EOPNOTSUPP) {
		if (r < 0)
			*err = kerr;
		return r;
	}
	return kill_frozen(cg, (int)(deadline - zk_cg_now_ms()), err);
}

int
zk_cgroup_kill_all(zk_cgroup *cg, int timeout_ms, zk_error *err)
{
	int64_t deadline = zk_cg_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int64_t next_round = 0;
	/* SIGKILLed tasks usually leave within a fraction of a millisecond:
	 * look again soon, then back off to KILL_POLL_MS. */
	long poll_us = 200;
	for (;;) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		int r = zk_cgroup_pids(cg, &pids, &n, err);
		if (r == -ENOENT) {
			zk_error_clear(err);
			return 0;
		}
		if (r < 0)
			return r;
		if (n == 0)
			return 0;
		int64_t now = zk_cg_now_ms();
		if (next_round != 0 && now >= deadline) {
			char dir[PATH_MAX];
			return zk_fail(err, ETIMEDOUT, "%zu processes still in "
			    "cgroup %s after %d ms", n,
			    cg->ops->procs_dir(cg, dir), timeout_ms);
		}
		if (now >= next_round) {
			/* Repeat now and then: a task being attached from
			 * outside, or a freeze that timed out, can leave a
			 * survivor that one round missed. */
			if ((r = kill_round(cg, deadline, err)) < 0)
				return r;
			next_round = now + KILL_RETRY_MS;
		}
		zk_cg_sleep_us(poll_us);
		if (poll_us < KILL_POLL_MS * 1000L)
			poll_us *= 2;
	}
}
