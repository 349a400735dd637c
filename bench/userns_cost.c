/*
 * userns_cost: what a zone's user namespace costs at start and in kernel
 * memory, against the same boot without one.
 *
 *   userns_cost [--rounds N] [--warmup N] [--gap-us U] [--zones K]
 *               [--mem-reps R] [--no-shrink] [--tmpdir DIR]
 *
 * plain  (a): clone(NEWNS|NEWPID|NEWUTS|NEWIPC) of a child that waits on a
 *             pipe; the parent enters its mount namespace, mounts an
 *             overlay with the image directory as lower layer on the mount
 *             point, comes back and releases the child; it answers, exits
 *             and is reaped.
 * userns (b): what zonekit adds (src/lib/zone/userns.c, zone_root.c,
 *             zone_runtime.c): euid switched to the zone's host base id
 *             (SECBIT_NO_SETUID_FIXUP) around a clone with CLONE_NEWUSER,
 *             uid_map and gid_map written, the image opened as a detached
 *             tree and idmapped (open_tree + mount_setattr), move_mount'ed
 *             onto the mount point in the child's namespace with the
 *             overlay on top of it, and the child's setresgid, setgroups
 *             and setresuid to the zone's root before it answers.
 *
 * The same system calls as zonekit, written out here so that the helper
 * builds with a bare `cc` (bench/run).  CLONE_NEWNET is left out of both:
 * a network namespace costs the same with or without a user namespace and
 * its teardown is noisy.  Neither mode joins cgroups.
 *
 * Timing: the modes alternate, in an order flipped every round, with a gap
 * between boots so that the deferred work of the last zone (a user
 * namespace is freed from a workqueue) has run.  Every step is timed; the
 * cost is reported as the median of the rounds' differences, beside the
 * difference of the medians and the sum of the steps' differences.
 *
 * Memory: K children are held alive in one mode, each with its own
 * overlay (and id range, as zones have), /proc/meminfo and /proc/slabinfo
 * are read before and after (slab caches shrunk first), then the children
 * are released; the modes alternate over R repetitions and the median per
 * zone is reported, for every cache that grew differently and in total,
 * all caches and the unreclaimable ones.
 *
 * Everything lives in a temporary directory under --tmpdir (/var/tmp);
 * every mount is made in a child's mount namespace (or is a detached tree)
 * and dies with it.  The helper runs in a mount namespace of its own whose
 * mounts are slaves, so nothing it mounts can propagate to the host's.
 * Children are killed and reaped and the directory removed on every exit
 * path, SIGINT, SIGTERM and SIGHUP included.  Prints one JSON object.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* 2^31 + 2^29: clear of zonekit's ranges (2^30 up to 2^31). */
#define ID_BASE		2684354560u
#define ID_COUNT	65536u
#define MAX_ZONES	16384	/* ID_BASE + MAX_ZONES ranges stay below 2^32-1 */
#define NS_FLAGS	(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC)

enum mode { PLAIN, USERNS, NMODES };
static const char *const mode_names[NMODES] = { "plain", "userns" };

/* S_ROOT_IDS is timed by the child, within S_RELEASE's round trip, and
 * taken out of it. */
enum step { S_CREDS, S_CLONE, S_MAPS, S_NSFDS, S_IDMAP, S_ENTER, S_ATTACH,
    S_OVERLAY, S_LEAVE, S_ROOT_IDS, S_RELEASE, S_EXIT, NSTEPS };
static const char *const step_names[NSTEPS] = { "euid_switch", "clone",
    "maps", "ns_fds", "idmap", "setns_in", "move_mount", "overlay",
    "setns_back", "child_setresid", "release_round_trip", "exit_to_reaped" };
/* Steps only the userns mode has: null for plain. */
static const bool userns_only[NSTEPS] = { [S_CREDS] = true, [S_MAPS] = true,
    [S_IDMAP] = true, [S_ATTACH] = true, [S_ROOT_IDS] = true };

enum { MEM_AVAIL, MEM_SLAB, MEM_SUNRECL, MEM_KSTACK, MEM_PTABLES, MEM_PERCPU,
    NMEM };
static const char *const mem_keys[NMEM] = { "MemAvailable", "Slab",
    "SUnreclaim", "KernelStack", "PageTables", "Percpu" };
static const char *const mem_names[NMEM] = { "mem_available_used", "slab",
    "sunreclaim", "kernel_stack", "page_tables", "percpu" };

/* Always reported: what a user namespace and an idmapped mount are made
 * of (mnt_idmap has no cache of its own on some kernels). */
