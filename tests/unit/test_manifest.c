/*
 * The manifest rules: every malformed payload below must fail with exactly
 * the one-line message vmadm prints after "vmadm: ", and the positive
 * tests pin the defaults, update semantics and k=v typing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/manifest.h"
#include "util/json_util.h"

#define IMG "6f5e3e1a-0c3b-4a8f-9b1e-2f4d5c6b7a89"
#define VM_UUID "11111111-2222-4333-8444-555555555555"
#define NOW "2024-01-02T03:04:05.678Z"
#define ZERO_UUID "00000000-0000-0000-0000-000000000000"
#define BASE "{\"brand\": \"joyent\", \"image_uuid\": \"" IMG "\"}"
#define MAC0 "90:b8:d0:00:00:01"
#define MAC1 "90:b8:d0:00:00:02"
#define MAC2 "90:b8:d0:00:00:03"

static const zk_manifest_ctx quota_pool = {
	.pool_has_quota = true, .zpool = "zones", .now_iso = NOW,
	.uuid = VM_UUID,
};
static const zk_manifest_ctx dir_pool = {
	.pool_has_quota = false, .zpool = "zones", .now_iso = NOW,
	.uuid = VM_UUID,
};

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (j == NULL)
		fail_msg("test JSON does not parse: %s: %s", text, e.text);
	return j;
}

/* The base payload (brand, image_uuid) with `text`'s keys laid over it. */
static json_t *
payload_with(const char *text)
{
	json_t *base = parse(BASE);
	_cleanup_json_ json_t *extra = parse(text);
	json_object_update(base, extra);
	return base;
}

static json_t *
create_ok(const char *text, const zk_manifest_ctx *ctx)
{
	_cleanup_json_ json_t *payload = payload_with(text);
	zk_problems probs;
	zk_error err = { 0 };
	json_t *out = NULL;
	if (zk_manifest_create(payload, ctx, &out, &probs, &err) != 0)
		fail_msg("create %s failed: %s", text, err.msg);
	return out;
}

static json_t *
update_ok(const json_t *cur, const char *text)
{
	_cleanup_json_ json_t *payload = parse(text);
	zk_problems probs;
	zk_error err = { 0 };
	json_t *out = NULL;
	if (zk_manifest_update(cur, payload, &quota_pool, &out, &probs,
	    &err) != 0)
		fail_msg("update %s failed: %s", text, err.msg);
	return out;
}

/* The failure message of an update, checked against problems_format. */
static void
assert_update_fails(const json_t *cur, const char *text, const char *msg)
{
	_cleanup_json_ json_t *payload = parse(text);
	zk_problems probs;
	zk_error err = { 0 };
	json_t *out = NULL;
	int r = zk_manifest_update(cur, payload, &quota_pool, &out, &probs,
	    &err);
	assert_int_equal(r, -EINVAL);
	assert_null(out);
	assert_string_equal(err.msg, msg);
	char line[ZK_ERROR_MAX];
	zk_problems_format(&probs, line, sizeof(line));
	assert_string_equal(line, msg);
}

static void
assert_json(const json_t *got, const char *want_text)
{
	_cleanup_json_ json_t *want = parse(want_text);
	if (!json_equal(got, want)) {
		_cleanup_free_ char *g = zk_json_dump_pretty(got);
		fail_msg("got %s\nwant %s", g, want_text);
	}
}

/* ---- malformed create payloads: one row, one exact message -------------- */

typedef struct bad_case {
	const char *payload;	/* laid over BASE */
	const char *msg;
	bool dir_pool;
} bad_case;

#define BAD(p, m) { .payload = (p), .msg = (m) }
/* quota rules depend on the pool: these run against a plain directory */
#define BAD_DIR(p, m) { .payload = (p), .msg = (m), .dir_pool = true }

#define DNS_REASON "must be a DNS name (dot-separated labels of 1 to 63 " \
	"letters, digits and inner hyphens)"
