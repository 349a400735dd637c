"""The zpool a payload names must be a pool of this host (issue 9): SmartOS
checks it against `zpool list`; zonekit's host has the one pool it keeps its
zones on."""
import json
import os

from conftest import zone_payload


def zones_made(pool):
    """Configs, datasets and run dirs: what a create would leave."""
    cfgdir = os.path.join(pool.root, "config")
    made = os.listdir(cfgdir) if os.path.isdir(cfgdir) else []
    made += [d for d in os.listdir(pool.root) if d not in ("images", "config")]
    return made + [d for d in os.listdir(pool.rundir) if d != "locks"]


def test_validate_refuses_an_unknown_zpool(pool, image):
    p = pool.vmadm("validate", "create",
                   input=json.dumps(zone_payload(image, zpool="nosuchpool")))
    assert p.returncode == 1
    assert json.loads(p.stdout)["bad_values"] == ["zpool"]
    p = pool.vmadm("validate", "create",
                   input=json.dumps(zone_payload(image, zpool="zones")))
    assert p.returncode == 0, p.stdout + p.stderr


def test_create_refuses_an_unknown_zpool_and_makes_nothing(pool, image):
    p = pool.create(zone_payload(image, zpool="nosuchpool"), check=False)
    assert p.returncode == 1
    assert p.stderr == ('vmadm: zpool: no such pool "nosuchpool" '
                        '(this host has "zones")\n')
    assert zones_made(pool) == []
    assert pool.cgroup_dirs() == [] and pool.zoneadmd_pids() == []
    uuid = pool.create(zone_payload(image, zpool="zones", autoboot=False))
    assert pool.get(uuid)["zpool"] == "zones"