#define NNAMED 3
static const char *const named_caches[NNAMED] = { "user_namespace",
    "mnt_idmap", "mnt_cache" };
#define MAX_CACHES 1024

/* The only global: set by the signal handler, polled by the loops. */
static volatile sig_atomic_t interrupted;

struct zone {
	pid_t pid;
	int go;		/* the child exits when the parent closes it */
	int ready;	/* the child's answer */
};

struct answer {
	int err;		/* 0, or why it cannot become its zone's root */
	uint32_t root_ns;	/* how long becoming it took */
};

struct round {
	double us[NSTEPS];
	double start;	/* clone to the child running as its zone's root */
	double cycle;	/* clone to reaped */
	uint64_t last;	/* when the last step ended */
};

/* Every cache /proc/slabinfo has listed so far, in order of appearance. */
struct caches {
	int n;
	char name[MAX_CACHES][64];
	long long size[MAX_CACHES];
	bool reclaimable[MAX_CACHES];	/* dentries, inodes, buffer heads */
};

struct snap {
	long long mem[NMEM];		/* KiB */
	long long active[MAX_CACHES];	/* objects, by index in struct caches */
};

struct opts {
	int rounds, warmup, gap_us, zones, mem_reps;
	bool shrink;
	const char *tmpdir;
};

struct bench {
	struct opts o;
	char dir[PATH_MAX];
	char lower[PATH_MAX + 16];
	char target[PATH_MAX + 16];
	struct zone *zones;	/* o.zones of them (at least one) */
	struct round *rounds[NMODES];
	double *mem_kib[NMODES][NMEM];	/* per zone, one per repetition */
	double *objs[NMODES];	/* per zone, [cache * mem_reps + rep] */
	struct caches caches;
	bool slabinfo;
	char err[512];
};

static int
failf(struct bench *b, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(b->err))
		snprintf(b->err + n, sizeof(b->err) - (size_t)n, ": %s",
		    interrupted ? "interrupted" : strerror(saved));
	errno = saved;
	return -1;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (p == NULL) {
		fprintf(stderr, "userns_cost: out of memory\n");
		exit(1);
	}
	return p;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
lap(struct round *r, enum step s)
{
	uint64_t t = now_ns();
	r->us[s] += (double)(t - r->last) / 1e3;
	r->last = t;
}

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !interrupted)
		;
}

/* ---- the child ------------------------------------------------------- */

/* Only the parent may hold the write end of go: its death is then EOF. */
static void
keep_only(int a, int b)
{
	unsigned lo = (unsigned)(a < b ? a : b), hi = (unsigned)(a < b ? b : a);
	if (lo > 0)
		close_range(0, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

static int
become_root(void)
{
	if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setresuid(0, 0, 0) < 0)
		return errno;
	return 0;
}

static void __attribute__((noreturn))
child_main(enum mode m, int go, int ready)
{
	keep_only(go, ready);
	char c;
	if (read(go, &c, 1) != 1)
		_exit(1);
	struct answer a = { 0, 0 };
	uint64_t t0 = now_ns();
	if (m == USERNS)
		a.err = become_root();
	a.root_ns = (uint32_t)(now_ns() - t0);
	if (write(ready, &a, sizeof(a)) != sizeof(a))
		_exit(1);
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

/* ---- the parent's side of one boot ------------------------------------ */

static pid_t
clone3_ns(uint64_t flags)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.exit_signal = SIGCHLD;
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* zk_userns_clone: the new namespace is owned by the zone's base id. */
static pid_t
clone_owned(struct bench *b, uint32_t base, struct round *r)
{
	int bits = prctl(PR_GET_SECUREBITS);
	if (bits < 0 || prctl(PR_SET_SECUREBITS, bits |
	    SECBIT_NO_SETUID_FIXUP) < 0)
		return failf(b, "cannot set SECBIT_NO_SETUID_FIXUP");
	if (setresuid(-1, base, -1) < 0) {
		failf(b, "cannot switch euid to %u", base);
		prctl(PR_SET_SECUREBITS, bits);
		return -1;
	}
	setfsuid(0);
	lap(r, S_CREDS);
	pid_t pid = clone3_ns(NS_FLAGS | CLONE_NEWUSER);
	if (pid == 0)
		return 0;
	if (pid < 0)
		failf(b, "clone with CLONE_NEWUSER");
	/* Timed with the clone: the parent's first copy-on-write faults after
	 * it fall here, where they fall into the clone in plain mode. */
	if (setresuid(-1, 0, -1) < 0) {
		fprintf(stderr, "userns_cost: cannot get euid 0 back\n");
		_exit(125);	/* never carry on with the zone's euid */
	}
	prctl(PR_SET_SECUREBITS, bits);
	return pid;
}

static int
write_map(struct bench *b, pid_t pid, const char *file, uint32_t base)
{
	char path[64], line[48];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int n = snprintf(line, sizeof(line), "0 %u %u\n", base, ID_COUNT);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return failf(b, "cannot open %s", path);
	int r = write(fd, line, (size_t)n) == n ? 0 :
	    failf(b, "cannot write %s", path);
	close(fd);
	return r;
}

static int
open_ns(struct bench *b, pid_t pid, const char *ns)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? fd : failf(b, "cannot open %s", path);
}

static int
idmapped_tree(struct bench *b, int userns)
{
	int tree = open_tree(AT_FDCWD, b->lower, OPEN_TREE_CLONE |
	    OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return failf(b, "open_tree %s", b->lower);
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY |
		    MOUNT_ATTR_NODEV,
		.userns_fd = (unsigned)userns,
	};
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		failf(b, "cannot idmap %s (idmapped mounts need Linux 5.12, "
		    "under overlayfs 5.19)", b->lower);
		close(tree);
		return -1;
	}
	return tree;
}

