/*
 * A VM's nics: their own property table, nics added, changed and removed
 * (keyed by mac), exactly one primary, interfaces named by position, and
 * generated MACs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "config/manifest_internal.h"
#include "net/mac.h"
#include "util/cleanup.h"
#include "util/json_util.h"

static const prop_def nic_props[] = {
	{ "nic_tag", PT_STRING, .check = zk_mf_check_nic_tag,
	    .flags = CU | PF_REQUIRED },
	/* the key of update_nics and remove_nics, so never changed */
	{ "mac", PT_STRING, .check = zk_mf_check_mac,
	    .flags = PF_CREATE | PF_MAC },
	{ "ip", PT_STRING, .check = zk_mf_check_ip_or_dhcp, .flags = CU },
	{ "ips", PT_CIDRLIST, .flags = CU },
	{ "netmask", PT_STRING, .check = zk_mf_check_netmask, .flags = CU },
	{ "gateway", PT_STRING, .check = zk_mf_check_ipv4, .flags = CU },
	{ "gateways", PT_IPV4LIST, .flags = CU },
	{ "vlan_id", INT_RANGE(0, 4095), .flags = CU },
	{ "primary", PT_TRUE, .flags = CU },
	{ "allow_ip_spoofing", PT_BOOLEAN, .flags = CU },
	{ "allow_mac_spoofing", PT_BOOLEAN, .flags = CU },
	{ "allow_dhcp_spoofing", PT_BOOLEAN, .flags = CU },
	{ "allow_restricted_traffic", PT_BOOLEAN, .flags = CU },
	{ "model", PT_STRING, .check = zk_mf_check_model, .flags = CU },
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
		zk_mf_path_key(sub, path, key);
		const char *why = d ? zk_mf_refusal(d, m,
		    true) : "unknown property";
		zk_problem_kind kind = d ? ZK_PROBLEM_READ_ONLY :
		    ZK_PROBLEM_UNKNOWN;
		if (why != NULL) {
			zk_mf_problem(p, kind, sub, "%s", why);
		} else if (json_is_null(v)) {
			json_object_del(nic, key);
		} else if (zk_mf_check_value(d, sub, v, p)) {
			json_object_set_new(nic, key, zk_mf_stored_value(d, v));
		}
	}
}

/* Rules on a whole nic, after its fields were merged. */
static void
nic_check_whole(const json_t *nic, const char *path, zk_problems *p)
{
	char sub[128];
	if (json_object_get(nic, "nic_tag") == NULL)
		zk_mf_problem(p, ZK_PROBLEM_MISSING, zk_mf_path_key(sub, path,
		    "nic_tag"), "is required");
	const char *ip = zk_json_str(nic, "ip", NULL);
	/* a static address cannot be configured without its prefix */
	if (ip != NULL && zk_mf_ipv4_valid(ip) &&
	    json_object_get(nic, "netmask") == NULL &&
	    json_object_get(nic, "ips") == NULL)
		zk_mf_problem(p, ZK_PROBLEM_MISSING, zk_mf_path_key(sub, path,
		    "netmask"), "is required when ip is an address");
}

static ssize_t
nic_find(const json_t *nics, const char *mac)
{
	size_t i;
	const json_t *nic;
	json_array_foreach(nics, i, nic) {
		char a[ZK_MAC_BUFSZ], b[ZK_MAC_BUFSZ];
		if (zk_mac_canonical(zk_json_str(nic, "mac", NULL), a) &&
		    zk_mac_canonical(mac, b) && strcmp(a, b) == 0)
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
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, zk_mf_path_key(sub, path,
		    "primary"), "only one nic can be primary");
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
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an object");
		return;
	}
	json_t *nic = json_object();
	nic_apply(nic, given, path, MODE_CREATE, p);
	nic_check_whole(nic, path, p);
	const char *mac = zk_json_str(nic, "mac", NULL);
	ssize_t dup = mac ? nic_find(nics, mac) : -1;
	if (dup >= 0)
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, zk_mf_path_key(sub, path,
		    "mac"), "already used by nics.%zd", dup);
	json_array_append_new(nics, nic);
	nic_claim_primary(nic, given, path, chosen, p);
}

void
zk_mf_nics_add_all(json_t *nics, const char *path, const json_t *v,
    json_t **chosen, zk_problems *p)
{
	size_t i;
	const json_t *given;
	char sub[128];
	if (!json_is_array(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "must be an array of objects");
		return;
	}
	json_array_foreach(v, i, given)
		nic_add(nics, given, zk_mf_path_index(sub, path, i), chosen, p);
}

/* The mac of an update_nics element or a remove_nics entry, or -1. */
static ssize_t
nic_by_mac(const json_t *nics, const json_t *mac, const char *path,
    zk_problems *p)
{
	if (mac == NULL) {
		zk_mf_problem(p, ZK_PROBLEM_MISSING, path, "is required");
		return -1;
	}
	if (!json_is_string(mac) || zk_mf_check_mac(json_string_value(mac))) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path, "%s",
		    zk_mf_mac_reason);
		return -1;
	}
	ssize_t i = nic_find(nics, json_string_value(mac));
	if (i < 0)
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
		    "no nic has mac %s", json_string_value(mac));
	return i;
}

void
zk_mf_nics_update_all(json_t *nics, const json_t *v, json_t **chosen,
    zk_problems *p)
{
	size_t i;
	const json_t *given;
	char path[128], sub[128];
	if (!json_is_array(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, "update_nics",
		    "must be an array of objects");
		return;
	}
	json_array_foreach(v, i, given) {
		zk_mf_path_index(path, "update_nics", i);
		if (!json_is_object(given)) {
			zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, path,
			    "must be an object");
			continue;
		}
		ssize_t at = nic_by_mac(nics, json_object_get(given, "mac"),
		    zk_mf_path_key(sub, path, "mac"), p);
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

void
zk_mf_nics_remove_all(json_t *nics, const json_t *v, zk_problems *p)
{
	size_t i;
	const json_t *mac;
	char path[128];
	if (!json_is_array(v)) {
		zk_mf_problem(p, ZK_PROBLEM_BAD_VALUE, "remove_nics",
		    "must be an array of MAC addresses");
		return;
	}
	json_array_foreach(v, i, mac) {
		ssize_t at = nic_by_mac(nics, mac,
		    zk_mf_path_index(path, "remove_nics", i), p);
		if (at >= 0)
			json_array_remove(nics, (size_t)at);
	}
}

/*
 * Exactly one primary: the nic a payload marked, else the one already
 * marked, else the first.  Interfaces follow position, so removing a nic
 * renames the ones after it, as on SmartOS.
 */
void
zk_mf_nics_settle(json_t *nics, const json_t *chosen)
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
int
zk_mf_nics_fill_macs(json_t *nics, zk_error *err)
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
