#include "net/zone_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net/ipv4.h"
#include "net/mac.h"
#include "net/nl.h"
#include "util/cleanup.h"
#include "util/json_util.h"

/* ---- the nics of a config ------------------------------------------------ */

/* "a.b.c.d/n", or a bare address as a host (/32) */
static bool
parse_prefix(const char *s, struct in_addr *a, uint8_t *prefix)
{
	if (zk_ipv4_parse_cidr(s, a, prefix))
		return true;
	*prefix = 32;
	return zk_ipv4_parse(s, a);
}

static void
add_addr(zk_nic_spec *n, struct in_addr a, uint8_t prefix)
{
	for (size_t i = 0; i < n->naddrs; i++)
		if (n->addrs[i].addr.s_addr == a.s_addr)
			return;
	if (n->naddrs == ZK_MAX_NIC_ADDRS) {
		n->too_many_addrs = true;
		return;
	}
	n->addrs[n->naddrs++] = (zk_nic_addr){ a, prefix };
}

/* `ip` + `netmask`, then every entry of `ips`; "dhcp" anywhere marks it. */
static void
nic_addrs(const json_t *j, zk_nic_spec *n)
{
	const char *ip = zk_json_str(j, "ip", NULL);
	struct in_addr a;
	uint8_t prefix;
	if (ip != NULL && strcmp(ip, "dhcp") == 0)
		n->dhcp = true;
	else if (zk_ipv4_parse(ip, &a) &&
	    zk_ipv4_netmask_prefix(zk_json_str(j, "netmask", NULL), &prefix))
		add_addr(n, a, prefix);
	size_t i;
	const json_t *v;
	json_array_foreach(json_object_get(j, "ips"), i, v) {
		const char *s = json_string_value(v);
		if (s != NULL && strcmp(s, "dhcp") == 0)
			n->dhcp = true;
		else if (s != NULL && parse_prefix(s, &a, &prefix))
			add_addr(n, a, prefix);
	}
}

static void
nic_from_config(const json_t *j, zk_nic_spec *n)
{
	snprintf(n->nic_tag, sizeof(n->nic_tag), "%s",
	    zk_json_str(j, "nic_tag", ""));
	zk_mac_parse(zk_json_str(j, "mac", NULL), n->mac);
	n->mtu = (unsigned)zk_json_int(j, "mtu", 0);
	n->vlan_id = (unsigned)zk_json_int(j, "vlan_id", 0);
	n->primary = zk_json_bool(j, "primary", false);
	nic_addrs(j, n);
	const char *gw = zk_json_str(j, "gateway", NULL);
	if (gw == NULL)
		gw = json_string_value(json_array_get(json_object_get(j,
		    "gateways"), 0));
	if (gw != NULL)
		zk_ipv4_parse(gw, &n->gateway);
}

static void
route_from_config(const char *key, const char *gw, zk_net_spec *net)
{
	zk_route_spec *rt = &net->routes[net->nroutes];
	memset(rt, 0, sizeof(*rt));
	snprintf(rt->key, sizeof(rt->key), "%s", key);
	if (!parse_prefix(key, &rt->dst, &rt->prefix))
		return;
	rt->dst.s_addr &= zk_ipv4_mask(rt->prefix);
	unsigned nic;
	char end;
	rt->nic = -1;
	if (sscanf(gw, "nics[%u%c", &nic, &end) == 2 && end == ']')
		rt->nic = (int)nic;
	else if (!zk_ipv4_parse(gw, &rt->gateway))
		return;
	net->nroutes++;
}

void
zk_net_spec_from_config(const json_t *cfg, const char *nictags_path,
    zk_net_spec *net)
{
	memset(net, 0, sizeof(*net));
	snprintf(net->nictags, sizeof(net->nictags), "%s", nictags_path);
	size_t i;
	const json_t *nic;
	bool primary = false;
	json_array_foreach(json_object_get(cfg, "nics"), i, nic) {
		if (net->nnics == ZK_MAX_NICS) {
			net->too_many_nics = true;
			break;
		}
		zk_nic_spec *n = &net->nics[net->nnics++];
		nic_from_config(nic, n);
		primary = primary || n->primary;
	}
	if (!primary && net->nnics > 0)	/* the manifest's rule */
		net->nics[0].primary = true;
	const char *key;
	const json_t *gw;
	json_object_foreach((json_t *)json_object_get(cfg, "routes"), key, gw) {
		if (net->nroutes == ZK_MAX_ROUTES) {
			net->too_many_routes = true;
			break;
		}
		if (json_is_string(gw))
			route_from_config(key, json_string_value(gw), net);
	}
}

