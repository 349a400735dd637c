/*
 * The VM manifest.  One const table of properties drives every rule:
 * which payload keys are accepted on create and update, their JSON types
 * and ranges, their defaults, and what `vmadm list` may show.  The few
 * rules that relate properties to each other (memory limits, ram, quota on
 * a plain-directory pool, nics and routes) are small functions evaluated on
 * the resulting config, so create and update share them.  Nics, vmadm
 * update k=v, string syntaxes and problem reporting have files of their
 * own (manifest_internal.h).
 */
#include "config/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/manifest_internal.h"
#include "config/rctl.h"
#include "net/mac.h"
#include "storage/storage.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/uuid.h"

/* tmpfs is in MiB and quota in GiB; these bounds keep byte counts in int64. */
#define MIB_MAX (1LL << 40)
#define GIB_MAX (1LL << 30)
#define QUOTA_DEFAULT 10

static const prop_def props[] = {
	/* identity: fixed at create */
	{ "uuid", PT_UUID, .flags = PF_CREATE },
	{ "brand", PT_STRING, .flags = PF_CREATE | PF_REQUIRED },
	{ "image_uuid", PT_UUID, .flags = PF_CREATE | PF_REQUIRED_OS },
	{ "zpool", PT_STRING, .def = DEF_ZPOOL, .check = zk_mf_check_zpool,
	    .flags = PF_CREATE },
	{ "zonename", PT_STRING, .flags = PF_STORED },
	{ "create_timestamp", PT_STRING, .flags = PF_STORED },
	/* zonekit's: the zone's user namespace (idmap.h) */
	{ "uid_map", PT_STRING, .flags = PF_STORED },
	{ "gid_map", PT_STRING, .flags = PF_STORED },

	/* naming and ownership */
	{ "alias", PT_STRING, .check = zk_mf_check_alias, .flags = CU },
	{ "hostname", PT_STRING, .def = DEF_VM_UUID,
	    .check = zk_mf_check_hostname,
	    .flags = CU },
	{ "dns_domain", PT_STRING, .def = DEF_STR, .def_str = "local",
	    .check = zk_mf_check_hostname, .flags = CU },
	{ "init_name", PT_STRING, .def = DEF_STR,
	    .def_str = ZK_MANIFEST_INIT_NAME_DEFAULT,
	    .check = zk_mf_check_abspath, .flags = CU },
	{ "autoboot", PT_BOOLEAN, .def = DEF_BOOL, .def_int = 1, .flags = CU },
	{ "owner_uuid", PT_UUID, .def = DEF_ZERO_UUID, .flags = CU },
	{ "billing_id", PT_UUID, .def = DEF_ZERO_UUID, .flags = CU },

	/* resource controls (cpu_baseline and cpu_burst_time are zonekit's:
	 * SmartOS has these rctls but no properties for them) */
	{ NULL, RCTL(ZK_RCTL_CPU_CAP), .flags = CUL },
	{ NULL, RCTL(ZK_RCTL_CPU_BASELINE), .flags = CUL },
	{ NULL, RCTL(ZK_RCTL_CPU_BURST_TIME), .flags = CUL },
	{ NULL, RCTL(ZK_RCTL_CPU_SHARES), .flags = CUL },
	{ NULL, RCTL(ZK_RCTL_ZFS_IO_PRIORITY), .flags = CUL },
	{ NULL, RCTL(ZK_RCTL_MAX_LWPS), .flags = CUL },
	{ NULL, RCTL(ZK_RCTL_MAX_PHYSICAL_MEMORY), .flags = CUL },
	{ NULL, RCTL(ZK_RCTL_MAX_LOCKED_MEMORY), .flags = CUL },
	{ NULL, RCTL(ZK_RCTL_MAX_SWAP), .flags = CUL },
	{ "tmpfs", INT_RANGE(0, MIB_MAX), .def = DEF_MEMORY, .flags = CU },
	{ "quota", INT_RANGE(0, GIB_MAX), .def = DEF_QUOTA, .flags = CUL },
	/* the memory cap's other name: its range, no default of its own */
	{ "ram", PT_INTEGER, .rctl = ZK_RCTL_MAX_PHYSICAL_MEMORY,
	    .alias_of = "max_physical_memory", .flags = CUL },

	/* metadata and networking */
	{ "customer_metadata", PT_FLATOBJ, .def = DEF_EMPTY_OBJ, .flags = CU },
	{ "internal_metadata", PT_FLATOBJ, .def = DEF_EMPTY_OBJ, .flags = CU },
	{ "tags", PT_FLATOBJ, .def = DEF_EMPTY_OBJ, .flags = CU },
	{ "resolvers", PT_IPV4LIST, .flags = CU },
	{ "routes", PT_ROUTES, .flags = CU },
	/* changed through add_nics/update_nics/remove_nics, not replaced */
	{ "nics", PT_NICS, .def = DEF_EMPTY_ARRAY, .flags = PF_CREATE },

	/* kvm only: refused until the kvm brand is supported */
	{ "vcpus", INT_RANGE(1, 64), .flags = CU | PF_KVM },
	{ "cpu_type", PT_STRING, .check = zk_mf_check_cpu_type,
	    .flags = CU | PF_KVM },
	{ "vnc_port", INT_RANGE(-1, 65535), .flags = CU | PF_KVM },
	{ "vnc_password", PT_STRING, .flags = CU | PF_KVM },
	{ "boot", PT_STRING, .flags = CU | PF_KVM },
	{ "disks", PT_DISKS, .flags = PF_CREATE | PF_KVM },

	/* run time: shown by list and get, never set by a payload */
	{ "state", PT_STRING, .flags = PF_RUNTIME },
	{ "zone_state", PT_STRING, .flags = PF_RUNTIME },
	{ "zoneid", PT_INTEGER, .flags = PF_RUNTIME },
	{ "pid", PT_INTEGER, .flags = PF_RUNTIME },
	{ "zonepath", PT_STRING, .flags = PF_RUNTIME },
	{ "boot_timestamp", PT_STRING, .flags = PF_RUNTIME },
	{ "exit_status", PT_INTEGER, .flags = PF_RUNTIME },
	{ "last_modified", PT_STRING, .flags = PF_RUNTIME },
	{ "type", PT_STRING, .flags = PF_RUNTIME },
};

