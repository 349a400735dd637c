/*
 * zk_unpack_archive and zk_sha1_file.  Each test writes a small tar.gz
 * with libarchive's write side (so hostile archives need no fixtures on
 * disk), unpacks it into a fresh temporary directory and checks the tree,
 * or the exact refusal.  No root needed: entries carry our own uid/gid.
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

#include "fsutil.h"
#include "image_install.h"

#define MTIME 1600000000	/* 2020-09-13, far from "now" */
#define BIG_SIZE (3 * 1024 * 1024 + 17)	/* spans many data blocks */
#define SPARSE_SIZE (16 * 1024 * 1024)

typedef struct ent {
	const char *path;
	mode_t type;		/* AE_IFREG, AE_IFDIR, ...; 0: hard link */
	mode_t perm;
	const char *data;	/* regular file contents */
	const char *link;	/* symlink or hard link target */
	int special;		/* BIG: patterned BIG_SIZE file; SPARSE */
} ent;

enum { BIG = 1, SPARSE = 2 };

#define DIR_(p, m)	{ .path = (p), .type = AE_IFDIR, .perm = (m) }
#define FILE_(p, m, d)	{ .path = (p), .type = AE_IFREG, .perm = (m), .data = (d) }
#define SYM(p, t)	{ .path = (p), .type = AE_IFLNK, .perm = 0777, .link = (t) }
#define HARD(p, t)	{ .path = (p), .link = (t) }
#define NODE(p, ty, m)	{ .path = (p), .type = (ty), .perm = (m) }
#define GEN(p, kind)	{ .path = (p), .type = AE_IFREG, .perm = 0644, \
			  .special = (kind) }

typedef struct fixture {
	char base[PATH_MAX];
	char archive[PATH_MAX];
	char dest[PATH_MAX];
	char outside[PATH_MAX];	/* stands in for /etc: must stay empty */
	int destfd;
	zk_error err;
} fixture;

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

/* 'S' in [0, 4K) and [8M, 8M + 4K); the rest, tail included, are holes. */
static void
write_sparse(struct archive *a)
{
	static char zero[4096];
	char data[4096];
	memset(data, 'S', sizeof(data));
	for (size_t off = 0; off < SPARSE_SIZE; off += 4096)
		write_all(a, off == 0 || off == SPARSE_SIZE / 2 ? data : zero,
		    4096);
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
		archive_entry_set_size(e, SPARSE_SIZE);
		archive_entry_sparse_add_entry(e, 0, 4096);
		archive_entry_sparse_add_entry(e, SPARSE_SIZE / 2, 4096);
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
		else if (ents[i].special == SPARSE)
			write_sparse(a);
		else if (ents[i].type == AE_IFREG && ents[i].data)
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static int
unpack(fixture *f, const ent *ents, size_t n)
{
	write_archive(f->archive, ents, n);
	zk_error_clear(&f->err);
	return zk_unpack_archive(f->archive, f->destfd, &f->err);
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
	assert_true(zk_unpack_archive(f->archive, f->destfd, &f->err) < 0);
	char want[PATH_MAX + 32];
	snprintf(want, sizeof(want), "cannot read %s: ", f->archive);
	assert_memory_equal(f->err.msg, want, strlen(want));
}

/* ---- sha1 ------------------------------------------------------------- */

static void
test_sha1(void **state)
{
	fixture *f = *state;
	char path[PATH_MAX], hex[41];
	uint64_t size = 99;
	zk_error err;
	snprintf(path, sizeof(path), "%s/abc", f->base);
	assert_int_equal(zk_write_file_atomic(path, "abc", 3, 0644, &err), 0);
	assert_int_equal(zk_sha1_file(path, hex, &size, &err), 0);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_int_equal(size, 3);

	assert_int_equal(zk_write_file_atomic(path, "", 0, 0644, &err), 0);
	assert_int_equal(zk_sha1_file(path, hex, &size, &err), 0);
	assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	assert_int_equal(size, 0);

	snprintf(path, sizeof(path), "%s/missing", f->base);
	assert_int_equal(zk_sha1_file(path, hex, &size, &err), -ENOENT);
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
		T(test_sha1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
