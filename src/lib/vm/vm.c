#include "vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "config/rctl.h"
#include "config/store.h"
#include "image/image.h"
#include "storage/storage.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/fsutil.h"
#include "util/json_util.h"
#include "util/lock.h"
#include "util/proc.h"
#include "util/uuid.h"
#include "vm/ctl.h"
#include "zk_config.h"
#include "zone/zone_ids.h"

#define ADOPT_WAIT_MS 5000

void
zk_zoneadmd_path(char *buf)
{
	const char *env = getenv("ZONEKIT_ZONEADMD");
	if (env != NULL && *env == '/') {
		snprintf(buf, PATH_MAX, "%s", env);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, PATH_MAX, "%s/zoneadmd", dirname(self));
		if (access(buf, X_OK) == 0)
			return;
	}
	snprintf(buf, PATH_MAX, "%s/zoneadmd", ZK_LIBEXECDIR);
}

/* ---- zoneadmd: start it and wait for its verdict ----------------------- */

static void __attribute__((noreturn))
exec_zoneadmd(const char *uuid, bool adopt, int notify)
{
	char path[PATH_MAX];
	zk_zoneadmd_path(path);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (dup2(notify, 3) < 0)
		_exit(127);
	close_range(4, ~0U, 0);
	char *argv[] = { "zoneadmd", "-z", (char *)uuid, "-n", "3",
	    adopt ? "-a" : NULL, NULL };
	execv(path, argv);
	int e = errno;
	char msg[PATH_MAX + 64];
	snprintf(msg, sizeof(msg), "cannot execute %s: %s", path, strerror(e));
	dprintf(3, ZK_CTL_ERROR_FMT "\n", e, msg);
	_exit(127);
}

/*
 * zoneadmd is a daemon (double fork, own session) so it outlives vmadm.
 * It reports on the notify pipe: "ok" once the zone runs, or "error ...".
 */
static int
spawn_zoneadmd(const char *uuid, bool adopt, zk_error *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return zk_fail_errno(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return zk_fail_errno(err, errno, "cannot fork zoneadmd");
	}
	if (pid == 0) {
		close(pfd[0]);
		setsid();
		pid_t gc = fork();
		if (gc != 0)
			_exit(gc < 0 ? 1 : 0);
		exec_zoneadmd(uuid, adopt, pfd[1]);
	}
	close(pfd[1]);
	waitpid(pid, NULL, 0);
	char line[ZK_CTL_REPLY_MAX];
	int r = zk_ctl_read_line(pfd[0], line, sizeof(line), 120000);
	close(pfd[0]);
	if (r < 0)
		return zk_fail(err, EIO, "zoneadmd for %s exited without a "
		    "report; see its log", uuid);
	return zk_ctl_parse_reply(line, NULL, 0, err);
}

/* ---- runtime status ------------------------------------------------------ */

static int
read_small(const zk_paths *p, const char *uuid, const char *file, char *buf,
    size_t len)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	if (zk_read_file(zk_path_run_file(p, uuid, file, path), &text, NULL,
	    NULL) < 0)
		return -ENOENT;
	text[strcspn(text, "\n")] = '\0';
	snprintf(buf, len, "%s", text);
	return 0;
}

static const char *
vmadm_state(const char *zone_state)
{
	if (strcmp(zone_state, "shutting_down") == 0 ||
	    strcmp(zone_state, "down") == 0)
		return "stopping";
	return zone_state;
}