#define NIC "\"nic_tag\": \"admin\""
#define LABEL64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const bad_case bad_cases[] = {
	/* brand */
	BAD("{\"brand\": null}", "brand: is required"),
	BAD("{\"brand\": \"lx\"}", "brand: \"lx\" is not supported yet "
	    "(supported: joyent, joyent-minimal)"),
	BAD("{\"brand\": \"kvm\"}", "brand: \"kvm\" is not supported yet "
	    "(supported: joyent, joyent-minimal)"),
	BAD("{\"brand\": \"bhyve\"}", "brand: \"bhyve\" is not a valid brand "
	    "(supported: joyent, joyent-minimal)"),
	BAD("{\"brand\": 1}", "brand: must be a string"),
	/* uuids */
	BAD("{\"image_uuid\": null}", "image_uuid: is required"),
	BAD("{\"image_uuid\": \"not-a-uuid\"}", "image_uuid: must be a UUID"),
	BAD("{\"uuid\": \"1234\"}", "uuid: must be a UUID"),
	BAD("{\"owner_uuid\": 5}", "owner_uuid: must be a UUID"),
	BAD("{\"billing_id\": \"" IMG "x\"}", "billing_id: must be a UUID"),
	/* strings */
	BAD("{\"alias\": 7}", "alias: must be a string"),
	BAD("{\"alias\": \"a\\nb\"}",
	    "alias: must not contain control characters"),
	BAD("{\"hostname\": \"-web\"}", "hostname: " DNS_REASON),
	BAD("{\"hostname\": \"" LABEL64 "\"}", "hostname: " DNS_REASON),
	BAD("{\"hostname\": \"web_1\"}", "hostname: " DNS_REASON),
	BAD("{\"dns_domain\": \"example..com\"}", "dns_domain: " DNS_REASON),
	BAD("{\"init_name\": \"sbin/init\"}",
	    "init_name: must be an absolute path"),
	BAD("{\"zpool\": \"1pool\"}", "zpool: must be a pool name (a letter, "
	    "then letters, digits, '_', '-', '.' or ':')"),
	BAD("{\"zpool\": \"data\"}", "zpool: no such pool \"data\" (this host "
	    "has \"zones\")"),
	/* booleans and integers do not stand in for each other */
	BAD("{\"autoboot\": 1}", "autoboot: must be true or false"),
	BAD("{\"autoboot\": \"true\"}", "autoboot: must be true or false"),
	BAD("{\"cpu_shares\": true}", "cpu_shares: must be an integer"),
	BAD("{\"max_physical_memory\": 512.0}",
	    "max_physical_memory: must be an integer"),
	BAD("{\"max_physical_memory\": 512.5}",
	    "max_physical_memory: must be an integer"),
	BAD("{\"max_physical_memory\": \"512\"}",
	    "max_physical_memory: must be an integer"),
	BAD("{\"quota\": 1.5}", "quota: must be an integer"),
	BAD("{\"cpu_baseline\": 50.5}", "cpu_baseline: must be an integer"),
	BAD("{\"cpu_baseline\": \"50\"}", "cpu_baseline: must be an integer"),
	BAD("{\"cpu_burst_time\": true}",
	    "cpu_burst_time: must be an integer"),
	/* ranges: min - 1 */
	BAD("{\"max_physical_memory\": 15}",
	    "max_physical_memory: must be >= 16"),
	BAD("{\"cpu_cap\": -1}", "cpu_cap: must be >= 0"),
	BAD("{\"cpu_baseline\": -1}", "cpu_baseline: must be >= 0"),
	BAD("{\"cpu_burst_time\": -1}", "cpu_burst_time: must be >= 0"),
	BAD("{\"cpu_shares\": -1}", "cpu_shares: must be >= 0"),
	BAD("{\"zfs_io_priority\": -1}", "zfs_io_priority: must be >= 0"),
	BAD("{\"max_lwps\": 0}", "max_lwps: must be >= 1"),
	BAD("{\"max_swap\": 255}", "max_swap: must be >= 256"),
	BAD("{\"max_locked_memory\": -1}", "max_locked_memory: must be >= 0"),
	BAD("{\"tmpfs\": -1}", "tmpfs: must be >= 0"),
	BAD("{\"quota\": -1}", "quota: must be >= 0"),
	BAD("{\"ram\": 15}", "ram: must be >= 16"),
	/* ranges: max + 1 */
	BAD("{\"quota\": 1073741825}", "quota: must be <= 1073741824"),
	BAD("{\"tmpfs\": 1099511627777}", "tmpfs: must be <= 1099511627776"),
	/* the rctls' system values (memory: 2^64 - 1 bytes in whole MiB) */
	BAD("{\"max_physical_memory\": 17592186044416}",
	    "max_physical_memory: must be <= 17592186044415"),
	BAD("{\"ram\": 17592186044416}", "ram: must be <= 17592186044415"),
	BAD("{\"cpu_cap\": 4294967296}", "cpu_cap: must be <= 4294967295"),
	BAD("{\"zfs_io_priority\": 16385}",
	    "zfs_io_priority: must be <= 16384"),
	BAD("{\"max_lwps\": 2147483648}", "max_lwps: must be <= 2147483647"),
	BAD("{\"cpu_baseline\": 4294967296}",
	    "cpu_baseline: must be <= 4294967295"),
	BAD("{\"cpu_burst_time\": 2147483648}",
	    "cpu_burst_time: must be <= 2147483647"),
	/* memory relations */
	BAD("{\"max_physical_memory\": 512, \"max_swap\": 511}",
	    "max_swap: must be >= max_physical_memory (512)"),
	BAD("{\"max_physical_memory\": 512, \"max_locked_memory\": 513}",
	    "max_locked_memory: must be <= max_physical_memory (512)"),
	BAD("{\"max_locked_memory\": 257}",
	    "max_locked_memory: must be <= max_physical_memory (256)"),
	BAD("{\"ram\": 512, \"max_physical_memory\": 1024}",
	    "ram: must equal max_physical_memory (1024)"),
	BAD("{\"ram\": 1024, \"max_swap\": 512}",
	    "max_swap: must be >= max_physical_memory (1024)"),
	/* a refused cap is not compared with: one problem, not three */
	BAD("{\"max_physical_memory\": \"1g\", \"max_locked_memory\": 1024}",
	    "max_physical_memory: must be an integer"),
	/* quota on a plain-directory pool */
	BAD_DIR("{\"quota\": 5}",
	    "quota: must be 0: the pool \"zones\" is a plain "
	    "directory and cannot enforce quotas"),
	/* kvm only, read-only, unknown */
	BAD("{\"vcpus\": 2}", "vcpus: only valid for the kvm brand"),
	BAD("{\"disks\": []}", "disks: only valid for the kvm brand"),
	BAD("{\"cpu_type\": \"host\"}",
	    "cpu_type: only valid for the kvm brand"),
	BAD("{\"vnc_port\": 5900}", "vnc_port: only valid for the kvm brand"),
	BAD("{\"state\": \"running\"}", "state: is read-only"),
	BAD("{\"zonename\": \"web\"}", "zonename: is read-only"),
	BAD("{\"zonepath\": \"/zones/x\"}", "zonepath: is read-only"),
	BAD("{\"zoneid\": 3}", "zoneid: is read-only"),
	BAD("{\"create_timestamp\": \"" NOW "\"}",
	    "create_timestamp: is read-only"),
	BAD("{\"last_modified\": \"" NOW "\"}", "last_modified: is read-only"),
	BAD("{\"colour\": \"blue\"}", "colour: unknown property"),
	BAD("{\"set_tags\": {}}", "set_tags: only valid for update"),
	/* flat objects */
	BAD("{\"tags\": []}", "tags: must be an object"),
	BAD("{\"tags\": {\"a\": {\"b\": 1}}}",
	    "tags.a: must be a string, number or boolean"),
	BAD("{\"customer_metadata\": \"x\"}",
	    "customer_metadata: must be an object"),
	BAD("{\"internal_metadata\": {\"k\": null}}",
	    "internal_metadata.k: must be a string, number or boolean"),
	/* resolvers and routes */
	BAD("{\"resolvers\": \"8.8.8.8\"}",
	    "resolvers: must be an array of IPv4 addresses"),
	BAD("{\"resolvers\": [\"8.8.8.8\", \"8.8.8\"]}",
	    "resolvers.1: must be an IPv4 address"),
	BAD("{\"resolvers\": [8]}", "resolvers.0: must be a string"),
	BAD("{\"routes\": []}",
	    "routes: must be an object of destination: gateway"),
	BAD("{\"routes\": {\"10.0.0.0/33\": \"10.0.0.1\"}}",
	    "routes.10.0.0.0/33: destination must be an IPv4 address or "
	    "a.b.c.d/n"),
	BAD("{\"routes\": {\"10.0.0.0/8\": \"router\"}}",
	    "routes.10.0.0.0/8: gateway must be an IPv4 address or "
	    "\"nics[N]\""),
	BAD("{\"nics\": [{" NIC "}], "
	    "\"routes\": {\"10.0.0.0/8\": \"nics[1]\"}}",
	    "routes.10.0.0.0/8: nics[1] does not exist"),
	/* nics */
	BAD("{\"nics\": {}}", "nics: must be an array of objects"),
	BAD("{\"nics\": [5]}", "nics.0: must be an object"),
	BAD("{\"nics\": [{}]}", "nics.0.nic_tag: is required"),
	BAD("{\"nics\": [{\"nic_tag\": 3}]}",
	    "nics.0.nic_tag: must be a string"),
	BAD("{\"nics\": [{" NIC ", \"vlan_id\": -1}]}",
	    "nics.0.vlan_id: must be >= 0"),
	BAD("{\"nics\": [{" NIC "}, {" NIC ", \"vlan_id\": 4096}]}",
	    "nics.1.vlan_id: must be <= 4095"),
	BAD("{\"nics\": [{" NIC ", \"mtu\": 575}]}",
	    "nics.0.mtu: must be >= 576"),
	BAD("{\"nics\": [{" NIC ", \"mtu\": 9001}]}",
	    "nics.0.mtu: must be <= 9000"),
	BAD("{\"nics\": [{" NIC ", \"mtu\": 1500.0}]}",
	    "nics.0.mtu: must be an integer"),
	BAD("{\"nics\": [{" NIC ", \"mac\": \"90:b8:d0:00:00\"}]}",
	    "nics.0.mac: must be a MAC address (aa:bb:cc:dd:ee:ff)"),
	BAD("{\"nics\": [{" NIC ", \"mac\": \"" MAC0 "\"}, {" NIC ", \"mac\": "
	    "\"90:B8:D0:00:00:01\"}]}", "nics.1.mac: already used by nics.0"),
	BAD("{\"nics\": [{" NIC ", \"ip\": \"10.0.0.256\", \"netmask\": "
	    "\"255.255.255.0\"}]}",
	    "nics.0.ip: must be an IPv4 address or \"dhcp\""),
	BAD("{\"nics\": [{" NIC ", \"ip\": \"10.0.0.5\"}]}",
	    "nics.0.netmask: is required when ip is an address"),
	BAD("{\"nics\": [{" NIC ", \"ip\": \"dhcp\", \"netmask\": "
	    "\"255.0.255.0\"}]}",
	    "nics.0.netmask: must be an IPv4 netmask (e.g. 255.255.255.0)"),
	BAD("{\"nics\": [{" NIC ", \"gateway\": \"10.0.0\"}]}",
	    "nics.0.gateway: must be an IPv4 address"),
	BAD("{\"nics\": [{" NIC ", \"gateways\": [\"10.0.0.1\", \"x\"]}]}",
	    "nics.0.gateways.1: must be an IPv4 address"),
	BAD("{\"nics\": [{" NIC ", \"ips\": [\"10.0.0.5\"]}]}",
	    "nics.0.ips.0: must be an IPv4 address with prefix length "
	    "(a.b.c.d/n) or \"dhcp\""),
	BAD("{\"nics\": [{" NIC ", \"primary\": false}]}",
	    "nics.0.primary: must be true (leave it out on the other nics)"),
	BAD("{\"nics\": [{" NIC ", \"primary\": true}, {" NIC ", \"primary\": "
	    "true}]}", "nics.1.primary: only one nic can be primary"),
	BAD("{\"nics\": [{" NIC ", \"allow_ip_spoofing\": 1}]}",
	    "nics.0.allow_ip_spoofing: must be true or false"),
	BAD("{\"nics\": [{" NIC ", \"model\": \"ne2000\"}]}",
	    "nics.0.model: must be virtio, e1000 or rtl8139"),
	BAD("{\"nics\": [{" NIC ", \"interface\": \"net7\"}]}",
	    "nics.0.interface: is read-only"),
	BAD("{\"nics\": [{" NIC ", \"speed\": 10}]}",
	    "nics.0.speed: unknown property"),
	/* every problem is reported, in payload order, missing ones last */
	BAD("{\"image_uuid\": null, \"colour\": 1, \"max_swap\": \"x\", "
	    "\"state\": \"running\"}", "colour: unknown property; max_swap: "
	    "must be an integer; state: is read-only; image_uuid: is required"),
};

