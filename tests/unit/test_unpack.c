/*
 * zk_unpack_archive, its limits (imgadm.conf, free space) and the file
 * digests.  Each test writes a small tar.gz with libarchive's write side
 * (so hostile archives need no fixtures on disk), unpacks it into a fresh
 * temporary directory and checks the tree, or the exact refusal.  No root
 * needed: entries carry our own uid/gid.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/digest.h"
#include "image/image_install.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

#define MTIME 1600000000	/* 2020-09-13, far from "now" */
#define BIG_SIZE (3 * 1024 * 1024 + 17)	/* spans many data blocks */
#define SPARSE_SIZE (16 * 1024 * 1024)
#define HUGE_SIZE (100LL << 30)		/* 100 GiB apparent, 8 KiB of data */
#define BOMB_SIZE (64 * 1024 * 1024)	/* zeros: compresses ~1000:1 */
#define MiB (1024 * 1024)

typedef struct ent {
	const char *path;
	mode_t type;		/* AE_IFREG, AE_IFDIR, ...; 0: hard link */
	mode_t perm;
	const char *data;	/* regular file contents */
	const char *link;	/* symlink or hard link target */
	int special;		/* BIG: patterned BIG_SIZE file; SPARSE, ZEROS */
	int64_t size;		/* of SPARSE and ZEROS */
} ent;

/* SPARSE: 'S' in [0, 4K) and [size/2, size/2 + 4K), holes elsewhere. */
enum { BIG = 1, SPARSE = 2, ZEROS = 3 };

#define DIR_(p, m)	{ .path = (p), .type = AE_IFDIR, .perm = (m) }
#define FILE_(p, m, d)	{ .path = (p), .type = AE_IFREG, .perm = (m), .data = (d) }
#define SYM(p, t)	{ .path = (p), .type = AE_IFLNK, .perm = 0777, .link = (t) }
#define HARD(p, t)	{ .path = (p), .link = (t) }
#define NODE(p, ty, m)	{ .path = (p), .type = (ty), .perm = (m) }
#define GEN(p, kind)	{ .path = (p), .type = AE_IFREG, .perm = 0644, \
			  .special = (kind), .size = SPARSE_SIZE }
#define SIZED(p, kind, n) { .path = (p), .type = AE_IFREG, .perm = 0644, \
			  .special = (kind), .size = (n) }

typedef struct fixture {
	char base[PATH_MAX];
	char archive[PATH_MAX];
	char dest[PATH_MAX];
	char outside[PATH_MAX];	/* stands in for /etc: must stay empty */
	int destfd;
	zk_unpack_limits limits;	/* none unless a test sets one */
	zk_file_digest seen;
	zk_error err;
} fixture;

static void
set_limit(zk_unpack_limit *l, uint64_t max, const char *what)
{
	l->max = max;
	snprintf(l->what, sizeof(l->what), "%s", what);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(f->base, sizeof(f->base), "%s/zk-unpack-XXXXXX", tmp);
	if (mkdtemp(f->base) == NULL)
		return -1;
	snprintf(f->archive, sizeof(f->archive), "%s/image.tar.gz", f->base);
	snprintf(f->dest, sizeof(f->dest), "%s/dest", f->base);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->base);
	if (mkdir(f->dest, 0755) < 0 || mkdir(f->outside, 0755) < 0)
		return -1;
	f->destfd = open(f->dest, O_RDONLY | O_DIRECTORY);
	set_limit(&f->limits.data, UINT64_MAX, "data");
	set_limit(&f->limits.apparent, UINT64_MAX, "apparent");
	set_limit(&f->limits.files, UINT64_MAX, "files");
	set_limit(&f->limits.memory, UINT64_MAX, "memory");
	*state = f;
	return f->destfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	zk_error err;
	close(f->destfd);
	/* Directories restored to modes like 0555 must still be removable. */
	chmod(f->dest, 0755);
	zk_rm_rf(f->base, &err);
	free(f);
	return 0;
}

/* ---- archive writing -------------------------------------------------- */

static void
big_pattern(char *buf, size_t len, size_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + (off + i) % 23);
}

