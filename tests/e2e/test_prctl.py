"""prctl against running zones: the report (values from the manifest, usage,
system values), -n, -P, -i zoneid, live changes through zoneadmd (gone once
the zone halts), and the refusals with their exit codes."""
import uuid as uuidlib

import pytest

from conftest import cgroup_file, wait_for, zone_kstat, zone_payload

HEADING = ("NAME    PRIVILEGE       VALUE    FLAG   ACTION"
           "                       RECIPIENT")


@pytest.fixture
def zone(pool, image):
    return pool.create(zone_payload(image, cpu_cap=350, cpu_shares=50,
                                    max_lwps=500, max_physical_memory=256,
                                    max_swap=1024))


def prctl(pool, *args, rc=0):
    p = pool.run("prctl", *args)
    assert p.returncode == rc, (args, p.returncode, p.stdout, p.stderr)
    return p


def parse_report(text):
    """{rctl name: {privilege or "usage": [fields after the privilege]}}"""
    rctls, cur = {}, None
    for line in text.splitlines()[2:]:
        if not line.startswith(" "):
            cur = rctls.setdefault(line, {})
            continue
        fields = line.split()
        cur[fields[0]] = fields[1:]
    return rctls


def quota(pool, uuid):
    return cgroup_file(pool, uuid, "cpu", "cpu.cfs_quota_us")


def test_report_has_header_and_manifest_values(pool, zone):
    zoneid = pool.get(zone)["zoneid"]
    out = prctl(pool, "-i", "zone", zone).stdout
    lines = out.splitlines()
    assert lines[0] == f"zone: {zoneid}: {zone}"
    assert lines[1] == HEADING
    r = parse_report(out)
    assert r["zone.cpu-cap"]["privileged"] == ["350", "-", "deny", "-"]
    assert r["zone.cpu-cap"]["system"] == ["4.29G", "inf", "deny", "-"]
    assert r["zone.cpu-shares"]["privileged"] == ["50", "-", "none", "-"]
    assert r["zone.cpu-shares"]["system"] == ["65.5K", "max", "none", "-"]
    assert r["zone.max-lwps"]["privileged"] == ["500", "-", "deny", "-"]
    assert r["zone.max-lwps"]["system"] == ["2.15G", "max", "deny", "-"]
    assert r["zone.max-physical-memory"]["privileged"] == ["256MB", "-", "deny", "-"]
    assert r["zone.max-swap"]["privileged"] == ["1.00GB", "-", "deny", "-"]
    assert r["zone.max-physical-memory"]["system"] == ["16.0EB", "max", "deny", "-"]
    # usage: shares are the zone's, lwps its processes, memory its rss
    assert r["zone.cpu-shares"]["usage"] == ["50"]
    assert int(r["zone.max-lwps"]["usage"][0]) >= 1
    assert "usage" in r["zone.max-physical-memory"]
    # the exact columns of the reference layout
    assert ("        privileged        350       -   deny"
            "                                 -") in lines


def test_one_rctl_and_zoneid(pool, zone):
    zoneid = pool.get(zone)["zoneid"]
    out = prctl(pool, "-n", "zone.cpu-cap", "-i", "zone", zone).stdout
    lines = out.splitlines()
    assert lines[:3] == [f"zone: {zoneid}: {zone}", HEADING, "zone.cpu-cap"]
    assert [l for l in lines if not l.startswith(" ")][2:] == ["zone.cpu-cap"]
    assert list(parse_report(out)["zone.cpu-cap"]) == ["usage", "privileged",
                                                       "system"]
    by_id = prctl(pool, "-n", "zone.cpu-cap", "-i", "zoneid", zoneid).stdout
    assert parse_report(by_id)["zone.cpu-cap"]["privileged"] == \
        parse_report(out)["zone.cpu-cap"]["privileged"]


def test_parseable_and_privilege_filter(pool, zone):
    out = prctl(pool, "-P", "-n", "zone.max-physical-memory", "-i", "zone",
                zone).stdout.splitlines()
    assert out[0].startswith("zone: ")
    assert "zone.max-physical-memory privileged 268435456 - deny -" in out
    assert ("zone.max-physical-memory system 18446744073709551615 max deny -"
            in out)
    assert all(len(l.split()) == 6 for l in out[1:])
    system = prctl(pool, "-t", "system", "-n", "zone.cpu-cap", "-i", "zone",
                   zone).stdout
    assert "privileged" not in system and "4.29G" in system
    assert prctl(pool, "-t", "basic", "-i", "zone", zone).stdout == ""


