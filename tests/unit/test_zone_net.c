/* A zone's nics (zone_net.h): host interface names and MACs, nics and
 * routes of a config, nic tag lookup, MAC and IPv4 text, and what boot
 * refuses.  No netlink here (see tests/e2e/test_vnic.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/manifest.h"
#include "net/ipv4.h"
#include "net/mac.h"
#include "net/zone_net.h"
#include "util/json_util.h"

static const char U1[] = "87b5509f-7c02-47e2-8b31-b26eadfc0746";
static const char U2[] = "87b5509f-7c02-47e2-8b31-b26eadfc0747";

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (j == NULL)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static const char *
ip(struct in_addr a)
{
	static char buf[INET_ADDRSTRLEN];
	return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

static void
spec_of(const char *text, zk_net_spec *net)
{
	_cleanup_json_ json_t *cfg = parse(text);
	zk_net_spec_from_config(cfg, "/pool/config/nictags.json", net);
}

static void
test_host_names_fit_and_differ(void **state)
{
	(void)state;
	char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ], again[IFNAMSIZ];
	zk_vnic_host_name(U1, 0, a);
	zk_vnic_host_name(U2, 0, b);
	zk_vnic_host_name(U1, ZK_MAX_NICS - 1, c);
	zk_vnic_host_name(U1, 0, again);
	assert_string_equal(a, again);		/* stable: found again later */
	assert_int_equal(strlen(a), 14);	/* zk + 10 hex + n0 */
	assert_int_equal(strlen(c), 15);	/* IFNAMSIZ - 1 at most */
	assert_memory_equal(a, "zk", 2);
	assert_int_equal(strspn(a + 2, "0123456789abcdef"), 10);
	assert_string_equal(a + 12, "n0");
	assert_string_equal(c + 12, "n31");
	assert_memory_equal(a, c, 12);		/* one zone, one stem */
	/* uuids one digit apart still get different stems */
	assert_memory_not_equal(a, b, 12);

	char alt[ZK_VNIC_ALTNAME_MAX];
	zk_vnic_host_altname(U1, 3, alt);
	assert_string_equal(alt, "zk-87b5509f-7c02-47e2-8b31-b26eadfc0746-net3");
}

static void
test_host_macs(void **state)
{
	(void)state;
	unsigned char a[6], b[6], c[6], again[6];
	zk_vnic_host_mac(U1, 0, a);
	zk_vnic_host_mac(U1, 1, b);
	zk_vnic_host_mac(U2, 0, c);
	zk_vnic_host_mac(U1, 0, again);
	assert_memory_equal(a, again, 6);
	/* fe: locally administered unicast, above every real OUI */
	assert_int_equal(a[0], 0xfe);
	assert_int_equal(b[0], 0xfe);
	assert_memory_not_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	/* more than the last byte changes between neighbours */
	int differ = 0;
	for (int i = 1; i < 6; i++)
		differ += a[i] != b[i];
	assert_true(differ >= 3);
}

static void
test_nics_from_config(void **state)
{
	(void)state;
	zk_net_spec net;
	spec_of("{\"nics\": ["
	    "{\"nic_tag\": \"admin\", \"mac\": \"92:B8:d0:01:02:0a\","
	    " \"ip\": \"10.0.0.5\", \"netmask\": \"255.255.254.0\","
	    " \"ips\": [\"10.0.0.5/23\", \"192.0.2.7/28\"],"
	    " \"gateway\": \"10.0.0.1\", \"mtu\": 9000, \"interface\": \"net0\"},"
	    "{\"nic_tag\": \"external\", \"mac\": \"92:b8:d0:01:02:0b\","
	    " \"primary\": true, \"gateways\": [\"198.51.100.1\", \"198.51.100.2\"],"
	    " \"ips\": [\"198.51.100.9/24\"], \"vlan_id\": 0}]}", &net);
	assert_string_equal(net.nictags, "/pool/config/nictags.json");
	assert_int_equal(net.nnics, 2);
	const zk_nic_spec *n = &net.nics[0];
	assert_string_equal(n->nic_tag, "admin");
	static const unsigned char mac0[6] = { 0x92, 0xb8, 0xd0, 1, 2, 0x0a };
	assert_memory_equal(n->mac, mac0, 6);
	assert_int_equal(n->mtu, 9000);
	assert_false(n->primary);
	assert_false(n->dhcp);
	/* ip/netmask and the same address in ips count once */
	assert_int_equal(n->naddrs, 2);
	assert_string_equal(ip(n->addrs[0].addr), "10.0.0.5");
	assert_int_equal(n->addrs[0].prefix, 23);
	assert_string_equal(ip(n->addrs[1].addr), "192.0.2.7");
	assert_int_equal(n->addrs[1].prefix, 28);
	assert_string_equal(ip(n->gateway), "10.0.0.1");
	n = &net.nics[1];
	assert_true(n->primary);
	assert_int_equal(n->mtu, 0);		/* the bridge's */
	assert_int_equal(n->naddrs, 1);
	assert_string_equal(ip(n->gateway), "198.51.100.1");	/* gateways[0] */
	zk_error err = { 0 };
	assert_int_equal(zk_net_check(&net, &err), 0);
}