static void
test_bad_create(void **state)
{
	const bad_case *c = *state;
	_cleanup_json_ json_t *payload = payload_with(c->payload);
	zk_problems probs;
	zk_error err = { 0 };
	json_t *out = NULL;
	int r = zk_manifest_create(payload, c->dir_pool ? &dir_pool :
	    &quota_pool, &out, &probs, &err);
	assert_int_equal(r, -EINVAL);
	assert_null(out);
	assert_string_equal(err.msg, c->msg);
	char line[ZK_ERROR_MAX];
	zk_problems_format(&probs, line, sizeof(line));
	assert_string_equal(line, c->msg);
}

/* ---- create: defaults --------------------------------------------------- */

static void
test_create_defaults(void **state)
{
	_cleanup_json_ json_t *cfg = create_ok("{}", &quota_pool);
	assert_json(cfg, "{"
	    "\"brand\": \"joyent\", \"image_uuid\": \"" IMG "\","
	    "\"uuid\": \"" VM_UUID "\", \"zonename\": \"" VM_UUID "\","
	    "\"hostname\": \"" VM_UUID "\", \"create_timestamp\": \"" NOW "\","
	    "\"zpool\": \"zones\", \"dns_domain\": \"local\","
	    "\"init_name\": \"/sbin/init\", \"autoboot\": true,"
	    "\"owner_uuid\": \"" ZERO_UUID "\", \"billing_id\": \"" ZERO_UUID
	    "\", \"cpu_shares\": 100, \"zfs_io_priority\": 100,"
	    "\"max_lwps\": 2000, \"max_physical_memory\": 256,"
	    "\"max_locked_memory\": 256, \"max_swap\": 256, \"tmpfs\": 256,"
	    "\"quota\": 10, \"customer_metadata\": {},"
	    "\"internal_metadata\": {}, \"tags\": {}, \"nics\": []}");
}

