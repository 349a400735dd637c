/*
 * Zone lifecycle as vmadm sees it: create, start, stop, reboot, update,
 * delete and describe, each all-or-nothing and serialised per zone.
 * Running zones are supervised by zoneadmd; vm.c starts it and talks to
 * it.  Reading a zone's state changes nothing; the commands that may
 * change a zone (start, stop, reboot, update, delete, console) first
 * reconcile it: a running zone whose zoneadmd died gets a new one that
 * adopts it, and what a zone that died with its zoneadmd left is removed.
 */
#ifndef ZK_VM_H
#define ZK_VM_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include "config/manifest.h"
#include "util/error.h"
#include "util/paths.h"

/* Returned (positive) when the request is a no-op: already in that state. */
#define ZK_ALREADY 1

typedef struct zk_zone_status {
	bool running;		/* the zone's init is alive */
	char state[32];		/* vmadm "state": running, stopped, ... */
	char zone_state[32];	/* running, installed, ready, shutting_down */
	pid_t init_pid;		/* 0 when not running */
	int zoneid;		/* -1 when not running */
	char boot_timestamp[40];
	/* What zk_vm_reconcile would do: */
	bool orphaned;		/* init runs, its zoneadmd is gone: adopt */
	bool stale;		/* both gone, the run dir left: remove it */
} zk_zone_status;

/*
 * A zone that is not configured fails with -ZK_ENOZONE, an image that is
 * not installed with -ZK_ENOIMAGE (error.h).
 */

/* Validate and store a new zone, boot it unless autoboot is false. */
int zk_vm_create(const zk_paths *p, const json_t *payload,
    char uuid[ZK_UUID_BUFSZ], zk_problems *probs, zk_error *err);
int zk_vm_validate_create(const zk_paths *p, const json_t *payload,
    zk_problems *probs, zk_error *err);
int zk_vm_start(const zk_paths *p, const char *uuid, zk_error *err);
/* ZK_ALREADY with status->state filled when not running. */
int zk_vm_stop(const zk_paths *p, const char *uuid, bool force,
    int timeout_s, zk_zone_status *status, zk_error *err);
/* -ESRCH (VM.js's message) when the zone is not running. */
int zk_vm_reboot(const zk_paths *p, const char *uuid, bool force,
    zk_error *err);
int zk_vm_delete(const zk_paths *p, const char *uuid, zk_error *err);
int zk_vm_update(const zk_paths *p, const char *uuid, const json_t *payload,
    zk_problems *probs, zk_error *err);

/* Runtime status, read from the run dir: no side effect at all. */
int zk_vm_status(const zk_paths *p, const char *uuid, zk_zone_status *st,
    zk_error *err);
/*
 * Under the zone's lock: start a zoneadmd that adopts an orphaned zone,
 * or remove a stale run dir and cgroups; then the status, as it now is.
 */
int zk_vm_reconcile(const zk_paths *p, const char *uuid, zk_zone_status *st,
    zk_error *err);
/* Config plus runtime properties (state, zone_state, zoneid, pid, ...). */
int zk_vm_describe(const zk_paths *p, const char *uuid, json_t **vm,
    zk_error *err);
/* Every zone, described, in uuid order. */
int zk_vm_describe_all(const zk_paths *p, json_t **vms, zk_error *err);

/*
 * The resource-control properties in force in a running zone (its config
 * plus prctl's live changes), as an object in manifest units.
 */
int zk_vm_live_rctls(const zk_paths *p, const char *uuid, json_t **props,
    zk_error *err);

/* Reconcile, then connect to the zone's zoneadmd for a console stream;
 * -ESRCH when the zone is not running. */
int zk_vm_console_connect(const zk_paths *p, const char *uuid, int *fd,
    zk_error *err);

/* Where zoneadmd lives: $ZONEKIT_ZONEADMD, beside this program, or the
 * install location. */
void zk_zoneadmd_path(char *buf);

#endif
