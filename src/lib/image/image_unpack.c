/*
 * Safe unpacking of image archives.
 *
 * An image file comes from somewhere we do not control, and it is unpacked
 * as root.  So libarchive only parses; every file-system object is created
 * here, relative to the destination directory, with parents resolved by
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): no entry can write through
 * a symlink planted by an earlier entry, and no path can climb out.
 *
 * Directory modes and mtimes are applied only after every entry is in
 * place: a read-only directory must still receive its contents, and adding
 * entries would change its mtime again.
 *
 * Limits are checked before each thing is made, as the archive streams:
 * a gzip bomb stops at the limit, having written no more than it.
 */
#include "image/image_install.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

#define RESOLVE_SAFE \
	(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

#define READ_CHUNK (64 * 1024)

static inline void
zk_archive_freep(struct archive **a)
{
	if (*a != NULL)
		archive_read_free(*a);
}
#define _cleanup_archive_ _cleanup_(zk_archive_freep)

/* A directory whose final metadata waits for the end of the archive. */
typedef struct dir_fixup {
	char *path;		/* normalised; "" is the destination itself */
	size_t seq;		/* entry number: the last entry for a path wins */
	mode_t mode;
	bool has_owner;		/* false for parents the archive never listed */
	uid_t uid;
	gid_t gid;
	bool has_mtime;
	struct timespec mtime;
} dir_fixup;

/* The archive file, read through here so every byte is digested. */
typedef struct source {
	int fd;
	off_t off;
	unsigned char *buf;
	zk_digest *digest;
} source;

typedef struct unpack {
	struct archive *a;
	const char *archive_path;
	int dest;
	const zk_unpack_limits *limits;
	uint64_t data, apparent, files, fixup_bytes;	/* running totals */
	bool as_root;		/* only root must (and can) restore ownership */
	char cached_parent[PATH_MAX];	/* entries arrive directory by directory */
	int cached_fd;
	dir_fixup *dirs;
	size_t ndirs, capdirs;
	zk_error *err;
} unpack;

/* ---- errors -------------------------------------------------------- */

static int __attribute__((format(printf, 3, 4)))
refuse(unpack *u, const char *entry, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return zk_fail(u->err, EPERM, "archive entry \"%s\": %s", entry, why);
}

static int
entry_errno(unpack *u, const char *entry, int code, const char *what)
{
	return zk_fail_errno(u->err, code, "archive entry \"%s\": %s", entry,
	    what);
}

/* ---- limits -------------------------------------------------------- */

/* Adds n to *total unless that would pass the limit. */
static int
charge(unpack *u, const char *entry, uint64_t *total, uint64_t n,
    const zk_unpack_limit *l, const char *quantity, const char *unit)
{
	if (n > l->max || *total > l->max - n)
		return zk_fail(u->err, EFBIG, "archive entry \"%s\": %s passes "
		    "the limit of %" PRIu64 "%s (%s)", entry, quantity, l->max,
		    unit, l->what);
	*total += n;
	return 0;
}

static int
count_object(unpack *u, const char *entry)
{
	return charge(u, entry, &u->files, 1, &u->limits->files, "file count",
	    "");
}

/* ---- paths --------------------------------------------------------- */

typedef enum {
	PATH_OK, PATH_ABSOLUTE, PATH_DOTDOT, PATH_TOO_LONG
} path_verdict;

/*
 * "./a//b/." becomes "a/b"; "" names the destination itself.  ".." is
 * refused outright rather than resolved: a legitimate image never needs it,
 * and resolving it lexically would disagree with the kernel once symlinks
 * are involved.
 */
static path_verdict
normalise(const char *in, char out[PATH_MAX])
{
	if (in[0] == '/')
		return PATH_ABSOLUTE;
	size_t n = 0;
	for (const char *s = in; *s != '\0'; ) {
		const char *end = strchrnul(s, '/');
		size_t len = (size_t)(end - s);
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return PATH_DOTDOT;
		if (len > 0 && !(len == 1 && s[0] == '.')) {
			if (n + 1 + len >= PATH_MAX)
				return PATH_TOO_LONG;
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, s, len);
			n += len;
		}
		s = *end != '\0' ? end + 1 : end;
	}
	out[n] = '\0';
	return PATH_OK;
}