static void
test_create_memory_derivation(void **state)
{
	_cleanup_json_ json_t *big = create_ok(
	    "{\"max_physical_memory\": 1024}", &quota_pool);
	assert_int_equal(zk_json_int(big, "max_locked_memory", 0), 1024);
	assert_int_equal(zk_json_int(big, "max_swap", 0), 1024);
	assert_int_equal(zk_json_int(big, "tmpfs", 0), 1024);

	/* max_swap never drops below its 256 MiB floor */
	_cleanup_json_ json_t *small = create_ok(
	    "{\"max_physical_memory\": 128}", &quota_pool);
	assert_int_equal(zk_json_int(small, "max_locked_memory", 0), 128);
	assert_int_equal(zk_json_int(small, "max_swap", 0), 256);
	assert_int_equal(zk_json_int(small, "tmpfs", 0), 128);

	_cleanup_json_ json_t *given = create_ok("{\"max_physical_memory\": "
	    "512, \"max_locked_memory\": 100, \"max_swap\": 2048, "
	    "\"tmpfs\": 0}", &quota_pool);
	assert_int_equal(zk_json_int(given, "max_locked_memory", 0), 100);
	assert_int_equal(zk_json_int(given, "max_swap", 0), 2048);
	assert_int_equal(zk_json_int(given, "tmpfs", -1), 0);
}

static void
test_create_ram_alias(void **state)
{
	_cleanup_json_ json_t *cfg = create_ok("{\"ram\": 512}", &quota_pool);
	assert_int_equal(zk_json_int(cfg, "max_physical_memory", 0), 512);
	assert_int_equal(zk_json_int(cfg, "max_swap", 0), 512);
	assert_null(json_object_get(cfg, "ram"));

	_cleanup_json_ json_t *both = create_ok(
	    "{\"ram\": 768, \"max_physical_memory\": 768}", &quota_pool);
	assert_int_equal(zk_json_int(both, "max_physical_memory", 0), 768);
	assert_null(json_object_get(both, "ram"));
}

static void
test_create_cpu(void **state)
{
	_cleanup_json_ json_t *clamped = create_ok("{\"cpu_shares\": 70000}",
	    &quota_pool);
	assert_int_equal(zk_json_int(clamped, "cpu_shares", 0), 65535);
	_cleanup_json_ json_t *edge = create_ok("{\"cpu_shares\": 0, "
	    "\"cpu_cap\": 0, \"max_lwps\": 1}", &quota_pool);
	assert_int_equal(zk_json_int(edge, "cpu_shares", -1), 0);
	/* cpu_cap is stored only when given; 0 is given and means no cap */
	assert_int_equal(zk_json_int(edge, "cpu_cap", -1), 0);
	_cleanup_json_ json_t *none = create_ok("{}", &quota_pool);
	assert_null(json_object_get(none, "cpu_cap"));
	/* baseline and burst time likewise: absent means the default
	 * baseline and unlimited bursting, decided at run time */
	assert_null(json_object_get(none, "cpu_baseline"));
	assert_null(json_object_get(none, "cpu_burst_time"));
	_cleanup_json_ json_t *burst = create_ok("{\"cpu_cap\": 150, "
	    "\"cpu_baseline\": 50, \"cpu_burst_time\": 3}", &quota_pool);
	assert_int_equal(zk_json_int(burst, "cpu_baseline", -1), 50);
	assert_int_equal(zk_json_int(burst, "cpu_burst_time", -1), 3);
	/* 0 is stored (no baseline / unlimited), and so are the maxima; a
	 * baseline above the cap is allowed and means none */
	_cleanup_json_ json_t *edge0 = create_ok("{\"cpu_cap\": 100, "
	    "\"cpu_baseline\": 4294967295, \"cpu_burst_time\": 0}",
	    &quota_pool);
	assert_int_equal(zk_json_int(edge0, "cpu_baseline", -1), 4294967295LL);
	assert_int_equal(zk_json_int(edge0, "cpu_burst_time", -1), 0);
	_cleanup_json_ json_t *edge1 = create_ok("{\"cpu_baseline\": 0, "
	    "\"cpu_burst_time\": 2147483647}", &quota_pool);
	assert_int_equal(zk_json_int(edge1, "cpu_baseline", -1), 0);
	assert_int_equal(zk_json_int(edge1, "cpu_burst_time", -1),
	    2147483647);
}

static void
test_create_quota_by_pool(void **state)
{
	_cleanup_json_ json_t *q = create_ok("{}", &quota_pool);
	assert_int_equal(zk_json_int(q, "quota", -1), 10);
	_cleanup_json_ json_t *d = create_ok("{}", &dir_pool);
	assert_int_equal(zk_json_int(d, "quota", -1), 0);
	_cleanup_json_ json_t *d0 = create_ok("{\"quota\": 0}", &dir_pool);
	assert_int_equal(zk_json_int(d0, "quota", -1), 0);
	_cleanup_json_ json_t *q0 = create_ok("{\"quota\": 0}", &quota_pool);
	assert_int_equal(zk_json_int(q0, "quota", -1), 0);
}