const char *
zk_mf_prop_name(const prop_def *d)
{
	return d->name != NULL ? d->name : zk_rctl_property(d->rctl);
}

static long long
prop_min(const prop_def *d)
{
	return d->rctl != ZK_RCTL_NONE ? zk_rctl_get(d->rctl)->min : d->min;
}

static long long
prop_max(const prop_def *d)
{
	return d->rctl != ZK_RCTL_NONE ?
	    zk_rctl_property_max(zk_rctl_get(d->rctl)) : d->max;
}

/* Above the maximum is stored as the maximum, not refused. */
static bool
prop_clamps(const prop_def *d)
{
	return d->rctl != ZK_RCTL_NONE && zk_rctl_get(d->rctl)->clamp;
}

const prop_def *
zk_mf_prop_find(const char *name)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(props); i++)
		if (strcmp(zk_mf_prop_name(&props[i]), name) == 0)
			return &props[i];
	return NULL;
}

/* Properties whose dotted sub-keys list filters may name ("tags.role"). */
static bool
has_subkeys(const prop_def *d)
{
	return d->type == PT_FLATOBJ || d->type == PT_ROUTES ||
	    d->type == PT_NICS || d->type == PT_DISKS;
}

bool
zk_manifest_known_property(const char *name)
{
	if (name == NULL)
		return false;
	const char *dot = strchr(name, '.');
	if (dot == NULL)
		return zk_mf_prop_find(name) != NULL;
	char base[64];
	size_t n = (size_t)(dot - name);
	if (n == 0 || n >= sizeof(base) || dot[1] == '\0')
		return false;
	memcpy(base, name, n);
	base[n] = '\0';
	const prop_def *d = zk_mf_prop_find(base);
	return d != NULL && has_subkeys(d);
}

