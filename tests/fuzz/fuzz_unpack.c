/*
 * The image unpacker: zk_unpack_archive on whatever bytes an image file
 * holds (tar, bare or compressed with gzip, bzip2 or xz), as imgadm runs
 * it: as root, into an empty directory, within the limits imgadm would
 * set there (the defaults of imgadm.conf and the free space).
 *
 * The archive is an in-memory file; it unpacks into root/ of a scratch
 * directory, emptied after every input.  Run as root, the scratch
 * directory is a 32 MiB tmpfs mounted in a mount namespace of this process
 * alone, so even a bomb the limits missed would end in ENOSPC, not a full
 * /dev/shm.
 *
 * Invariants: nothing appears beside root/ (no entry escaped), root/ holds
 * no device node or socket, and an archive unpacked whole was read whole:
 * the size and sha256 the unpacker saw are the file's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fuzz_util.h"
#include "image/image_install.h"

static char scratch[64];
static int scratch_fd = -1;
static bool mounted;
static fuzz_file archive;
static zk_unpack_limits limits;

static void
scratch_remove(void)
{
	if (mounted)
		umount2(scratch, MNT_DETACH);
	rmdir(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/zk-fuzz-unpack.XXXXXX", tmp);
	FUZZ_ASSERT(mkdtemp(scratch) != NULL);
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("zk-fuzz", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=32m,mode=0700") == 0)
		mounted = true;
	atexit(scratch_remove);
	scratch_fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_ASSERT(scratch_fd >= 0);
	FUZZ_ASSERT(mkdirat(scratch_fd, "outside", 0700) == 0);
	zk_image_config conf;
	struct statvfs fs;
	zk_error err = { 0 };
	FUZZ_ASSERT(zk_image_config_parse(NULL, "imgadm.conf", &conf, &err) == 0);
	FUZZ_ASSERT(fstatvfs(scratch_fd, &fs) == 0);
	zk_unpack_limits_for(&conf, "imgadm.conf", &fs, scratch, &limits);
	return 0;
}

/* Remove name (in dfd) and all below it, checking what the unpacker made.
 * Directories may have been given mode 0: opened after a chmod. */
static void
sweep(int dfd, const char *name)
{
	struct stat st;
	FUZZ_ASSERT(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0);
	FUZZ_ASSERT(!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) &&
	    !S_ISSOCK(st.st_mode));
	if (!S_ISDIR(st.st_mode)) {
		FUZZ_ASSERT(unlinkat(dfd, name, 0) == 0);
		return;
	}
	FUZZ_ASSERT(fchmodat(dfd, name, 0700, 0) == 0);
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	FUZZ_ASSERT(fd >= 0);
	DIR *d = fdopendir(fd);
	FUZZ_ASSERT(d != NULL);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			sweep(dirfd(d), de->d_name);
	closedir(d);
	FUZZ_ASSERT(unlinkat(dfd, name, AT_REMOVEDIR) == 0);
}

/* The scratch directory holds root/ and an empty outside/, nothing else. */
static void
check_nothing_escaped(void)
{
	int fd = dup(scratch_fd);
	FUZZ_ASSERT(fd >= 0);
	DIR *d = fdopendir(fd);
	FUZZ_ASSERT(d != NULL);
	rewinddir(d);
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, "root") != 0 &&
		    strcmp(de->d_name, "outside") != 0)
			fprintf(stderr, "escaped: %s\n", de->d_name);
		n++;
	}
	closedir(d);
	FUZZ_ASSERT(n == 2);
	FUZZ_ASSERT(unlinkat(scratch_fd, "outside", AT_REMOVEDIR) == 0);
	FUZZ_ASSERT(mkdirat(scratch_fd, "outside", 0700) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file_fill(&archive, "image", data, size);
	FUZZ_ASSERT(mkdirat(scratch_fd, "root", 0755) == 0);
	int root = openat(scratch_fd, "root", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	FUZZ_ASSERT(root >= 0);
	zk_error err = { 0 };
	zk_file_digest seen, file;
	if (zk_unpack_archive(archive.fd, "image", root, &limits, &seen,
	    &err) == 0) {
		FUZZ_ASSERT(zk_digest_fd(archive.fd, "image", &file, &err) == 0);
		FUZZ_ASSERT(seen.size == size && file.size == size);
		FUZZ_ASSERT(strcmp(seen.sha256, file.sha256) == 0);
	}
	close(root);
	check_nothing_escaped();
	sweep(scratch_fd, "root");
	return 0;
}