static void
test_create_identity(void **state)
{
	_cleanup_json_ json_t *cfg = create_ok("{\"uuid\": \"" IMG "\", "
	    "\"hostname\": \"web-1.example\", \"zpool\": \"zones\", "
	    "\"alias\": \"web\", \"brand\": \"joyent-minimal\"}", &quota_pool);
	assert_string_equal(zk_json_str(cfg, "uuid", ""), IMG);
	assert_string_equal(zk_json_str(cfg, "zonename", ""), IMG);
	assert_string_equal(zk_json_str(cfg, "hostname", ""), "web-1.example");
	assert_string_equal(zk_json_str(cfg, "zpool", ""), "zones");
	assert_string_equal(zk_json_str(cfg, "brand", ""), "joyent-minimal");
	assert_null(json_object_get(cfg, "zonepath"));
	assert_null(json_object_get(cfg, "state"));
}

static bool
mac_generated(const char *mac)
{
	return mac != NULL && strlen(mac) == 17 &&
	    strncmp(mac, "92:b8:d0:", 9) == 0;
}

static void
test_create_nics(void **state)
{
	_cleanup_json_ json_t *cfg = create_ok("{\"nics\": [{" NIC ", "
	    "\"ip\": \"10.0.0.5\", \"netmask\": \"255.255.255.0\", "
	    "\"gateway\": \"10.0.0.1\", \"vlan_id\": 0}, {\"nic_tag\": "
	    "\"external\", \"mac\": \"90:B8:D0:AA:BB:CC\", \"ip\": \"dhcp\", "
	    "\"vlan_id\": 4095, \"mtu\": 9000}], \"routes\": {\"10.1.0.0/16\": "
	    "\"nics[1]\", \"192.168.1.1\": \"10.0.0.1\"}}", &quota_pool);
	json_t *nics = json_object_get(cfg, "nics");
	assert_int_equal(json_array_size(nics), 2);
	json_t *n0 = json_array_get(nics, 0), *n1 = json_array_get(nics, 1);
	assert_string_equal(zk_json_str(n0, "interface", ""), "net0");
	assert_string_equal(zk_json_str(n1, "interface", ""), "net1");
	/* with none marked, the first nic is the primary */
	assert_true(json_is_true(json_object_get(n0, "primary")));
	assert_null(json_object_get(n1, "primary"));
	assert_true(mac_generated(zk_json_str(n0, "mac", NULL)));
	assert_string_equal(zk_json_str(n1, "mac", ""), "90:b8:d0:aa:bb:cc");
}

static void
test_create_primary_marked(void **state)
{
	_cleanup_json_ json_t *cfg = create_ok("{\"nics\": [{" NIC "}, {" NIC
	    ", \"primary\": true}, {" NIC "}]}", &quota_pool);
	json_t *nics = json_object_get(cfg, "nics");
	assert_null(json_object_get(json_array_get(nics, 0), "primary"));
	assert_true(json_is_true(json_object_get(json_array_get(nics, 1),
	    "primary")));
	assert_null(json_object_get(json_array_get(nics, 2), "primary"));
	assert_string_equal(zk_json_str(json_array_get(nics, 2), "interface",
	    ""), "net2");
}

static void
test_create_probs_optional(void **state)
{
	_cleanup_json_ json_t *payload = payload_with("{\"colour\": 1}");
	zk_error err = { 0 };
	json_t *out = NULL;
	assert_int_equal(zk_manifest_create(payload, &quota_pool, &out, NULL,
	    &err), -EINVAL);
	assert_string_equal(err.msg, "colour: unknown property");
}

/* ---- update ------------------------------------------------------------- */

static json_t *
stored_vm(void)
{
	return create_ok("{\"alias\": \"web\", \"cpu_cap\": 200, "
	    "\"max_physical_memory\": 1024, \"max_swap\": 2048, "
	    "\"tags\": {\"a\": 1, \"b\": \"two\"}, "
	    "\"customer_metadata\": {\"user-script\": \"x\"}, "
	    "\"internal_metadata\": {\"k\": \"v\"}, "
	    "\"nics\": [{" NIC ", \"mac\": \"" MAC0 "\"}, {\"nic_tag\": "
	    "\"external\", \"mac\": \"" MAC1 "\"}]}", &quota_pool);
}

static void
test_update_null_clears(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	_cleanup_json_ json_t *cfg = update_ok(cur, "{\"alias\": null, "
	    "\"cpu_cap\": null, \"max_swap\": null, \"hostname\": null, "
	    "\"tags\": null}");
	assert_null(json_object_get(cfg, "alias"));
	assert_null(json_object_get(cfg, "cpu_cap"));
	/* a cleared property with a default gets the default back */
	assert_int_equal(zk_json_int(cfg, "max_swap", 0), 1024);
	assert_string_equal(zk_json_str(cfg, "hostname", ""), VM_UUID);
	assert_json(json_object_get(cfg, "tags"), "{}");
	/* the stored config is not touched */
	assert_string_equal(zk_json_str(cur, "alias", ""), "web");
}

static void
test_update_cpu_burst(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	_cleanup_json_ json_t *set = update_ok(cur, "{\"cpu_baseline\": 50, "
	    "\"cpu_burst_time\": 3}");
	assert_int_equal(zk_json_int(set, "cpu_baseline", -1), 50);
	assert_int_equal(zk_json_int(set, "cpu_burst_time", -1), 3);
	assert_int_equal(zk_json_int(set, "cpu_cap", -1), 200);
	/* null clears: back to the default baseline, unlimited bursting */
	_cleanup_json_ json_t *cleared = update_ok(set, "{\"cpu_baseline\": "
	    "null, \"cpu_burst_time\": null}");
	assert_null(json_object_get(cleared, "cpu_baseline"));
	assert_null(json_object_get(cleared, "cpu_burst_time"));
	assert_update_fails(set, "{\"cpu_baseline\": -5, "
	    "\"cpu_burst_time\": 1.5}", "cpu_baseline: must be >= 0; "
	    "cpu_burst_time: must be an integer");
	/* k=v types them as integers */
	char *argv[] = { "cpu_baseline=25", "cpu_burst_time=null" };
	_cleanup_json_ json_t *payload = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_manifest_kv_payload(2, argv, &payload, &err), 0);
	assert_json(payload, "{\"cpu_baseline\": 25, "
	    "\"cpu_burst_time\": null}");
	assert_true(zk_manifest_known_property("cpu_baseline"));
	assert_true(zk_manifest_known_property("cpu_burst_time"));
}