/* In the child's mount namespace: [the idmapped image,] the overlay. */
static int
mount_layers(struct bench *b, enum mode m, int tree, int slot,
    struct round *r)
{
	if (m == USERNS) {
		if (move_mount(tree, "", AT_FDCWD, b->target,
		    MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return failf(b, "move_mount onto %s", b->target);
		lap(r, S_ATTACH);
	}
	char opts[3 * PATH_MAX];
	int n = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/upper/%d,"
	    "workdir=%s/work/%d", m == USERNS ? b->target : b->lower, b->dir,
	    slot, b->dir, slot);
	if (n < 0 || (size_t)n >= sizeof(opts)) {
		errno = ENAMETOOLONG;
		return failf(b, "overlay options for %s", b->dir);
	}
	if (mount("overlay", b->target, "overlay", MS_NODEV, opts) < 0)
		return failf(b, "cannot mount overlay on %s", b->target);
	lap(r, S_OVERLAY);
	return 0;
}

static void
close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* zk_zone_root_mount's steps, after the maps are written. */
static int
zone_root(struct bench *b, enum mode m, pid_t pid, int slot, struct round *r)
{
	enum { USER, ZONE_MNT, OWN_MNT, TREE, NFDS };
	int fd[NFDS] = { -1, -1, -1, -1 };
	int rc = -1;
	if ((m == USERNS && (fd[USER] = open_ns(b, pid, "user")) < 0) ||
	    (fd[ZONE_MNT] = open_ns(b, pid, "mnt")) < 0)
		goto out;
	if ((fd[OWN_MNT] = open("/proc/self/ns/mnt", O_RDONLY |
	    O_CLOEXEC)) < 0) {
		failf(b, "cannot open /proc/self/ns/mnt");
		goto out;
	}
	lap(r, S_NSFDS);
	if (m == USERNS) {
		if ((fd[TREE] = idmapped_tree(b, fd[USER])) < 0)
			goto out;
		lap(r, S_IDMAP);
	}
	if (setns(fd[ZONE_MNT], CLONE_NEWNS) < 0) {
		failf(b, "cannot enter the child's mount namespace");
		goto out;
	}
	lap(r, S_ENTER);
	rc = mount_layers(b, m, fd[TREE], slot, r);
	if (setns(fd[OWN_MNT], CLONE_NEWNS) < 0 || chdir("/") < 0) {
		fprintf(stderr, "userns_cost: cannot leave a child's mount "
		    "namespace\n");
		_exit(125);	/* never carry on inside its mounts */
	}
out:
	close_fds(fd, NFDS);
	lap(r, S_LEAVE);
	return rc;
}

static int
release(struct bench *b, enum mode m, struct zone *z, struct round *r)
{
	struct answer a;
	if (write(z->go, "G", 1) != 1)
		return failf(b, "cannot release child %d", (int)z->pid);
	ssize_t n = read(z->ready, &a, sizeof(a));
	if (n != sizeof(a))
		return failf(b, "child %d died before answering", (int)z->pid);
	if (a.err != 0) {
		errno = a.err;
		return failf(b, "child %d cannot become its zone's root",
		    (int)z->pid);
	}
	lap(r, S_RELEASE);
	if (m == USERNS) {
		r->us[S_ROOT_IDS] = a.root_ns / 1e3;
		r->us[S_RELEASE] -= r->us[S_ROOT_IDS];
	}
	return 0;
}

/* One zone up to its child running as root, the way zk_zone_boot does. */
static int
boot(struct bench *b, enum mode m, uint32_t base, int slot, struct zone *z,
    struct round *r)
{
	int go[2], ready[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return failf(b, "pipe");
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close_fds(go, 2);
		return failf(b, "pipe");
	}
	memset(r, 0, sizeof(*r));
	uint64_t t0 = r->last = now_ns();
	pid_t pid = m == USERNS ? clone_owned(b, base, r) : clone3_ns(NS_FLAGS);
	if (pid == 0)
		child_main(m, go[0], ready[1]);
	int theirs[2] = { go[0], ready[1] };
	close_fds(theirs, 2);
	if (pid < 0) {
		if (m == PLAIN)
			failf(b, "clone");
		close(go[1]);
		close(ready[0]);
		return -1;
	}
	*z = (struct zone){ pid, go[1], ready[0] };
	lap(r, S_CLONE);
	if (m == USERNS) {
		if (write_map(b, pid, "uid_map", base) < 0 ||
		    write_map(b, pid, "gid_map", base) < 0)
			return -1;
		lap(r, S_MAPS);
	}
	if (zone_root(b, m, pid, slot, r) < 0 || release(b, m, z, r) < 0)
		return -1;
	r->start = (double)(r->last - t0) / 1e3;
	return 0;
}

/* Close its pipes (it exits on EOF) and wait for it; its status. */
static int
end_zone(struct zone *z)
{
	int status = 0;
	close(z->go);
	close(z->ready);
	z->go = z->ready = -1;
	pid_t got;
	while ((got = waitpid(z->pid, &status, 0)) < 0 && errno == EINTR)
		;
	z->pid = 0;
	return got < 0 ? -1 : status;
}

static int
reap(struct bench *b, struct zone *z)
{
	pid_t pid = z->pid;
	if (pid <= 0)
		return 0;
	int status = end_zone(z);
	if (status < 0)
		return failf(b, "waitpid %d", (int)pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = ECHILD;
		return failf(b, "child %d ended with status %#x", (int)pid,
		    status);
	}
	return 0;
}

/* ---- timing ---------------------------------------------------------- */

static int
time_one(struct bench *b, enum mode m, struct round *r)
{
	struct zone *z = &b->zones[0];
	if (boot(b, m, ID_BASE, 0, z, r) < 0)
		return -1;
	if (reap(b, z) < 0)
		return -1;
	lap(r, S_EXIT);
	r->cycle = r->start + r->us[S_EXIT];
	return 0;
}

static int
time_rounds(struct bench *b)
{
	struct round scratch;
	int n = b->o.warmup + b->o.rounds;
	for (int i = 0; i < n && !interrupted; i++) {
		for (int k = 0; k < NMODES; k++) {
			enum mode m = (enum mode)((i + k) % NMODES);
			int rec = i - b->o.warmup;
			sleep_us(b->o.gap_us);
			if (time_one(b, m, rec < 0 ? &scratch :
			    &b->rounds[m][rec]) < 0)
				return -1;
		}
	}
	if (interrupted) {
		errno = EINTR;
		return failf(b, "timing");
	}
	return 0;
}

/* ---- memory ---------------------------------------------------------- */

static void
read_meminfo(struct snap *s)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256], key[64];
	long long v;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%63[^:]: %lld", key, &v) == 2)
			for (int i = 0; i < NMEM; i++)
				if (strcmp(key, mem_keys[i]) == 0)
					s->mem[i] = v;
	fclose(f);
}