/* The later issues (VLANs, DHCP, anti-spoofing) land here first. */
/*
 * A group mac passes validation, as on SmartOS, and is refused where
 * illumos refuses it too: when the nic is made (mac_ether_unicst_verify).
 */
static int
nic_check(const zk_nic_spec *n, size_t i, zk_error *err)
{
	if (n->vlan_id != 0)
		return zk_fail(err, ENOTSUP, "nics.%zu.vlan_id: VLANs are "
		    "not supported yet (vlan_id %u)", i, n->vlan_id);
	if (n->dhcp)
		return zk_fail(err, ENOTSUP, "nics.%zu: DHCP is not "
		    "supported yet (give ip and netmask, or ips)", i);
	if (n->too_many_addrs)
		return zk_fail(err, E2BIG, "nics.%zu.ips: at most %d "
		    "addresses per nic are supported", i, ZK_MAX_NIC_ADDRS);
	if (zk_mac_is_group(n->mac)) {
		char mac[ZK_MAC_BUFSZ];
		zk_mac_format(n->mac, mac);
		return zk_fail(err, EINVAL, "nics.%zu.mac: %s is a multicast "
		    "address; a nic needs a unicast one", i, mac);
	}
	return 0;
}

int
zk_net_check(const zk_net_spec *net, zk_error *err)
{
	if (net->too_many_nics)
		return zk_fail(err, E2BIG, "nics: at most %d nics per zone are "
		    "supported", ZK_MAX_NICS);
	if (net->too_many_routes)
		return zk_fail(err, E2BIG, "routes: at most %d routes are "
		    "supported", ZK_MAX_ROUTES);
	for (size_t i = 0; i < net->nnics; i++) {
		int r = nic_check(&net->nics[i], i, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < net->nroutes; i++)
		if (net->routes[i].nic >= (int)net->nnics)
			return zk_fail(err, EINVAL, "routes.%s: nics[%d] does "
			    "not exist", net->routes[i].key, net->routes[i].nic);
	return 0;
}

/* ---- names ------------------------------------------------------------------ */

_Static_assert(ZK_MAX_NICS <= 100, "host interface names have two digits");

/* FNV-1a, then MurmurHash3's finaliser so that every input bit reaches
 * every output byte (uuids chosen by callers may differ in one digit). */
static uint64_t
name_hash(const char *uuid, size_t index, bool with_index)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const char *p = uuid; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	if (with_index)
		h = (h ^ (index & 0xff)) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

void
zk_vnic_host_name(const char *uuid, size_t index, char name[IFNAMSIZ])
{
	/* 40 bits of a hash of the whole uuid, not its first digits */
	snprintf(name, IFNAMSIZ, "zk%010llxn%zu", (unsigned long long)
	    (name_hash(uuid, 0, false) & 0xffffffffffULL), index % 100);
}

void
zk_vnic_host_altname(const char *uuid, size_t index,
    char name[ZK_VNIC_ALTNAME_MAX])
{
	snprintf(name, ZK_VNIC_ALTNAME_MAX, "zk-%s-net%zu", uuid, index);
}

void
zk_vnic_host_mac(const char *uuid, size_t index,
    unsigned char mac[ZK_MAC_LEN])
{
	uint64_t h = name_hash(uuid, index, true);
	mac[0] = 0xfe;	/* locally administered, unicast, above real OUIs */
	for (int i = 1; i < ZK_MAC_LEN; i++)
		mac[i] = (unsigned char)(h >> (8 * (i - 1)));
}

/* ---- nic tags ---------------------------------------------------------------- */

/* The kernel's dev_valid_name(), whose isspace() also takes \v, \f, \r
 * and the Latin-1 no-break space. */
static bool
ifname_valid(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < IFNAMSIZ && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0 && strpbrk(s, "/: \t\n\v\f\r\xa0") == NULL;
}

int
zk_nictag_bridge(const json_t *tags, const char *tag, char bridge[IFNAMSIZ],
    bool *mapped, zk_error *err)
{
	const json_t *v = tags != NULL ? json_object_get(tags, tag) : NULL;
	*mapped = v != NULL;
	if (v == NULL) {
		if (!ifname_valid(tag))
			return zk_fail(err, ENODEV, "no bridge for nic tag \"%s\" "
			    "(not usable as an interface name: map it in the nic "
			    "tag file)", tag);
		snprintf(bridge, IFNAMSIZ, "%s", tag);
		return 0;
	}
	const char *s = json_string_value(v);
	if (s == NULL || !ifname_valid(s))
		return zk_fail(err, EINVAL, "nic tag \"%s\": the nic tag file "
		    "must map it to a bridge name (1 to %d characters, no '/', "
		    "':' or spaces)", tag, IFNAMSIZ - 1);
	snprintf(bridge, IFNAMSIZ, "%s", s);
	return 0;
}

int
zk_nictags_load(const char *path, json_t **tags, zk_error *err)
{
	struct stat st;
	*tags = NULL;
	if (stat(path, &st) < 0 && errno == ENOENT)
		return 0;
	return zk_json_load_file(path, tags, err);
}

/* ---- host side ---------------------------------------------------------------- */

struct zk_net_plan {
	zk_nl *host;
	int bridge[ZK_MAX_NICS];	/* ifindex */
	char bridge_name[ZK_MAX_NICS][IFNAMSIZ];
	unsigned mtu[ZK_MAX_NICS];
};

void
zk_net_plan_free(zk_net_plan *plan)
{
	if (plan == NULL)
		return;
	zk_nl_close(plan->host);
	free(plan);
}

static int
resolve_tag(zk_net_plan *plan, const zk_net_spec *net, const json_t *tags,
    size_t i, zk_error *err)
{
	const char *tag = net->nics[i].nic_tag;
	char bridge[IFNAMSIZ];
	bool mapped;
	int r = zk_nictag_bridge(tags, tag, bridge, &mapped, err);
	if (r < 0)
		return zk_error_prefix(err, "nics.%zu.nic_tag", i);
	zk_nl_link l;
	r = zk_nl_link_get(plan->host, bridge, &l);
	if (r == -ENODEV && mapped)
		return zk_fail(err, ENODEV, "nics.%zu.nic_tag: no bridge for nic "
		    "tag \"%s\": %s maps it to \"%s\", which does not exist", i,
		    tag, net->nictags, bridge);
	if (r == -ENODEV)
		return zk_fail(err, ENODEV, "nics.%zu.nic_tag: no bridge for nic "
		    "tag \"%s\"", i, tag);
	if (r < 0)
		return zk_nl_fail(err, plan->host, r, "nics.%zu.nic_tag: cannot "
		    "look up bridge %s", i, bridge);
	if (strcmp(l.kind, "bridge") != 0)
		return zk_fail(err, ENOTSUP, "nics.%zu.nic_tag: nic tag \"%s\" "
		    "names %s, which is not a bridge", i, tag, bridge);
	plan->bridge[i] = l.index;
	snprintf(plan->bridge_name[i], IFNAMSIZ, "%s", bridge);
	plan->mtu[i] = net->nics[i].mtu != 0 ? net->nics[i].mtu : l.mtu;
	return 0;
}

int
zk_net_prepare(const zk_net_spec *net, zk_net_plan **out, zk_error *err)
{
	*out = NULL;
	int r = zk_net_check(net, err);
	if (r < 0 || net->nnics == 0)
		return r;
	_cleanup_json_ json_t *tags = NULL;
	if ((r = zk_nictags_load(net->nictags, &tags, err)) < 0)
		return zk_error_prefix(err, "nic tag file");
	zk_net_plan *plan = calloc(1, sizeof(*plan));
	if (plan == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	r = zk_nl_open(&plan->host, err);
	for (size_t i = 0; r == 0 && i < net->nnics; i++)
		r = resolve_tag(plan, net, tags, i, err);
	if (r < 0) {
		zk_net_plan_free(plan);
		return r;
	}
	*out = plan;
	return 0;
}

static void
put_link(struct nlmsghdr *nlh, const char *name,
    const unsigned char mac[ZK_MAC_LEN], unsigned mtu)
{
	static const unsigned char none[ZK_MAC_LEN];
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (memcmp(mac, none, ZK_MAC_LEN) != 0)	/* else the kernel picks */
		mnl_attr_put(nlh, IFLA_ADDRESS, ZK_MAC_LEN, mac);
	if (mtu != 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
}

/*
 * One request makes both ends: the host end up and enslaved to the
 * bridge, the peer created directly in the zone's namespace (so its name
 * never meets the host's) with the nic's MAC.
 */
static int
veth_create(zk_nl *nl, const char *host, const unsigned char host_mac[ZK_MAC_LEN],
    int bridge, unsigned mtu, size_t i, const zk_nic_spec *nic, pid_t pid)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = zk_nl_request(nl, RTM_NEWLINK, NLM_F_CREATE |
	    NLM_F_EXCL, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	put_link(nlh, host, host_mac, mtu);
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)bridge);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer cannot come up here: veth refuses to open an end whose
	 * twin is not registered yet (ENOTCONN). */
	struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	char zone[IFNAMSIZ];
	snprintf(zone, sizeof(zone), "net%zu", i);
	put_link(nlh, zone, nic->mac, mtu);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)pid);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return zk_nl_call(nl, nlh, NULL, NULL);
}