/* ---- values by type ---------------------------------------------------- */

static bool
check_integer(const prop_def *d, const char *path, const json_t *v,
    zk_problems *p)
{
	/* jansson keeps 512.0 a real and true a boolean: both refused */
	if (!json_is_integer(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an integer");
		return false;
	}
	long long n = json_integer_value(v);
	if (n < prop_min(d)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be >= %lld",
		    prop_min(d));
		return false;
	}
	if (n > prop_max(d) && !prop_clamps(d)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be <= %lld",
		    prop_max(d));
		return false;
	}
	return true;
}

static bool
check_string(const prop_def *d, const char *path, const json_t *v,
    zk_problems *p)
{
	if (!json_is_string(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be a string");
		return false;
	}
	const char *why = d->check ? d->check(json_string_value(v)) : NULL;
	if (why != NULL) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path, "%s", why);
		return false;
	}
	return true;
}

static bool
check_flat_object(const char *path, const json_t *v, zk_problems *p)
{
	if (!json_is_object(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an object");
		return false;
	}
	bool ok = true;
	const char *key;
	const json_t *val;
	char sub[128];
	json_object_foreach((json_t *)v, key, val) {
		if (json_is_string(val) || json_is_number(val) ||
		    json_is_boolean(val))
			continue;
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, zk_mf_path_key(sub, path,
		    key), "must be a string, number or boolean");
		ok = false;
	}
	return ok;
}

/* Arrays of strings each checked by `check` (resolvers, ips, gateways). */
static bool
check_string_list(const char *path, const json_t *v, str_check check,
    const char *what, zk_problems *p)
{
	if (!json_is_array(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an array of %s", what);
		return false;
	}
	bool ok = true;
	size_t i;
	const json_t *el;
	char sub[128];
	json_array_foreach(v, i, el) {
		const char *why = json_is_string(el) ?
		    check(json_string_value(el)) : "must be a string";
		if (why != NULL) {
			zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE,
			    zk_mf_path_index(sub, path, i), "%s", why);
			ok = false;
		}
	}
	return ok;
}

static bool
route_gateway_valid(const char *s)
{
	if (zk_mf_ipv4_valid(s))
		return true;
	if (strncmp(s, "nics[", 5) != 0)
		return false;
	size_t digits = strspn(s + 5, "0123456789");
	return digits > 0 && digits < 4 && strcmp(s + 5 + digits, "]") == 0;
}

static bool
check_routes(const char *path, const json_t *v, zk_problems *p)
{
	if (!json_is_object(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an object of destination: gateway");
		return false;
	}
	bool ok = true;
	const char *dest;
	const json_t *gw;
	char sub[128];
	json_object_foreach((json_t *)v, dest, gw) {
		zk_mf_path_key(sub, path, dest);
		if (!zk_mf_ipv4_valid(dest) && !zk_mf_cidr_valid(dest)) {
			zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, sub,
			    "destination "
			    "must be an IPv4 address or a.b.c.d/n");
			ok = false;
		} else if (!json_is_string(gw) ||
		    !route_gateway_valid(json_string_value(gw))) {
			zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, sub,
			    "gateway must be "
			    "an IPv4 address or \"nics[N]\"");
			ok = false;
		}
	}
	return ok;
}

/* disks are kvm-only; until kvm is supported only their shape is checked */
static bool
check_object_array(const char *path, const json_t *v, zk_problems *p)
{
	size_t i;
	const json_t *el;
	bool ok = json_is_array(v);
	json_array_foreach(v, i, el)
		ok = ok && json_is_object(el);
	if (!ok)
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an array of objects");
	return ok;
}

