/*
 * A zone's network interfaces (SmartOS VNICs) on Linux: each nic of the
 * config is a veth pair.  The host end, named from the zone's uuid, is a
 * port of the bridge its nic tag names; the zone end is created directly
 * inside the zone's network namespace as net<N>, with the nic's MAC, and
 * gets the nic's addresses and routes before the zone's init runs.
 * See docs/vnic.md.
 *
 * Boot order (zk_zone_boot): zk_net_prepare() before the clone (resolve
 * nic tags, refuse what cannot be built), zk_net_plumb() once the zone's
 * init exists and waits, zk_net_teardown() on failure, stop and reboot.
 */
#ifndef ZK_ZONE_NET_H
#define ZK_ZONE_NET_H

#include <jansson.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "net/mac.h"
#include "util/error.h"

#define ZK_MAX_NICS 32
#define ZK_MAX_NIC_ADDRS 16
#define ZK_MAX_ROUTES 32
/* "zk-<uuid>-net<N>": the host end's alternative name, unique per zone. */
#define ZK_VNIC_ALTNAME_MAX 64

typedef struct zk_nic_addr {
	struct in_addr addr;
	uint8_t prefix;
} zk_nic_addr;

typedef struct zk_nic_spec {
	char nic_tag[32];
	unsigned char mac[ZK_MAC_LEN];
	unsigned mtu;			/* 0: the bridge's */
	unsigned vlan_id;		/* 0: untagged */
	bool primary;
	bool dhcp;			/* ip or ips says "dhcp" */
	bool too_many_addrs;
	size_t naddrs;
	zk_nic_addr addrs[ZK_MAX_NIC_ADDRS];
	struct in_addr gateway;		/* 0.0.0.0: none */
} zk_nic_spec;

typedef struct zk_route_spec {
	char key[48];			/* the routes key, for errors */
	struct in_addr dst;
	uint8_t prefix;
	struct in_addr gateway;		/* when nic < 0 */
	int nic;			/* "nics[N]": a link route on net<N> */
} zk_route_spec;

typedef struct zk_net_spec {
	char nictags[PATH_MAX];		/* the nic tag file */
	size_t nnics;
	bool too_many_nics, too_many_routes;
	zk_nic_spec nics[ZK_MAX_NICS];
	size_t nroutes;
	zk_route_spec routes[ZK_MAX_ROUTES];
} zk_net_spec;

/*
 * The nics and routes of a stored config, which the manifest has already
 * validated.  Never fails: what cannot be built is refused at boot by
 * zk_net_check(), so a running zone can always be adopted.
 */
void zk_net_spec_from_config(const json_t *cfg, const char *nictags_path,
    zk_net_spec *net);

/* What this version cannot build yet (VLANs, DHCP, too many nics). */
int zk_net_check(const zk_net_spec *net, zk_error *err);

/* The host end of nic `index`: "zk" + 10 hex digits of a hash of the uuid
 * + "n<index>" (at most 15 characters). */
void zk_vnic_host_name(const char *uuid, size_t index, char name[IFNAMSIZ]);
/* Its alternative name, "zk-<uuid>-net<index>", by which it is deleted. */
void zk_vnic_host_altname(const char *uuid, size_t index,
    char name[ZK_VNIC_ALTNAME_MAX]);
/*
 * Its MAC: fe:xx:xx:xx:xx:xx from the same hash.  A bridge takes the
 * lowest MAC of its ports as its own unless one was set; fe: keeps a zone
 * from changing the MAC of the host's bridge.
 */
void zk_vnic_host_mac(const char *uuid, size_t index,
    unsigned char mac[ZK_MAC_LEN]);

/*
 * The bridge of a nic tag: the tag's entry in the nic tag file (a JSON
 * object of tag -> bridge name; `tags` may be NULL when there is none),
 * else the tag itself.  *mapped says which.
 */
int zk_nictag_bridge(const json_t *tags, const char *tag,
    char bridge[IFNAMSIZ], bool *mapped, zk_error *err);

/* Read the nic tag file (a JSON object) into *tags; no file at all is
 * fine: *tags is NULL and every tag then names its bridge. */
int zk_nictags_load(const char *path, json_t **tags, zk_error *err);

typedef struct zk_net_plan zk_net_plan;

/*
 * Before the zone exists: check the spec, resolve every nic tag to an
 * existing bridge.  *plan is NULL for a zone without nics.
 */
int zk_net_prepare(const zk_net_spec *net, zk_net_plan **plan,
    zk_error *err);
/*
 * Make the veth pairs of every nic with their zone ends inside the
 * namespace of the process `pid` (reached through pidfd), then give those
 * their addresses and routes.  On failure, zk_net_teardown() removes what
 * was made.
 */
int zk_net_plumb(zk_net_plan *plan, const zk_net_spec *net,
    const char *uuid, pid_t pid, int pidfd, zk_error *err);
void zk_net_plan_free(zk_net_plan *plan);
static inline void zk_net_plan_freep(zk_net_plan **p) { zk_net_plan_free(*p); }

/*
 * Delete the host ends of the zone's nics (which takes the zone ends with
 * them), found by their alternative names, so nothing but this zone's own
 * interfaces is ever touched.  None left is not an error.
 */
int zk_net_teardown(const char *uuid, zk_error *err);

#endif