int
zk_vm_status(const zk_paths *p, const char *uuid, zk_zone_status *st,
    zk_error *err)
{
	(void)err;	/* reading cannot fail: what is missing is not running */
	char path[PATH_MAX], buf[64];
	memset(st, 0, sizeof(*st));
	st->zoneid = -1;
	pid_t init = 0, zadm = 0;
	bool init_alive = zk_pidfile_read_live(zk_path_run_file(p, uuid, ZK_RUN_INIT,
	    path), &init) == 0;
	bool zadm_alive = zk_pidfile_read_live(zk_path_run_file(p, uuid,
	    ZK_RUN_ZONEADMD_PID, path), &zadm) == 0;
	st->orphaned = init_alive && !zadm_alive;
	st->stale = !init_alive && !zadm_alive &&
	    zk_path_exists(zk_path_run(p, uuid, path));
	if (!init_alive) {
		bool transit = zadm_alive && read_small(p, uuid, ZK_RUN_STATE, buf,
		    sizeof(buf)) == 0;
		snprintf(st->zone_state, sizeof(st->zone_state), "%s",
		    transit ? buf : "installed");
		snprintf(st->state, sizeof(st->state), "%s",
		    transit ? vmadm_state(buf) : "stopped");
		return 0;
	}
	st->running = true;
	st->init_pid = init;
	if (read_small(p, uuid, ZK_RUN_STATE, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "running");
	snprintf(st->zone_state, sizeof(st->zone_state), "%s", buf);
	snprintf(st->state, sizeof(st->state), "%s", vmadm_state(buf));
	if (read_small(p, uuid, ZK_RUN_ZONEID, buf, sizeof(buf)) == 0)
		st->zoneid = atoi(buf);
	read_small(p, uuid, ZK_RUN_BOOT_TIMESTAMP, st->boot_timestamp,
	    sizeof(st->boot_timestamp));
	return 0;
}

/* ---- reconciling: what a dead zoneadmd left behind ---------------------- */

/* Remove what a zone left when it died together with its zoneadmd. */
static int
clean_stale(const zk_paths *p, const char *uuid, zk_error *err)
{
	_cleanup_cgroup_ zk_cgroup *cg = NULL;
	int r = zk_cgroup_open(p->cgroup_root, p->cgroup_parent, uuid, &cg, err);
	if (r == 0)
		r = zk_cgroup_kill_all(cg, 2000, err);
	if (r == 0)
		r = zk_cgroup_destroy(cg, err);
	char run[PATH_MAX];
	if (r == 0)
		r = zk_rm_rf(zk_path_run(p, uuid, run), err);
	return r;
}

static int
wait_for_socket(const zk_paths *p, const char *uuid, zk_error *err)
{
	for (int waited = 0; waited < ADOPT_WAIT_MS; waited += 20) {
		int fd;
		if (zk_ctl_connect(p, uuid, &fd, NULL) == 0) {
			close(fd);
			return 0;
		}
		usleep(20000);
	}
	return zk_fail(err, ETIMEDOUT, "zoneadmd for %s did not come up", uuid);
}

/* Under the zone's lock: the status, once reconciled, in st. */
static int
reconcile_locked(const zk_paths *p, const char *uuid, zk_zone_status *st,
    zk_error *err)
{
	int r = zk_vm_status(p, uuid, st, err);
	if (r < 0 || (!st->orphaned && !st->stale))
		return r;
	if (st->orphaned) {
		/* zoneadmd's own lock makes racing adopters harmless. */
		if ((r = spawn_zoneadmd(uuid, true, err)) == 0)
			r = wait_for_socket(p, uuid, err);
		if (r < 0)
			return zk_error_prefix(err, "cannot adopt zone %s", uuid);
	} else if ((r = clean_stale(p, uuid, err)) < 0) {
		return r;
	}
	return zk_vm_status(p, uuid, st, err);
}

/*
 * The zone's lock, held by a lifecycle command.  Released by
 * _cleanup_zone_lock_, which also removes the lock file when the zone is
 * not configured (deleted, or never was): nothing is left in the run dir.
 */
typedef struct zone_lock {
	const zk_paths *p;
	const char *uuid;
	int fd;
} zone_lock;

static void
zone_unlock(zone_lock *l)
{
	char path[PATH_MAX];
	if (l->fd < 0)
		return;
	if (!zk_path_exists(zk_path_config(l->p, l->uuid, path)))
		zk_zone_lock_remove(l->p, l->uuid, l->fd, NULL);
	close(l->fd);
	l->fd = -1;
}

#define _cleanup_zone_lock_ __attribute__((cleanup(zone_unlock)))

static int
zone_lock_take(const zk_paths *p, const char *uuid, zone_lock *l,
    zk_error *err)
{
	*l = (zone_lock){ .p = p, .uuid = uuid, .fd = -1 };
	return zk_zone_lock(p, uuid, &l->fd, err);
}

int
zk_vm_reconcile(const zk_paths *p, const char *uuid, zk_zone_status *st,
    zk_error *err)
{
	_cleanup_zone_lock_ zone_lock lock = { .fd = -1 };
	int r = zone_lock_take(p, uuid, &lock, err);
	return r < 0 ? r : reconcile_locked(p, uuid, st, err);
}

/* A zone's stored config and its runtime status, together.  A lifecycle
 * command (holding the zone's lock) reconciles first; readers do not. */
static int
load_with_status(const zk_paths *p, const char *uuid, json_t **cfg,
    zk_zone_status *st, bool reconcile, zk_error *err)
{
	int r = zk_store_load(p, uuid, cfg, err);
	if (r < 0)
		return r;
	return reconcile ? reconcile_locked(p, uuid, st, err) :
	    zk_vm_status(p, uuid, st, err);
}

/* What every lifecycle command that acts on a zone starts with: its lock,
 * then its config and reconciled status. */
static int
lock_and_load(const zk_paths *p, const char *uuid, zone_lock *lock,
    json_t **cfg, zk_zone_status *st, zk_error *err)
{
	int r = zone_lock_take(p, uuid, lock, err);
	return r < 0 ? r : load_with_status(p, uuid, cfg, st, true, err);
}

static void
add_runtime(const zk_paths *p, json_t *vm, const zk_zone_status *st)
{
	char zonepath[PATH_MAX];
	json_object_set_new(vm, "zonepath", json_string(zk_path_zone(p,
	    zk_json_str(vm, "uuid", ""), zonepath)));
	json_object_set_new(vm, "state", json_string(st->state));
	json_object_set_new(vm, "zone_state", json_string(st->zone_state));
	if (st->running) {
		json_object_set_new(vm, "zoneid", json_integer(st->zoneid));
		json_object_set_new(vm, "pid", json_integer(st->init_pid));
		if (st->boot_timestamp[0] != '\0')
			json_object_set_new(vm, "boot_timestamp",
			    json_string(st->boot_timestamp));
	}
}

int
zk_vm_describe(const zk_paths *p, const char *uuid, json_t **vm,
    zk_error *err)
{
	_cleanup_json_ json_t *cfg = NULL;
	zk_zone_status st;
	int r = load_with_status(p, uuid, &cfg, &st, false, err);
	if (r < 0)
		return r;
	add_runtime(p, cfg, &st);
	*vm = TAKE_PTR(cfg);
	return 0;
}

int
zk_vm_describe_all(const zk_paths *p, json_t **vms, zk_error *err)
{
	char **uuids = NULL;
	size_t n = 0;
	int r = zk_store_list(p, &uuids, &n, err);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < n && r == 0; i++) {
		json_t *vm = NULL;
		r = zk_vm_describe(p, uuids[i], &vm, err);
		if (r == -ZK_ENOZONE)	/* deleted while we looked */
			r = 0;
		else if (r == 0)
			json_array_append_new(arr, vm);
	}
	zk_strv_free(uuids, n);
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*vms = arr;
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

static int
set_autoboot(const zk_paths *p, const char *uuid, bool on, zk_error *err)
{
	_cleanup_json_ json_t *cfg = NULL;
	int r = zk_store_load(p, uuid, &cfg, err);
	if (r < 0 || zk_json_bool(cfg, "autoboot", !on) == on)
		return r;
	json_object_set_new(cfg, "autoboot", json_boolean(on));
	return zk_store_save(p, cfg, err);
}

static int
image_not_installed(const char *image_uuid, zk_error *err)
{
	return zk_fail(err, ZK_ENOIMAGE, "image_uuid: image %s is not "
	    "installed (see imgadm install)", image_uuid);
}

static int
start_locked(const zk_paths *p, const char *uuid, zk_error *err)
{
	zk_zone_status st;
	_cleanup_json_ json_t *cfg = NULL;
	int r = load_with_status(p, uuid, &cfg, &st, true, err);
	if (r < 0)
		return r;
	if (st.running)
		return ZK_ALREADY;
	char image[PATH_MAX];
	const char *image_uuid = zk_json_str(cfg, "image_uuid", "");
	if (!zk_path_exists(zk_path_image_root(p, image_uuid, image)))
		return image_not_installed(image_uuid, err);
	zk_idmap ids;
	if ((r = zk_zone_ids_ensure(p, cfg, &ids, err)) < 0 ||
	    (r = spawn_zoneadmd(uuid, false, err)) < 0)
		return r;
	return set_autoboot(p, uuid, true, err);
}

int
zk_vm_start(const zk_paths *p, const char *uuid, zk_error *err)
{
	_cleanup_zone_lock_ zone_lock lock = { .fd = -1 };
	int r = zone_lock_take(p, uuid, &lock, err);
	return r < 0 ? r : start_locked(p, uuid, err);
}

/*
 * A pidfd on the zone's zoneadmd, taken before asking it to stop: it
 * removes its pid file while tearing down, and stop must not return while
 * it still runs.
 */
static int
zoneadmd_pidfd(const zk_paths *p, const char *uuid)
{
	char path[PATH_MAX];
	pid_t pid;
	if (zk_pidfile_read_live(zk_path_run_file(p, uuid, ZK_RUN_ZONEADMD_PID,
	    path), &pid) < 0)
		return -1;
	int fd = zk_pidfd_open(pid);
	return fd < 0 ? -1 : fd;
}

static void
wait_gone(int pidfd, int timeout_ms)
{
	if (pidfd < 0)
		return;
	struct pollfd x = { .fd = pidfd, .events = POLLIN };
	while (poll(&x, 1, timeout_ms) < 0 && errno == EINTR)
		;
}

/*
 * A zone whose init exits as the stop is sent halts by itself: its
 * zoneadmd may close the connection (or be gone) before answering.  Down
 * is what the stop asked for.
 */
static bool
halted_meanwhile(const zk_paths *p, const char *uuid, int zadm, int r)
{
	zk_zone_status st;
	if (r != -ECONNRESET && r != -EPIPE && r != -ECONNREFUSED &&
	    r != -ENOENT)
		return false;
	wait_gone(zadm, 10000);
	return zk_vm_status(p, uuid, &st, NULL) == 0 && !st.running;
}

/* Under the zone's lock, with its config loaded: reconciled, then down. */
static int
stop_locked(const zk_paths *p, const char *uuid, bool force, int timeout_s,
    zk_zone_status *st, zk_error *err)
{
	int r = reconcile_locked(p, uuid, st, err);
	if (r < 0)
		return r;
	if (!st->running)
		return ZK_ALREADY;
	_cleanup_close_ int zadm = zoneadmd_pidfd(p, uuid);
	zk_ctl_request req = { .op = ZK_CTL_STOP, .timeout_s = timeout_s,
	    .force = force };
	r = zk_ctl_call(p, uuid, &req, NULL, err);
	if (r < 0 && !halted_meanwhile(p, uuid, zadm, r))
		return zk_error_prefix(err, "cannot stop %s", uuid);
	wait_gone(zadm, 10000);
	return 0;
}

int
zk_vm_stop(const zk_paths *p, const char *uuid, bool force, int timeout_s,
    zk_zone_status *st, zk_error *err)
{
	_cleanup_zone_lock_ zone_lock lock = { .fd = -1 };
	_cleanup_json_ json_t *cfg = NULL;
	int r = zone_lock_take(p, uuid, &lock, err);
	if (r == 0)
		r = zk_store_load(p, uuid, &cfg, err);
	if (r == 0)
		r = stop_locked(p, uuid, force, timeout_s, st, err);
	if (r == 0)	/* as on SmartOS: a stopped zone stays down */
		r = set_autoboot(p, uuid, false, err);
	return r;
}

int
zk_vm_reboot(const zk_paths *p, const char *uuid, bool force, zk_error *err)
{
	_cleanup_zone_lock_ zone_lock lock = { .fd = -1 };
	_cleanup_json_ json_t *cfg = NULL;
	zk_zone_status st;
	int r = lock_and_load(p, uuid, &lock, &cfg, &st, err);
	if (r < 0)
		return r;
	/* VM.js's words: only a running zone reboots. */
	if (!st.running)
		return zk_fail(err, ESRCH, "Cannot reboot vm from state \"%s\", "
		    "must be \"running\"", st.state);
	zk_ctl_request req = { .op = ZK_CTL_REBOOT, .force = force };
	r = zk_ctl_call(p, uuid, &req, NULL, err);
	return r < 0 ? zk_error_prefix(err, "cannot reboot %s", uuid) : 0;
}

int
zk_vm_delete(const zk_paths *p, const char *uuid, zk_error *err)
{
	_cleanup_zone_lock_ zone_lock lock = { .fd = -1 };
	_cleanup_json_ json_t *cfg = NULL;
	zk_zone_status st;
	int r = zone_lock_take(p, uuid, &lock, err);
	if (r == 0)
		r = zk_store_load(p, uuid, &cfg, err);
	if (r == 0)
		r = stop_locked(p, uuid, true, 0, &st, err);
	if (r < 0)
		return r;
	/* Config last: while it exists, a failed delete can be retried.  The
	 * lock file goes with the config, when the lock is released. */
	char run[PATH_MAX];
	if ((r = zk_fault("delete.dataset", err)) < 0 ||
	    (r = zk_dataset_destroy(p, uuid, err)) < 0 ||
	    (r = zk_rm_rf(zk_path_run(p, uuid, run), err)) < 0 ||
	    (r = zk_zone_ids_release(p, cfg, err)) < 0)
		return r;
	return zk_store_remove(p, uuid, err);
}

static int
manifest_ctx(const zk_paths *p, zk_pool_info *pool, zk_manifest_ctx *ctx,
    char now[40], char uuid[ZK_UUID_BUFSZ], zk_error *err)
{
	int r = zk_pool_probe(p, pool, err);
	if (r == 0)
		r = zk_uuid_generate(uuid, err);
	if (r < 0)
		return r;
	zk_iso8601_now(now, 40);
	ctx->pool_has_quota = pool->has_quota;
	ctx->zpool = pool->name;
	ctx->now_iso = now;
	ctx->uuid = uuid;
	return 0;
}

static int
check_image(const zk_paths *p, const json_t *cfg, zk_error *err)
{
	_cleanup_json_ json_t *m = NULL;
	const char *image_uuid = zk_json_str(cfg, "image_uuid", "");
	zk_error ignored;
	if (zk_image_get(p, image_uuid, &m, &ignored) < 0)
		return image_not_installed(image_uuid, err);
	return 0;
}

int
zk_vm_validate_create(const zk_paths *p, const json_t *payload,
    zk_problems *probs, zk_error *err)
{
	zk_pool_info pool;
	zk_manifest_ctx ctx;
	char now[40], uuid[ZK_UUID_BUFSZ];
	_cleanup_json_ json_t *cfg = NULL;
	int r = manifest_ctx(p, &pool, &ctx, now, uuid, err);
	return r < 0 ? r : zk_manifest_create(payload, &ctx, &cfg, probs, err);
}

static int
create_locked(const zk_paths *p, json_t *cfg, zk_error *err)
{
	const char *uuid = zk_json_str(cfg, "uuid", "");
	char path[PATH_MAX];
	if (zk_path_exists(zk_path_config(p, uuid, path)))
		return zk_fail(err, EEXIST, "uuid: zone %s already exists", uuid);
	int r = zk_dataset_create(p, uuid, err);
	if (r < 0)
		return r;
	if ((r = zk_zone_ids_assign(p, cfg, err)) < 0) {
		zk_dataset_destroy(p, uuid, NULL);
		return r;
	}
	if ((r = zk_fault("create.config", err)) == 0)
		r = zk_store_save(p, cfg, err);
	if (r == 0 && zk_json_bool(cfg, "autoboot", true))
		r = start_locked(p, uuid, err);
	if (r < 0) {
		zk_store_remove(p, uuid, NULL);
		zk_dataset_destroy(p, uuid, NULL);
		zk_zone_ids_release(p, cfg, NULL);
		return r;
	}
	return 0;
}

int
zk_vm_create(const zk_paths *p, const json_t *payload,
    char uuid[ZK_UUID_BUFSZ], zk_problems *probs, zk_error *err)
{
	zk_pool_info pool;
	zk_manifest_ctx ctx;
	char now[40];
	_cleanup_json_ json_t *cfg = NULL;
	int r = manifest_ctx(p, &pool, &ctx, now, uuid, err);
	if (r == 0)
		r = zk_manifest_create(payload, &ctx, &cfg, probs, err);
	if (r < 0)
		return r;
	snprintf(uuid, ZK_UUID_BUFSZ, "%s", zk_json_str(cfg, "uuid", ""));
	_cleanup_zone_lock_ zone_lock lock = { .fd = -1 };
	_cleanup_close_ int image_hold = -1;
	if ((r = zk_image_hold(p, zk_json_str(cfg, "image_uuid", ""),
	    &image_hold, err)) == -ZK_ENOIMAGE)
		return image_not_installed(zk_json_str(cfg, "image_uuid", ""), err);
	if (r < 0 || (r = check_image(p, cfg, err)) < 0 ||
	    (r = zone_lock_take(p, uuid, &lock, err)) < 0)
		return r;
	return create_locked(p, cfg, err);
}

/*
 * Push resource controls into a running zone and have its zoneadmd
 * re-read them: a reload it refuses is the update's failure.  A zoneadmd
 * that is gone reads the config when the next one adopts the zone.
 */
static int
apply_live(const zk_paths *p, const char *uuid, const json_t *cfg,
    zk_error *err)
{
	_cleanup_cgroup_ zk_cgroup *cg = NULL;
	int r = zk_cgroup_open(p->cgroup_root, p->cgroup_parent, uuid, &cg, err);
	if (r == 0)
		r = zk_rctl_apply_all(cg, cfg, err);
	if (r < 0)
		return r;
	zk_ctl_request req = { .op = ZK_CTL_RELOAD };
	r = zk_ctl_call(p, uuid, &req, NULL, err);
	if (r == -ECONNREFUSED || r == -ENOENT)
		return 0;
	return r < 0 ? zk_error_prefix(err, "zone %s: reload", uuid) : 0;
}

int
zk_vm_update(const zk_paths *p, const char *uuid, const json_t *payload,
    zk_problems *probs, zk_error *err)
{
	_cleanup_zone_lock_ zone_lock lock = { .fd = -1 };
	_cleanup_json_ json_t *cur = NULL, *next = NULL;
	zk_pool_info pool;
	zk_manifest_ctx ctx;
	char now[40], fresh[ZK_UUID_BUFSZ];
	zk_zone_status st;
	int r = lock_and_load(p, uuid, &lock, &cur, &st, err);
	if (r == 0)
		r = manifest_ctx(p, &pool, &ctx, now, fresh, err);
	if (r == 0)
		r = zk_manifest_update(cur, payload, &ctx, &next, probs, err);
	if (r < 0)
		return r;
	/* Saved before applying, since zoneadmd re-reads the config; a running
	 * zone refusing a value gets the old config and limits back. */
	if ((r = zk_store_save(p, next, err)) < 0)
		return r;
	if (st.running && (r = apply_live(p, uuid, next, err)) < 0) {
		zk_store_save(p, cur, NULL);
		apply_live(p, uuid, cur, NULL);
		return r;
	}
	return 0;
}

int
zk_vm_live_rctls(const zk_paths *p, const char *uuid, json_t **props,
    zk_error *err)
{
	zk_ctl_request req = { .op = ZK_CTL_RCTL_GET };
	zk_ctl_reply reply;
	int r = zk_ctl_call(p, uuid, &req, &reply, err);
	if (r < 0)
		return r;
	return zk_json_parse_object(reply.detail, "zoneadmd's rctl values",
	    props, err);
}

int
zk_vm_console_connect(const zk_paths *p, const char *uuid, int *fd,
    zk_error *err)
{
	zk_zone_status st;
	_cleanup_json_ json_t *cfg = NULL;
	{
		_cleanup_zone_lock_ zone_lock lock = { .fd = -1 };
		int r = lock_and_load(p, uuid, &lock, &cfg, &st, err);
		if (r < 0)
			return r;
	}
	if (!st.running)
		return zk_fail(err, ESRCH, "zone %s is not running", uuid);
	zk_ctl_request req = { .op = ZK_CTL_CONSOLE };
	return zk_ctl_open(p, uuid, &req, fd, err);
}