/* Split a normalised path in place into its parent ("" at top) and name. */
static void
split(char *path, const char **parent, const char **name)
{
	char *slash = strrchr(path, '/');
	if (slash == NULL) {
		*parent = "";
		*name = path;
	} else {
		*slash = '\0';
		*parent = path;
		*name = slash + 1;
	}
}

/*
 * Would a relative symlink in directory `dir` climb above the root when
 * followed?  Lexical, as the target is only ever followed inside the
 * zone's root, where ".." at "/" stays at "/"; this keeps host-side tools
 * that walk the image from being led out of it.
 */
static bool
symlink_escapes(const char *dir, const char *target)
{
	long depth = 0;
	for (const char *s = dir; *s != '\0'; s++)
		if (s == dir || s[-1] == '/')
			depth++;
	for (const char *s = target; *s != '\0'; ) {
		const char *end = strchrnul(s, '/');
		size_t len = (size_t)(end - s);
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (len > 0 && !(len == 1 && s[0] == '.')) {
			depth++;
		}
		s = *end != '\0' ? end + 1 : end;
	}
	return false;
}

static int
openat2_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_SAFE,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static int
resolve_error(unpack *u, const char *entry, const char *what, int code)
{
	switch (code) {
	case ELOOP:
		return refuse(u, entry, "%spasses through a symbolic link", what);
	case EXDEV:
		return refuse(u, entry, "%sescapes the image root", what);
	case ENOTDIR:
		return refuse(u, entry, "%shas a parent that is not a directory",
		    what);
	case ENOSYS:
		return zk_fail(u->err, ENOSYS,
		    "cannot unpack safely: openat2() needs Linux 5.6 or later");
	default:
		return entry_errno(u, entry, code, "cannot open its directory");
	}
}

/*
 * Create the missing parents of an entry whose directories the archive
 * never listed (or lists later); returns an O_PATH fd of the last one.
 * Each step is one name relative to the directory before it, so nothing
 * is resolved twice.  New directories get a conventional 0755 unless
 * their own entry follows, and count as files: one entry with a deep path
 * makes many.  Errors are described here.
 */
static int add_fixup(unpack *u, const dir_fixup *f);

static int
make_parents(unpack *u, const char *entry, const char *parent, size_t seq)
{
	char prefix[PATH_MAX];
	snprintf(prefix, sizeof(prefix), "%s", parent);
	_cleanup_close_ int cur = -1;
	for (char *name = prefix, *p = prefix; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		int at = cur >= 0 ? cur : u->dest;
		int fd = openat2_beneath(at, name, O_PATH | O_DIRECTORY);
		if (fd == -ENOENT) {
			int r = count_object(u, entry);
			if (r < 0)
				return r;
			if (mkdirat(at, name, 0700) < 0)
				return entry_errno(u, entry, errno,
				    "cannot create its directory");
			dir_fixup f = { .path = prefix, .seq = seq, .mode = 0755 };
			if ((r = add_fixup(u, &f)) < 0)
				return r;
			fd = openat2_beneath(at, name, O_PATH | O_DIRECTORY);
		}
		if (fd < 0)
			return resolve_error(u, entry, "path ", -fd);
		if (cur >= 0)
			close(cur);
		cur = fd;
		if (saved == '\0')
			return TAKE_FD(cur);
		*p = saved;
		name = p + 1;
	}
}

/* ---- directory fixups ----------------------------------------------- */