static int
altname_add(zk_nl *nl, const char *name, const char *alt)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = zk_nl_request(nl, RTM_NEWLINKPROP, NLM_F_CREATE |
	    NLM_F_EXCL | NLM_F_APPEND, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	struct nlattr *list = mnl_attr_nest_start(nlh, IFLA_PROP_LIST);
	mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, alt);
	mnl_attr_nest_end(nlh, list);
	return zk_nl_call(nl, nlh, NULL, NULL);
}

static int
host_end(zk_net_plan *plan, const zk_net_spec *net, const char *uuid,
    size_t i, pid_t pid, zk_error *err)
{
	char host[IFNAMSIZ], alt[ZK_VNIC_ALTNAME_MAX];
	unsigned char mac[ZK_MAC_LEN];
	zk_vnic_host_name(uuid, i, host);
	zk_vnic_host_altname(uuid, i, alt);
	zk_vnic_host_mac(uuid, i, mac);
	zk_nl *nl = plan->host;
	int r = veth_create(nl, host, mac, plan->bridge[i], plan->mtu[i], i,
	    &net->nics[i], pid);
	/* A pair left by this zone's earlier life (its namespace still being
	 * dismantled by the kernel) carries our alternative name; anything
	 * else of that name is not ours to remove. */
	if (r == -EEXIST && zk_nl_link_del(nl, alt) == 0)
		r = veth_create(nl, host, mac, plan->bridge[i], plan->mtu[i], i,
		    &net->nics[i], pid);
	if (r == -EEXIST)
		return zk_fail(err, EEXIST, "nics.%zu: host interface %s already "
		    "exists and is not this zone's", i, host);
	if (r < 0)
		return zk_nl_fail(err, nl, r, "nics.%zu: cannot create veth %s "
		    "on bridge %s", i, host, plan->bridge_name[i]);
	if ((r = altname_add(nl, host, alt)) < 0) {
		zk_nl_fail(err, nl, r, "nics.%zu: cannot name %s %s", i, host,
		    alt);
		zk_nl_link_del(nl, host);
		return r;
	}
	return 0;
}