static void
test_first_nic_is_primary_by_default(void **state)
{
	(void)state;
	zk_net_spec net;
	spec_of("{\"nics\": [{\"nic_tag\": \"a\"}, {\"nic_tag\": \"b\"}]}", &net);
	assert_true(net.nics[0].primary);
	assert_false(net.nics[1].primary);
	assert_int_equal(net.nics[0].naddrs, 0);	/* up, no address */
	spec_of("{}", &net);
	assert_int_equal(net.nnics, 0);
	assert_int_equal(net.nroutes, 0);
}

static void
test_routes_from_config(void **state)
{
	(void)state;
	zk_net_spec net;
	spec_of("{\"nics\": [{\"nic_tag\": \"a\"}, {\"nic_tag\": \"b\"}],"
	    " \"routes\": {\"10.1.2.3/8\": \"192.0.2.1\","
	    " \"172.16.5.5\": \"nics[1]\", \"0.0.0.0/0\": \"nics[0]\"}}", &net);
	assert_int_equal(net.nroutes, 3);
	const zk_route_spec *r = &net.routes[0];
	assert_string_equal(r->key, "10.1.2.3/8");
	assert_string_equal(ip(r->dst), "10.0.0.0");	/* masked */
	assert_int_equal(r->prefix, 8);
	assert_int_equal(r->nic, -1);
	assert_string_equal(ip(r->gateway), "192.0.2.1");
	r = &net.routes[1];
	assert_string_equal(ip(r->dst), "172.16.5.5");
	assert_int_equal(r->prefix, 32);		/* a host route */
	assert_int_equal(r->nic, 1);
	assert_int_equal(r->gateway.s_addr, 0);
	r = &net.routes[2];
	assert_int_equal(r->prefix, 0);
	assert_int_equal(r->nic, 0);
	zk_error err = { 0 };
	assert_int_equal(zk_net_check(&net, &err), 0);

	spec_of("{\"nics\": [{\"nic_tag\": \"a\"}],"
	    " \"routes\": {\"10.0.0.0/8\": \"nics[2]\"}}", &net);
	assert_int_equal(zk_net_check(&net, &err), -EINVAL);
	assert_string_equal(err.msg, "routes.10.0.0.0/8: nics[2] does not exist");
}

static void
test_check_refuses_what_cannot_be_built(void **state)
{
	(void)state;
	zk_net_spec net;
	zk_error err = { 0 };
	spec_of("{\"nics\": [{\"nic_tag\": \"a\"}, {\"nic_tag\": \"a\","
	    " \"vlan_id\": 12}]}", &net);
	assert_int_equal(zk_net_check(&net, &err), -ENOTSUP);
	assert_string_equal(err.msg, "nics.1.vlan_id: VLANs are not supported "
	    "yet (vlan_id 12)");
	spec_of("{\"nics\": [{\"nic_tag\": \"a\", \"ip\": \"dhcp\"}]}", &net);
	assert_true(net.nics[0].dhcp);
	assert_int_equal(zk_net_check(&net, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "nics.0: DHCP is not supported yet"));
	spec_of("{\"nics\": [{\"nic_tag\": \"a\", \"ips\": [\"10.0.0.2/24\","
	    " \"dhcp\"]}]}", &net);
	assert_true(net.nics[0].dhcp);
	assert_int_equal(zk_net_check(&net, &err), -ENOTSUP);

	/* more nics than a zone can have: kept for adoption, refused at boot */
	char text[4096] = "{\"nics\": [";
	for (int i = 0; i <= ZK_MAX_NICS; i++)
		strcat(text, i ? ", {\"nic_tag\": \"a\"}" : "{\"nic_tag\": \"a\"}");
	strcat(text, "]}");
	spec_of(text, &net);
	assert_int_equal(net.nnics, ZK_MAX_NICS);
	assert_true(net.too_many_nics);
	assert_int_equal(zk_net_check(&net, &err), -E2BIG);
	assert_string_equal(err.msg, "nics: at most 32 nics per zone are "
	    "supported");
}