/* The pax writer may take less than offered (it stops at sparse
 * region boundaries); offer the rest again. */
static void
write_all(struct archive *a, const char *buf, size_t n)
{
	while (n > 0) {
		la_ssize_t w = archive_write_data(a, buf, n);
		assert_true(w > 0);
		buf += w;
		n -= (size_t)w;
	}
}

static void
write_big(struct archive *a)
{
	char buf[65536];
	for (size_t off = 0; off < BIG_SIZE; off += sizeof(buf)) {
		size_t n = BIG_SIZE - off < sizeof(buf) ? BIG_SIZE - off :
		    sizeof(buf);
		big_pattern(buf, n, off);
		write_all(a, buf, n);
	}
}

/* size bytes from the pattern of a SPARSE entry, or zeros: the writer
 * skips what its sparse map calls holes, so even 100 GiB costs nothing. */
static void
write_generated(struct archive *a, int64_t size, bool sparse)
{
	static char zero[MiB];
	char data[4096];
	memset(data, 'S', sizeof(data));
	for (int64_t off = 0; off < size; ) {
		bool at_data = sparse && (off == 0 || off == size / 2);
		int64_t next = !sparse || off >= size / 2 ? size : size / 2;
		int64_t n = at_data ? 4096 : next - off;
		if (n > MiB)
			n = MiB;
		write_all(a, at_data ? data : zero, (size_t)n);
		off += n;
	}
}

static void
set_entry(struct archive_entry *e, const ent *x)
{
	archive_entry_set_pathname(e, x->path);
	archive_entry_set_uid(e, getuid());
	archive_entry_set_gid(e, getgid());
	archive_entry_set_mtime(e, MTIME, 0);
	archive_entry_set_perm(e, x->perm ? x->perm : 0644);
	if (x->type == 0) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_hardlink(e, x->link);
		archive_entry_set_size(e, 0);
		return;
	}
	archive_entry_set_filetype(e, x->type);
	if (x->type == AE_IFLNK)
		archive_entry_set_symlink(e, x->link);
	if (x->type == AE_IFCHR || x->type == AE_IFBLK) {
		archive_entry_set_rdevmajor(e, 1);
		archive_entry_set_rdevminor(e, 3);
	}
	if (x->type != AE_IFREG)
		return;
	if (x->special == SPARSE) {
		archive_entry_set_size(e, x->size);
		archive_entry_sparse_add_entry(e, 0, 4096);
		archive_entry_sparse_add_entry(e, x->size / 2, 4096);
	} else if (x->special == ZEROS) {
		archive_entry_set_size(e, x->size);
	} else {
		archive_entry_set_size(e, x->special == BIG ? BIG_SIZE :
		    (la_int64_t)strlen(x->data ? x->data : ""));
	}
}

static void
write_archive(const char *path, const ent *ents, size_t n)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		set_entry(e, &ents[i]);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (ents[i].special == BIG)
			write_big(a);
		else if (ents[i].special == SPARSE || ents[i].special == ZEROS)
			write_generated(a, ents[i].size, ents[i].special == SPARSE);
		else if (ents[i].type == AE_IFREG && ents[i].data)
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static int
unpack_file(fixture *f)
{
	int fd = open(f->archive, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	zk_error_clear(&f->err);
	int r = zk_unpack_archive(fd, f->archive, f->destfd, &f->limits,
	    &f->seen, &f->err);
	close(fd);
	return r;
}

static int
unpack(fixture *f, const ent *ents, size_t n)
{
	write_archive(f->archive, ents, n);
	return unpack_file(f);
}

#define UNPACK_OK(f, ents) do { \
	int r_ = unpack((f), (ents), sizeof(ents) / sizeof((ents)[0])); \
	if (r_ != 0) \
		fail_msg("unpack failed: %s", (f)->err.msg); \
} while (0)

#define REFUSED(f, ents, want) do { \
	int r_ = unpack((f), (ents), sizeof(ents) / sizeof((ents)[0])); \
	assert_true(r_ < 0); \
	assert_string_equal((f)->err.msg, (want)); \
} while (0)

/* ---- checks ----------------------------------------------------------- */

