"""vmadm's command-line surface: messages, exit codes, layouts, validation."""
import json
import os

import pytest

from conftest import zone_payload


def test_usage_and_bad_uuid(pool):
    p = pool.vmadm()
    assert p.returncode == 2 and "Usage: vmadm <command> [options]" in p.stderr
    p = pool.vmadm("frobnicate")
    assert p.returncode == 2 and 'Invalid command: "frobnicate".' in p.stderr
    p = pool.vmadm("start", "not-a-uuid")
    assert p.returncode == 2 and "Invalid or missing UUID for start" in p.stderr


def test_missing_zone(pool):
    uuid = "7e9d5f3a-0000-4000-8000-000000000001"
    for cmd in (["get", uuid], ["start", uuid], ["stop", uuid], ["delete", uuid],
                ["reboot", uuid], ["update", uuid, "alias=x"], ["console", uuid]):
        p = pool.vmadm(*cmd)
        assert p.returncode == 1
        assert p.stderr == f"zoneadm: {uuid}: No such zone configured\n"
    # asking about a zone that does not exist leaves no lock file behind
    locks = os.path.join(pool.rundir, "locks")
    assert not os.path.isdir(locks) or os.listdir(locks) == []


def test_missing_image_is_told_by_its_code(pool, image):
    """A zone whose image went away: start names the image, not the zone,
    though both are "not found"."""
    uuid = pool.create(zone_payload(image, autoboot=False))
    cfg = os.path.join(pool.root, "config", uuid + ".json")
    with open(cfg) as f:
        vm = json.load(f)
    vm["image_uuid"] = "0b5e4c7e-8c9a-4f00-9e4b-000000000000"
    with open(cfg, "w") as f:
        json.dump(vm, f)
    p = pool.vmadm("start", uuid)
    assert p.returncode == 1
    assert p.stderr == ("vmadm: image_uuid: image 0b5e4c7e-8c9a-4f00-9e4b-"
                        "000000000000 is not installed (see imgadm install)\n")


def test_create_with_a_missing_image_leaves_nothing(pool, image):
    """vmadm create naming an image that is not installed fails by the
    image's code and leaves no config, dataset or lock file behind."""
    missing = "0b5e4c7e-8c9a-4f00-9e4b-000000000001"
    p = pool.vmadm("create", input=json.dumps(zone_payload(missing)))
    assert p.returncode == 1
    assert p.stderr == ("vmadm: image_uuid: image " + missing +
                        " is not installed (see imgadm install)\n")
    configs = os.path.join(pool.root, "config")
    assert not os.path.isdir(configs) or os.listdir(configs) == []
    locks = os.path.join(pool.rundir, "locks")
    left = os.listdir(locks) if os.path.isdir(locks) else []
    # the installed image's own lock may stay; nothing of the missing one
    # nor of the zone that was never made
    assert [f for f in left if f != "image-%s.lock" % image] == []


def test_reboot_of_a_stopped_zone_fails(pool, image):
    uuid = pool.create(zone_payload(image, autoboot=False))
    p = pool.vmadm("reboot", uuid)
    assert p.returncode == 1
    assert p.stderr == ('vmadm: Cannot reboot vm from state "stopped", '
                        'must be "running"\n')
    vm = pool.get(uuid)
    assert vm["state"] == "stopped" and vm["autoboot"] is False


def test_create_rejects_bad_payloads_naming_the_property(pool, image):
    cases = [
        (dict(zone_payload(image), flavour="x"), "flavour"),
        (dict(zone_payload(image), max_physical_memory="lots"), "max_physical_memory"),
        (dict(zone_payload(image), max_swap=64), "max_swap"),
        (dict(zone_payload(image), brand="solaris"), "brand"),
        (dict(zone_payload(image), quota=5), "quota"),
        (dict(zone_payload(image), image_uuid="0b5e4c7e-8c9a-4f00-9e4b-000000000000"),
         "image_uuid"),
        ({"brand": "joyent-minimal"}, "image_uuid"),
    ]
    for payload, prop in cases:
        p = pool.create(payload, check=False)
        assert p.returncode == 1, payload
        assert p.stderr.startswith("vmadm: ") and p.stderr.count("\n") == 1
        assert prop in p.stderr, (prop, p.stderr)
    assert os.listdir(os.path.join(pool.root, "config")) if os.path.isdir(
        os.path.join(pool.root, "config")) else [] == []
    assert [d for d in os.listdir(pool.root) if d not in ("images", "config")] == []


def test_create_from_file_and_tty_refusal(pool, image, tmp_path):
    f = tmp_path / "zone.json"
    f.write_text(json.dumps(zone_payload(image, autoboot=False)))
    p = pool.vmadm("create", "-f", str(f), check=True)
    assert p.stderr.startswith("Successfully created VM ")
    p = pool.vmadm("create", "-f", str(tmp_path / "missing.json"))
    assert p.returncode == 1 and "missing.json" in p.stderr
    f.write_text("{not json")
    p = pool.vmadm("create", "-f", str(f))
    assert p.returncode == 1 and "line 1" in p.stderr


