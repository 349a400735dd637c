/*
 * What the pieces of the manifest share (manifest.c, the property table,
 * create and update; manifest_nics.c; manifest_kv.c, vmadm update k=v;
 * manifest_syntax.c, string syntaxes; manifest_problems.c, problem
 * reporting).  Private to src/lib/config.
 */
#ifndef ZK_MANIFEST_INTERNAL_H
#define ZK_MANIFEST_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include "config/manifest.h"
#include "config/rctl.h"
#include "util/error.h"

typedef enum prop_type {
	PT_UUID,
	PT_STRING,
	PT_INTEGER,	/* whole JSON numbers only: no floats, no booleans */
	PT_BOOLEAN,
	PT_TRUE,	/* a flag that is only ever true: nic primary */
	PT_FLATOBJ,	/* values are strings, numbers or booleans */
	PT_IPV4LIST,
	PT_CIDRLIST,	/* "a.b.c.d/n" strings (nic ips) */
	PT_ROUTES,	/* destination -> IPv4 gateway or "nics[N]" */
	PT_NICS,
	PT_DISKS,	/* kvm only: shape checked when kvm is supported */
} prop_type;

enum prop_flags {
	PF_CREATE = 1 << 0,	/* a create payload may set it */
	PF_UPDATE = 1 << 1,	/* an update payload may set or clear it */
	PF_LIVE = 1 << 2,	/* applied to a running zone at once */
	PF_KVM = 1 << 3,	/* only valid for the kvm brand */
	PF_REQUIRED = 1 << 4,	/* create fails without it */
	PF_REQUIRED_OS = 1 << 5, /* required for OS brands only */
	PF_STORED = 1 << 7,	/* written by create, never by a payload */
	PF_RUNTIME = 1 << 8,	/* reported at run time, never stored */
	PF_MAC = 1 << 9,	/* stored in the canonical MAC form (mac.h) */
};

typedef enum def_rule {
	DEF_NONE,
	DEF_INT,	/* def_int */
	DEF_BOOL,	/* def_int != 0 */
	DEF_STR,	/* def_str */
	DEF_ZERO_UUID,
	DEF_VM_UUID,	/* the VM's own uuid (hostname) */
	DEF_ZPOOL,	/* ctx->zpool */
	DEF_QUOTA,	/* 10 GiB where the pool can enforce it, else 0 */
	DEF_EMPTY_OBJ,
	DEF_EMPTY_ARRAY,
	DEF_MEMORY,	/* from max_physical_memory: settle_memory() */
	DEF_RCTL,	/* the rctl table's (memory ones: settle_memory()) */
} def_rule;

/* A string validator returns NULL when s is fine, else the reason. */
typedef const char *(*str_check)(const char *s);

/* Resource controls take their name, range and default from the rctl
 * table (rctl.h); name, min and max are then read through prop_name(),
 * prop_min() and prop_max(). */
typedef struct prop_def {
	const char *name;
	prop_type type;
	zk_rctl_id rctl;	/* range (and name, default) from this rctl */
	long long min, max;	/* PT_INTEGER only */
	def_rule def;
	long long def_int;
	const char *def_str;
	str_check check;	/* PT_STRING only; NULL = any string */
	const char *alias_of;	/* stored under this name instead */
	unsigned flags;
} prop_def;

#define CU (PF_CREATE | PF_UPDATE)
#define CUL (PF_CREATE | PF_UPDATE | PF_LIVE)
#define INT_RANGE(lo, hi) .type = PT_INTEGER, .min = (lo), .max = (hi)
#define RCTL(id) .type = PT_INTEGER, .rctl = (id), .def = DEF_RCTL

typedef enum mode { MODE_CREATE, MODE_UPDATE } mode;

/* ---- manifest.c: the property table, values by type ---------------------- */

const prop_def *zk_mf_prop_find(const char *name);
const char *zk_mf_prop_name(const prop_def *d);
/* Report a type or range problem for `v` under `path`; true if usable. */
bool zk_mf_check_value(const prop_def *d, const char *path, const json_t *v,
    zk_problems *p);
/* The value as stored: clamped or normalised where the table says so. */
json_t *zk_mf_stored_value(const prop_def *d, const json_t *v);
/* Why a payload in mode m may not set d, or NULL. */
const char *zk_mf_refusal(const prop_def *d, mode m, bool kvm);
/* cfg's object member key, made an empty object if it is not one. */
json_t *zk_mf_object_member(json_t *cfg, const char *key);

/* ---- manifest_problems.c -------------------------------------------------- */

bool zk_mf_has_problem(const zk_problems *p, const char *prop);
/* One problem per property: the first found is the one worth fixing. */
void zk_mf_problem(zk_problems *p, zk_problem_kind kind, const char *prop,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Problem paths name the element: "nics.1.vlan_id", "tags.role". */
const char *zk_mf_path_key(char buf[128], const char *prefix,
    const char *key);
const char *zk_mf_path_index(char buf[128], const char *prefix, size_t i);
/* -EINVAL with the problems on one line in err. */
int zk_mf_fail(const zk_problems *p, zk_error *err);

/* ---- manifest_syntax.c: each returns NULL when s is fine, else why ------- */

const char *zk_mf_check_alias(const char *s);
const char *zk_mf_check_hostname(const char *s);
const char *zk_mf_check_abspath(const char *s);
const char *zk_mf_check_zpool(const char *s);
const char *zk_mf_check_cpu_type(const char *s);
const char *zk_mf_check_ipv4(const char *s);
const char *zk_mf_check_ip_or_dhcp(const char *s);
const char *zk_mf_check_cidr(const char *s);
const char *zk_mf_check_netmask(const char *s);
const char *zk_mf_check_mac(const char *s);
const char *zk_mf_check_nic_tag(const char *s);
const char *zk_mf_check_model(const char *s);
extern const char zk_mf_mac_reason[];
bool zk_mf_ipv4_valid(const char *s);
bool zk_mf_cidr_valid(const char *s);

/* ---- manifest_nics.c ------------------------------------------------------ */

/* Validate new nics (create's nics[] or add_nics[]) and append them; the
 * nic a payload marks primary is put in *chosen. */
void zk_mf_nics_add_all(json_t *nics, const char *path, const json_t *v,
    json_t **chosen, zk_problems *p);
void zk_mf_nics_update_all(json_t *nics, const json_t *v, json_t **chosen,
    zk_problems *p);
void zk_mf_nics_remove_all(json_t *nics, const json_t *v, zk_problems *p);
/* Exactly one primary, interfaces named by position. */
void zk_mf_nics_settle(json_t *nics, const json_t *chosen);
/* Generate the macs the nics lack. */
int zk_mf_nics_fill_macs(json_t *nics, zk_error *err);

#endif