static int
cache_index(struct caches *c, const char *name, long long size)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return i;
	if (c->n == MAX_CACHES)
		return -1;
	snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
	c->size[c->n] = size;
	char path[128], flag = '0';
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/reclaim_account", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &flag, 1) != 1)
			flag = '0';
		close(fd);
	}
	c->reclaimable[c->n] = flag == '1';
	return c->n++;
}

static bool
read_slabinfo(struct caches *c, struct snap *s)
{
	FILE *f = fopen("/proc/slabinfo", "re");
	char line[512], name[64];
	long long active, total, size;
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%63s %lld %lld %lld", name, &active, &total,
		    &size) != 4)
			continue;	/* the two header lines */
		int i = cache_index(c, name, size);
		if (i >= 0)
			s->active[i] = active;
	}
	fclose(f);
	return true;
}

/*
 * SLUB counts the free objects of per-cpu slabs as in use, which would hide
 * up to a few dozen freed and reused objects per cache and CPU: flush them
 * (and free empty slabs) before each reading.
 */
static void
shrink_slabs(void)
{
	DIR *d = opendir("/sys/kernel/slab");
	struct dirent *de;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;	/* symbolic links are merged aliases */
		char path[300];
		snprintf(path, sizeof(path), "%s/shrink", de->d_name);
		int fd = openat(dirfd(d), path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) < 0) {
				/* a cache that cannot shrink is read as is */
			}
			close(fd);
		}
	}
	closedir(d);
}