def test_replace_cpu_cap_applies_live(pool, zone):
    assert quota(pool, zone) == "350000"
    prctl(pool, "-r", "-n", "zone.cpu-cap", "-t", "privileged", "-v", "50",
          "-i", "zone", zone)
    assert wait_for(lambda: quota(pool, zone) == "50000", timeout=1.0)
    # live only: the stored config keeps its value
    assert pool.get(zone)["cpu_cap"] == 350
    # and the report shows the value in force, not the stored one
    out = prctl(pool, "-P", "-n", "zone.cpu-cap", "-i", "zone", zone).stdout
    assert "zone.cpu-cap privileged 50 - deny -" in out, out


def test_delete_cpu_cap_removes_the_cap(pool, zone):
    prctl(pool, "-x", "-n", "zone.cpu-cap", "-i", "zone", zone)
    assert wait_for(lambda: quota(pool, zone) == "-1", timeout=1.0)


# The kernel's "no limit" as v1 reads it back: the largest page-aligned
# int64 for memory, "max" for pids, the most cpu.shares takes.
V1_UNLIMITED_BYTES = str((2**63 - 1) // 4096 * 4096)


def system_only(pool, zone, name):
    """The -P report of one rctl, without its usage line."""
    out = prctl(pool, "-P", "-n", name, "-i", "zone", zone).stdout
    return [l for l in out.splitlines()[1:] if " usage " not in l]


def test_delete_removes_the_limit_not_restores_a_default(pool, zone):
    """prctl -x leaves the rctl with its system value only, as on illumos:
    no privileged line, no limit in the kernel, for the live config; the
    stored config keeps its values.  (It used to put back the manifest
    default: max_lwps 2000, 256 MiB of memory, 100 shares.)"""
    for name in ("zone.max-lwps", "zone.max-swap",
                 "zone.max-physical-memory", "zone.cpu-shares"):
        prctl(pool, "-x", "-n", name, "-i", "zone", zone)
    assert cgroup_file(pool, zone, "pids", "pids.max") == "max"
    memory = cgroup_file(pool, zone, "memory", "memory.limit_in_bytes")
    assert memory == V1_UNLIMITED_BYTES, memory
    assert cgroup_file(pool, zone, "cpu", "cpu.shares") == "262144"
    assert system_only(pool, zone, "zone.max-lwps") == [
        "zone.max-lwps system 2147483647 max deny -"]
    assert system_only(pool, zone, "zone.max-physical-memory") == [
        "zone.max-physical-memory system 18446744073709551615 max deny -"]
    r = parse_report(prctl(pool, "-n", "zone.cpu-shares", "-i", "zone",
                           zone).stdout)
    assert list(r["zone.cpu-shares"]) == ["usage", "system"]
    assert r["zone.cpu-shares"]["usage"] == ["65.5K"]
    # another change later does not bring the removed limits back
    prctl(pool, "-r", "-n", "zone.cpu-cap", "-v", "50", "-i", "zone", zone)
    assert wait_for(lambda: quota(pool, zone) == "50000", timeout=1.0)
    assert cgroup_file(pool, zone, "pids", "pids.max") == "max"
    assert system_only(pool, zone, "zone.max-lwps") == [
        "zone.max-lwps system 2147483647 max deny -"]
    # live only: the stored config is as it was
    cfg = pool.get(zone)
    assert (cfg["max_lwps"], cfg["max_physical_memory"], cfg["max_swap"],
            cfg["cpu_shares"]) == (500, 256, 1024, 50)


def test_delete_baseline_means_none_not_the_default(pool, image):
    """zone.cpu-baseline's "none" is 0 (absent is SmartOS's default
    baseline): -x stores 0, and the caps kstat shows no baseline."""
    zone = pool.create(zone_payload(image, cpu_cap=200, cpu_baseline=50,
                                    cpu_burst_time=10))
    prctl(pool, "-x", "-n", "zone.cpu-baseline", "-i", "zone", zone)
    assert system_only(pool, zone, "zone.cpu-baseline") == [
        "zone.cpu-baseline system 4294967295 max none -"]
    assert wait_for(lambda: zone_kstat(pool, "caps", zone).get("baseline")
                    == "0", timeout=2.0)


def test_set_memory_cap_with_scaled_value(pool, zone):
    prctl(pool, "-n", "zone.max-physical-memory", "-v", "512M", "-i", "zone",
          zone)
    assert wait_for(lambda: cgroup_file(pool, zone, "memory",
                                        "memory.limit_in_bytes") == "536870912",
                    timeout=1.0)
    p = prctl(pool, "-s", "-n", "zone.max-physical-memory", "-v", "1.5K",
              "-i", "zone", zone, rc=1)
    assert p.stderr == ("prctl: invalid value \"1.5K\": "
                        "zone.max-physical-memory is set in whole MiB\n")


def test_change_is_gone_after_stop_and_start(pool, zone):
    prctl(pool, "-r", "-n", "zone.cpu-cap", "-v", "50", "-i", "zone", zone)
    assert wait_for(lambda: quota(pool, zone) == "50000", timeout=1.0)
    pool.vmadm("stop", zone, check=True)
    pool.vmadm("start", zone, check=True)
    assert quota(pool, zone) == "350000"
    out = prctl(pool, "-n", "zone.cpu-cap", "-i", "zone", zone).stdout
    assert parse_report(out)["zone.cpu-cap"]["privileged"][0] == "350"


def test_refusals(pool, zone):
    p = prctl(pool, "-s", "-t", "system", "-n", "zone.cpu-cap", "-v", "50",
              "-i", "zone", zone, rc=1)
    assert p.stderr == "prctl: cannot modify system values\n"
    p = prctl(pool, "-s", "-t", "basic", "-n", "zone.cpu-cap", "-v", "50",
              "-i", "zone", zone, rc=1)
    assert p.stderr == "prctl: basic values not allowed on rctl zone.cpu-cap\n"
    p = prctl(pool, "-r", "-n", "zone.cpu-cap", "-v", "12Q", "-i", "zone",
              zone, rc=1)
    assert p.stderr.startswith('prctl: invalid value "12Q"')
    p = prctl(pool, "-r", "-n", "zone.cpu-shares", "-v", "70K", "-i", "zone",
              zone, rc=1)
    assert "70K" in p.stderr and "65.5K" in p.stderr
    p = prctl(pool, "-r", "-n", "zone.cpu-cap", "-v", "50", "-e",
              "signal=KILL", "-i", "zone", zone, rc=1)
    assert "signal=KILL" in p.stderr
    p = prctl(pool, "-n", "zone.no-such", "-i", "zone", zone, rc=1)
    assert p.stderr == "prctl: unknown resource control zone.no-such\n"
    # nothing was applied by any of them
    assert quota(pool, zone) == "350000"


def test_unknown_and_stopped_zones(pool, image):
    missing = str(uuidlib.uuid4())
    p = prctl(pool, "-i", "zone", missing, rc=1)
    assert p.stderr == f"prctl: {missing}: No such zone\n"
    p = prctl(pool, "-i", "zoneid", "99999", rc=1)
    assert p.stderr == "prctl: 99999: No such zone\n"
    stopped = pool.create(zone_payload(image, autoboot=False))
    p = prctl(pool, "-i", "zone", stopped, rc=1)
    assert p.stdout == "" and p.stderr.count("\n") == 1
    assert p.stderr.startswith(f"prctl: {stopped}: No such zone")
    p = prctl(pool, "-r", "-n", "zone.cpu-cap", "-v", "50", "-i", "zone",
              stopped, rc=1)
    assert p.stderr.startswith(f"prctl: {stopped}: No such zone")


def test_usage_errors(pool):
    for args in (["-Z", "-i", "zone", "x"], [], ["-i", "zone"],
                 ["-i", "bogus", "x"], ["-t", "bogus", "-i", "zone", "x"],
                 ["-s", "-x", "-n", "zone.cpu-cap", "-v", "1", "-i", "zone", "x"],
                 ["-r", "-n", "zone.cpu-cap", "-i", "zone", "x"],
                 ["-s", "-v", "5", "-i", "zone", "x"],
                 ["-P", "-r", "-n", "zone.cpu-cap", "-v", "5", "-i", "zone", "x"]):
        p = prctl(pool, *args, rc=2)
        assert "Usage: prctl" in p.stderr, args
    p = prctl(pool, "-i", "process", "1", rc=1)
    assert p.stderr == ("prctl: idtype process is not supported yet "
                        "(use -i zone or -i zoneid)\n")