bool
zk_mf_check_value(const prop_def *d, const char *path, const json_t *v,
    zk_problems *p)
{
	switch (d->type) {
	case PT_UUID:
		if (json_is_string(v) && zk_uuid_valid(json_string_value(v)))
			return true;
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be a UUID");
		return false;
	case PT_STRING:
		return check_string(d, path, v, p);
	case PT_INTEGER:
		return check_integer(d, path, v, p);
	case PT_BOOLEAN:
		if (json_is_boolean(v))
			return true;
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be true or false");
		return false;
	case PT_TRUE:
		if (json_is_true(v))
			return true;
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be true (leave it out on the other nics)");
		return false;
	case PT_FLATOBJ:
		return check_flat_object(path, v, p);
	case PT_IPV4LIST:
		return check_string_list(path, v, zk_mf_check_ipv4,
		    "IPv4 addresses", p);
	case PT_CIDRLIST:
		return check_string_list(path, v, zk_mf_check_cidr,
		    "a.b.c.d/n addresses", p);
	case PT_ROUTES:
		return check_routes(path, v, p);
	case PT_NICS:
	case PT_DISKS:
		return check_object_array(path, v, p);
	}
	return false;
}

json_t *
zk_mf_stored_value(const prop_def *d, const json_t *v)
{
	if (prop_clamps(d) && json_integer_value(v) > prop_max(d))
		return json_integer(prop_max(d));
	char mac[ZK_MAC_BUFSZ];
	if ((d->flags & PF_MAC) && zk_mac_canonical(json_string_value(v), mac))
		return json_string(mac);
	return json_deep_copy(v);
}

/* ---- which payload may set what ---------------------------------------- */

const char *
zk_mf_refusal(const prop_def *d, mode m, bool kvm)
{
	if (d->flags & PF_RUNTIME)
		return "is read-only";
	if (d->flags & PF_STORED)
		return m == MODE_CREATE ? "is read-only" : "cannot be updated";
	if ((d->flags & PF_KVM) && !kvm)
		return "only valid for the kvm brand";
	if (m == MODE_CREATE && !(d->flags & PF_CREATE))
		return "cannot be set on create";
	if (m == MODE_UPDATE && d->type == PT_NICS)
		return "cannot be updated (use add_nics, update_nics or "
		    "remove_nics)";
	if (m == MODE_UPDATE && !(d->flags & PF_UPDATE))
		return "cannot be updated";
	return NULL;
}

/* ---- properties -------------------------------------------------------- */

/*
 * ram is the SmartOS name for a VM's memory; for OS brands it is
 * max_physical_memory.  When both are given they must agree.
 */
static void
apply_alias(json_t *cfg, const prop_def *d, const json_t *v,
    const json_t *payload, zk_problems *p)
{
	const char *name = zk_mf_prop_name(d);
	if (!json_is_null(v) && !zk_mf_check_value(d, name, v, p))
		return;
	const json_t *t = json_object_get(payload, d->alias_of);
	if (t != NULL) {
		if (json_is_integer(t) && !json_equal(t, v))
			zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, name,
			    "must equal %s (%lld)", d->alias_of,
			    json_integer_value(t));
		else if (json_is_null(t) && !json_is_null(v))
			zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, name,
			    "must equal %s (null)", d->alias_of);
		return;
	}
	if (json_is_null(v))
		json_object_del(cfg, d->alias_of);
	else
		json_object_set_new(cfg, d->alias_of, json_deep_copy(v));
}

/* Everything a payload key can be, except brand, nics and update actions. */
static void
apply_property(json_t *cfg, const json_t *payload, const char *key,
    const json_t *v, mode m, bool kvm, zk_problems *p)
{
	const prop_def *d = zk_mf_prop_find(key);
	if (d == NULL) {
		zk_mf_problem(p, ZK_PROBLEM_UNKNOWN, key, "unknown property");
		return;
	}
	const char *why = zk_mf_refusal(d, m, kvm);
	if (why != NULL) {
		zk_mf_problem(p, ZK_PROBLEM_READ_ONLY, key, "%s", why);
	} else if (d->alias_of != NULL) {
		apply_alias(cfg, d, v, payload, p);
	} else if (json_is_null(v)) {
		/* the default, if any, comes back in fill_defaults */
		json_object_del(cfg, key);
	} else if (zk_mf_check_value(d, key, v, p)) {
		json_object_set_new(cfg, key, zk_mf_stored_value(d, v));
	}
}