static void
snapshot(struct bench *b, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	if (b->o.shrink)
		shrink_slabs();
	read_meminfo(s);
	b->slabinfo = read_slabinfo(&b->caches, s);
}

static void
record_mem(struct bench *b, enum mode m, int rep, const struct snap *s0,
    const struct snap *s1)
{
	double k = b->o.zones;
	for (int i = 0; i < NMEM; i++) {
		long long d = s1->mem[i] - s0->mem[i];
		b->mem_kib[m][i][rep] = (i == MEM_AVAIL ? -d : d) / k;
	}
	for (int i = 0; i < b->caches.n; i++)
		b->objs[m][i * b->o.mem_reps + rep] =
		    (double)(s1->active[i] - s0->active[i]) / k;
}

static int
reap_all(struct bench *b)
{
	int rc = 0;
	for (int i = 0; i < b->o.zones; i++)
		if (b->zones[i].pid > 0)
			close(b->zones[i].go);	/* all exit at once */
	for (int i = 0; i < b->o.zones; i++) {
		b->zones[i].go = -1;
		if (reap(b, &b->zones[i]) < 0)
			rc = -1;
	}
	return rc;
}

static int
hold_zones(struct bench *b, enum mode m, int rep)
{
	static struct snap s0, s1;
	struct round scratch;
	snapshot(b, &s0);
	for (int i = 0; i < b->o.zones; i++)
		if (interrupted || boot(b, m, ID_BASE + (uint32_t)i * ID_COUNT,
		    i, &b->zones[i], &scratch) < 0)
			return interrupted ? failf(b, "memory") : -1;
	sleep_us(500000);
	snapshot(b, &s1);
	record_mem(b, m, rep, &s0, &s1);
	if (reap_all(b) < 0)
		return -1;
	/* freed user namespaces, mounts and their RCU callbacks */
	sleep_us(1000000);
	return 0;
}

static int
measure_memory(struct bench *b)
{
	sleep_us(1000000);
	for (int rep = 0; rep < b->o.mem_reps; rep++)
		for (int k = 0; k < NMODES; k++)
			if (hold_zones(b, (enum mode)((rep + k) % NMODES), rep) < 0)
				return -1;
	return 0;
}

/* ---- set-up and clean-up --------------------------------------------- */

