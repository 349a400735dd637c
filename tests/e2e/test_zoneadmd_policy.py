"""zoneadmd's loop and the zone's policy object: a slow or silent control
client holds up nothing and loses its slot at its deadline; a reload that
fails fails `vmadm update`; the caps kstat exists only while the zone has
a cap."""
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import cgroup_file, cmd_path, wait_for, zone_payload
from test_ctl import request

DEADLINE = 3.0      # REQUEST_DEADLINE_MS in src/zoneadmd/zoneadmd.h


def connect(pool, uuid):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(os.path.join(pool.rundir, uuid, "zoneadmd.sock"))
    return s


class Trickler:
    """A client that sends one byte of a request every 0.3 s and never
    its newline: one that reads a line byte by byte, waiting for each,
    is held for as long as the client likes."""

    def __init__(self, pool, uuid):
        self.sock = connect(pool, uuid)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(0.3):
            try:
                self.sock.send(b"s")
            except OSError:
                return

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def stuck_clients(pool):
    """(open, [sockets]): half a request that stays silent, and a
    trickler; all closed after the test."""
    made = []

    def open_on(uuid):
        half = connect(pool, uuid)
        half.sendall(b"sta")
        t = Trickler(pool, uuid)
        made.extend([half, t])
        return half, t
    yield open_on
    for m in made:
        m.close()


def test_stuck_clients_hold_up_nothing(pool, image, stuck_clients):
    uuid = pool.create(zone_payload(image))
    stuck_clients(uuid)
    time.sleep(0.5)
    t0 = time.monotonic()
    assert request(pool, uuid, b"status").startswith("ok running ")
    with connect(pool, uuid) as s:
        s.sendall(b"console\n")
        assert s.recv(3) == b"ok\n"
    elapsed = time.monotonic() - t0
    print(f"status and console beside two stuck clients: {elapsed:.3f}s")
    assert elapsed < 1.0
    t0 = time.monotonic()
    pool.vmadm("stop", uuid, "-F", check=True, timeout=60)
    elapsed = time.monotonic() - t0
    print(f"stop -F beside two stuck clients: {elapsed:.3f}s")
    assert elapsed < 5.0
    assert pool.get(uuid)["state"] == "stopped"


def test_init_exit_handled_with_stuck_clients(pool, image, stuck_clients):
    uuid = pool.create(zone_payload(image))
    stuck_clients(uuid)
    time.sleep(0.5)
    p = pool.zlogin(uuid, "poweroff", timeout=60)
    assert p.returncode in (0, 143), p.stderr
    assert wait_for(lambda: pool.get(uuid)["state"] == "stopped", 10)
    assert pool.cgroup_dirs(uuid) == []


def test_silent_client_is_dropped_at_its_deadline(pool, image):
    uuid = pool.create(zone_payload(image))
    with connect(pool, uuid) as s:
        t0 = time.monotonic()
        s.sendall(b"rctl g")
        got = b""
        while True:
            chunk = s.recv(256)
            if not chunk:
                break
            got += chunk
        elapsed = time.monotonic() - t0
    print(f"silent client dropped after {elapsed:.3f}s")
    assert got == b"error 110 no request line within 3000 ms\n"
    assert DEADLINE - 0.2 <= elapsed <= DEADLINE + 1.5, elapsed
    # its slot is free again, and nothing else noticed
    assert request(pool, uuid, b"status").startswith("ok running ")


def test_request_split_across_writes_is_answered(pool, image):
    uuid = pool.create(zone_payload(image))
    with connect(pool, uuid) as s:
        for part in (b"sta", b"tu", b"s\n"):
            s.sendall(part)
            time.sleep(0.2)
        assert s.recv(256).startswith(b"ok running ")


def test_failed_reload_fails_update(pool, image):
    # zoneadmd inherits the fault from the vmadm that starts it
    env = dict(pool.env, ZONEKIT_FAULT="policy.reload")
    p = subprocess.run([cmd_path("vmadm"), "create"], env=env, timeout=120,
                       input=json.dumps(zone_payload(image, cpu_cap=100)),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    uuid = p.stderr.split()[-1]
    p = pool.vmadm("update", uuid, "cpu_cap=50")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "injected fault at policy.reload" in p.stderr
    # the old config and limits are back, not the new ones half-applied
    assert pool.get(uuid)["cpu_cap"] == 100
    assert cgroup_file(pool, uuid, "cpu", "cpu.cfs_quota_us") == "100000"
    log = open(os.path.join(pool.root, uuid, "logs", "zoneadmd.log")).read()
    assert "reload: injected fault at policy.reload" in log


def caps_kstats(pool):
    p = pool.run("kstat", "-p", "caps")
    return [l for l in p.stdout.splitlines() if l.startswith("caps:")]


def test_caps_kstat_only_while_capped(pool, image):
    uuid = pool.create(zone_payload(image))
    zoneid = pool.get(uuid)["zoneid"]
    name = f"caps:{zoneid}:cpucaps_zone_{zoneid}"
    assert wait_for(lambda: pool.run("kstat", "-p", "zones").stdout)
    assert caps_kstats(pool) == []
    pool.vmadm("update", uuid, "cpu_cap=100", check=True)
    lines = caps_kstats(pool)
    assert f"{name}:value\t100" in lines, lines
    assert f"{name}:zonename\t{uuid}" in lines, lines
    # the zone's other kstats carry on in the new file
    mc = pool.run("kstat", "-p", f"memory_cap:{zoneid}::zonename").stdout
    assert uuid in mc
    pool.vmadm("update", uuid, "cpu_cap=null", check=True)
    assert caps_kstats(pool) == []
    z = pool.run("kstat", "-p", f"zones:{zoneid}::zonename").stdout
    assert uuid in z
    # a capped zone has it from boot, and loses it with prctl -x
    pool.vmadm("update", uuid, "cpu_cap=200", check=True)
    pool.vmadm("stop", uuid, check=True)
    pool.vmadm("start", uuid, check=True)
    zoneid = pool.get(uuid)["zoneid"]
    assert f"caps:{zoneid}:cpucaps_zone_{zoneid}:value\t200" in caps_kstats(pool)
    pool.run("prctl", "-x", "-n", "zone.cpu-cap", "-i", "zone", uuid,
             check=True)
    assert caps_kstats(pool) == []