static const char *const supported_brands[] = { "joyent", "joyent-minimal" };
static const char *const later_brands[] = { "lx", "kvm" };

static bool
in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* The reason starts with the brand as JSON: zk_problems_to_json reads it. */
static void
brand_problem(const char *brand, const char *why, zk_problems *p)
{
	_cleanup_json_ json_t *s = json_string(brand);
	_cleanup_free_ char *quoted = json_dumps(s, JSON_ENCODE_ANY);
	zk_mf_problem(p, ZK_PROBLEM_BAD_BRAND, "brand",
	    "%s %s (supported: joyent, " "joyent-minimal)",
	    quoted ? quoted : "\"\"", why);
}

static void
apply_brand(json_t *cfg, const json_t *v, zk_problems *p)
{
	if (v == NULL || json_is_null(v))
		return;		/* reported by check_required */
	if (!json_is_string(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, "brand",
		    "must be a string");
		return;
	}
	const char *b = json_string_value(v);
	if (in_list(b, supported_brands, ZK_ARRAY_SIZE(supported_brands)))
		json_object_set_new(cfg, "brand", json_string(b));
	else if (in_list(b, later_brands, ZK_ARRAY_SIZE(later_brands)))
		brand_problem(b, "is not supported yet", p);
	else
		brand_problem(b, "is not a valid brand", p);
}

static void
check_required(const json_t *cfg, bool kvm, zk_problems *p)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(props); i++) {
		const prop_def *d = &props[i];
		bool required = (d->flags & PF_REQUIRED) ||
		    ((d->flags & PF_REQUIRED_OS) && !kvm);
		if (required && json_object_get(cfg,
		    zk_mf_prop_name(d)) == NULL)
			zk_mf_problem(p, ZK_PROBLEM_MISSING, zk_mf_prop_name(d),
			    "is required");
	}
}

/* Memory defaults follow max_physical_memory: settle_memory's. */
static json_t *
rctl_default(const zk_rctl *r)
{
	long long v;
	if (r->def != ZK_RCTL_DEF_VALUE || !zk_rctl_default(r, 0, &v))
		return NULL;
	return json_integer(v);
}

/* The pool of this host: the ctx's, else the default one. */
static const char *
host_pool(const zk_manifest_ctx *ctx)
{
	return ctx->zpool ? ctx->zpool : ZK_POOL_DEFAULT_NAME;
}

static json_t *
default_value(const prop_def *d, const json_t *cfg,
    const zk_manifest_ctx *ctx)
{
	switch (d->def) {
	case DEF_INT:
		return json_integer(d->def_int);
	case DEF_BOOL:
		return json_boolean(d->def_int);
	case DEF_STR:
		return json_string(d->def_str);
	case DEF_ZERO_UUID:
		return json_string("00000000-0000-0000-0000-000000000000");
	case DEF_VM_UUID:
		return json_string(zk_json_str(cfg, "uuid", ""));
	case DEF_ZPOOL:
		return json_string(host_pool(ctx));
	case DEF_QUOTA:
		return json_integer(ctx->pool_has_quota ? QUOTA_DEFAULT : 0);
	case DEF_EMPTY_OBJ:
		return json_object();
	case DEF_EMPTY_ARRAY:
		return json_array();
	case DEF_RCTL:
		return rctl_default(zk_rctl_get(d->rctl));
	case DEF_NONE:
	case DEF_MEMORY:
		break;
	}
	return NULL;
}

/* Also restores the default of a property an update cleared with null. */
static void
fill_defaults(json_t *cfg, const zk_manifest_ctx *ctx)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(props); i++) {
		const prop_def *d = &props[i];
		if (json_object_get(cfg, zk_mf_prop_name(d)) != NULL)
			continue;
		json_t *v = default_value(d, cfg, ctx);
		if (v != NULL)
			json_object_set_new(cfg, zk_mf_prop_name(d), v);
	}
}

