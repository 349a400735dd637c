/*
 * The VM manifest.  One const table of properties drives every rule:
 * which payload keys are accepted on create and update, their JSON types
 * and ranges, their defaults, and what `vmadm list` may show.  The few
 * rules that relate properties to each other (memory limits, ram, quota on
 * a plain-directory pool, nics and routes) are small functions evaluated on
 * the resulting config, so create and update share them.
 */
#include "config/manifest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "net/ipv4.h"
#include "net/mac.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/uuid.h"

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
	PF_CLAMP = 1 << 6,	/* above max is clamped, not refused */
	PF_STORED = 1 << 7,	/* written by create, never by a payload */
	PF_RUNTIME = 1 << 8,	/* reported at run time, never stored */
	PF_LOWER = 1 << 9,	/* stored lower-case: lookups compare equal */
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
} def_rule;

/* A string validator returns NULL when s is fine, else the reason. */
typedef const char *(*str_check)(const char *s);

typedef struct prop_def {
	const char *name;
	prop_type type;
	long long min, max;	/* PT_INTEGER only */
	def_rule def;
	long long def_int;
	const char *def_str;
	str_check check;	/* PT_STRING only; NULL = any string */
	const char *alias_of;	/* stored under this name instead */
	unsigned flags;
} prop_def;

#define NO_MAX LLONG_MAX
/* Memory is in MiB and quota in GiB; these bounds keep byte counts in int64. */
#define MIB_MAX (1LL << 40)
#define GIB_MAX (1LL << 30)
#define MPM_MIN 16	/* below this not even a shell starts */
#define MPM_DEFAULT 256
#define SWAP_MIN 256
#define QUOTA_DEFAULT 10
#define CPU_SHARES_MAX 65535
/* the system values of zone.cpu-baseline and zone.cpu-burst-time */
#define CPU_BASELINE_MAX 4294967295LL
#define CPU_BURST_TIME_MAX 2147483647LL

static const char *check_alias(const char *s);
static const char *check_hostname(const char *s);
static const char *check_abspath(const char *s);
static const char *check_zpool(const char *s);
static const char *check_cpu_type(const char *s);

#define CU (PF_CREATE | PF_UPDATE)
#define CUL (PF_CREATE | PF_UPDATE | PF_LIVE)
#define INT_RANGE(lo, hi) .type = PT_INTEGER, .min = (lo), .max = (hi)

static const prop_def props[] = {
	/* identity: fixed at create */
	{ "uuid", PT_UUID, .flags = PF_CREATE },
	{ "brand", PT_STRING, .flags = PF_CREATE | PF_REQUIRED },
	{ "image_uuid", PT_UUID, .flags = PF_CREATE | PF_REQUIRED_OS },
	{ "zpool", PT_STRING, .def = DEF_ZPOOL, .check = check_zpool,
	    .flags = PF_CREATE },
	{ "zonename", PT_STRING, .flags = PF_STORED },
	{ "create_timestamp", PT_STRING, .flags = PF_STORED },
	/* zonekit's: the zone's user namespace (idmap.h) */
	{ "uid_map", PT_STRING, .flags = PF_STORED },
	{ "gid_map", PT_STRING, .flags = PF_STORED },

	/* naming and ownership */
	{ "alias", PT_STRING, .check = check_alias, .flags = CU },
	{ "hostname", PT_STRING, .def = DEF_VM_UUID, .check = check_hostname,
	    .flags = CU },
	{ "dns_domain", PT_STRING, .def = DEF_STR, .def_str = "local",
	    .check = check_hostname, .flags = CU },
	{ "init_name", PT_STRING, .def = DEF_STR, .def_str = "/sbin/init",
	    .check = check_abspath, .flags = CU },
	{ "autoboot", PT_BOOLEAN, .def = DEF_BOOL, .def_int = 1, .flags = CU },
	{ "owner_uuid", PT_UUID, .def = DEF_ZERO_UUID, .flags = CU },
	{ "billing_id", PT_UUID, .def = DEF_ZERO_UUID, .flags = CU },

	/* resource controls */
	{ "cpu_cap", INT_RANGE(0, NO_MAX), .flags = CUL },
	/* zonekit's: SmartOS has these rctls but no properties for them */
	{ "cpu_baseline", INT_RANGE(0, CPU_BASELINE_MAX), .flags = CUL },
	{ "cpu_burst_time", INT_RANGE(0, CPU_BURST_TIME_MAX), .flags = CUL },
	{ "cpu_shares", INT_RANGE(0, CPU_SHARES_MAX), .def = DEF_INT,
	    .def_int = 100, .flags = CUL | PF_CLAMP },
	{ "zfs_io_priority", INT_RANGE(0, NO_MAX), .def = DEF_INT,
	    .def_int = 100, .flags = CUL },
	{ "max_lwps", INT_RANGE(1, NO_MAX), .def = DEF_INT, .def_int = 2000,
	    .flags = CUL },
	{ "max_physical_memory", INT_RANGE(MPM_MIN, MIB_MAX),
	    .def = DEF_MEMORY, .flags = CUL },
	{ "max_locked_memory", INT_RANGE(0, MIB_MAX), .def = DEF_MEMORY,
	    .flags = CUL },
	{ "max_swap", INT_RANGE(SWAP_MIN, MIB_MAX), .def = DEF_MEMORY,
	    .flags = CUL },
	{ "tmpfs", INT_RANGE(0, MIB_MAX), .def = DEF_MEMORY, .flags = CU },
	{ "quota", INT_RANGE(0, GIB_MAX), .def = DEF_QUOTA, .flags = CUL },
	{ "ram", INT_RANGE(MPM_MIN, MIB_MAX),
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
	{ "cpu_type", PT_STRING, .check = check_cpu_type,
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

static const prop_def *
prop_find(const char *name)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(props); i++)
		if (strcmp(props[i].name, name) == 0)
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
		return prop_find(name) != NULL;
	char base[64];
	size_t n = (size_t)(dot - name);
	if (n == 0 || n >= sizeof(base) || dot[1] == '\0')
		return false;
	memcpy(base, name, n);
	base[n] = '\0';
	const prop_def *d = prop_find(base);
	return d != NULL && has_subkeys(d);
}

/* ---- problems ---------------------------------------------------------- */

static bool
has_problem(const zk_problems *p, const char *prop)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].property, prop) == 0)
			return true;
	return false;
}

