"""Zone network interfaces: veth pairs on a bridge named by the nic tag.

Every test makes its own bridge (and, to ping from, its own network
namespace on it) with names unique to this run, and removes them even when
it fails.  Nothing else on the host is touched: the bridge has no address,
so the zones' subnets (TEST-NET-3, 203.0.113.0/24) never reach the host's
routing table.
"""
import itertools
import json
import os
import signal
import subprocess

import pytest

from conftest import wait_for, zone_payload

NET = "203.0.113"
_names = itertools.count()


def unique(kind):
    # at most 15 characters: "zkt" + pid (<= 7 digits) + kind + counter
    return f"zkt{os.getpid()}{kind}{next(_names)}"


def ip(*args, check=True):
    p = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {p.stderr}")
    return p


def host_link(name):
    """`ip -d -j link show dev name` as a dict, or None when it does not exist."""
    p = ip("-d", "-j", "link", "show", "dev", name, check=False)
    return json.loads(p.stdout)[0] if p.returncode == 0 else None


def altname(uuid, n=0):
    return f"zk-{uuid}-net{n}"


def zone_links(uuid):
    """Host interfaces that belong to the zone (by their alternative name)."""
    links = json.loads(ip("-j", "link", "show").stdout)
    return [l["ifname"] for l in links
            if any(a.startswith(f"zk-{uuid}-") for a in l.get("altnames", []))]


@pytest.fixture
def bridge():
    name = unique("b")
    ip("link", "add", "name", name, "type", "bridge")
    try:
        ip("link", "set", name, "up")
        yield name
    finally:
        ip("link", "del", name, check=False)