static void
set_int(json_t *cfg, const char *key, long long v)
{
	json_object_set_new(cfg, key, json_integer(v));
}

static void
default_int(json_t *cfg, const char *key, long long v)
{
	if (!json_is_integer(json_object_get(cfg, key)))
		set_int(cfg, key, v);
}

static void
default_memory(json_t *cfg, zk_rctl_id id, long long mpm)
{
	const zk_rctl *r = zk_rctl_get(id);
	long long v;
	if (zk_rctl_default(r, mpm, &v))
		default_int(cfg, r->property, v);
}

/*
 * The memory limits relate to max_physical_memory.  As on SmartOS, when
 * only the memory cap moves (old is the config before an update, NULL on
 * create), max_locked_memory follows it down and max_swap follows it up;
 * values given in the same payload are checked instead.
 */
static void
settle_memory(json_t *cfg, const json_t *old, const json_t *payload,
    zk_problems *p)
{
	/* a refused cap would make every comparison below misleading */
	bool cap_bad = zk_mf_has_problem(p, "max_physical_memory") ||
	    zk_mf_has_problem(p, "ram");
	default_memory(cfg, ZK_RCTL_MAX_PHYSICAL_MEMORY, 0);
	long long mpm = zk_json_int(cfg, "max_physical_memory", 0);
	bool moved = old != NULL &&
	    zk_json_int(old, "max_physical_memory", -1) != mpm;
	if (moved && !json_object_get(payload, "max_locked_memory") &&
	    zk_json_int(cfg, "max_locked_memory", 0) > mpm)
		set_int(cfg, "max_locked_memory", mpm);
	if (moved && !json_object_get(payload, "max_swap") &&
	    json_object_get(cfg, "max_swap") != NULL &&
	    zk_json_int(cfg, "max_swap", 0) < mpm)
		set_int(cfg, "max_swap", mpm);
	default_memory(cfg, ZK_RCTL_MAX_LOCKED_MEMORY, mpm);
	default_memory(cfg, ZK_RCTL_MAX_SWAP, mpm);
	default_int(cfg, "tmpfs", mpm);
	if (cap_bad)
		return;
	if (zk_json_int(cfg, "max_locked_memory", 0) > mpm)
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, "max_locked_memory",
		    "must be <= max_physical_memory (%lld)", mpm);
	if (zk_json_int(cfg, "max_swap", 0) < mpm)
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, "max_swap",
		    "must be >= max_physical_memory (%lld)", mpm);
}

static void
check_quota(const json_t *cfg, const zk_manifest_ctx *ctx, zk_problems *p)
{
	if (ctx->pool_has_quota || zk_json_int(cfg, "quota", 0) == 0)
		return;
	zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, "quota",
	    "must be 0: the pool \"%s\" "
	    "is a plain directory and cannot enforce quotas", zk_json_str(cfg,
	    "zpool", ""));
}

/*
 * A zone goes on a pool of this host, and this host has one: the pool the
 * ctx names (SmartOS checks against `zpool list` the same way).
 */
static void
check_pool_known(const json_t *cfg, const zk_manifest_ctx *ctx,
    zk_problems *p)
{
	const char *zpool = zk_json_str(cfg, "zpool", NULL);
	if (zpool != NULL && strcmp(zpool, host_pool(ctx)) != 0)
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, "zpool", "no such pool "
		    "\"%s\" (this host has \"%s\")", zpool, host_pool(ctx));
}

/* "nics[N]" gateways name a nic of the resulting config. */
static void
check_route_nics(const json_t *cfg, zk_problems *p)
{
	const json_t *routes = json_object_get(cfg, "routes");
	size_t nnics = json_array_size(json_object_get(cfg, "nics"));
	const char *dest;
	const json_t *gw;
	char path[128];
	json_object_foreach((json_t *)routes, dest, gw) {
		const char *s = json_string_value(gw);
		if (s == NULL || strncmp(s, "nics[", 5) != 0)
			continue;
		unsigned long n = strtoul(s + 5, NULL, 10);
		if (n >= nnics)
			zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE,
			    zk_mf_path_key(path, "routes", dest),
			    "%s does not exist", s);
	}
}