/* One problem per property: the first found is the one worth fixing. */
static void __attribute__((format(printf, 4, 5)))
problem(zk_problems *p, zk_problem_kind kind, const char *prop,
    const char *fmt, ...)
{
	if (p->n >= ZK_PROBLEMS_MAX || has_problem(p, prop))
		return;
	zk_problem *it = &p->items[p->n++];
	it->kind = kind;
	snprintf(it->property, sizeof(it->property), "%s", prop);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
	va_end(ap);
}

/* Problem paths name the element: "nics.1.vlan_id", "tags.role". */
static const char *
path_key(char buf[128], const char *prefix, const char *key)
{
	snprintf(buf, 128, "%s.%s", prefix, key);
	return buf;
}

static const char *
path_index(char buf[128], const char *prefix, size_t i)
{
	snprintf(buf, 128, "%s.%zu", prefix, i);
	return buf;
}

void
zk_problems_format(const zk_problems *probs, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	size_t off = 0;
	for (size_t i = 0; i < probs->n && off < len; i++) {
		const zk_problem *it = &probs->items[i];
		int n = snprintf(buf + off, len - off, "%s%s: %s",
		    i > 0 ? "; " : "", it->property, it->reason);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void
push_name(json_t *o, const char *key, const char *name)
{
	json_t *a = json_object_get(o, key);
	if (a == NULL) {
		a = json_array();
		json_object_set_new(o, key, a);
	}
	json_array_append_new(a, json_string(name));
}

/*
 * The problem struct has no room for the value, so a bad brand's reason
 * starts with the brand as a JSON string (see brand_problem) and is read
 * back from there.
 */
static json_t *
bad_brand_value(const zk_problem *it)
{
	json_t *v = json_loads(it->reason,
	    JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
	if (json_is_string(v))
		return v;
	json_decref(v);
	return json_string("");
}

json_t *
zk_problems_to_json(const zk_problems *probs)
{
	json_t *o = json_object();
	for (size_t i = 0; o != NULL && i < probs->n; i++) {
		const zk_problem *it = &probs->items[i];
		switch (it->kind) {
		case ZK_PROBLEM_BAD_BRAND:
			json_object_set_new(o, "bad_brand",
			    bad_brand_value(it));
			break;
		case ZK_PROBLEM_BAD_VALUE:
			push_name(o, "bad_values", it->property);
			break;
		case ZK_PROBLEM_MISSING:
			push_name(o, "missing_properties", it->property);
			break;
		case ZK_PROBLEM_UNKNOWN:
		case ZK_PROBLEM_READ_ONLY:
			push_name(o, "bad_properties", it->property);
			break;
		}
	}
	return o;
}

static int
fail_problems(const zk_problems *p, zk_error *err)
{
	char line[ZK_ERROR_MAX];
	zk_problems_format(p, line, sizeof(line));
	return zk_fail(err, EINVAL, "%s", line);
}

/* ---- string syntaxes --------------------------------------------------- */

static const char *
check_alias(const char *s)
{
	/* an alias is printed in list columns: a newline would break them */
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "must not contain control characters";
	return NULL;
}

static bool
label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* RFC 1123 names: dot-separated labels of 1..63, no '-' at either end. */
static const char *
check_hostname(const char *s)
{
	static const char reason[] = "must be a DNS name (dot-separated "
	    "labels of 1 to 63 letters, digits and inner hyphens)";
	size_t total = strlen(s);
	if (total == 0 || total > 253)
		return reason;
	const char *label = s;
	for (const char *c = s;; c++) {
		if (*c == '.' || *c == '\0') {
			size_t n = (size_t)(c - label);
			if (n == 0 || n > 63 || label[0] == '-' ||
			    c[-1] == '-')
				return reason;
			if (*c == '\0')
				return NULL;
			label = c + 1;
		} else if (!label_char(*c)) {
			return reason;
		}
	}
}

static const char *
check_abspath(const char *s)
{
	return s[0] == '/' ? NULL : "must be an absolute path";
}

/* ZFS's pool name rule, so a name valid here is valid on a real zpool. */
static const char *
check_zpool(const char *s)
{
	static const char reason[] = "must be a pool name (a letter, then "
	    "letters, digits, '_', '-', '.' or ':')";
	size_t n = strlen(s);
	if (n == 0 || n > 255 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z')))
		return reason;
	for (; *s != '\0'; s++)
		if (!label_char(*s) && strchr("_.:", *s) == NULL)
			return reason;
	return NULL;
}

static const char *
check_cpu_type(const char *s)
{
	if (strcmp(s, "qemu64") == 0 || strcmp(s, "host") == 0)
		return NULL;
	return "must be qemu64 or host";
}

static bool
ipv4_valid(const char *s)
{
	struct in_addr a;
	return zk_ipv4_parse(s, &a);
}

static const char *
check_ipv4(const char *s)
{
	return ipv4_valid(s) ? NULL : "must be an IPv4 address";
}

static const char *
check_ip_or_dhcp(const char *s)
{
	if (strcmp(s, "dhcp") == 0 || ipv4_valid(s))
		return NULL;
	return "must be an IPv4 address or \"dhcp\"";
}

static bool
cidr_valid(const char *s)
{
	struct in_addr a;
	uint8_t prefix;
	return zk_ipv4_parse_cidr(s, &a, &prefix);
}

static const char *
check_cidr(const char *s)
{
	if (strcmp(s, "dhcp") == 0 || cidr_valid(s))
		return NULL;
	return "must be an IPv4 address with prefix length (a.b.c.d/n) "
	    "or \"dhcp\"";
}

/* A netmask is ones then zeros; anything else is a typo for one. */
static const char *
check_netmask(const char *s)
{
	uint8_t prefix;
	return zk_ipv4_netmask_prefix(s, &prefix) ? NULL :
	    "must be an IPv4 netmask (e.g. 255.255.255.0)";
}

static const char mac_reason[] = "must be a MAC address (aa:bb:cc:dd:ee:ff)";

static const char *
check_mac(const char *s)
{
	return zk_mac_valid(s) ? NULL : mac_reason;
}

/* SmartOS's tag rule, plus '-' and '.' so Linux bridge and VLAN names fit. */
static const char *
check_nic_tag(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 31 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-.") != n)
		return "must be 1 to 31 letters, digits, '_', '-' or '.'";
	return NULL;
}

static const char *
check_model(const char *s)
{
	if (strcmp(s, "virtio") == 0 || strcmp(s, "e1000") == 0 ||
	    strcmp(s, "rtl8139") == 0)
		return NULL;
	return "must be virtio, e1000 or rtl8139";
}

static const prop_def nic_props[] = {
	{ "nic_tag", PT_STRING, .check = check_nic_tag,
	    .flags = CU | PF_REQUIRED },
	/* the key of update_nics and remove_nics, so never changed */
	{ "mac", PT_STRING, .check = check_mac, .flags = PF_CREATE | PF_LOWER },
	{ "ip", PT_STRING, .check = check_ip_or_dhcp, .flags = CU },
	{ "ips", PT_CIDRLIST, .flags = CU },
	{ "netmask", PT_STRING, .check = check_netmask, .flags = CU },
	{ "gateway", PT_STRING, .check = check_ipv4, .flags = CU },
	{ "gateways", PT_IPV4LIST, .flags = CU },
	{ "vlan_id", INT_RANGE(0, 4095), .flags = CU },
	{ "primary", PT_TRUE, .flags = CU },
	{ "allow_ip_spoofing", PT_BOOLEAN, .flags = CU },
	{ "allow_mac_spoofing", PT_BOOLEAN, .flags = CU },
	{ "allow_dhcp_spoofing", PT_BOOLEAN, .flags = CU },
	{ "allow_restricted_traffic", PT_BOOLEAN, .flags = CU },
	{ "model", PT_STRING, .check = check_model, .flags = CU },
	{ "mtu", INT_RANGE(576, 9000), .flags = CU },
	{ "interface", PT_STRING, .flags = PF_STORED },
};

static const prop_def *
nic_prop_find(const char *name)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(nic_props); i++)
		if (strcmp(nic_props[i].name, name) == 0)
			return &nic_props[i];
	return NULL;
}

/* ---- values by type ---------------------------------------------------- */

static bool
check_integer(const prop_def *d, const char *path, const json_t *v,
    zk_problems *p)
{
	/* jansson keeps 512.0 a real and true a boolean: both refused */
	if (!json_is_integer(v)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be an integer");
		return false;
	}
	long long n = json_integer_value(v);
	if (n < d->min) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be >= %lld",
		    d->min);
		return false;
	}
	if (n > d->max && !(d->flags & PF_CLAMP)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be <= %lld",
		    d->max);
		return false;
	}
	return true;
}