static struct stat
lst(fixture *f, const char *rel)
{
	struct stat st;
	if (fstatat(f->destfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		fail_msg("%s: %s", rel, strerror(errno));
	return st;
}

static void
assert_mode(fixture *f, const char *rel, mode_t type, mode_t perm)
{
	struct stat st = lst(f, rel);
	assert_int_equal(st.st_mode & S_IFMT, type);
	assert_int_equal(st.st_mode & 07777, perm);
}

static void
assert_content(fixture *f, const char *rel, const char *want)
{
	char buf[256] = { 0 };
	int fd = openat(f->destfd, rel, O_RDONLY | O_NOFOLLOW);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(want));
	close(fd);
	assert_string_equal(buf, want);
}

static void
assert_link(fixture *f, const char *rel, const char *want)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(f->destfd, rel, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static bool
exists(fixture *f, const char *rel)
{
	struct stat st;
	return fstatat(f->destfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
assert_outside_empty(fixture *f)
{
	DIR *d = opendir(f->outside);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			fail_msg("%s/%s was written through a link", f->outside,
			    de->d_name);
	closedir(d);
}

/* ---- good archives ---------------------------------------------------- */

static void
test_tree(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		DIR_("./", 0751),
		DIR_("./bin/", 0755),
		FILE_("./bin/tool", 04755, "#!/bin/sh\n"),
		FILE_("./bin/sgid", 02711, "x"),
		DIR_("./etc/", 0750),
		FILE_("./etc/passwd", 0644, "root:x:0:0::/:/bin/sh\n"),
		SYM("./etc/abs", "/etc/passwd"),
		SYM("./bin/rel", "../etc/passwd"),
		SYM("./bin/dot", "./tool"),
		HARD("./bin/hard", "./bin/tool"),
		NODE("./run.fifo", AE_IFIFO, 0620),
		DIR_("./ro/", 0555),
		FILE_("./ro/inside", 0400, "kept"),
	};
	UNPACK_OK(f, ents);
	assert_mode(f, ".", S_IFDIR, 0751);
	assert_mode(f, "bin/tool", S_IFREG, 04755);
	assert_mode(f, "bin/sgid", S_IFREG, 02711);
	assert_content(f, "bin/tool", "#!/bin/sh\n");
	assert_mode(f, "etc", S_IFDIR, 0750);
	assert_link(f, "etc/abs", "/etc/passwd");
	assert_link(f, "bin/rel", "../etc/passwd");
	assert_link(f, "bin/dot", "./tool");
	assert_int_equal(lst(f, "bin/hard").st_ino, lst(f, "bin/tool").st_ino);
	assert_int_equal(lst(f, "bin/tool").st_nlink, 2);
	assert_mode(f, "run.fifo", S_IFIFO, 0620);
	assert_mode(f, "ro", S_IFDIR, 0555);
	assert_content(f, "ro/inside", "kept");
	/* Times are the archive's, directories' included (set last). */
	assert_int_equal(lst(f, "bin").st_mtime, MTIME);
	assert_int_equal(lst(f, "bin/tool").st_mtime, MTIME);
	assert_int_equal(lst(f, "etc/abs").st_mtime, MTIME);
	assert_int_equal(lst(f, ".").st_mtime, MTIME);
	assert_int_equal(lst(f, "bin/tool").st_uid, getuid());
}

static void
test_dirs_late_repeated_implicit(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		FILE_("late/file", 0644, "early"),
		DIR_("late", 0750),
		DIR_("twice", 0700),
		DIR_("twice", 0711),
		FILE_("x/y/z", 0600, "deep"),
		DIR_("e", 0711),
		FILE_("e/f/g", 0600, "under an explicit dir"),
	};
	UNPACK_OK(f, ents);
	assert_mode(f, "e", S_IFDIR, 0711);
	assert_mode(f, "e/f", S_IFDIR, 0755);
	assert_mode(f, "late", S_IFDIR, 0750);
	assert_content(f, "late/file", "early");
	assert_mode(f, "twice", S_IFDIR, 0711);
	assert_mode(f, "x", S_IFDIR, 0755);
	assert_mode(f, "x/y", S_IFDIR, 0755);
	assert_content(f, "x/y/z", "deep");
}

static void
test_later_entry_replaces(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		FILE_("f", 0644, "first"),
		FILE_("f", 0600, "second"),
		SYM("l", "/one"),
		SYM("l", "/two"),
		SYM("s", "/somewhere"),
		DIR_("s", 0755),
	};
	UNPACK_OK(f, ents);
	assert_content(f, "f", "second");
	assert_mode(f, "f", S_IFREG, 0600);
	assert_link(f, "l", "/two");
	assert_mode(f, "s", S_IFDIR, 0755);
}

static void
test_large_and_sparse(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		GEN("big", BIG),
		GEN("sparse", SPARSE),
	};
	UNPACK_OK(f, ents);
	struct stat st = lst(f, "big");
	assert_int_equal(st.st_size, BIG_SIZE);
	int fd = openat(f->destfd, "big", O_RDONLY);
	char got[65536], want[65536];
	for (size_t off = 0; off < BIG_SIZE; off += sizeof(got)) {
		ssize_t n = read(fd, got, sizeof(got));
		assert_true(n > 0);
		big_pattern(want, (size_t)n, off);
		assert_memory_equal(got, want, (size_t)n);
	}
	close(fd);

	st = lst(f, "sparse");
	assert_int_equal(st.st_size, SPARSE_SIZE);
	/* Holes stay holes: far fewer blocks than 16 MiB would take. */
	assert_true(st.st_blocks * 512 < SPARSE_SIZE / 4);
	fd = openat(f->destfd, "sparse", O_RDONLY);
	char c;
	assert_int_equal(pread(fd, &c, 1, SPARSE_SIZE / 2 + 10), 1);
	assert_int_equal(c, 'S');
	assert_int_equal(pread(fd, &c, 1, SPARSE_SIZE / 4), 1);
	assert_int_equal(c, 0);
	close(fd);
}

