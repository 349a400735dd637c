"""zoneadmd stays valgrind-clean through a zone's life: boot, zlogin,
reboot from vmadm and from inside, a control client that never finishes
its request, an update, graceful stop."""
import glob
import os
import shutil
import socket
import stat

import pytest

from conftest import bindir, wait_for, zone_payload

INSTALLED_ZONEADMD = "/usr/local/libexec/zonekit/zoneadmd"


def zoneadmd_binary():
    d = bindir()
    return os.path.join(d, "zoneadmd") if d else INSTALLED_ZONEADMD


@pytest.fixture
def valgrind_pool(pool, tmp_path):
    if os.environ.get("ASAN_OPTIONS") or "asan" in (bindir() or ""):
        pytest.skip("valgrind and AddressSanitizer do not mix")
    if not shutil.which("valgrind"):
        pytest.fail("valgrind is not installed (tools/install-deps installs it)")
    logs = tmp_path / "vg"
    logs.mkdir()
    wrapper = tmp_path / "zoneadmd-under-valgrind"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec valgrind --leak-check=full --show-leak-kinds=definite,indirect "
        f"--log-file={logs}/vg.%p.log {zoneadmd_binary()} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    pool.env["ZONEKIT_ZONEADMD"] = str(wrapper)
    pool.valgrind_logs = logs
    return pool


def test_zoneadmd_is_valgrind_clean(valgrind_pool, image):
    pool = valgrind_pool
    uuid = pool.create(zone_payload(image))
    assert pool.zlogin(uuid, "hostname", check=True).stdout.strip() == uuid
    pool.vmadm("reboot", uuid, check=True)
    first = pool.get(uuid)["pid"]
    pool.zlogin(uuid, "reboot", check=True)
    assert wait_for(lambda: pool.get(uuid).get("pid") not in (None, first), 30)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(os.path.join(pool.rundir, uuid, "zoneadmd.sock"))
        s.sendall(b"sta")
        assert s.recv(256).startswith(b"error 110 no request line")
    pool.vmadm("update", uuid, "max_lwps=500", "cpu_cap=100", check=True)
    pool.vmadm("stop", uuid, check=True)
    summaries = []
    for log in glob.glob(str(pool.valgrind_logs / "vg.*.log")):
        text = open(log).read()
        assert "Invalid read" not in text and "Invalid write" not in text, text
        assert "uninitialised" not in text, text
        assert "definitely lost: 0" in text or "definitely lost" not in text, text
        assert "indirectly lost: 0" in text or "indirectly lost" not in text, text
        if "ERROR SUMMARY" in text:
            summaries.append(text)
            assert "ERROR SUMMARY: 0 errors" in text, text
    assert summaries, "valgrind never reported on zoneadmd"