static void
test_update_memory_follows(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	_cleanup_json_ json_t *lower = update_ok(cur,
	    "{\"max_physical_memory\": 512}");
	assert_int_equal(zk_json_int(lower, "max_locked_memory", 0), 512);
	assert_int_equal(zk_json_int(lower, "max_swap", 0), 2048);
	assert_int_equal(zk_json_int(lower, "tmpfs", 0), 1024);

	_cleanup_json_ json_t *higher = update_ok(cur,
	    "{\"max_physical_memory\": 4096}");
	assert_int_equal(zk_json_int(higher, "max_locked_memory", 0), 1024);
	assert_int_equal(zk_json_int(higher, "max_swap", 0), 4096);

	_cleanup_json_ json_t *ram = update_ok(cur, "{\"ram\": 3072}");
	assert_int_equal(zk_json_int(ram, "max_physical_memory", 0), 3072);
	assert_int_equal(zk_json_int(ram, "max_swap", 0), 3072);
	assert_null(json_object_get(ram, "ram"));

	_cleanup_json_ json_t *live = update_ok(cur, "{\"cpu_shares\": 65536, "
	    "\"quota\": 20, \"zfs_io_priority\": 0}");
	assert_int_equal(zk_json_int(live, "cpu_shares", 0), 65535);
	assert_int_equal(zk_json_int(live, "quota", 0), 20);
}

static void
test_update_refused(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	assert_update_fails(cur, "{\"brand\": \"joyent-minimal\"}",
	    "brand: cannot be updated");
	assert_update_fails(cur, "{\"uuid\": \"" IMG "\"}",
	    "uuid: cannot be updated");
	assert_update_fails(cur, "{\"image_uuid\": \"" IMG "\"}",
	    "image_uuid: cannot be updated");
	assert_update_fails(cur, "{\"zpool\": \"data\", \"zonename\": \"x\", "
	    "\"create_timestamp\": \"" NOW "\"}", "zpool: cannot be updated; "
	    "zonename: cannot be updated; create_timestamp: cannot be updated");
	assert_update_fails(cur, "{\"state\": \"stopped\"}",
	    "state: is read-only");
	assert_update_fails(cur, "{\"nics\": []}", "nics: cannot be updated "
	    "(use add_nics, update_nics or remove_nics)");
	assert_update_fails(cur, "{\"colour\": 1}", "colour: unknown property");
	assert_update_fails(cur, "{\"vcpus\": 2}",
	    "vcpus: only valid for the kvm brand");
}

static void
test_update_rules(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	assert_update_fails(cur, "{\"max_physical_memory\": 512, "
	    "\"max_locked_memory\": 1024}",
	    "max_locked_memory: must be <= max_physical_memory (512)");
	assert_update_fails(cur, "{\"max_swap\": 512}",
	    "max_swap: must be >= max_physical_memory (1024)");
	assert_update_fails(cur, "{\"max_lwps\": 0, \"autoboot\": 0}",
	    "max_lwps: must be >= 1; autoboot: must be true or false");
	assert_update_fails(cur, "{\"ram\": 512, \"max_physical_memory\": 600}",
	    "ram: must equal max_physical_memory (600)");
	assert_update_fails(cur, "{\"set_tags\": [1], \"remove_tags\": \"a\"}",
	    "set_tags: must be an object; remove_tags: must be an array of "
	    "keys");
	assert_update_fails(cur, "{\"remove_customer_metadata\": [1]}",
	    "remove_customer_metadata.0: must be a string");
}

static void
test_update_quota_dir_pool(void **state)
{
	_cleanup_json_ json_t *cur = create_ok("{}", &dir_pool);
	_cleanup_json_ json_t *payload = parse("{\"quota\": 1}");
	zk_problems probs;
	zk_error err = { 0 };
	json_t *out = NULL;
	assert_int_equal(zk_manifest_update(cur, payload, &dir_pool, &out,
	    &probs, &err), -EINVAL);
	assert_string_equal(err.msg, "quota: must be 0: the pool \"zones\" is "
	    "a plain directory and cannot enforce quotas");
}

static void
test_update_objects(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	_cleanup_json_ json_t *cfg = update_ok(cur, "{\"set_tags\": "
	    "{\"c\": true, \"b\": \"2\"}, \"remove_tags\": [\"a\", \"nope\"], "
	    "\"set_customer_metadata\": {\"motd\": \"hi\"}, "
	    "\"remove_internal_metadata\": [\"k\"]}");
	assert_json(json_object_get(cfg, "tags"),
	    "{\"b\": \"2\", \"c\": true}");
	assert_json(json_object_get(cfg, "customer_metadata"),
	    "{\"user-script\": \"x\", \"motd\": \"hi\"}");
	assert_json(json_object_get(cfg, "internal_metadata"), "{}");
}

static void
test_update_nics_add_remove(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	_cleanup_json_ json_t *added = update_ok(cur, "{\"add_nics\": [{"
	    "\"nic_tag\": \"storage\", \"mac\": \"" MAC2 "\"}]}");
	json_t *nics = json_object_get(added, "nics");
	assert_int_equal(json_array_size(nics), 3);
	assert_string_equal(zk_json_str(json_array_get(nics, 2), "interface",
	    ""), "net2");
	assert_true(json_is_true(json_object_get(json_array_get(nics, 0),
	    "primary")));

	/* removing the primary renames the rest and promotes the first */
	_cleanup_json_ json_t *removed = update_ok(added,
	    "{\"remove_nics\": [\"" MAC0 "\"]}");
	nics = json_object_get(removed, "nics");
	assert_int_equal(json_array_size(nics), 2);
	json_t *n0 = json_array_get(nics, 0);
	assert_string_equal(zk_json_str(n0, "mac", ""), MAC1);
	assert_string_equal(zk_json_str(n0, "interface", ""), "net0");
	assert_true(json_is_true(json_object_get(n0, "primary")));
	assert_string_equal(zk_json_str(json_array_get(nics, 1), "interface",
	    ""), "net1");

	/* a nic is found whichever of vmadm's forms names its mac */
	_cleanup_json_ json_t *short_form = update_ok(added,
	    "{\"remove_nics\": [\"90:B8:D0:0:0:1\", \"90b8d0000002\"]}");
	assert_int_equal(json_array_size(json_object_get(short_form, "nics")),
	    1);

	/* a generated mac on add_nics */
	_cleanup_json_ json_t *gen = update_ok(cur, "{\"add_nics\": [{" NIC
	    "}]}");
	assert_true(mac_generated(zk_json_str(json_array_get(
	    json_object_get(gen, "nics"), 2), "mac", NULL)));
}