/* ---- refusals --------------------------------------------------------- */

static void
test_refuse_absolute(void **state)
{
	fixture *f = *state;
	const ent ents[] = { FILE_("/etc/evil", 0644, "x") };
	REFUSED(f, ents, "archive entry \"/etc/evil\": absolute path refused");
}

static void
test_refuse_dotdot(void **state)
{
	fixture *f = *state;
	const ent ents[] = { FILE_("../x", 0644, "x") };
	REFUSED(f, ents, "archive entry \"../x\": \"..\" component refused");
	assert_false(exists(f, "../x"));
}

static void
test_refuse_nested_dotdot(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		DIR_("a/", 0755),
		FILE_("a/../../x", 0644, "x"),
	};
	REFUSED(f, ents,
	    "archive entry \"a/../../x\": \"..\" component refused");
}

static void
test_refuse_write_through_symlink(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		SYM("link", f->outside),
		FILE_("link/file", 0644, "pwned"),
	};
	REFUSED(f, ents, "archive entry \"link/file\": path passes through "
	    "a symbolic link");
	assert_outside_empty(f);
}

static void
test_refuse_mkdir_through_relative_symlink(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		DIR_("real/", 0755),
		SYM("alias", "real"),
		DIR_("alias/sub/", 0755),
	};
	REFUSED(f, ents, "archive entry \"alias/sub/\": path passes through "
	    "a symbolic link");
	assert_false(exists(f, "real/sub"));
}

static void
test_refuse_symlink_escape(void **state)
{
	fixture *f = *state;
	const ent ents[] = { SYM("x", "../../etc") };
	REFUSED(f, ents, "archive entry \"x\": symbolic link target "
	    "\"../../etc\" escapes the image root");
}

static void
test_refuse_nested_symlink_escape(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		SYM("a/b/ok", "../../top"),
		SYM("a/b/bad", "../x/../../../top"),
	};
	REFUSED(f, ents, "archive entry \"a/b/bad\": symbolic link target "
	    "\"../x/../../../top\" escapes the image root");
	assert_link(f, "a/b/ok", "../../top");
}

static void
test_refuse_hardlink_dotdot(void **state)
{
	fixture *f = *state;
	const ent ents[] = { HARD("h", "../x") };
	REFUSED(f, ents, "archive entry \"h\": hard link target \"../x\" "
	    "escapes the image root");
}