static void
test_nictag_lookup(void **state)
{
	(void)state;
	char bridge[IFNAMSIZ];
	bool mapped;
	zk_error err = { 0 };
	/* no file: the tag names its bridge */
	assert_int_equal(zk_nictag_bridge(NULL, "br0", bridge, &mapped, &err), 0);
	assert_string_equal(bridge, "br0");
	assert_false(mapped);

	_cleanup_json_ json_t *tags = parse("{\"admin\": \"br-admin\","
	    " \"external\": \"br1\", \"bad\": 3, \"long\": \"abcdefghijklmnop\","
	    " \"slash\": \"a/b\"}");
	assert_int_equal(zk_nictag_bridge(tags, "admin", bridge, &mapped, &err),
	    0);
	assert_string_equal(bridge, "br-admin");
	assert_true(mapped);
	/* a tag the file does not name still falls back to itself */
	assert_int_equal(zk_nictag_bridge(tags, "br7", bridge, &mapped, &err), 0);
	assert_string_equal(bridge, "br7");
	assert_false(mapped);
	assert_int_equal(zk_nictag_bridge(tags, "bad", bridge, &mapped, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "nic tag \"bad\": the nic tag file must "
	    "map it to a bridge name"));
	assert_int_equal(zk_nictag_bridge(tags, "long", bridge, &mapped, &err),
	    -EINVAL);
	assert_int_equal(zk_nictag_bridge(tags, "slash", bridge, &mapped, &err),
	    -EINVAL);
	/* a tag too long for an interface name needs a mapping */
	assert_int_equal(zk_nictag_bridge(tags, "a-very-long-nic-tag", bridge,
	    &mapped, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "no bridge for nic tag "
	    "\"a-very-long-nic-tag\""));
	/* so does "..", which the manifest allows as a tag */
	assert_int_equal(zk_nictag_bridge(tags, "..", bridge, &mapped, &err),
	    -ENODEV);
}

/* fuzz_nictags: the kernel refuses every byte its isspace() takes, not
 * only space, tab and newline (tests/fuzz/corpus/nictags/cr-in-name). */
static void
test_nictag_bridge_kernel_whitespace(void **state)
{
	(void)state;
	char bridge[IFNAMSIZ];
	bool mapped;
	zk_error err = { 0 };
	_cleanup_json_ json_t *tags = parse("{\"cr\": \"br\\r\", "
	    "\"vt\": \"br\\u000b0\", \"ff\": \"\\fbr\", "
	    "\"nbsp\": \"br\\u00a0\"}");
	static const char *const mapped_bad[] = { "cr", "vt", "ff" };
	for (size_t i = 0; i < ZK_ARRAY_SIZE(mapped_bad); i++)
		assert_int_equal(zk_nictag_bridge(tags, mapped_bad[i], bridge,
		    &mapped, &err), -EINVAL);
	assert_int_equal(zk_nictag_bridge(NULL, "a-tago\r", bridge, &mapped,
	    &err), -ENODEV);
	assert_int_equal(zk_nictag_bridge(NULL, "br\xa0", bridge, &mapped,
	    &err), -ENODEV);
	/* JSON's U+00A0 is the UTF-8 bytes c2 a0: the a0 byte still counts */
	assert_int_equal(zk_nictag_bridge(tags, "nbsp", bridge, &mapped, &err),
	    -EINVAL);
}

/* The one reading of IPv4 text that validation and set-up share. */
static void
test_ipv4_forms(void **state)
{
	(void)state;
	struct in_addr a;
	uint8_t p = 0;
	assert_true(zk_ipv4_parse_cidr("10.1.2.3/8", &a, &p));
	assert_int_equal(p, 8);
	assert_int_equal(a.s_addr, inet_addr("10.1.2.3"));
	assert_true(zk_ipv4_parse_cidr("0.0.0.0/0", &a, &p) && p == 0);
	assert_false(zk_ipv4_parse_cidr("10.1.2.3", &a, &p));
	assert_false(zk_ipv4_parse_cidr("10.1.2.3/33", &a, &p));
	assert_false(zk_ipv4_parse_cidr("10.1.2.3/+8", &a, &p));
	assert_false(zk_ipv4_parse_cidr("10.1.2/8", &a, &p));
	assert_true(zk_ipv4_netmask_prefix("255.255.255.0", &p) && p == 24);
	assert_true(zk_ipv4_netmask_prefix("0.0.0.0", &p) && p == 0);
	assert_false(zk_ipv4_netmask_prefix("255.0.255.0", &p));
	assert_false(zk_ipv4_netmask_prefix(NULL, &p));
	assert_int_equal(zk_ipv4_mask(24), inet_addr("255.255.255.0"));
	assert_int_equal(zk_ipv4_mask(0), 0);
	assert_int_equal(zk_ipv4_mask(32), 0xffffffffu);
}

/*
 * The MAC forms, pinned once for both readers: what `vmadm validate`
 * accepts is exactly what the zone's set-up reads, and the stored form is
 * SmartOS's (two lower-case hex digits per octet).  As vmadm does, one
 * digit per octet and twelve bare digits are taken and rewritten, so
 * update_nics and remove_nics find a nic whichever form names it.
 */
