"""Create, start, stop, delete: all-or-nothing, and nothing left behind."""
import json
import os
import subprocess
import threading
import time

import pytest

from conftest import cgroup_file, cmd_path, wait_for, zone_payload


def assert_no_trace(pool, uuid, config_too=True):
    assert pool.cgroup_dirs(uuid) == [], "zone cgroup left behind"
    assert pool.processes() == [], "zone processes left behind"
    assert pool.mounts() == [], "mounts left behind"
    assert not os.path.exists(os.path.join(pool.rundir, uuid))
    if config_too:
        assert not os.path.exists(os.path.join(pool.root, "config", uuid + ".json"))
        assert not os.path.exists(os.path.join(pool.root, uuid))
        assert not os.path.exists(os.path.join(pool.rundir, "locks",
                                               uuid + ".lock"))


def test_create_boots_and_get_reports_runtime(pool, image):
    uuid = pool.create(zone_payload(image, alias="web"))
    vm = pool.get(uuid)
    assert vm["state"] == "running" and vm["zone_state"] == "running"
    assert vm["zonename"] == uuid == vm["hostname"]
    assert vm["zonepath"] == os.path.join(pool.root, uuid)
    assert vm["zoneid"] >= 1 and vm["pid"] > 1
    for k in ("create_timestamp", "boot_timestamp"):
        assert vm[k].endswith("Z") and len(vm[k]) == 24
    assert vm["autoboot"] is True and vm["max_physical_memory"] == 128
    for sub in ("root", "cores", "logs"):
        assert os.path.isdir(os.path.join(vm["zonepath"], sub))
    assert os.path.exists(os.path.join(vm["zonepath"], "logs", "zoneadmd.log"))


def test_autoboot_false_creates_stopped(pool, image):
    uuid = pool.create(zone_payload(image, autoboot=False))
    vm = pool.get(uuid)
    assert vm["state"] == "stopped" and vm["zone_state"] == "installed"
    assert "pid" not in vm and "zoneid" not in vm
    assert pool.cgroup_dirs(uuid) == []


def test_start_stop_messages_and_noops(pool, image):
    uuid = pool.create(zone_payload(image, autoboot=False))
    p = pool.vmadm("start", uuid, check=True)
    assert p.stderr == f"Successfully started VM {uuid}\n"
    assert pool.get(uuid)["autoboot"] is True
    p = pool.vmadm("start", uuid)
    assert p.returncode == 0 and p.stderr == f"VM {uuid} is already 'running'\n"
    zoneadmd = pool.zoneadmd_pids()
    assert len(zoneadmd) == 1
    p = pool.vmadm("stop", uuid, check=True)
    assert p.stderr == f"Successfully completed stop for VM {uuid}\n"
    # zoneadmd is gone by the time stop returns
    assert not os.path.exists(f"/proc/{zoneadmd[0]}") or \
        open(f"/proc/{zoneadmd[0]}/stat").read().split()[2] == "Z"
    assert pool.get(uuid)["autoboot"] is False
    p = pool.vmadm("stop", uuid)
    assert p.returncode == 0
    assert p.stderr == f"VM {uuid} is already not 'running' (currently: stopped)\n"
    assert_no_trace(pool, uuid, config_too=False)


def test_graceful_stop_asks_init(pool, image):
    uuid = pool.create(zone_payload(image))
    t0 = time.monotonic()
    pool.vmadm("stop", uuid, "-t", "30", check=True)
    # busybox init powers off on SIGUSR2 well before the 30 s deadline
    assert time.monotonic() - t0 < 25
    log = open(os.path.join(pool.root, uuid, "logs", "zoneadmd.log")).read()
    assert "asking init to power off" in log and "killing every" not in log
    assert_no_trace(pool, uuid, config_too=False)


def test_stop_timeout_forces_stubborn_zone(pool, image):
    # an init that ignores the power-off signal
    uuid = pool.create(zone_payload(image, init_name="/bin/sleep"))
    # /bin/sleep with no operand exits at once: use a shell that traps
    pool.vmadm("delete", uuid, check=True)
    uuid = pool.create(zone_payload(image, autoboot=False))
    root = os.path.join(pool.root, uuid, "delta", "sbin")
    os.makedirs(root)
    with open(os.path.join(root, "stubborn"), "w") as f:
        f.write("#!/bin/sh\ntrap '' USR2 TERM\nwhile :; do sleep 1; done\n")
    os.chmod(os.path.join(root, "stubborn"), 0o755)
    pool.vmadm("update", uuid, "init_name=/sbin/stubborn", check=True)
    pool.vmadm("start", uuid, check=True)
    t0 = time.monotonic()
    pool.vmadm("stop", uuid, "-t", "1", check=True)
    assert time.monotonic() - t0 < 15
    assert_no_trace(pool, uuid, config_too=False)