def test_validate_create(pool, image):
    p = pool.vmadm("validate", "create", input=json.dumps(zone_payload(image)))
    assert p.returncode == 0
    assert p.stdout == "VALID 'create' payload for joyent-minimal brand VMs.\n"
    bad = {"brand": "joyent-minimal", "cpu_shares": "many", "colour": "red"}
    p = pool.vmadm("validate", "create", input=json.dumps(bad))
    assert p.returncode == 1
    out = json.loads(p.stdout)
    assert "cpu_shares" in out["bad_values"]
    assert "colour" in out["bad_properties"]
    assert "image_uuid" in out["missing_properties"]


def test_get_is_two_space_json(pool, image):
    uuid = pool.create(zone_payload(image, autoboot=False, tags={"role": "db"}))
    out = pool.vmadm("get", uuid, check=True).stdout
    assert out.startswith('{\n  "alias": ')
    vm = json.loads(out)
    assert vm["tags"] == {"role": "db"} and vm["brand"] == "joyent-minimal"


def test_list_layouts_and_filters(pool, image):
    a = pool.create(zone_payload(image, alias="alpha", max_physical_memory=256,
                                 autoboot=False))
    b = pool.create(zone_payload(image, alias="beta", max_physical_memory=128))
    out = pool.vmadm("list", check=True).stdout.splitlines()
    assert out[0] == "UUID                                  TYPE  RAM      STATE             ALIAS"
    assert out[1] == f"{b}  OS    128      running           beta"
    assert out[2] == f"{a}  OS    256      stopped           alpha"
    assert pool.vmadm("list", "-H", check=True).stdout.splitlines() == out[1:]
    p = pool.vmadm("list", "-p", "-o", "alias,ram", "-s", "-ram", check=True)
    assert p.stdout == "alpha:256\nbeta:128\n"
    p = pool.vmadm("list", "-H", "-o", "uuid", "state=running", check=True)
    assert p.stdout == f"{b}\n"
    p = pool.vmadm("list", "-H", "-o", "alias", "alias=~^AL", check=True)
    assert p.stdout == "alpha\n"
    p = pool.vmadm("list", "nonsense=1")
    assert p.returncode == 1 and 'Invalid filter key: "nonsense"' in p.stderr
    p = pool.vmadm("list", "-o", "bogus")
    assert p.returncode == 1 and "bogus" in p.stderr


def test_lookup(pool, image):
    a = pool.create(zone_payload(image, alias="one", autoboot=False))
    b = pool.create(zone_payload(image, alias="two", autoboot=False))
    assert sorted(pool.vmadm("lookup", check=True).stdout.split()) == sorted([a, b])
    assert pool.vmadm("lookup", "alias=two", check=True).stdout == f"{b}\n"
    j = json.loads(pool.vmadm("lookup", "-j", "-o", "uuid,alias", "alias=one",
                              check=True).stdout)
    assert j == [{"uuid": a, "alias": "one"}]
    p = pool.vmadm("lookup", "-1", "brand=joyent-minimal")
    assert p.returncode == 1
    assert p.stderr == "Requested unique lookup but found 2 results.\n"
    # an error, not a usage error: SmartOS's vmadm exits 1 for it
    p = pool.vmadm("lookup", "-o", "uuid")
    assert p.returncode == 1 and p.stderr == "Cannot specify -o without -j\n"
    p = pool.vmadm("lookup", "nope=1")
    assert p.returncode == 1 and 'Invalid lookup key: "nope"' in p.stderr


def test_update_refusals_and_metadata(pool, image):
    uuid = pool.create(zone_payload(image, autoboot=False))
    p = pool.vmadm("update", uuid, "brand=joyent")
    assert p.returncode == 1 and "brand" in p.stderr
    p = pool.vmadm("update", uuid, input=json.dumps({"uuid": "x"}))
    assert p.returncode == 1 and "uuid" in p.stderr
    p = pool.vmadm("update", uuid, "max_lwps=lots")
    assert p.returncode == 1 and "max_lwps" in p.stderr
    pool.vmadm("update", uuid, input=json.dumps(
        {"set_tags": {"a": "1", "b": 2}, "alias": "renamed"}), check=True)
    pool.vmadm("update", uuid, input=json.dumps({"remove_tags": ["a"]}), check=True)
    vm = pool.get(uuid)
    assert vm["tags"] == {"b": 2} and vm["alias"] == "renamed"
    p = pool.vmadm("update", uuid, "alias=again")
    assert p.stderr == f"Successfully updated VM {uuid}\n"


def test_tmpfs_zero_means_no_tmpfs(pool, image):
    uuid = pool.create(zone_payload(image, tmpfs=0))
    mounts = pool.zlogin(uuid, "cat /proc/mounts", check=True).stdout
    assert not [l for l in mounts.splitlines() if l.split()[1] == "/tmp"]