static void
test_refuse_hardlink_absolute(void **state)
{
	fixture *f = *state;
	const ent ents[] = { HARD("h", "/etc/passwd") };
	REFUSED(f, ents, "archive entry \"h\": hard link target "
	    "\"/etc/passwd\" escapes the image root");
}

static void
test_refuse_hardlink_through_symlink(void **state)
{
	fixture *f = *state;
	char secret[PATH_MAX];
	snprintf(secret, sizeof(secret), "%s/secret", f->outside);
	zk_error err;
	assert_int_equal(zk_write_file_atomic(secret, "s", 1, 0600, &err), 0);
	const ent ents[] = {
		SYM("lnk", f->outside),
		HARD("h", "lnk/secret"),
	};
	REFUSED(f, ents, "archive entry \"h\": hard link target "
	    "\"lnk/secret\" passes through a symbolic link");
	assert_false(exists(f, "h"));
	assert_int_equal(unlink(secret), 0);
}

static void
test_refuse_char_device(void **state)
{
	fixture *f = *state;
	const ent ents[] = { NODE("dev/null", AE_IFCHR, 0666) };
	REFUSED(f, ents, "archive entry \"dev/null\": character device refused");
	assert_false(exists(f, "dev/null"));
}

static void
test_refuse_block_device(void **state)
{
	fixture *f = *state;
	const ent ents[] = { NODE("dev/sda", AE_IFBLK, 0660) };
	REFUSED(f, ents, "archive entry \"dev/sda\": block device refused");
}

static void
test_not_an_archive(void **state)
{
	fixture *f = *state;
	zk_error err;
	assert_int_equal(zk_write_file_atomic(f->archive, "hello\n", 6, 0644,
	    &err), 0);
	assert_true(unpack_file(f) < 0);
	char want[PATH_MAX + 32];
	snprintf(want, sizeof(want), "cannot read %s: ", f->archive);
	assert_memory_equal(f->err.msg, want, strlen(want));
}

/* ---- limits ----------------------------------------------------------- */

static void
assert_refused_at(fixture *f, int r, const char *want)
{
	if (r == 0)
		fail_msg("unpacked although a limit was passed");
	assert_int_equal(r, -EFBIG);
	assert_string_equal(f->err.msg, want);
}

static off_t
archive_size(fixture *f)
{
	struct stat st;
	assert_int_equal(stat(f->archive, &st), 0);
	return st.st_size;
}

/* An empty destination again, for a second unpack in one test. */
static void
reset_dest(fixture *f)
{
	close(f->destfd);
	assert_int_equal(zk_rm_rf(f->dest, &f->err), 0);
	assert_int_equal(mkdir(f->dest, 0755), 0);
	f->destfd = open(f->dest, O_RDONLY | O_DIRECTORY);
	assert_true(f->destfd >= 0);
}

static void
test_limit_files(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		DIR_("d", 0755), FILE_("d/a", 0644, "a"), SYM("d/b", "a"),
		FILE_("d/c", 0644, "c"),
	};
	set_limit(&f->limits.files, 4, "maxUnpackedFiles in test");
	UNPACK_OK(f, ents);
	reset_dest(f);
	set_limit(&f->limits.files, 3, "maxUnpackedFiles in test");
	assert_refused_at(f, unpack(f, ents, 4), "archive entry \"d/c\": file "
	    "count passes the limit of 3 (maxUnpackedFiles in test)");
	assert_false(exists(f, "d/c"));
}

/* One entry with a deep path makes a directory per component. */
static void
test_limit_files_counts_parents(void **state)
{
	fixture *f = *state;
	const ent ents[] = { FILE_("a/b/c/file", 0644, "x") };
	set_limit(&f->limits.files, 3, "free inodes");
	assert_refused_at(f, unpack(f, ents, 1), "archive entry \"a/b/c/file\": "
	    "file count passes the limit of 3 (free inodes)");
	assert_false(exists(f, "a/b/c"));
}