static const struct {
	const char *text;
	const char *stored;	/* NULL: refused */
} mac_forms[] = {
	{ "90:b8:d0:01:02:0a", "90:b8:d0:01:02:0a" },
	{ "90:B8:D0:AA:bb:Cc", "90:b8:d0:aa:bb:cc" },
	{ "01:00:5e:00:00:01", "01:00:5e:00:00:01" },	/* refused at boot */
	{ "ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff" },
	{ "0:1:2:3:4:5", "00:01:02:03:04:05" },
	{ "90:b8:d0:1:2:A", "90:b8:d0:01:02:0a" },
	{ "90b8d001020A", "90:b8:d0:01:02:0a" },
	{ "90b8d001020", NULL },
	{ "90:b8:d0:01:02:", NULL },
	{ "90::d0:01:02:0a", NULL },
	{ "90:b8:d0:01:02:0a:0b", NULL },
	{ "90-b8-d0-01-02-0a", NULL },
	{ "90:b8:d0:01:02", NULL },
	{ "90:b8:d0:01:02:0a:", NULL },
	{ "90:b8:d0:01:02:0a0", NULL },
	{ "90:b8:d0:01:02:0g", NULL },
	{ " 90:b8:d0:01:02:0a", NULL },
	{ "+9:b8:d0:01:02:0a", NULL },
	{ "90:b8:d0:01:02: a", NULL },
	{ "", NULL },
};

static bool
manifest_accepts_mac(const char *text, char stored[ZK_MAC_BUFSZ])
{
	static const zk_manifest_ctx ctx = { .zpool = "zones", .uuid = U1 };
	_cleanup_json_ json_t *payload = json_pack("{s:s, s:s, s:[{s:s, s:s}]}",
	    "brand", "joyent-minimal", "image_uuid", U2, "nics", "nic_tag",
	    "admin", "mac", text);
	json_t *cfg = NULL;
	zk_problems probs;
	zk_error err = { 0 };
	if (zk_manifest_create(payload, &ctx, &cfg, &probs, &err) < 0)
		return false;
	snprintf(stored, ZK_MAC_BUFSZ, "%s", zk_json_str(json_array_get(
	    json_object_get(cfg, "nics"), 0), "mac", ""));
	json_decref(cfg);
	return true;
}

static void
test_mac_forms_agree(void **state)
{
	(void)state;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(mac_forms); i++) {
		const char *text = mac_forms[i].text;
		unsigned char mac[ZK_MAC_LEN];
		char stored[ZK_MAC_BUFSZ], formatted[ZK_MAC_BUFSZ];
		bool ok = mac_forms[i].stored != NULL;
		if (zk_mac_valid(text) != ok)
			fail_msg("zk_mac_valid(\"%s\") is %d", text, !ok);
		if (manifest_accepts_mac(text, stored) != ok)
			fail_msg("the manifest %s \"%s\"",
			    ok ? "refuses" : "accepts", text);
		if (!ok)
			continue;
		assert_string_equal(stored, mac_forms[i].stored);
		assert_true(zk_mac_parse(stored, mac));
		zk_mac_format(mac, formatted);
		assert_string_equal(formatted, stored);
	}
}

static void
test_boot_refuses_group_macs(void **state)
{
	(void)state;
	zk_net_spec net;
	zk_error err = { 0 };
	spec_of("{\"nics\": [{\"nic_tag\": \"a\", \"mac\": "
	    "\"92:b8:d0:01:02:0a\"}, {\"nic_tag\": \"a\", \"mac\": "
	    "\"01:00:5E:00:00:01\"}]}", &net);
	assert_int_equal(zk_net_check(&net, &err), -EINVAL);
	assert_string_equal(err.msg, "nics.1.mac: 01:00:5e:00:00:01 is a "
	    "multicast address; a nic needs a unicast one");
	/* the fe: of host ends and the 92: of generated macs are unicast */
	unsigned char host[ZK_MAC_LEN];
	zk_vnic_host_mac(U1, 0, host);
	assert_false(zk_mac_is_group(host));
	assert_false(zk_mac_is_group(net.nics[0].mac));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nictag_bridge_kernel_whitespace),
		cmocka_unit_test(test_ipv4_forms),
		cmocka_unit_test(test_mac_forms_agree),
		cmocka_unit_test(test_boot_refuses_group_macs),
		cmocka_unit_test(test_host_names_fit_and_differ),
		cmocka_unit_test(test_host_macs),
		cmocka_unit_test(test_nics_from_config),
		cmocka_unit_test(test_first_nic_is_primary_by_default),
		cmocka_unit_test(test_routes_from_config),
		cmocka_unit_test(test_check_refuses_what_cannot_be_built),
		cmocka_unit_test(test_nictag_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