/* Rules on the resulting config, shared by create and update. */
static int
settle_config(json_t *cfg, const json_t *old, const json_t *payload,
    const json_t *chosen, const zk_manifest_ctx *ctx, zk_problems *p,
    zk_error *err)
{
	fill_defaults(cfg, ctx);
	settle_memory(cfg, old, payload, p);
	check_quota(cfg, ctx, p);
	json_t *nics = json_object_get(cfg, "nics");
	int r = zk_mf_nics_fill_macs(nics, err);
	if (r < 0)
		return r;
	zk_mf_nics_settle(nics, chosen);
	check_route_nics(cfg, p);
	return 0;
}

/* ---- update actions ---------------------------------------------------- */

/* set_X merges into X, remove_X deletes keys of X. */
static const struct object_action {
	const char *name;
	const char *target;
	bool remove;
} object_actions[] = {
	{ "set_tags", "tags", false },
	{ "remove_tags", "tags", true },
	{ "set_customer_metadata", "customer_metadata", false },
	{ "remove_customer_metadata", "customer_metadata", true },
	{ "set_internal_metadata", "internal_metadata", false },
	{ "remove_internal_metadata", "internal_metadata", true },
	{ "set_routes", "routes", false },
	{ "remove_routes", "routes", true },
};

static const struct object_action *
object_action_find(const char *name)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(object_actions); i++)
		if (strcmp(object_actions[i].name, name) == 0)
			return &object_actions[i];
	return NULL;
}

static bool
is_nic_action(const char *key)
{
	return strcmp(key, "add_nics") == 0 ||
	    strcmp(key, "update_nics") == 0 || strcmp(key, "remove_nics") == 0;
}

static bool
is_update_action(const char *key)
{
	return object_action_find(key) != NULL || is_nic_action(key);
}

/* ---- create ------------------------------------------------------------ */

static void
create_apply(json_t *cfg, const json_t *payload, bool kvm,
    json_t **chosen, zk_problems *p)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)payload, key, v) {
		if (strcmp(key, "brand") == 0)
			continue;	/* apply_brand's, and first */
		if (strcmp(key, "nics") == 0 && !json_is_null(v)) {
			json_t *nics = json_array();
			json_object_set_new(cfg, "nics", nics);
			zk_mf_nics_add_all(nics, "nics", v, chosen, p);
		} else if (is_update_action(key)) {
			zk_mf_problem(p, ZK_PROBLEM_UNKNOWN, key,
			    "only valid for update");
		} else {
			apply_property(cfg, payload, key, v, MODE_CREATE, kvm,
			    p);
		}
	}
}

/* uuid, zonename and create_timestamp are the VM's identity on the pool. */
static int
create_identity(json_t *cfg, const zk_manifest_ctx *ctx, zk_error *err)
{
	char uuid[ZK_UUID_BUFSZ];
	const char *given = zk_json_str(cfg, "uuid", ctx->uuid);
	if (given != NULL) {
		/* copied: the payload's value is replaced below */
		snprintf(uuid, sizeof(uuid), "%s", given);
	} else {
		int r = zk_uuid_generate(uuid, err);
		if (r < 0)
			return r;
	}
	json_object_set_new(cfg, "uuid", json_string(uuid));
	json_object_set_new(cfg, "zonename", json_string(uuid));
	if (ctx->now_iso != NULL)
		json_object_set_new(cfg, "create_timestamp",
		    json_string(ctx->now_iso));
	return 0;
}