/* A gzip bomb is stopped as it streams: no more than the limit lands. */
static void
test_limit_data_gzip_bomb(void **state)
{
	fixture *f = *state;
	const ent ents[] = { SIZED("zeros", ZEROS, BOMB_SIZE) };
	set_limit(&f->limits.data, MiB, "maxUnpackedSize in test");
	int r = unpack(f, ents, 1);
	assert_true(archive_size(f) < BOMB_SIZE / 256);
	assert_refused_at(f, r, "archive entry \"zeros\": data written passes "
	    "the limit of 1048576 bytes (maxUnpackedSize in test)");
	struct stat st = lst(f, "zeros");
	assert_true(st.st_size <= MiB);
	assert_true(st.st_blocks * 512 <= MiB + 65536);
}

/* The data limit counts across files, and exactly the limit is fine. */
static void
test_limit_data_total(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		FILE_("a", 0644, "12345"), FILE_("b", 0644, "678"),
	};
	set_limit(&f->limits.data, 8, "data");
	UNPACK_OK(f, ents);
	reset_dest(f);
	set_limit(&f->limits.data, 7, "data");
	assert_refused_at(f, unpack(f, ents, 2), "archive entry \"b\": data "
	    "written passes the limit of 7 bytes (data)");
}

/*
 * 100 GiB apparent in a tiny archive lands as a sparse file: it uses no
 * more disk than its data and counts only that against the data limit.
 */
static void
test_huge_sparse_stays_sparse(void **state)
{
	fixture *f = *state;
	const ent ents[] = { SIZED("huge", SPARSE, HUGE_SIZE) };
	set_limit(&f->limits.data, 8192, "data");
	set_limit(&f->limits.apparent, HUGE_SIZE, "apparent");
	UNPACK_OK(f, ents);
	assert_true(archive_size(f) < 4096);
	struct stat st = lst(f, "huge");
	assert_int_equal(st.st_size, HUGE_SIZE);
	assert_true(st.st_blocks * 512 <= 64 * 1024);
	int fd = openat(f->destfd, "huge", O_RDONLY);
	char c;
	assert_int_equal(pread(fd, &c, 1, HUGE_SIZE / 2 + 4095), 1);
	assert_int_equal(c, 'S');
	assert_int_equal(pread(fd, &c, 1, HUGE_SIZE - 1), 1);
	assert_int_equal(c, 0);
	close(fd);
}

/* Holes cost no disk but are bounded too: nothing is made past it. */
static void
test_limit_apparent(void **state)
{
	fixture *f = *state;
	const ent ents[] = {
		GEN("small", SPARSE),
		SIZED("huge", SPARSE, HUGE_SIZE),
	};
	set_limit(&f->limits.apparent, HUGE_SIZE, "maxApparentSize in test");
	char want[256];
	snprintf(want, sizeof(want), "archive entry \"huge\": unpacked size "
	    "passes the limit of %lld bytes (maxApparentSize in test)",
	    HUGE_SIZE);
	assert_refused_at(f, unpack(f, ents, 2), want);
	assert_false(exists(f, "huge"));
}

/*
 * Directory metadata waits in memory for the end of the archive, so many
 * long-named directories are refused rather than grown without bound.
 */
static void
test_limit_directory_memory(void **state)
{
	fixture *f = *state;
	char names[8][300];
	ent ents[8];
	for (size_t i = 0; i < 8; i++) {
		memset(names[i], 'a' + (int)i, 250);
		names[i][250] = '\0';
		ents[i] = (ent)DIR_(names[i], 0755);
	}
	/* Each costs its 251 bytes and a small record: 1200 holds a few. */
	set_limit(&f->limits.memory, 1200, "memory held");
	int r = unpack(f, ents, 8);
	assert_int_equal(r, -EFBIG);
	const char *tail = "\": directory metadata passes the limit of 1200 "
	    "bytes (memory held)";
	size_t n = strlen(f->err.msg);
	assert_true(n > strlen(tail));
	assert_string_equal(f->err.msg + n - strlen(tail), tail);
	assert_false(exists(f, names[7]));
	set_limit(&f->limits.memory, 4000, "memory held");
	reset_dest(f);
	UNPACK_OK(f, ents);
}

/* ---- configuration ------------------------------------------------------ */