static int
make_dir(struct bench *b, const char *fmt, ...)
{
	char path[PATH_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (mkdir(path, 0755) < 0)
		return failf(b, "cannot create %s", path);
	return 0;
}

/* A few entries, so the image is no empty directory. */
static int
make_image(struct bench *b)
{
	static const char *const files[] = { "etc/hostname", "bin/init" };
	if (make_dir(b, "%s", b->lower) < 0 || make_dir(b, "%s/etc",
	    b->lower) < 0 || make_dir(b, "%s/bin", b->lower) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/%s", b->lower, files[i]);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
		if (fd < 0)
			return failf(b, "cannot create %s", path);
		close(fd);
	}
	return 0;
}

static int
setup(struct bench *b)
{
	/* A namespace of our own with slave mounts: nothing mounted in the
	 * children's copies of it can reach the host's mount table. */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return failf(b, "cannot make a private mount namespace");
	snprintf(b->dir, sizeof(b->dir), "%s/zk-userns-XXXXXX", b->o.tmpdir);
	if (mkdtemp(b->dir) == NULL) {
		b->dir[0] = '\0';
		return failf(b, "cannot create a directory in %s", b->o.tmpdir);
	}
	snprintf(b->lower, sizeof(b->lower), "%s/lower", b->dir);
	snprintf(b->target, sizeof(b->target), "%s/root", b->dir);
	if (make_image(b) < 0 || make_dir(b, "%s", b->target) < 0 ||
	    make_dir(b, "%s/upper", b->dir) < 0 ||
	    make_dir(b, "%s/work", b->dir) < 0)
		return -1;
	for (int i = 0; i < b->o.zones; i++)
		if (make_dir(b, "%s/upper/%d", b->dir, i) < 0 ||
		    make_dir(b, "%s/work/%d", b->dir, i) < 0)
			return -1;
	return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		fprintf(stderr, "userns_cost: cannot remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

static void
cleanup(struct bench *b)
{
	for (int i = 0; b->zones != NULL && i < b->o.zones; i++) {
		struct zone *z = &b->zones[i];
		if (z->pid > 0) {
			kill(z->pid, SIGKILL);
			end_zone(z);
		}
	}
	/* Their mount namespaces, overlays included, went with them. */
	if (b->dir[0] != '\0')
		nftw(b->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- output ---------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
median_of(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* {"min","median","max"} of n values (sorted in place). */
static void
put_stats(double *v, size_t n)
{
	double med = median_of(v, n);
	printf("{\"min\": %.1f, \"median\": %.1f, \"max\": %.1f}", v[0], med,
	    v[n - 1]);
}

/* The per-round values of one field of the rounds of a mode. */
static double *
column(struct bench *b, enum mode m, size_t off)
{
	double *v = xcalloc((size_t)b->o.rounds, sizeof(double));
	for (int i = 0; i < b->o.rounds; i++)
		v[i] = *(double *)((char *)&b->rounds[m][i] + off);
	return v;
}

static double
median_column(struct bench *b, enum mode m, size_t off)
{
	double *v = column(b, m, off);
	double med = median_of(v, (size_t)b->o.rounds);
	free(v);
	return med;
}

static void
put_column(struct bench *b, enum mode m, size_t off)
{
	double *v = column(b, m, off);
	put_stats(v, (size_t)b->o.rounds);
	free(v);
}

static size_t
step_off(int s)
{
	return offsetof(struct round, us) + sizeof(double) * (size_t)s;
}

/*
 * userns minus plain, three ways: the difference of the medians; the
 * median of each round's difference (the two ran back to back); the sum
 * of the steps' median differences up to step last, which leaves out the
 * noise of the steps both modes share (the overlay's file system work).
 */
/* The median of each round's userns minus plain (0 where plain has no
 * such step). */
static double
paired_median(struct bench *b, size_t off)
{
	size_t n = (size_t)b->o.rounds;
	double *d = xcalloc(n, sizeof(double));
	for (size_t i = 0; i < n; i++)
		d[i] = *(double *)((char *)&b->rounds[USERNS][i] + off) -
		    *(double *)((char *)&b->rounds[PLAIN][i] + off);
	double med = median_of(d, n);
	free(d);
	return med;
}

static void
put_cost(struct bench *b, size_t off, int last)
{
	double paired = paired_median(b, off), steps = 0;
	for (int s = 0; s <= last; s++)
		steps += median_column(b, USERNS, step_off(s)) -
		    (userns_only[s] ? 0 : median_column(b, PLAIN, step_off(s)));
	printf("{\"median_diff\": %.1f, \"paired_median\": %.1f, "
	    "\"steps_sum\": %.1f}", median_column(b, USERNS, off) -
	    median_column(b, PLAIN, off), paired, steps);
}

static void
put_timing(struct bench *b)
{
	static const struct { const char *key; size_t off; int last; }
	    totals[] = { { "start_us", offsetof(struct round, start),
	    S_RELEASE }, { "cycle_us", offsetof(struct round, cycle), S_EXIT } };
	for (size_t t = 0; t < 2; t++) {
		printf("  \"%s\": {", totals[t].key);
		for (int m = 0; m < NMODES; m++) {
			printf("\"%s\": ", mode_names[m]);
			put_column(b, (enum mode)m, totals[t].off);
			printf(", ");
		}
		printf("\"userns_minus_plain\": ");
		put_cost(b, totals[t].off, totals[t].last);
		printf("},\n");
	}
	printf("  \"steps_us\": {\n");
	for (int m = 0; m < NMODES; m++) {
		printf("    \"%s\": {", mode_names[m]);
		for (int s = 0; s < NSTEPS; s++) {
			printf("%s\"%s\": ", s ? ", " : "", step_names[s]);
			if (m == PLAIN && userns_only[s])
				printf("null");
			else
				put_column(b, (enum mode)m, step_off(s));
		}
		printf("},\n");
	}
	printf("    \"userns_minus_plain\": {");
	for (int s = 0; s < NSTEPS; s++)
		printf("%s\"%s\": %.1f", s ? ", " : "", step_names[s],
		    paired_median(b, step_off(s)));
	printf("}\n  },\n");
}

/* Medians over the repetitions of each mode, and their difference. */
static double
put_mem_modes(struct bench *b, double *const v[NMODES], int nd)
{
	size_t n = (size_t)b->o.mem_reps;
	double med[NMODES];
	printf("{");
	for (int m = 0; m < NMODES; m++) {
		med[m] = median_of(v[m], n);
		printf("\"%s\": %.*f, ", mode_names[m], nd, med[m]);
	}
	printf("\"userns_minus_plain\": %.*f}", nd, med[USERNS] - med[PLAIN]);
	return med[USERNS] - med[PLAIN];
}

enum pick { ALL_CACHES = -1, UNRECLAIMABLE = -2 };

/* KiB per zone, per repetition, of cache i or of a pick of caches. */
static void
cache_kib(struct bench *b, enum mode m, int i, double *out)
{
	int reps = b->o.mem_reps;
	int first = i < 0 ? 0 : i, end = i < 0 ? b->caches.n : i + 1;
	for (int r = 0; r < reps; r++) {
		out[r] = 0;
		for (int c = first; c < end; c++)
			if (i != UNRECLAIMABLE || !b->caches.reclaimable[c])
				out[r] += b->objs[m][c * reps + r] *
				    (double)b->caches.size[c] / 1024.0;
	}
}

static bool
is_named(const char *name)
{
	for (int i = 0; i < NNAMED; i++)
		if (strcmp(name, named_caches[i]) == 0)
			return true;
	return false;
}

/* One cache: objects and KiB per zone of each mode. */
static void
put_cache(struct bench *b, int i, double *kib[NMODES])
{
	size_t reps = (size_t)b->o.mem_reps;
	double *objs[NMODES];
	for (int m = 0; m < NMODES; m++) {	/* sorted by put_mem_modes */
		objs[m] = xcalloc(reps, sizeof(double));
		memcpy(objs[m], b->objs[m] + (size_t)i * reps,
		    reps * sizeof(double));
	}
	printf("\n    {\"cache\": \"%s\", \"objsize\": %lld, "
	    "\"reclaimable\": %s, \"objs\": ", b->caches.name[i],
	    b->caches.size[i], b->caches.reclaimable[i] ? "true" : "false");
	put_mem_modes(b, objs, 2);
	printf(", \"kib\": ");
	put_mem_modes(b, kib, 2);
	printf("}");
	free(objs[PLAIN]);
	free(objs[USERNS]);
}

/* Caches whose growth differs by 50 bytes per zone or more, and the named
 * ones, as the kernel lists them (merged caches go by one of their names). */
static void
put_caches(struct bench *b)
{
	size_t reps = (size_t)b->o.mem_reps;
	double *kib[NMODES] = { xcalloc(reps, sizeof(double)),
	    xcalloc(reps, sizeof(double)) };
	int shown = 0;
	printf("  \"slab_caches_per_zone\": [");
	for (int i = 0; i < b->caches.n; i++) {
		double med[NMODES];
		for (int m = 0; m < NMODES; m++) {
			cache_kib(b, (enum mode)m, i, kib[m]);
			med[m] = median_of(kib[m], reps);
		}
		double d = med[USERNS] - med[PLAIN];
		if (is_named(b->caches.name[i]) || d >= 0.05 || d <= -0.05) {
			printf("%s", shown++ ? "," : "");
			put_cache(b, i, kib);
		}
	}
	printf("\n  ],\n  \"caches_absent\": [");
	shown = 0;
	for (int n = 0; n < NNAMED; n++) {
		bool seen = false;
		for (int i = 0; i < b->caches.n; i++)
			seen |= strcmp(b->caches.name[i], named_caches[n]) == 0;
		if (!seen)
			printf("%s\"%s\"", shown++ ? ", " : "", named_caches[n]);
	}
	printf("],\n");
	free(kib[PLAIN]);
	free(kib[USERNS]);
}

static void
put_memory(struct bench *b)
{
	size_t reps = (size_t)b->o.mem_reps;
	printf("  \"memory_per_zone_kib\": {");
	for (int i = 0; i < NMEM; i++) {
		double *v[NMODES] = { b->mem_kib[PLAIN][i], b->mem_kib[USERNS][i] };
		printf("%s\n    \"%s\": ", i ? "," : "", mem_names[i]);
		put_mem_modes(b, v, 2);
	}
	static const struct { const char *key; enum pick pick; } sums[] = {
		{ "slab_objects", ALL_CACHES },
		{ "slab_objects_unreclaimable", UNRECLAIMABLE } };
	double *v[NMODES] = { xcalloc(reps, sizeof(double)),
	    xcalloc(reps, sizeof(double)) };
	for (size_t k = 0; b->slabinfo && k < 2; k++) {
		for (int m = 0; m < NMODES; m++)
			cache_kib(b, (enum mode)m, sums[k].pick, v[m]);
		printf(",\n    \"%s\": ", sums[k].key);
		put_mem_modes(b, v, 2);
	}
	free(v[PLAIN]);
	free(v[USERNS]);
	printf("\n  },\n");
	if (b->slabinfo)
		put_caches(b);
	printf("  \"slabs_shrunk\": %s,\n", b->o.shrink ? "true" : "false");
}

static void
put_result(struct bench *b)
{
	struct utsname u;
	if (uname(&u) < 0)
		u.release[0] = '\0';
	printf("{\n  \"kernel\": \"%s\",\n  \"rounds\": %d,\n  \"warmup\": %d,\n"
	    "  \"gap_us\": %d,\n  \"zones\": %d,\n  \"mem_reps\": %d,\n"
	    "  \"id_base\": %u,\n  \"clone_flags\": \"CLONE_NEWNS|CLONE_NEWPID|"
	    "CLONE_NEWUTS|CLONE_NEWIPC (no CLONE_NEWNET, no cgroups)\",\n",
	    u.release, b->o.rounds, b->o.warmup, b->o.gap_us, b->o.zones,
	    b->o.mem_reps, ID_BASE);
	put_timing(b);
	if (b->o.mem_reps > 0)
		put_memory(b);
	else
		printf("  \"memory_per_zone_kib\": null,\n");
	printf("  \"slabinfo_readable\": %s\n}\n",
	    b->slabinfo ? "true" : "false");
}

/* ---- main ------------------------------------------------------------ */

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int
catch_signals(void)
{
	/* No SA_RESTART: a blocking read or wait returns, and the loops see
	 * the flag. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: userns_cost [--rounds N] [--warmup N] "
	    "[--gap-us U] [--zones K] [--mem-reps R] [--no-shrink] "
	    "[--tmpdir DIR]\n");
	exit(2);
}

static int
int_arg(const char *s, int lo, int hi)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || *end != '\0' || v < lo || v > hi)
		usage();
	return (int)v;
}

static void
parse_opts(int argc, char *argv[], struct opts *o)
{
	*o = (struct opts){ 200, 10, 5000, 200, 3, true, "/var/tmp" };
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--rounds") == 0)
			o->rounds = int_arg(v, 1, 1000000);
		else if (strcmp(argv[i], "--warmup") == 0)
			o->warmup = int_arg(v, 0, 1000000);
		else if (strcmp(argv[i], "--gap-us") == 0)
			o->gap_us = int_arg(v, 0, 10000000);
		else if (strcmp(argv[i], "--zones") == 0)
			o->zones = int_arg(v, 1, MAX_ZONES);
		else if (strcmp(argv[i], "--mem-reps") == 0)
			o->mem_reps = int_arg(v, 0, 1000);
		else if (strcmp(argv[i], "--tmpdir") == 0 && v != NULL)
			o->tmpdir = v;
		else if (strcmp(argv[i], "--no-shrink") == 0) {
			o->shrink = false;
			continue;
		} else
			usage();
		i++;
	}
}

static void
alloc_results(struct bench *b)
{
	size_t reps = (size_t)b->o.mem_reps;
	b->zones = xcalloc((size_t)b->o.zones, sizeof(struct zone));
	for (int m = 0; m < NMODES; m++) {
		b->rounds[m] = xcalloc((size_t)b->o.rounds, sizeof(struct round));
		b->objs[m] = xcalloc(reps * MAX_CACHES, sizeof(double));
		for (int i = 0; i < NMEM; i++)
			b->mem_kib[m][i] = xcalloc(reps, sizeof(double));
	}
}

int
main(int argc, char *argv[])
{
	static struct bench b;
	parse_opts(argc, argv, &b.o);
	if (geteuid() != 0) {
		fprintf(stderr, "userns_cost: must run as root\n");
		return 2;
	}
	alloc_results(&b);
	int rc = catch_signals() < 0 ? failf(&b, "sigaction") : 0;
	if (rc == 0)
		rc = setup(&b);
	if (rc == 0)
		rc = time_rounds(&b);
	if (rc == 0 && b.o.mem_reps > 0)
		rc = measure_memory(&b);
	cleanup(&b);
	if (rc < 0) {
		fprintf(stderr, "userns_cost: %s\n", b.err);
		return interrupted ? 130 : 1;
	}
	put_result(&b);
	return 0;
}