int
zk_manifest_create(const json_t *payload, const zk_manifest_ctx *ctx,
    json_t **out, zk_problems *probs, zk_error *err)
{
	zk_problems local;
	zk_problems *p = probs ? probs : &local;
	p->n = 0;
	_cleanup_json_ json_t *cfg = json_object();
	if (cfg == NULL)
		return zk_fail(err, ENOMEM, "cannot build the VM config");
	const json_t *brand = json_object_get(payload, "brand");
	/* kvm props are the brand's problem while kvm is unsupported */
	bool kvm = json_is_string(brand) &&
	    strcmp(json_string_value(brand), "kvm") == 0;
	json_t *chosen = NULL;

	apply_brand(cfg, brand, p);
	create_apply(cfg, payload, kvm, &chosen, p);
	check_required(cfg, kvm, p);
	check_pool_known(cfg, ctx, p);
	int r = create_identity(cfg, ctx, err);
	if (r == 0)
		r = settle_config(cfg, NULL, payload, chosen, ctx, p, err);
	if (r < 0)
		return r;
	if (p->n > 0)
		return zk_mf_fail(p, err);
	*out = TAKE_PTR(cfg);
	return 0;
}

/* ---- update ------------------------------------------------------------ */

json_t *
zk_mf_object_member(json_t *cfg, const char *key)
{
	json_t *o = json_object_get(cfg, key);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(cfg, key, o);
	}
	return o;
}

static void
remove_keys(json_t *obj, const char *path, const json_t *v, zk_problems *p)
{
	size_t i;
	const json_t *k;
	char sub[128];
	if (!json_is_array(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an array of keys");
		return;
	}
	json_array_foreach(v, i, k) {
		if (json_is_string(k))
			json_object_del(obj, json_string_value(k));
		else
			zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE,
			    zk_mf_path_index(sub, path, i), "must be a string");
	}
}

static void
apply_object_action(json_t *cfg, const struct object_action *a,
    const json_t *v, zk_problems *p)
{
	json_t *target = zk_mf_object_member(cfg, a->target);
	if (a->remove) {
		remove_keys(target, a->name, v, p);
		return;
	}
	if (zk_mf_check_value(zk_mf_prop_find(a->target), a->name, v, p))
		json_object_update(target, (json_t *)v);
}

/* Removals first, then changes, then additions: a mac is freed before reuse. */
static void
update_nics(json_t *cfg, const json_t *payload, json_t **chosen,
    zk_problems *p)
{
	const json_t *rm = json_object_get(payload, "remove_nics");
	const json_t *up = json_object_get(payload, "update_nics");
	const json_t *add = json_object_get(payload, "add_nics");
	if (rm == NULL && up == NULL && add == NULL)
		return;
	json_t *nics = json_object_get(cfg, "nics");
	if (!json_is_array(nics)) {
		nics = json_array();
		json_object_set_new(cfg, "nics", nics);
	}
	if (rm != NULL)
		zk_mf_nics_remove_all(nics, rm, p);
	if (up != NULL)
		zk_mf_nics_update_all(nics, up, chosen, p);
	if (add != NULL)
		zk_mf_nics_add_all(nics, "add_nics", add, chosen, p);
}

static void
update_apply(json_t *cfg, const json_t *payload, bool kvm, zk_problems *p)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)payload, key, v) {
		const struct object_action *a = object_action_find(key);
		if (a != NULL)
			apply_object_action(cfg, a, v, p);
		else if (!is_nic_action(key))
			apply_property(cfg, payload, key, v, MODE_UPDATE, kvm,
			    p);
	}
}

int
zk_manifest_update(const json_t *current, const json_t *payload,
    const zk_manifest_ctx *ctx, json_t **out, zk_problems *probs,
    zk_error *err)
{
	zk_problems local;
	zk_problems *p = probs ? probs : &local;
	p->n = 0;
	_cleanup_json_ json_t *cfg = json_deep_copy(current);
	if (cfg == NULL)
		return zk_fail(err, ENOMEM, "cannot copy the VM config");
	bool kvm = strcmp(zk_json_str(current, "brand", ""), "kvm") == 0;
	json_t *chosen = NULL;

	update_apply(cfg, payload, kvm, p);
	update_nics(cfg, payload, &chosen, p);
	int r = settle_config(cfg, current, payload, chosen, ctx, p, err);
	if (r < 0)
		return r;
	if (p->n > 0)
		return zk_mf_fail(p, err);
	*out = TAKE_PTR(cfg);
	return 0;
}