static void
test_config_defaults_and_keys(void **state)
{
	(void)state;
	zk_image_config c;
	zk_error err;
	assert_int_equal(zk_image_config_parse(NULL, "conf", &c, &err), 0);
	assert_true(c.max_unpacked_size == 64ULL << 30);
	assert_true(c.max_apparent_size == 1ULL << 40);
	assert_true(c.max_unpacked_files == 1000000);
	json_t *j = json_pack("{s:I, s:I, s:I, s:[s]}", "maxUnpackedSize",
	    (json_int_t)1000, "maxApparentSize", (json_int_t)2000,
	    "maxUnpackedFiles", (json_int_t)30, "sources", "https://x");
	assert_int_equal(zk_image_config_parse(j, "conf", &c, &err), 0);
	json_decref(j);
	assert_true(c.max_unpacked_size == 1000);
	assert_true(c.max_apparent_size == 2000);
	assert_true(c.max_unpacked_files == 30);
}

static void
test_config_bad_values(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"maxUnpackedSize\": \"64G\"}", "{\"maxUnpackedFiles\": 0}",
		"{\"maxApparentSize\": -1}", "{\"maxUnpackedSize\": 1.5}",
	};
	static const char *const key[] = {
		"maxUnpackedSize", "maxUnpackedFiles", "maxApparentSize",
		"maxUnpackedSize",
	};
	for (size_t i = 0; i < ZK_ARRAY_SIZE(bad); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		zk_image_config c;
		zk_error err;
		assert_int_equal(zk_image_config_parse(j, "/p/imgadm.conf", &c,
		    &err), -EINVAL);
		json_decref(j);
		char want[128];
		snprintf(want, sizeof(want), "/p/imgadm.conf: \"%s\" must be a "
		    "positive integer (%s)", key[i], strcmp(key[i],
		    "maxUnpackedFiles") == 0 ? "files" : "bytes");
		assert_string_equal(err.msg, want);
	}
}

static void
test_config_load(void **state)
{
	fixture *f = *state;
	char path[PATH_MAX];
	zk_image_config c;
	zk_error err;
	snprintf(path, sizeof(path), "%s/imgadm.conf", f->base);
	assert_int_equal(zk_image_config_load(path, &c, &err), 0);
	assert_true(c.max_unpacked_files == 1000000);
	const char *text = "{\"maxUnpackedFiles\": 7}\n";
	assert_int_equal(zk_write_file_atomic(path, text, strlen(text), 0644,
	    &err), 0);
	assert_int_equal(zk_image_config_load(path, &c, &err), 0);
	assert_true(c.max_unpacked_files == 7);
	assert_int_equal(zk_write_file_atomic(path, "{", 1, 0644, &err), 0);
	assert_int_equal(zk_image_config_load(path, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "imgadm.conf is not valid JSON"));
}

/* ---- limits from the file system ---------------------------------------- */

static void
test_limits_from_free_space(void **state)
{
	(void)state;
	zk_image_config c;
	zk_error err;
	zk_image_config_parse(NULL, "/c", &c, &err);
	struct statvfs fs = {
		.f_frsize = 4096, .f_blocks = 1000, .f_bavail = 500,
		.f_files = 1000, .f_favail = 900,
	};
	zk_unpack_limits l;
	zk_unpack_limits_for(&c, "/c", &fs, "/p/images", &l);
	/* 5 % of 4096000 bytes and of 1000 inodes are kept free. */
	assert_true(l.data.max == 500 * 4096 - 204800);
	assert_string_equal(l.data.what,
	    "free space on /p/images less a reserve of 204800 bytes");
	assert_true(l.files.max == 900 - 50);
	assert_string_equal(l.files.what,
	    "free inodes on /p/images less a reserve of 50");
	assert_true(l.apparent.max == 1ULL << 40);
	assert_string_equal(l.apparent.what, "maxApparentSize in /c");
	assert_true(l.memory.max == 64 << 20);

	/* Less free than the reserve: nothing may be written. */
	fs.f_bavail = 10;
	fs.f_favail = 10;
	zk_unpack_limits_for(&c, "/c", &fs, "/p/images", &l);
	assert_true(l.data.max == 0 && l.files.max == 0);
}