static int
add_fixup(unpack *u, const dir_fixup *f)
{
	int r = charge(u, f->path[0] ? f->path : ".", &u->fixup_bytes,
	    sizeof(*f) + strlen(f->path) + 1, &u->limits->memory,
	    "directory metadata", " bytes");
	if (r < 0)
		return r;
	if (u->ndirs == u->capdirs) {
		size_t cap = u->capdirs ? u->capdirs * 2 : 64;
		dir_fixup *d = realloc(u->dirs, cap * sizeof(*d));
		if (d == NULL)
			return zk_fail(u->err, ENOMEM, "out of memory");
		u->dirs = d;
		u->capdirs = cap;
	}
	char *copy = strdup(f->path);
	if (copy == NULL)
		return zk_fail(u->err, ENOMEM, "out of memory");
	u->dirs[u->ndirs] = *f;
	u->dirs[u->ndirs++].path = copy;
	return 0;
}

/* Deepest first, and for one path the latest entry first. */
static int
fixup_cmp(const void *a, const void *b)
{
	const dir_fixup *x = a, *y = b;
	int r = strcmp(y->path, x->path);
	if (r != 0)
		return r;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

static int
apply_fixup(unpack *u, const dir_fixup *f)
{
	const char *shown = f->path[0] ? f->path : ".";
	_cleanup_close_ int fd = openat2_beneath(u->dest, shown,
	    O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return resolve_error(u, shown, "path ", -fd);
	if (f->has_owner && fchown(fd, f->uid, f->gid) < 0 &&
	    (u->as_root || errno != EPERM))
		return entry_errno(u, shown, errno, "cannot set owner");
	if (fchmod(fd, f->mode) < 0)
		return entry_errno(u, shown, errno, "cannot set mode");
	struct timespec ts[2] = { f->mtime, f->mtime };
	if (f->has_mtime && futimens(fd, ts) < 0)
		return entry_errno(u, shown, errno, "cannot set times");
	return 0;
}

static int
apply_fixups(unpack *u)
{
	if (u->ndirs > 1)	/* an archive may hold no directory at all */
		qsort(u->dirs, u->ndirs, sizeof(*u->dirs), fixup_cmp);
	for (size_t i = 0; i < u->ndirs; i++) {
		if (i > 0 && strcmp(u->dirs[i].path, u->dirs[i - 1].path) == 0)
			continue;
		int r = apply_fixup(u, &u->dirs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- entries ------------------------------------------------------- */

/*
 * The directory an entry goes into, opened O_PATH beneath the root.  The
 * fd is cached for the next entry; directories are never removed during an
 * unpack, so it stays the right one.
 */
static int
parent_fd(unpack *u, const char *entry, const char *parent, size_t seq)
{
	if (u->cached_fd >= 0 && strcmp(u->cached_parent, parent) == 0)
		return u->cached_fd;
	if (u->cached_fd >= 0)
		close(TAKE_FD(u->cached_fd));
	const char *p = parent[0] ? parent : ".";
	int fd = openat2_beneath(u->dest, p, O_PATH | O_DIRECTORY);
	if (fd == -ENOENT)
		fd = make_parents(u, entry, parent, seq);
	else if (fd < 0)
		fd = resolve_error(u, entry, "path ", -fd);
	if (fd < 0)
		return fd;
	snprintf(u->cached_parent, sizeof(u->cached_parent), "%s", parent);
	u->cached_fd = fd;
	return fd;
}

/*
 * Tar semantics: a later entry replaces an earlier one of the same name.
 * Directories are kept (they hold earlier entries), so the name stays
 * taken and the caller's retry fails with EEXIST.
 */
static void
make_room(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(st.st_mode))
		unlinkat(dfd, name, 0);
}

static void
entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	}
	if (archive_entry_mtime_is_set(e)) {
		ts[1].tv_sec = archive_entry_mtime(e);
		ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	}
}

/* Owner first: chown clears setuid/setgid, so the mode must follow it. */
static int
set_meta_fd(unpack *u, int fd, struct archive_entry *e, const char *entry)
{
	if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e))
	    < 0 && (u->as_root || errno != EPERM))
		return entry_errno(u, entry, errno, "cannot set owner");
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return entry_errno(u, entry, errno, "cannot set mode");
	struct timespec ts[2];
	entry_times(e, ts);
	if (futimens(fd, ts) < 0)
		return entry_errno(u, entry, errno, "cannot set times");
	return 0;
}