def test_stop_force_with_200_sigterm_ignorers(pool, image):
    uuid = pool.create(zone_payload(image, max_lwps=2000))
    pool.zlogin(uuid, "for i in $(seq 200); do "
                "(trap '' TERM HUP INT; while :; do sleep 5; done) </dev/null >/dev/null 2>&1 &"
                " done; echo ok",
                timeout=120, check=True)
    assert wait_for(lambda: len(pool.processes()) >= 200, 20)
    t0 = time.monotonic()
    pool.vmadm("stop", uuid, "-F", check=True)
    elapsed = time.monotonic() - t0
    print(f"stop -F with {200} stubborn processes: {elapsed:.3f}s")
    assert elapsed < 10          # bench/ holds the real figure
    assert_no_trace(pool, uuid, config_too=False)


def test_delete_running_zone_leaves_nothing(pool, image):
    uuid = pool.create(zone_payload(image))
    assert pool.cgroup_dirs(uuid) != []
    # the zone's lock file exists while the zone does, and goes with it
    assert os.path.exists(os.path.join(pool.rundir, "locks", uuid + ".lock"))
    p = pool.vmadm("delete", uuid, check=True)
    assert p.stderr == f"Successfully deleted VM {uuid}\n"
    assert_no_trace(pool, uuid)
    p = pool.vmadm("get", uuid)
    assert p.returncode == 1
    assert p.stderr == f"zoneadm: {uuid}: No such zone configured\n"