static void
test_update_nics_update(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	_cleanup_json_ json_t *cfg = update_ok(cur, "{\"update_nics\": [{"
	    "\"mac\": \"90:B8:D0:00:00:02\", \"primary\": true, "
	    "\"vlan_id\": 12, "
	    "\"ip\": \"10.0.0.9\", \"netmask\": \"255.255.0.0\"}]}");
	json_t *nics = json_object_get(cfg, "nics");
	json_t *n0 = json_array_get(nics, 0), *n1 = json_array_get(nics, 1);
	/* primary moves: exactly one nic keeps it */
	assert_null(json_object_get(n0, "primary"));
	assert_true(json_is_true(json_object_get(n1, "primary")));
	assert_int_equal(zk_json_int(n1, "vlan_id", 0), 12);
	assert_string_equal(zk_json_str(n1, "ip", ""), "10.0.0.9");

	_cleanup_json_ json_t *cleared = update_ok(cfg, "{\"update_nics\": [{"
	    "\"mac\": \"" MAC1 "\", \"vlan_id\": null, \"ip\": null}]}");
	json_t *c1 = json_array_get(json_object_get(cleared, "nics"), 1);
	assert_null(json_object_get(c1, "vlan_id"));
	assert_null(json_object_get(c1, "ip"));
}

static void
test_update_nics_errors(void **state)
{
	_cleanup_json_ json_t *cur = stored_vm();
	assert_update_fails(cur, "{\"update_nics\": [{\"vlan_id\": 3}]}",
	    "update_nics.0.mac: is required");
	assert_update_fails(cur, "{\"update_nics\": [{\"mac\": \"" MAC2 "\"}]}",
	    "update_nics.0.mac: no nic has mac " MAC2);
	assert_update_fails(cur, "{\"update_nics\": [{\"mac\": \"" MAC0 "\", "
	    "\"vlan_id\": 4096, \"interface\": \"net9\"}]}",
	    "update_nics.0.vlan_id: must be <= 4095; "
	    "update_nics.0.interface: cannot be updated");
	assert_update_fails(cur, "{\"update_nics\": [{\"mac\": \"" MAC0 "\", "
	    "\"nic_tag\": null}]}", "update_nics.0.nic_tag: is required");
	assert_update_fails(cur, "{\"remove_nics\": [\"" MAC2 "\", 7]}",
	    "remove_nics.0: no nic has mac " MAC2 "; remove_nics.1: must be "
	    "a MAC address (aa:bb:cc:dd:ee:ff)");
	assert_update_fails(cur, "{\"add_nics\": [{" NIC ", \"mac\": \"" MAC1
	    "\"}]}", "add_nics.0.mac: already used by nics.1");
	assert_update_fails(cur, "{\"add_nics\": [{" NIC ", \"primary\": "
	    "true}], \"update_nics\": [{\"mac\": \"" MAC1 "\", \"primary\": "
	    "true}]}", "add_nics.0.primary: only one nic can be primary");
	assert_update_fails(cur, "{\"routes\": {\"10.0.0.0/8\": \"nics[1]\"}, "
	    "\"remove_nics\": [\"" MAC1 "\"]}",
	    "routes.10.0.0.0/8: nics[1] does not exist");
}

/* ---- k=v ---------------------------------------------------------------- */

static void
test_kv_typing(void **state)
{
	char *argv[] = {
		"max_physical_memory=512", "autoboot=false", "alias=web 1",
		"cpu_cap=null", "quota=-1", "tags.role=db", "tags.n=3",
		"tags.on=true", "tags.gone=null", "customer_metadata.port=80",
		"resolvers=8.8.8.8,1.1.1.1", "brand=joyent",
	};
	_cleanup_json_ json_t *out = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_manifest_kv_payload((int)ZK_ARRAY_SIZE(argv),
	    argv, &out, &err), 0);
	assert_json(out, "{\"max_physical_memory\": 512, \"autoboot\": false,"
	    "\"alias\": \"web 1\", \"cpu_cap\": null, \"quota\": -1,"
	    "\"set_tags\": {\"role\": \"db\", \"n\": 3, \"on\": true},"
	    "\"remove_tags\": [\"gone\"],"
	    "\"set_customer_metadata\": {\"port\": \"80\"},"
	    "\"resolvers\": [\"8.8.8.8\", \"1.1.1.1\"],"
	    "\"brand\": \"joyent\"}");
}

static void
assert_kv_fails(char *arg, const char *msg)
{
	char *argv[] = { "alias=ok", arg };
	json_t *out = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_manifest_kv_payload(2, argv, &out, &err), -EINVAL);
	assert_null(out);
	assert_string_equal(err.msg, msg);
}

static void
test_kv_errors(void **state)
{
	assert_kv_fails("max_swap=12abc",
	    "invalid argument \"max_swap=12abc\": "
	    "max_swap must be an integer");
	assert_kv_fails("max_swap=", "invalid argument \"max_swap=\": "
	    "max_swap must be an integer");
	assert_kv_fails("max_swap=99999999999999999999", "invalid argument "
	    "\"max_swap=99999999999999999999\": max_swap must be an integer");
	assert_kv_fails("cpu_burst_time=3s", "invalid argument "
	    "\"cpu_burst_time=3s\": cpu_burst_time must be an integer");
	assert_kv_fails("autoboot=yes", "invalid argument \"autoboot=yes\": "
	    "autoboot must be true or false");
	assert_kv_fails("colour=blue", "invalid argument \"colour=blue\": "
	    "unknown property \"colour\"");
	assert_kv_fails("alias", "invalid argument \"alias\": expected "
	    "key=value");
	assert_kv_fails("=web", "invalid argument \"=web\": expected "
	    "key=value");
	assert_kv_fails("tags=x", "invalid argument \"tags=x\": tags cannot be "
	    "given as key=value (use tags.KEY=value or a JSON payload)");
	assert_kv_fails("nics=x", "invalid argument \"nics=x\": nics cannot be "
	    "given as key=value (use a JSON payload)");
	assert_kv_fails("nics.0.ip=10.0.0.1", "invalid argument "
	    "\"nics.0.ip=10.0.0.1\": unknown property \"nics.0.ip\"");
}