@pytest.fixture
def peer(bridge):
    """A network namespace on the bridge with address .1: the zones' gateway
    and the host side of every ping."""
    ns, host = unique("n"), unique("p")
    ip("netns", "add", ns)
    try:
        ip("link", "add", host, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        ip("link", "set", host, "master", bridge, "up")
        ip("-n", ns, "addr", "add", f"{NET}.1/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        yield ns
    finally:
        ip("link", "del", host, check=False)
        ip("netns", "del", ns, check=False)


def ping_from(ns, addr):
    p = subprocess.run(["ip", "netns", "exec", ns, "/bin/busybox", "ping",
                        "-c", "1", "-W", "3", addr],
                       capture_output=True, text=True, timeout=30)
    return p.returncode == 0


def zrun(pool, uuid, cmd):
    p = pool.zlogin(uuid, cmd)
    assert p.returncode == 0, (cmd, p.stdout, p.stderr)
    return p.stdout


def nic(tag, host, **kw):
    d = {"nic_tag": tag, "ip": f"{NET}.{host}", "netmask": "255.255.255.0"}
    d.update(kw)
    return d


def test_zone_gets_its_nic_before_init(pool, image, bridge, peer):
    uuid = pool.create(zone_payload(image, nics=[
        nic(bridge, 10, gateway=f"{NET}.1")]))
    vm = pool.get(uuid)
    n = vm["nics"][0]
    assert n["interface"] == "net0" and n["primary"] is True
    assert n["mac"].startswith("92:b8:d0:")

    # inside: net0 with the stored mac, the address, up, the default route
    assert zrun(pool, uuid, "cat /sys/class/net/net0/address").strip() == n["mac"]
    assert zrun(pool, uuid, "cat /sys/class/net/net0/operstate").strip() == "up"
    addrs = zrun(pool, uuid, "ip -o -4 addr show dev net0")
    assert f"inet {NET}.10/24 brd {NET}.255" in addrs
    routes = zrun(pool, uuid, "ip route")
    assert f"default via {NET}.1 dev net0" in routes
    ifaces = zrun(pool, uuid, "ls /sys/class/net").split()
    assert sorted(ifaces) == ["lo", "net0"]

    # host: one veth, on the bridge, up, named after the zone
    names = zone_links(uuid)
    assert len(names) == 1
    host = host_link(names[0])
    assert host["ifname"].startswith("zk") and len(host["ifname"]) <= 15
    assert host["master"] == bridge and "UP" in host["flags"]
    assert host["linkinfo"]["info_kind"] == "veth"
    assert host["address"].startswith("fe:")
    assert host_link(altname(uuid))["ifname"] == host["ifname"]

    # traffic both ways through the bridge
    assert ping_from(peer, f"{NET}.10")
    assert "1 packets received" in zrun(pool, uuid, f"ping -c 1 -W 3 {NET}.1")

    pool.vmadm("stop", uuid, check=True)
    assert host_link(host["ifname"]) is None
    assert zone_links(uuid) == []
    # and it comes back on the next boot
    pool.vmadm("start", uuid, check=True)
    assert zone_links(uuid) == [host["ifname"]]
    assert ping_from(peer, f"{NET}.10")


def test_list_shows_nic_fields(pool, image, bridge):
    uuid = pool.create(zone_payload(image, nics=[nic(bridge, 11)]))
    p = pool.vmadm("list", "-p", "-o", "uuid,nics.0.ip,nics.0.interface",
                   check=True)
    assert f"{uuid}:{NET}.11:net0" in p.stdout.splitlines()


def test_bad_nic_tag_fails_and_leaves_nothing(pool, image, bridge):
    tag = unique("x")
    uuid = pool.create(zone_payload(image, autoboot=False, nics=[
        nic(bridge, 12), nic(tag, 13)]))
    p = pool.vmadm("start", uuid)
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1, p.stderr
    assert f'nics.1.nic_tag: no bridge for nic tag "{tag}"' in p.stderr
    assert pool.get(uuid)["state"] == "stopped"
    assert pool.cgroup_dirs(uuid) == []
    assert pool.zoneadmd_pids() == []
    assert not os.path.exists(os.path.join(pool.rundir, uuid))
    assert zone_links(uuid) == []           # nic 0's bridge was fine: no veth
    assert json.loads(ip("-j", "link", "show", "master", bridge).stdout or "[]") == []

    # create with autoboot: the whole create fails and no zone remains
    p = pool.create(zone_payload(image, nics=[nic(tag, 14)]), check=False)
    assert p.returncode == 1 and "no bridge for nic tag" in p.stderr
    configs = os.listdir(os.path.join(pool.root, "config"))
    assert configs == [f"{uuid}.json"]


def test_failure_after_the_veth_leaves_nothing(pool, image, bridge):
    # the default route is added last, and this gateway is off the subnet
    uuid = pool.create(zone_payload(image, autoboot=False, nics=[
        nic(bridge, 15, gateway="198.51.100.1")]))
    p = pool.vmadm("start", uuid)
    assert p.returncode == 1
    assert "nics.0.gateway: cannot add the default route via 198.51.100.1" \
        in p.stderr
    assert zone_links(uuid) == []
    assert pool.cgroup_dirs(uuid) == [] and pool.processes() == []
    assert pool.get(uuid)["state"] == "stopped"


def test_nic_tag_file_maps_tags_to_bridges(pool, image, bridge):
    path = os.path.join(pool.root, "config", "nictags.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"external": bridge, "gone": unique("g")}, f)
    uuid = pool.create(zone_payload(image, nics=[nic("external", 16)]))
    assert host_link(altname(uuid))["master"] == bridge

    p = pool.create(zone_payload(image, nics=[nic("gone", 17)]), check=False)
    assert p.returncode == 1
    assert 'no bridge for nic tag "gone"' in p.stderr and path in p.stderr

    with open(path, "w") as f:
        f.write("{not json")
    # a reboot that cannot rebuild the network halts the zone, cleanly
    p = pool.vmadm("reboot", uuid)
    assert p.returncode == 1 and "halted while rebooting" in p.stderr
    with open(os.path.join(pool.root, uuid, "logs", "zoneadmd.log")) as f:
        assert f"reboot failed: zone {uuid}: nic tag file: {path}" in f.read()
    assert pool.get(uuid)["state"] == "stopped"
    assert zone_links(uuid) == []


def test_two_zones_on_one_bridge_reach_each_other(pool, image, bridge):
    a = pool.create(zone_payload(image, nics=[nic(bridge, 21)]))
    b = pool.create(zone_payload(image, nics=[nic(bridge, 22)]))
    assert "1 packets received" in zrun(pool, a, f"ping -c 1 -W 3 {NET}.22")
    assert "1 packets received" in zrun(pool, b, f"ping -c 1 -W 3 {NET}.21")
    assert zone_links(a) != zone_links(b)


def test_mtu_extra_addresses_and_routes(pool, image, bridge, peer):
    uuid = pool.create(zone_payload(image, nics=[
        nic(bridge, 30, mtu=1400, ips=[f"{NET}.30/24", "192.0.2.30/28"],
            gateway=f"{NET}.1")],
        routes={"198.51.100.0/24": f"{NET}.1", "192.0.2.200": "nics[0]"}))
    assert zrun(pool, uuid, "cat /sys/class/net/net0/mtu").strip() == "1400"
    assert host_link(altname(uuid))["mtu"] == 1400
    addrs = zrun(pool, uuid, "ip -o -4 addr show dev net0")
    assert f"{NET}.30/24" in addrs and "192.0.2.30/28" in addrs
    routes = zrun(pool, uuid, "ip route")
    assert f"198.51.100.0/24 via {NET}.1 dev net0" in routes
    assert "192.0.2.200 dev net0" in routes
    assert ping_from(peer, f"{NET}.30")


def test_reboot_and_adoption_leave_no_stale_veth(pool, image, bridge, peer):
    uuid = pool.create(zone_payload(image, nics=[nic(bridge, 40)]))
    first = zone_links(uuid)
    pool.vmadm("reboot", uuid, "-F", check=True)
    assert zone_links(uuid) == first
    assert ping_from(peer, f"{NET}.40")

    with open(os.path.join(pool.rundir, uuid, "zoneadmd.pid")) as f:
        old = int(f.read().split()[0])
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{old}/cmdline")
             or open(f"/proc/{old}/stat").read().split()[2] == "Z", 5)
    assert zone_links(uuid) == first        # the zone kept its network
    assert pool.get(uuid)["state"] == "running"   # stop adopts it first
    assert ping_from(peer, f"{NET}.40")
    pool.vmadm("stop", uuid, "-F", check=True)
    assert zone_links(uuid) == []
    pool.vmadm("delete", uuid, check=True)
    assert zone_links(uuid) == []


def test_vlans_and_dhcp_are_refused_for_now(pool, image, bridge):
    p = pool.create(zone_payload(image, nics=[nic(bridge, 50, vlan_id=7)]),
                    check=False)
    assert p.returncode == 1
    assert "nics.0.vlan_id: VLANs are not supported yet" in p.stderr
    p = pool.create(zone_payload(image, nics=[{"nic_tag": bridge,
                                               "ip": "dhcp"}]), check=False)
    assert p.returncode == 1 and "DHCP is not supported yet" in p.stderr


def test_mac_forms_and_multicast_refused_at_boot(pool, image, bridge):
    """net/mac.c: vmadm's forms are taken (one digit per octet, either
    case) and stored canonical; a multicast mac validates (as on SmartOS)
    and the boot refuses it, as illumos does, leaving nothing."""
    uuid = pool.create(zone_payload(image, nics=[
        nic(bridge, 52, mac="92:B8:D0:A:B:0C")]))
    assert pool.get(uuid)["nics"][0]["mac"] == "92:b8:d0:0a:0b:0c"
    assert host_link(altname(uuid))["master"] == bridge
    p = pool.vmadm("validate", "create", input=json.dumps(zone_payload(
        image, nics=[nic(bridge, 53, mac="0:1:2:3:4")])))
    assert p.returncode == 1
    assert json.loads(p.stdout)["bad_values"] == ["nics.0.mac"]
    p = pool.create(zone_payload(image, nics=[
        nic(bridge, 53, mac="01:00:5e:00:00:01")]), check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert ("nics.0.mac: 01:00:5e:00:00:01 is a multicast address; a nic "
            "needs a unicast one") in p.stderr
    assert [f for f in os.listdir(os.path.join(pool.root, "config"))
            if f.endswith(".json")] == [f"{uuid}.json"]


def test_stale_pair_is_replaced_and_a_foreign_one_is_left_alone(pool, image,
                                                                  bridge):
    uuid = pool.create(zone_payload(image, nics=[nic(bridge, 60)]))
    [host] = zone_links(uuid)
    pool.vmadm("stop", uuid, "-F", check=True)
    # a pair left over from this zone (its alternative name says so)
    ip("link", "add", host, "type", "veth", "peer", "name", unique("s"))
    try:
        ip("link", "property", "add", "dev", host, "altname", altname(uuid))
        pool.vmadm("start", uuid, check=True)
        link = host_link(host)
        assert link["master"] == bridge and link["linkinfo"]["info_kind"] == "veth"
        pool.vmadm("stop", uuid, "-F", check=True)
        assert host_link(host) is None
        # an interface of that name that is not the zone's is never removed
        ip("link", "add", host, "type", "bridge")
        p = pool.vmadm("start", uuid)
        assert p.returncode == 1
        assert f"nics.0: host interface {host} already exists and is not " \
            "this zone's" in p.stderr
        assert host_link(host)["linkinfo"]["info_kind"] == "bridge"
    finally:
        ip("link", "del", host, check=False)