@pytest.mark.parametrize("fault", ["create.config", "boot.cgroup", "boot.clone"])
def test_failed_create_leaves_nothing(pool, image, fault):
    env = dict(pool.env, ZONEKIT_FAULT=fault)
    payload = zone_payload(image, uuid="11111111-2222-4333-8444-555555555555")
    p = subprocess.run([cmd_path("vmadm"), "create"], input=json.dumps(payload),
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1
    assert f"injected fault at {fault}" in p.stderr
    assert p.stderr.count("\n") == 1
    assert_no_trace(pool, payload["uuid"])


def test_failed_boot_of_existing_zone_leaves_it_stopped(pool, image):
    uuid = pool.create(zone_payload(image, autoboot=False))
    env = dict(pool.env, ZONEKIT_FAULT="boot.clone")
    p = subprocess.run([cmd_path("vmadm"), "start", uuid], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode == 1 and "injected fault at boot.clone" in p.stderr
    assert pool.get(uuid)["state"] == "stopped"
    assert_no_trace(pool, uuid, config_too=False)


def test_bad_init_name_reports_and_cleans(pool, image):
    p = pool.create(zone_payload(image, init_name="/no/such/init"), check=False)
    assert p.returncode == 1
    assert "cannot execute init_name /no/such/init" in p.stderr
    assert os.listdir(os.path.join(pool.root, "config")) == []
    assert pool.processes() == [] and pool.cgroup_dirs() in ([], pool.cgroup_dirs())


def test_failed_delete_keeps_a_whole_zone_and_can_be_retried(pool, image):
    uuid = pool.create(zone_payload(image))
    env = dict(pool.env, ZONEKIT_FAULT="delete.dataset")
    p = subprocess.run([cmd_path("vmadm"), "delete", uuid], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode == 1 and "injected fault at delete.dataset" in p.stderr
    vm = pool.get(uuid)                  # still configured, now stopped
    assert vm["state"] == "stopped"
    assert os.path.isdir(vm["zonepath"])
    assert_no_trace(pool, uuid, config_too=False)
    pool.vmadm("delete", uuid, check=True)
    assert_no_trace(pool, uuid)


def test_parallel_commands_on_one_zone_are_serialised(pool, image):
    uuid = pool.create(zone_payload(image))
    results = []

    def stop():
        results.append(pool.vmadm("stop", uuid, "-F"))
    threads = [threading.Thread(target=stop) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.returncode == 0 for r in results)
    done = [r for r in results if "Successfully completed stop" in r.stderr]
    noop = [r for r in results if "already not 'running'" in r.stderr]
    assert len(done) == 1 and len(noop) == 2


def test_zones_start_in_parallel_with_distinct_zoneids(pool, image):
    uuids = [pool.create(zone_payload(image, autoboot=False)) for _ in range(3)]
    procs = [subprocess.Popen([cmd_path("vmadm"), "start", u], env=pool.env,
                              stderr=subprocess.PIPE, text=True) for u in uuids]
    for p in procs:
        assert p.wait(60) == 0
    ids = [pool.get(u)["zoneid"] for u in uuids]
    assert sorted(ids) == sorted(set(ids)) and min(ids) >= 1


def test_live_update_of_resource_controls(pool, image):
    uuid = pool.create(zone_payload(image, max_physical_memory=128, cpu_cap=100))
    mib = 1024 * 1024
    assert int(cgroup_file(pool, uuid, "memory", "memory.limit_in_bytes")) == 128 * mib
    assert cgroup_file(pool, uuid, "cpu", "cpu.cfs_quota_us") == "100000"
    pool.vmadm("update", uuid, "max_physical_memory=192", "cpu_cap=50",
               "max_lwps=300", "cpu_shares=200", check=True)
    assert int(cgroup_file(pool, uuid, "memory", "memory.limit_in_bytes")) == 192 * mib
    assert cgroup_file(pool, uuid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cgroup_file(pool, uuid, "pids", "pids.max") == "300"
    assert cgroup_file(pool, uuid, "cpu", "cpu.shares") == "2048"
    vm = pool.get(uuid)
    assert vm["max_physical_memory"] == 192 and vm["max_swap"] >= 192
    pool.vmadm("update", uuid, "cpu_cap=null", check=True)
    assert cgroup_file(pool, uuid, "cpu", "cpu.cfs_quota_us") == "-1"
    assert "cpu_cap" not in pool.get(uuid)


def test_memory_cap_contains_a_hog(pool, image):
    uuid = pool.create(zone_payload(image, max_physical_memory=64, max_swap=256,
                                    tmpfs=256))
    # fill tmpfs (charged to the zone) far past the cap
    pool.zlogin(uuid, "dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>/dev/null",
                timeout=120)
    usage = int(cgroup_file(pool, uuid, "memory", "memory.max_usage_in_bytes"))
    assert usage <= 64 * 1024 * 1024
    assert pool.get(uuid)["state"] == "running"


def test_systemd_autoboot_unit_boots_autoboot_zones(pool, image):
    """Run the unit's ExecStart the way systemd would, against this pool."""
    unit = os.path.join(os.path.dirname(__file__), "..", "..", "dist", "systemd",
                        "zonekit-autoboot.service")
    exec_start = [l.split("=", 1)[1] for l in open(unit)
                  if l.startswith("ExecStart=")][0]
    on = pool.create(zone_payload(image, alias="on"))
    off = pool.create(zone_payload(image, alias="off", autoboot=False))
    pool.vmadm("stop", on, "-F", check=True)
    pool.vmadm("update", on, "autoboot=true", check=True)   # as after a host reboot
    bindir = os.path.dirname(cmd_path("vmadm"))
    env = dict(pool.env, PATH=bindir + ":" + pool.env.get("PATH", ""))
    import shlex
    subprocess.run(shlex.split(exec_start), env=env, check=True, timeout=120)
    assert pool.get(on)["state"] == "running"
    assert pool.get(off)["state"] == "stopped"


def test_delete_while_another_command_waits_on_the_lock(pool, image):
    """Commands queued on a zone's lock while it is deleted: each finds
    the zone gone, none holds a removed lock file beside a new one, and no
    lock file is left."""
    uuid = pool.create(zone_payload(image))
    procs = [subprocess.Popen([cmd_path("vmadm"), "delete", uuid], env=pool.env,
                              stderr=subprocess.PIPE, text=True)]
    procs += [subprocess.Popen([cmd_path("vmadm"), cmd, uuid], env=pool.env,
                               stderr=subprocess.PIPE, text=True)
              for cmd in ("stop", "start", "delete")]
    results = [(p.wait(60), p.stderr.read()) for p in procs]
    gone = (1, f"zoneadm: {uuid}: No such zone configured\n")
    deleted = (0, f"Successfully deleted VM {uuid}\n")
    # Either delete may reach the lock first: exactly one of them deletes.
    deletes = [results[0], results[3]]
    assert sorted(deletes) == sorted([deleted, gone]), deletes
    for code, err in results[1:3]:
        assert (code, err) == gone or code == 0, err
    assert_no_trace(pool, uuid)