/* k=v feeds update, which refuses what may not change. */
static void
test_kv_into_update(void **state)
{
	char *argv[] = { "brand=lx", "max_lwps=0" };
	_cleanup_json_ json_t *payload = NULL;
	zk_error err = { 0 };
	assert_int_equal(zk_manifest_kv_payload(2, argv, &payload, &err), 0);
	_cleanup_json_ json_t *cur = stored_vm();
	_cleanup_free_ char *text = json_dumps(payload, 0);
	assert_update_fails(cur, text,
	    "brand: cannot be updated; max_lwps: must be >= 1");
}

/* ---- problems ----------------------------------------------------------- */

static void
test_problems_to_json(void **state)
{
	_cleanup_json_ json_t *payload = payload_with("{\"brand\": \"lx\", "
	    "\"image_uuid\": null, \"colour\": 1, \"max_swap\": \"x\", "
	    "\"state\": \"running\", \"vcpus\": 1}");
	zk_problems probs;
	zk_error err = { 0 };
	json_t *out = NULL;
	assert_int_equal(zk_manifest_create(payload, &quota_pool, &out, &probs,
	    &err), -EINVAL);
	_cleanup_json_ json_t *j = zk_problems_to_json(&probs);
	assert_json(j, "{\"bad_brand\": \"lx\", "
	    "\"bad_properties\": [\"colour\", \"state\", \"vcpus\"], "
	    "\"bad_values\": [\"max_swap\"], "
	    "\"missing_properties\": [\"image_uuid\"]}");

	/* only the kinds present appear */
	_cleanup_json_ json_t *p2 = payload_with("{\"max_lwps\": 0}");
	assert_int_equal(zk_manifest_create(p2, &quota_pool, &out, &probs,
	    &err), -EINVAL);
	_cleanup_json_ json_t *j2 = zk_problems_to_json(&probs);
	assert_json(j2, "{\"bad_values\": [\"max_lwps\"]}");

	zk_problems none = { .n = 0 };
	_cleanup_json_ json_t *j3 = zk_problems_to_json(&none);
	assert_json(j3, "{}");
	char line[8] = "junk";
	zk_problems_format(&none, line, sizeof(line));
	assert_string_equal(line, "");
}

static void
test_problems_format_truncates(void **state)
{
	zk_problems probs = { .n = 2 };
	strcpy(probs.items[0].property, "max_swap");
	strcpy(probs.items[0].reason, "must be >= 256");
	strcpy(probs.items[1].property, "image_uuid");
	strcpy(probs.items[1].reason, "is required");
	char full[128], small[12];
	zk_problems_format(&probs, full, sizeof(full));
	assert_string_equal(full,
	    "max_swap: must be >= 256; image_uuid: is required");
	zk_problems_format(&probs, small, sizeof(small));
	assert_string_equal(small, "max_swap: m");
}

static void
test_known_property(void **state)
{
	const char *known[] = { "uuid", "alias", "ram", "type", "state",
	    "zone_state", "zoneid", "pid", "boot_timestamp", "vcpus",
	    "max_physical_memory", "nics.0.ip", "nics.*.ip", "tags.role",
	    "customer_metadata.user-script" };
	const char *unknown[] = { "", "colour", "alias.x", "tags.", ".x",
	    "set_tags", "max_swap.1" };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(known); i++)
		if (!zk_manifest_known_property(known[i]))
			fail_msg("%s should be known", known[i]);
	for (size_t i = 0; i < ZK_ARRAY_SIZE(unknown); i++)
		if (zk_manifest_known_property(unknown[i]))
			fail_msg("%s should be unknown", unknown[i]);
	assert_false(zk_manifest_known_property(NULL));
}

int
main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_create_defaults),
		cmocka_unit_test(test_create_memory_derivation),
		cmocka_unit_test(test_create_ram_alias),
		cmocka_unit_test(test_create_cpu),
		cmocka_unit_test(test_create_quota_by_pool),
		cmocka_unit_test(test_create_identity),
		cmocka_unit_test(test_create_nics),
		cmocka_unit_test(test_create_primary_marked),
		cmocka_unit_test(test_create_probs_optional),
		cmocka_unit_test(test_update_null_clears),
		cmocka_unit_test(test_update_cpu_burst),
		cmocka_unit_test(test_update_memory_follows),
		cmocka_unit_test(test_update_refused),
		cmocka_unit_test(test_update_rules),
		cmocka_unit_test(test_update_quota_dir_pool),
		cmocka_unit_test(test_update_objects),
		cmocka_unit_test(test_update_nics_add_remove),
		cmocka_unit_test(test_update_nics_update),
		cmocka_unit_test(test_update_nics_errors),
		cmocka_unit_test(test_kv_typing),
		cmocka_unit_test(test_kv_errors),
		cmocka_unit_test(test_kv_into_update),
		cmocka_unit_test(test_problems_to_json),
		cmocka_unit_test(test_problems_format_truncates),
		cmocka_unit_test(test_known_property),
	};
	/* one named test per malformed payload, so a failure shows which */
	size_t nbad = ZK_ARRAY_SIZE(bad_cases), nfixed = ZK_ARRAY_SIZE(fixed);
	_cleanup_free_ struct CMUnitTest *tests =
	    calloc(nbad + nfixed, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (size_t i = 0; i < nbad; i++)
		tests[i] = (struct CMUnitTest){
			.name = bad_cases[i].payload,
			.test_func = test_bad_create,
			.initial_state = (void *)&bad_cases[i],
		};
	memcpy(tests + nbad, fixed, sizeof(fixed));
	return _cmocka_run_group_tests("manifest", tests, nbad + nfixed, NULL,
	    NULL);
}