static int
write_at(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Blocks carry their offsets, so the holes of sparse files stay holes and
 * cost nothing against the data limit; the final truncate restores a
 * trailing hole.  A block is charged before it is written, so a gzip bomb
 * stops at the limit.
 */
static int
copy_data(unpack *u, int fd, uint64_t size, const char *entry)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(u->a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return zk_fail(u->err, EIO, "archive entry \"%s\": %s",
			    entry, archive_error_string(u->a));
		/* A sparse map may not place data past the size it declared. */
		if (off < 0 || (uint64_t)off > size || len > size - (uint64_t)off)
			return refuse(u, entry, "data at offset %lld lies beyond "
			    "its size %" PRIu64, (long long)off, size);
		if ((r = charge(u, entry, &u->data, len, &u->limits->data,
		    "data written", " bytes")) < 0)
			return r;
		if ((r = write_at(fd, buf, len, (off_t)off)) < 0)
			return entry_errno(u, entry, -r, "cannot write");
	}
	if (ftruncate(fd, (off_t)size) < 0)
		return entry_errno(u, entry, errno, "cannot set size");
	return 0;
}

static int
extract_file(unpack *u, struct archive_entry *e, const char *entry, int dfd,
    const char *name)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	la_int64_t declared = archive_entry_size_is_set(e) ?
	    archive_entry_size(e) : 0;
	uint64_t size = declared > 0 ? (uint64_t)declared : 0;
	/* Holes included: a file of 1 PiB "size" is refused before it exists. */
	int r = charge(u, entry, &u->apparent, size, &u->limits->apparent,
	    "unpacked size", " bytes");
	if (r < 0)
		return r;
	_cleanup_close_ int fd = openat(dfd, name, flags, 0600);
	if (fd < 0 && errno == EEXIST) {
		make_room(dfd, name);
		fd = openat(dfd, name, flags, 0600);
	}
	if (fd < 0)
		return entry_errno(u, entry, errno, "cannot create");
	if ((r = copy_data(u, fd, size, entry)) < 0)
		return r;
	return set_meta_fd(u, fd, e, entry);
}

/* Metadata goes on through an fd: a FIFO opened O_NONBLOCK for reading
 * does not wait for a writer, and O_NOFOLLOW pins what we made. */
static int
extract_fifo(unpack *u, struct archive_entry *e, const char *entry, int dfd,
    const char *name)
{
	int r = mkfifoat(dfd, name, 0600);
	if (r < 0 && errno == EEXIST) {
		make_room(dfd, name);
		r = mkfifoat(dfd, name, 0600);
	}
	if (r < 0)
		return entry_errno(u, entry, errno, "cannot create");
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return entry_errno(u, entry, errno, "cannot open");
	return set_meta_fd(u, fd, e, entry);
}