/* ---- inside the zone ------------------------------------------------------------ */

static int
addr_add(zk_nl *nl, int index, const zk_nic_addr *a)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh = zk_nl_request(nl, RTM_NEWADDR, NLM_F_CREATE |
	    NLM_F_EXCL, sizeof(*ifa), (void **)&ifa);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put(nlh, IFA_LOCAL, 4, &a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &a->addr);
	if (a->prefix <= 30) {	/* as `ip addr add ... brd +` */
		uint32_t brd = a->addr.s_addr | ~zk_ipv4_mask(a->prefix);
		mnl_attr_put(nlh, IFA_BROADCAST, 4, &brd);
	}
	return zk_nl_call(nl, nlh, NULL, NULL);
}

/* Through a gateway, or (oif and no gateway) straight out of a link. */
static int
route_add(zk_nl *nl, struct in_addr dst, uint8_t prefix, struct in_addr gw,
    int oif, uint16_t flags)
{
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = zk_nl_request(nl, RTM_NEWROUTE, NLM_F_CREATE |
	    flags, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = gw.s_addr != 0 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (prefix > 0)
		mnl_attr_put(nlh, RTA_DST, 4, &dst);
	if (gw.s_addr != 0)
		mnl_attr_put(nlh, RTA_GATEWAY, 4, &gw);
	if (oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	return zk_nl_call(nl, nlh, NULL, NULL);
}

static int
link_up(zk_nl *nl, int index)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = zk_nl_request(nl, RTM_NEWLINK, 0, sizeof(*ifi),
	    (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	return zk_nl_call(nl, nlh, NULL, NULL);
}

static int
zone_end(zk_nl *nl, const zk_nic_spec *n, size_t i, int *index,
    zk_error *err)
{
	char name[IFNAMSIZ], ip[INET_ADDRSTRLEN];
	snprintf(name, sizeof(name), "net%zu", i);
	zk_nl_link l;
	int r = zk_nl_link_get(nl, name, &l);
	if (r < 0)
		return zk_nl_fail(err, nl, r, "nics.%zu: cannot find %s in the "
		    "zone", i, name);
	*index = l.index;
	for (size_t k = 0; k < n->naddrs; k++)
		if ((r = addr_add(nl, l.index, &n->addrs[k])) < 0)
			return zk_nl_fail(err, nl, r, "nics.%zu: cannot add "
			    "address %s/%u to %s", i, inet_ntop(AF_INET,
			    &n->addrs[k].addr, ip, sizeof(ip)),
			    n->addrs[k].prefix, name);
	if ((r = link_up(nl, l.index)) < 0)
		return zk_nl_fail(err, nl, r, "nics.%zu: cannot bring %s up", i,
		    name);
	return 0;
}

static int
zone_routes(zk_nl *nl, const zk_net_spec *net, const int *index,
    zk_error *err)
{
	char ip[INET_ADDRSTRLEN];
	const struct in_addr any = { 0 };
	for (size_t i = 0; i < net->nnics; i++) {
		const zk_nic_spec *n = &net->nics[i];
		if (!n->primary || n->gateway.s_addr == 0)
			continue;
		int r = route_add(nl, any, 0, n->gateway, index[i], NLM_F_EXCL);
		if (r < 0)
			return zk_nl_fail(err, nl, r, "nics.%zu.gateway: cannot "
			    "add the default route via %s", i, inet_ntop(AF_INET,
			    &n->gateway, ip, sizeof(ip)));
	}
	/* Explicit routes win over the default route a gateway made. */
	for (size_t i = 0; i < net->nroutes; i++) {
		const zk_route_spec *rt = &net->routes[i];
		int r = route_add(nl, rt->dst, rt->prefix, rt->gateway,
		    rt->nic >= 0 ? index[rt->nic] : 0, NLM_F_REPLACE);
		if (r < 0)
			return zk_nl_fail(err, nl, r, "routes.%s: cannot add the "
			    "route", rt->key);
	}
	return 0;
}

int
zk_net_plumb(zk_net_plan *plan, const zk_net_spec *net, const char *uuid,
    pid_t pid, int pidfd, zk_error *err)
{
	if (plan == NULL)
		return 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < net->nnics; i++)
		r = host_end(plan, net, uuid, i, pid, err);
	_cleanup_nl_ zk_nl *zone = NULL;
	if (r == 0)
		r = zk_nl_open_in(pidfd, &zone, err);
	int index[ZK_MAX_NICS] = { 0 };
	for (size_t i = 0; r == 0 && i < net->nnics; i++)
		r = zone_end(zone, &net->nics[i], i, &index[i], err);
	if (r == 0)
		r = zone_routes(zone, net, index, err);
	return r;
}

int
zk_net_teardown(const char *uuid, zk_error *err)
{
	_cleanup_nl_ zk_nl *nl = NULL;
	int r = zk_nl_open(&nl, err);
	/* Interfaces are numbered from 0 without gaps, and the kernel removes
	 * a namespace's links all at once: the first missing one is the end. */
	for (size_t i = 0; r == 0 && i < ZK_MAX_NICS; i++) {
		char alt[ZK_VNIC_ALTNAME_MAX];
		zk_vnic_host_altname(uuid, i, alt);
		r = zk_nl_link_del(nl, alt);
		if (r == -ENODEV)
			return 0;
		if (r < 0)
			return zk_nl_fail(err, nl, r, "cannot delete %s", alt);
	}
	return r;
}