static void
test_limits_ceiling_wins(void **state)
{
	(void)state;
	zk_image_config c = {
		.max_unpacked_size = 1000, .max_apparent_size = 5000,
		.max_unpacked_files = 20,
	};
	/* 4 TiB free: the reserve stops at 1 GiB.  f_files 0: no count. */
	struct statvfs fs = {
		.f_frsize = 4096, .f_blocks = 1ULL << 30, .f_bavail = 1ULL << 30,
	};
	zk_unpack_limits l;
	zk_unpack_limits_for(&c, "/c", &fs, "/p", &l);
	assert_true(l.data.max == 1000);
	assert_string_equal(l.data.what, "maxUnpackedSize in /c");
	assert_true(l.files.max == 20);
	assert_string_equal(l.files.what, "maxUnpackedFiles in /c");
	c.max_unpacked_size = UINT64_MAX;
	zk_unpack_limits_for(&c, "/c", &fs, "/p", &l);
	assert_true(l.data.max == (1ULL << 42) - (1ULL << 30));
}

/* ---- digests ------------------------------------------------------------ */

static void
assert_digest(fixture *f, const char *data, const char *sha1,
    const char *sha256)
{
	char path[PATH_MAX];
	zk_file_digest d;
	zk_error err;
	snprintf(path, sizeof(path), "%s/data", f->base);
	assert_int_equal(zk_write_file_atomic(path, data, strlen(data), 0644,
	    &err), 0);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 1, SEEK_SET), 1);	/* offset is ignored */
	assert_int_equal(zk_digest_fd(fd, path, &d, &err), 0);
	close(fd);
	assert_string_equal(d.sha1, sha1);
	assert_string_equal(d.sha256, sha256);
	assert_int_equal(d.size, strlen(data));
}

static void
test_digest(void **state)
{
	fixture *f = *state;
	assert_digest(f, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d",
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_digest(f, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/*
 * What the unpacker read digests to what the file does, bytes after the
 * end of the tar included: the install compares the two to know that the
 * file it unpacked is the one it verified.
 */
static void
test_seen_digest_is_the_whole_file(void **state)
{
	fixture *f = *state;
	const ent ents[] = { GEN("big", BIG) };
	write_archive(f->archive, ents, 1);
	FILE *a = fopen(f->archive, "a");
	assert_non_null(a);
	fputs("trailing bytes after the compressed tar", a);
	fclose(a);
	int r = unpack_file(f);
	if (r != 0)
		fail_msg("unpack failed: %s", f->err.msg);
	int fd = open(f->archive, O_RDONLY);
	zk_file_digest whole;
	assert_int_equal(zk_digest_fd(fd, f->archive, &whole, &f->err), 0);
	close(fd);
	assert_int_equal(f->seen.size, whole.size);
	assert_string_equal(f->seen.sha256, whole.sha256);
	assert_string_equal(f->seen.sha1, "");	/* not needed, not paid for */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tree),
		T(test_dirs_late_repeated_implicit),
		T(test_later_entry_replaces),
		T(test_large_and_sparse),
		T(test_refuse_absolute),
		T(test_refuse_dotdot),
		T(test_refuse_nested_dotdot),
		T(test_refuse_write_through_symlink),
		T(test_refuse_mkdir_through_relative_symlink),
		T(test_refuse_symlink_escape),
		T(test_refuse_nested_symlink_escape),
		T(test_refuse_hardlink_dotdot),
		T(test_refuse_hardlink_absolute),
		T(test_refuse_hardlink_through_symlink),
		T(test_refuse_char_device),
		T(test_refuse_block_device),
		T(test_not_an_archive),
		T(test_limit_files),
		T(test_limit_files_counts_parents),
		T(test_limit_data_gzip_bomb),
		T(test_limit_data_total),
		T(test_huge_sparse_stays_sparse),
		T(test_limit_apparent),
		T(test_limit_directory_memory),
		T(test_config_defaults_and_keys),
		T(test_config_bad_values),
		T(test_config_load),
		T(test_limits_from_free_space),
		T(test_limits_ceiling_wins),
		T(test_digest),
		T(test_seen_digest_is_the_whole_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