static int
extract_symlink(unpack *u, struct archive_entry *e, const char *entry,
    const char *parent, int dfd, const char *name)
{
	const char *target = archive_entry_symlink(e);
	if (target == NULL || target[0] == '\0')
		return refuse(u, entry, "symbolic link without a target");
	/* Absolute targets resolve inside the zone's root: harmless. */
	if (target[0] != '/' && symlink_escapes(parent, target))
		return refuse(u, entry,
		    "symbolic link target \"%s\" escapes the image root", target);
	int r = symlinkat(target, dfd, name);
	if (r < 0 && errno == EEXIST) {
		make_room(dfd, name);
		r = symlinkat(target, dfd, name);
	}
	if (r < 0)
		return entry_errno(u, entry, errno, "cannot create");
	if (fchownat(dfd, name, (uid_t)archive_entry_uid(e),
	    (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0 &&
	    (u->as_root || errno != EPERM))
		return entry_errno(u, entry, errno, "cannot set owner");
	struct timespec ts[2];
	entry_times(e, ts);
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_errno(u, entry, errno, "cannot set times");
	return 0;
}

/*
 * The target is resolved like any entry path: beneath the root, through no
 * symlink, so "lnk/passwd" with lnk -> /etc cannot link a host file in.
 * The new name shares the target's inode and so its metadata.
 */
static int
extract_hardlink(unpack *u, struct archive_entry *e, const char *entry,
    int dfd, const char *name)
{
	const char *raw = archive_entry_hardlink(e);
	char target[PATH_MAX];
	if (normalise(raw, target) != PATH_OK || target[0] == '\0')
		return refuse(u, entry,
		    "hard link target \"%s\" escapes the image root", raw);
	const char *tparent, *tname;
	split(target, &tparent, &tname);
	_cleanup_close_ int tfd = openat2_beneath(u->dest,
	    tparent[0] ? tparent : ".", O_PATH | O_DIRECTORY);
	if (tfd < 0) {
		char what[PATH_MAX + 32];
		snprintf(what, sizeof(what), "hard link target \"%s\" ", raw);
		return resolve_error(u, entry, what, -tfd);
	}
	int r = linkat(tfd, tname, dfd, name, 0);
	if (r < 0 && errno == EEXIST) {
		make_room(dfd, name);
		r = linkat(tfd, tname, dfd, name, 0);
	}
	if (r < 0)
		return entry_errno(u, entry, errno, "cannot create hard link");
	return 0;
}

/* Existing directories are fine: archives may list one after its
 * contents, or twice.  Its metadata is applied at the end. */
static int
extract_dir(unpack *u, struct archive_entry *e, const char *entry,
    const char *path, int dfd, const char *name, size_t seq)
{
	if (name[0] != '\0' && mkdirat(dfd, name, 0700) < 0) {
		struct stat st;
		if (errno != EEXIST)
			return entry_errno(u, entry, errno, "cannot create");
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return entry_errno(u, entry, errno, "cannot create");
		if (!S_ISDIR(st.st_mode)) {
			make_room(dfd, name);
			if (mkdirat(dfd, name, 0700) < 0)
				return entry_errno(u, entry, errno,
				    "cannot create");
		}
	}
	dir_fixup f = {
		.path = (char *)path, .seq = seq,
		.mode = archive_entry_perm(e) & 07777,
		.has_owner = true,
		.uid = (uid_t)archive_entry_uid(e),
		.gid = (gid_t)archive_entry_gid(e),
		.has_mtime = archive_entry_mtime_is_set(e),
		.mtime = { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
	};
	return add_fixup(u, &f);
}

static const char *
refused_type(mode_t type)
{
	switch (type) {
	case AE_IFREG: case AE_IFDIR: case AE_IFLNK: case AE_IFIFO:
		return NULL;
	case AE_IFCHR:
		return "character device refused";
	case AE_IFBLK:
		return "block device refused";
	case AE_IFSOCK:
		return "socket refused";
	default:
		return "unsupported file type refused";
	}
}

static int
unpack_entry(unpack *u, struct archive_entry *e, size_t seq)
{
	const char *raw = archive_entry_pathname(e);
	if (raw == NULL)
		return zk_fail(u->err, EINVAL, "%s: an entry has no usable name",
		    u->archive_path);
	char path[PATH_MAX];
	switch (normalise(raw, path)) {
	case PATH_ABSOLUTE:
		return refuse(u, raw, "absolute path refused");
	case PATH_DOTDOT:
		return refuse(u, raw, "\"..\" component refused");
	case PATH_TOO_LONG:
		return refuse(u, raw, "path too long");
	case PATH_OK:
		break;
	}
	bool hardlink = archive_entry_hardlink(e) != NULL;
	mode_t type = archive_entry_filetype(e);
	const char *why = hardlink ? NULL : refused_type(type);
	if (why != NULL)
		return refuse(u, raw, "%s", why);
	if (path[0] == '\0' && (hardlink || type != AE_IFDIR))
		return refuse(u, raw, "only a directory may name the image root");
	int r = count_object(u, raw);
	if (r < 0)
		return r;

	char split_buf[PATH_MAX];
	memcpy(split_buf, path, sizeof(path));
	const char *parent, *name;
	split(split_buf, &parent, &name);
	int dfd = parent_fd(u, raw, parent, seq);
	if (dfd < 0)
		return dfd;

	if (hardlink)
		return extract_hardlink(u, e, raw, dfd, name);
	switch (type) {
	case AE_IFDIR:
		return extract_dir(u, e, raw, path, dfd, name, seq);
	case AE_IFLNK:
		return extract_symlink(u, e, raw, parent, dfd, name);
	case AE_IFIFO:
		return extract_fifo(u, e, raw, dfd, name);
	default:
		return extract_file(u, e, raw, dfd, name);
	}
}

static int
unpack_all(unpack *u)
{
	struct archive_entry *e;
	for (size_t seq = 0; ; seq++) {
		int r = archive_read_next_header(u->a, &e);
		if (r == ARCHIVE_EOF)
			return apply_fixups(u);
		if (r < ARCHIVE_WARN)
			return zk_fail(u->err, EINVAL, "cannot read %s: %s",
			    u->archive_path, archive_error_string(u->a));
		if ((r = unpack_entry(u, e, seq)) < 0)
			return r;
	}
}

/* ---- reading the file --------------------------------------------------- */

static ssize_t
source_read(source *s)
{
	for (;;) {
		ssize_t n = pread(s->fd, s->buf, READ_CHUNK, s->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0 && zk_digest_update(s->digest, s->buf, (size_t)n) < 0)
			return -EIO;
		s->off += n;
		return n;
	}
}

static la_ssize_t
read_cb(struct archive *a, void *data, const void **buf)
{
	source *s = data;
	ssize_t n = source_read(s);
	if (n < 0) {
		archive_set_error(a, (int)-n, "%s", strerror((int)-n));
		return -1;
	}
	*buf = s->buf;
	return n;
}

/*
 * The tar ends before the file may (padding, or bytes appended to it):
 * digest those too, so *seen covers exactly what was verified.
 */
static int
drain(source *s, const char *name, zk_file_digest *seen, zk_error *err)
{
	ssize_t n;
	while ((n = source_read(s)) > 0)
		;
	if (n < 0)
		return zk_fail_errno(err, (int)-n, "cannot read %s", name);
	if (zk_digest_end(s->digest, seen) < 0)
		return zk_fail(err, EIO, "%s: cannot finish digests", name);
	return 0;
}

/*
 * Only the compressions a manifest can name.  archive_read_support_filter_all
 * would also let a crafted file make libarchive exec external decompressors
 * (lrzip, grzip, lzop), which an unpacker running as root should not do.
 */
static int
open_archive(struct archive *a, source *s, const char *name, zk_error *err)
{
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_filter_bzip2(a) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(a) != ARCHIVE_OK ||
	    archive_read_support_filter_none(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK)
		return zk_fail(err, EIO, "cannot set up libarchive: %s",
		    archive_error_string(a));
	if (archive_read_open(a, s, NULL, read_cb, NULL) != ARCHIVE_OK)
		return zk_fail(err, EINVAL, "cannot read %s: %s", name,
		    archive_error_string(a));
	return 0;
}

static void
unpack_free(unpack *u)
{
	if (u->cached_fd >= 0)
		close(u->cached_fd);
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
}

int
zk_unpack_archive(int archive_fd, const char *name, int dest_dirfd,
    const zk_unpack_limits *limits, zk_file_digest *seen, zk_error *err)
{
	_cleanup_digest_ zk_digest *digest = zk_digest_new(false);
	_cleanup_free_ unsigned char *buf = malloc(READ_CHUNK);
	/* Declared last so it is freed first, before the buffer it reads. */
	_cleanup_archive_ struct archive *a = archive_read_new();
	if (a == NULL || digest == NULL || buf == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	source s = { .fd = archive_fd, .buf = buf, .digest = digest };
	int r = open_archive(a, &s, name, err);
	if (r < 0)
		return r;
	unpack u = {
		.a = a, .archive_path = name, .dest = dest_dirfd,
		.limits = limits, .as_root = geteuid() == 0, .cached_fd = -1,
		.err = err,
	};
	r = unpack_all(&u);
	unpack_free(&u);
	if (r < 0 || seen == NULL)
		return r;
	return drain(&s, name, seen, err);
}