static bool
check_string(const prop_def *d, const char *path, const json_t *v,
    zk_problems *p)
{
	if (!json_is_string(v)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be a string");
		return false;
	}
	const char *why = d->check ? d->check(json_string_value(v)) : NULL;
	if (why != NULL) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "%s", why);
		return false;
	}
	return true;
}

static bool
check_flat_object(const char *path, const json_t *v, zk_problems *p)
{
	if (!json_is_object(v)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be an object");
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
		problem(p, ZK_PROBLEM_BAD_VALUE, path_key(sub, path, key),
		    "must be a string, number or boolean");
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
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be an array of %s",
		    what);
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
			problem(p, ZK_PROBLEM_BAD_VALUE,
			    path_index(sub, path, i), "%s", why);
			ok = false;
		}
	}
	return ok;
}

static bool
route_gateway_valid(const char *s)
{
	if (ipv4_valid(s))
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
		problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an object of destination: gateway");
		return false;
	}
	bool ok = true;
	const char *dest;
	const json_t *gw;
	char sub[128];
	json_object_foreach((json_t *)v, dest, gw) {
		path_key(sub, path, dest);
		if (!ipv4_valid(dest) && !cidr_valid(dest)) {
			problem(p, ZK_PROBLEM_BAD_VALUE, sub, "destination "
			    "must be an IPv4 address or a.b.c.d/n");
			ok = false;
		} else if (!json_is_string(gw) ||
		    !route_gateway_valid(json_string_value(gw))) {
			problem(p, ZK_PROBLEM_BAD_VALUE, sub, "gateway must be "
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
		problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an array of objects");
	return ok;
}

/* Report a type or range problem for `v` under `path`; true if usable. */
static bool
check_value(const prop_def *d, const char *path, const json_t *v,
    zk_problems *p)
{
	switch (d->type) {
	case PT_UUID:
		if (json_is_string(v) && zk_uuid_valid(json_string_value(v)))
			return true;
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be a UUID");
		return false;
	case PT_STRING:
		return check_string(d, path, v, p);
	case PT_INTEGER:
		return check_integer(d, path, v, p);
	case PT_BOOLEAN:
		if (json_is_boolean(v))
			return true;
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be true or false");
		return false;
	case PT_TRUE:
		if (json_is_true(v))
			return true;
		problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be true (leave it out on the other nics)");
		return false;
	case PT_FLATOBJ:
		return check_flat_object(path, v, p);
	case PT_IPV4LIST:
		return check_string_list(path, v, check_ipv4,
		    "IPv4 addresses", p);
	case PT_CIDRLIST:
		return check_string_list(path, v, check_cidr,
		    "a.b.c.d/n addresses", p);
	case PT_ROUTES:
		return check_routes(path, v, p);
	case PT_NICS:
	case PT_DISKS:
		return check_object_array(path, v, p);
	}
	return false;
}

/* The value as stored: clamped or normalised where the table says so. */
static json_t *
stored_value(const prop_def *d, const json_t *v)
{
	if ((d->flags & PF_CLAMP) && json_integer_value(v) > d->max)
		return json_integer(d->max);
	if (d->flags & PF_LOWER) {
		_cleanup_free_ char *s = strdup(json_string_value(v));
		if (s == NULL)
			return NULL;
		for (char *c = s; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		return json_string(s);
	}
	return json_deep_copy(v);
}

/* ---- which payload may set what ---------------------------------------- */

typedef enum mode { MODE_CREATE, MODE_UPDATE } mode;

static const char *
refusal(const prop_def *d, mode m, bool kvm)
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

/* Check `given`'s fields against the nic table and merge them into nic. */
static void
nic_apply(json_t *nic, const json_t *given, const char *path, mode m,
    zk_problems *p)
{
	const char *key;
	const json_t *v;
	char sub[128];
	json_object_foreach((json_t *)given, key, v) {
		const prop_def *d = nic_prop_find(key);
		path_key(sub, path, key);
		const char *why = d ? refusal(d, m, true) : "unknown property";
		zk_problem_kind kind = d ? ZK_PROBLEM_READ_ONLY :
		    ZK_PROBLEM_UNKNOWN;
		if (why != NULL) {
			problem(p, kind, sub, "%s", why);
		} else if (json_is_null(v)) {
			json_object_del(nic, key);
		} else if (check_value(d, sub, v, p)) {
			json_object_set_new(nic, key, stored_value(d, v));
		}
	}
}

/* Rules on a whole nic, after its fields were merged. */
static void
nic_check_whole(const json_t *nic, const char *path, zk_problems *p)
{
	char sub[128];
	if (json_object_get(nic, "nic_tag") == NULL)
		problem(p, ZK_PROBLEM_MISSING, path_key(sub, path, "nic_tag"),
		    "is required");
	const char *ip = zk_json_str(nic, "ip", NULL);
	/* a static address cannot be configured without its prefix */
	if (ip != NULL && ipv4_valid(ip) &&
	    json_object_get(nic, "netmask") == NULL &&
	    json_object_get(nic, "ips") == NULL)
		problem(p, ZK_PROBLEM_MISSING, path_key(sub, path, "netmask"),
		    "is required when ip is an address");
}

static ssize_t
nic_find(const json_t *nics, const char *mac)
{
	size_t i;
	const json_t *nic;
	json_array_foreach(nics, i, nic) {
		const char *m = zk_json_str(nic, "mac", NULL);
		if (m != NULL && strcasecmp(m, mac) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* Only one nic of a payload may claim primary; it wins over the others. */
static void
nic_claim_primary(json_t *nic, const json_t *given, const char *path,
    json_t **chosen, zk_problems *p)
{
	char sub[128];
	if (!json_is_true(json_object_get(given, "primary")))
		return;
	if (*chosen != NULL && *chosen != nic)
		problem(p, ZK_PROBLEM_BAD_VALUE, path_key(sub, path, "primary"),
		    "only one nic can be primary");
	else
		*chosen = nic;
}

/* Validate one new nic (create's nics[] or add_nics[]) and append it. */
static void
nic_add(json_t *nics, const json_t *given, const char *path,
    json_t **chosen, zk_problems *p)
{
	char sub[128];
	if (!json_is_object(given)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "must be an object");
		return;
	}
	json_t *nic = json_object();
	nic_apply(nic, given, path, MODE_CREATE, p);
	nic_check_whole(nic, path, p);
	const char *mac = zk_json_str(nic, "mac", NULL);
	ssize_t dup = mac ? nic_find(nics, mac) : -1;
	if (dup >= 0)
		problem(p, ZK_PROBLEM_BAD_VALUE, path_key(sub, path, "mac"),
		    "already used by nics.%zd", dup);
	json_array_append_new(nics, nic);
	nic_claim_primary(nic, given, path, chosen, p);
}

static void
nics_add_all(json_t *nics, const char *path, const json_t *v,
    json_t **chosen, zk_problems *p)
{
	size_t i;
	const json_t *given;
	char sub[128];
	if (!json_is_array(v)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an array of objects");
		return;
	}
	json_array_foreach(v, i, given)
		nic_add(nics, given, path_index(sub, path, i), chosen, p);
}

/* The mac of an update_nics element or a remove_nics entry, or -1. */
static ssize_t
nic_by_mac(const json_t *nics, const json_t *mac, const char *path,
    zk_problems *p)
{
	if (mac == NULL) {
		problem(p, ZK_PROBLEM_MISSING, path, "is required");
		return -1;
	}
	if (!json_is_string(mac) || check_mac(json_string_value(mac))) {
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "%s", mac_reason);
		return -1;
	}
	ssize_t i = nic_find(nics, json_string_value(mac));
	if (i < 0)
		problem(p, ZK_PROBLEM_BAD_VALUE, path, "no nic has mac %s",
		    json_string_value(mac));
	return i;
}

static void
nics_update_all(json_t *nics, const json_t *v, json_t **chosen,
    zk_problems *p)
{
	size_t i;
	const json_t *given;
	char path[128], sub[128];
	if (!json_is_array(v)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, "update_nics",
		    "must be an array of objects");
		return;
	}
	json_array_foreach(v, i, given) {
		path_index(path, "update_nics", i);
		if (!json_is_object(given)) {
			problem(p, ZK_PROBLEM_BAD_VALUE, path,
			    "must be an object");
			continue;
		}
		ssize_t at = nic_by_mac(nics, json_object_get(given, "mac"),
		    path_key(sub, path, "mac"), p);
		if (at < 0)
			continue;
		json_t *nic = json_array_get(nics, (size_t)at);
		_cleanup_json_ json_t *fields = json_deep_copy(given);
		json_object_del(fields, "mac");	/* the key */
		nic_apply(nic, fields, path, MODE_UPDATE, p);
		nic_check_whole(nic, path, p);
		nic_claim_primary(nic, given, path, chosen, p);
	}
}

static void
nics_remove_all(json_t *nics, const json_t *v, zk_problems *p)
{
	size_t i;
	const json_t *mac;
	char path[128];
	if (!json_is_array(v)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, "remove_nics",
		    "must be an array of MAC addresses");
		return;
	}
	json_array_foreach(v, i, mac) {
		ssize_t at = nic_by_mac(nics, mac,
		    path_index(path, "remove_nics", i), p);
		if (at >= 0)
			json_array_remove(nics, (size_t)at);
	}
}

/*
 * Exactly one primary: the nic a payload marked, else the one already
 * marked, else the first.  Interfaces follow position, so removing a nic
 * renames the ones after it, as on SmartOS.
 */
static void
nics_settle(json_t *nics, const json_t *chosen)
{
	size_t i;
	json_t *nic;
	const json_t *keep = chosen;
	json_array_foreach(nics, i, nic)
		if (keep == NULL && json_is_true(json_object_get(nic,
		    "primary")))
			keep = nic;
	if (keep == NULL)
		keep = json_array_get(nics, 0);
	json_array_foreach(nics, i, nic) {
		char name[32];
		snprintf(name, sizeof(name), "net%zu", i);
		json_object_set_new(nic, "interface", json_string(name));
		if (nic == keep)
			json_object_set_new(nic, "primary", json_true());
		else
			json_object_del(nic, "primary");
	}
}

/*
 * Generated macs are locally administered unicast (92: is 90: with the
 * local bit set), so they cannot collide with a vendor's hardware.
 */
static int
nics_fill_macs(json_t *nics, zk_error *err)
{
	size_t i;
	json_t *nic;
	json_array_foreach(nics, i, nic) {
		char mac[18];
		if (json_object_get(nic, "mac") != NULL)
			continue;
		do {
			uint8_t b[3];
			if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
				return zk_fail_errno(err, errno,
				    "cannot generate a MAC address");
			snprintf(mac, sizeof(mac), "92:b8:d0:%02x:%02x:%02x",
			    b[0], b[1], b[2]);
		} while (nic_find(nics, mac) >= 0);
		json_object_set_new(nic, "mac", json_string(mac));
	}
	return 0;
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
	if (!json_is_null(v) && !check_value(d, d->name, v, p))
		return;
	const json_t *t = json_object_get(payload, d->alias_of);
	if (t != NULL) {
		if (json_is_integer(t) && !json_equal(t, v))
			problem(p, ZK_PROBLEM_BAD_VALUE, d->name,
			    "must equal %s (%lld)", d->alias_of,
			    json_integer_value(t));
		else if (json_is_null(t) && !json_is_null(v))
			problem(p, ZK_PROBLEM_BAD_VALUE, d->name,
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
	const prop_def *d = prop_find(key);
	if (d == NULL) {
		problem(p, ZK_PROBLEM_UNKNOWN, key, "unknown property");
		return;
	}
	const char *why = refusal(d, m, kvm);
	if (why != NULL) {
		problem(p, ZK_PROBLEM_READ_ONLY, key, "%s", why);
	} else if (d->alias_of != NULL) {
		apply_alias(cfg, d, v, payload, p);
	} else if (json_is_null(v)) {
		/* the default, if any, comes back in fill_defaults */
		json_object_del(cfg, key);
	} else if (check_value(d, key, v, p)) {
		json_object_set_new(cfg, key, stored_value(d, v));
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
	problem(p, ZK_PROBLEM_BAD_BRAND, "brand", "%s %s (supported: joyent, "
	    "joyent-minimal)", quoted ? quoted : "\"\"", why);
}

static void
apply_brand(json_t *cfg, const json_t *v, zk_problems *p)
{
	if (v == NULL || json_is_null(v))
		return;		/* reported by check_required */
	if (!json_is_string(v)) {
		problem(p, ZK_PROBLEM_BAD_VALUE, "brand", "must be a string");
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
		if (required && json_object_get(cfg, d->name) == NULL)
			problem(p, ZK_PROBLEM_MISSING, d->name, "is required");
	}
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
		return json_string(ctx->zpool ? ctx->zpool : "zones");
	case DEF_QUOTA:
		return json_integer(ctx->pool_has_quota ? QUOTA_DEFAULT : 0);
	case DEF_EMPTY_OBJ:
		return json_object();
	case DEF_EMPTY_ARRAY:
		return json_array();
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
		if (json_object_get(cfg, d->name) != NULL)
			continue;
		json_t *v = default_value(d, cfg, ctx);
		if (v != NULL)
			json_object_set_new(cfg, d->name, v);
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
	bool cap_bad = has_problem(p, "max_physical_memory") ||
	    has_problem(p, "ram");
	default_int(cfg, "max_physical_memory", MPM_DEFAULT);
	long long mpm = zk_json_int(cfg, "max_physical_memory", MPM_DEFAULT);
	bool moved = old != NULL &&
	    zk_json_int(old, "max_physical_memory", -1) != mpm;
	if (moved && !json_object_get(payload, "max_locked_memory") &&
	    zk_json_int(cfg, "max_locked_memory", 0) > mpm)
		set_int(cfg, "max_locked_memory", mpm);
	if (moved && !json_object_get(payload, "max_swap") &&
	    json_object_get(cfg, "max_swap") != NULL &&
	    zk_json_int(cfg, "max_swap", 0) < mpm)
		set_int(cfg, "max_swap", mpm);
	default_int(cfg, "max_locked_memory", mpm);
	default_int(cfg, "max_swap", mpm > SWAP_MIN ? mpm : SWAP_MIN);
	default_int(cfg, "tmpfs", mpm);
	if (cap_bad)
		return;
	if (zk_json_int(cfg, "max_locked_memory", 0) > mpm)
		problem(p, ZK_PROBLEM_BAD_VALUE, "max_locked_memory",
		    "must be <= max_physical_memory (%lld)", mpm);
	if (zk_json_int(cfg, "max_swap", 0) < mpm)
		problem(p, ZK_PROBLEM_BAD_VALUE, "max_swap",
		    "must be >= max_physical_memory (%lld)", mpm);
}

static void
check_quota(const json_t *cfg, const zk_manifest_ctx *ctx, zk_problems *p)
{
	if (ctx->pool_has_quota || zk_json_int(cfg, "quota", 0) == 0)
		return;
	problem(p, ZK_PROBLEM_BAD_VALUE, "quota", "must be 0: the pool \"%s\" "
	    "is a plain directory and cannot enforce quotas",
	    zk_json_str(cfg, "zpool", ""));
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
	if (zpool == NULL || ctx->zpool == NULL ||
	    strcmp(zpool, ctx->zpool) == 0)
		return;
	problem(p, ZK_PROBLEM_BAD_VALUE, "zpool", "no such pool \"%s\" (this "
	    "host has \"%s\")", zpool, ctx->zpool);
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
			problem(p, ZK_PROBLEM_BAD_VALUE,
			    path_key(path, "routes", dest),
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
	int r = nics_fill_macs(nics, err);
	if (r < 0)
		return r;
	nics_settle(nics, chosen);
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
			nics_add_all(nics, "nics", v, chosen, p);
		} else if (is_update_action(key)) {
			problem(p, ZK_PROBLEM_UNKNOWN, key,
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
		return fail_problems(p, err);
	*out = TAKE_PTR(cfg);
	return 0;
}

/* ---- update ------------------------------------------------------------ */

static json_t *
object_member(json_t *cfg, const char *key)
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
		problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an array of keys");
		return;
	}
	json_array_foreach(v, i, k) {
		if (json_is_string(k))
			json_object_del(obj, json_string_value(k));
		else
			problem(p, ZK_PROBLEM_BAD_VALUE,
			    path_index(sub, path, i), "must be a string");
	}
}

static void
apply_object_action(json_t *cfg, const struct object_action *a,
    const json_t *v, zk_problems *p)
{
	json_t *target = object_member(cfg, a->target);
	if (a->remove) {
		remove_keys(target, a->name, v, p);
		return;
	}
	if (check_value(prop_find(a->target), a->name, v, p))
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
		nics_remove_all(nics, rm, p);
	if (up != NULL)
		nics_update_all(nics, up, chosen, p);
	if (add != NULL)
		nics_add_all(nics, "add_nics", add, chosen, p);
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
		return fail_problems(p, err);
	*out = TAKE_PTR(cfg);
	return 0;
}

/* ---- vmadm update k=v -------------------------------------------------- */

static bool
parse_ll(const char *s, long long *out)
{
	if (*s == '\0' || strspn(s, "-0123456789") != strlen(s))
		return false;
	char *end;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* "a,b,c" -> ["a","b","c"]; "" -> [] (clears the list to nothing). */
static json_t *
split_list(const char *s)
{
	json_t *a = json_array();
	while (a != NULL && *s != '\0') {
		size_t n = strcspn(s, ",");
		json_array_append_new(a, json_stringn(s, n));
		s += n + (s[n] == ',');
	}
	return a;
}

static int
kv_value(const prop_def *d, const char *val, const char *arg, json_t **out,
    zk_error *err)
{
	long long n;
	if (strcmp(val, "null") == 0) {
		*out = json_null();
		return 0;
	}
	switch (d->type) {
	case PT_INTEGER:
		if (!parse_ll(val, &n))
			return zk_fail(err, EINVAL, "invalid argument \"%s\": "
			    "%s must be an integer", arg, d->name);
		*out = json_integer(n);
		return 0;
	case PT_BOOLEAN:
	case PT_TRUE:
		if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0)
			return zk_fail(err, EINVAL, "invalid argument \"%s\": "
			    "%s must be true or false", arg, d->name);
		*out = json_boolean(strcmp(val, "true") == 0);
		return 0;
	case PT_UUID:
	case PT_STRING:
		*out = json_string(val);
		return 0;
	case PT_IPV4LIST:
	case PT_CIDRLIST:
		*out = split_list(val);
		return 0;
	case PT_FLATOBJ:
		return zk_fail(err, EINVAL, "invalid argument \"%s\": %s "
		    "cannot be given as key=value (use %s.KEY=value or a JSON "
		    "payload)", arg, d->name, d->name);
	default:
		return zk_fail(err, EINVAL, "invalid argument \"%s\": %s "
		    "cannot be given as key=value (use a JSON payload)", arg,
		    d->name);
	}
}

/* tags.KEY=v: tags are typed like JSON; metadata values stay strings. */
static json_t *
subkey_value(const char *base, const char *val)
{
	long long n;
	if (strcmp(base, "tags") != 0)
		return json_string(val);
	if (strcmp(val, "true") == 0 || strcmp(val, "false") == 0)
		return json_boolean(strcmp(val, "true") == 0);
	if (parse_ll(val, &n))
		return json_integer(n);
	return json_string(val);
}

/* "tags.role=db" -> set_tags {"role": "db"}; "tags.role=null" removes it. */
static int
kv_subkey(json_t *payload, const char *key, const char *val, const char *arg,
    zk_error *err)
{
	const char *dot = strchr(key, '.');
	char base[64], action[96];
	size_t n = (size_t)(dot - key);
	if (n >= sizeof(base) || dot[1] == '\0')
		goto unknown;
	memcpy(base, key, n);
	base[n] = '\0';
	const prop_def *d = prop_find(base);
	if (d == NULL || d->type != PT_FLATOBJ)
		goto unknown;
	bool remove = strcmp(val, "null") == 0;
	snprintf(action, sizeof(action), "%s_%s", remove ? "remove" : "set",
	    base);
	if (remove) {
		json_t *a = json_object_get(payload, action);
		if (a == NULL) {
			a = json_array();
			json_object_set_new(payload, action, a);
		}
		json_array_append_new(a, json_string(dot + 1));
	} else {
		json_object_set_new(object_member(payload, action), dot + 1,
		    subkey_value(base, val));
	}
	return 0;
unknown:
	return zk_fail(err, EINVAL, "invalid argument \"%s\": unknown property "
	    "\"%s\"", arg, key);
}

static int
kv_one(json_t *payload, const char *arg, zk_error *err)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg)
		return zk_fail(err, EINVAL, "invalid argument \"%s\": expected "
		    "key=value", arg);
	_cleanup_free_ char *key = strndup(arg, (size_t)(eq - arg));
	if (key == NULL)
		return zk_fail_errno(err, ENOMEM, "invalid argument \"%s\"",
		    arg);
	if (strchr(key, '.') != NULL)
		return kv_subkey(payload, key, eq + 1, arg, err);
	const prop_def *d = prop_find(key);
	if (d == NULL)
		return zk_fail(err, EINVAL, "invalid argument \"%s\": unknown "
		    "property \"%s\"", arg, key);
	json_t *v = NULL;
	int r = kv_value(d, eq + 1, arg, &v, err);
	if (r < 0)
		return r;
	json_object_set_new(payload, key, v);
	return 0;
}

int
zk_manifest_kv_payload(int argc, char *const argv[], json_t **out,
    zk_error *err)
{
	_cleanup_json_ json_t *payload = json_object();
	if (payload == NULL)
		return zk_fail(err, ENOMEM, "cannot build the update payload");
	for (int i = 0; i < argc; i++) {
		int r = kv_one(payload, argv[i], err);
		if (r < 0)
			return r;
	}
	*out = TAKE_PTR(payload);
	return 0;
}
