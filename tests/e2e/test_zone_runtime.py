"""A running zone as its tenant sees it, entered with zlogin."""
import os
import pty
import select
import signal
import subprocess
import time

import pytest

from conftest import (cmd_path, copy_into_zone, wait_for, zone_payload,
                      cgroup_file)


@pytest.fixture
def zone(pool, image):
    return pool.create(zone_payload(image, hostname="tenant1",
                                    resolvers=["192.0.2.53", "192.0.2.54"]))


def zrun(pool, uuid, *cmd, check=True, **kw):
    p = pool.zlogin(uuid, *cmd, **kw)
    if check:
        assert p.returncode == 0, (p.stdout, p.stderr)
    return p


def test_ps_shows_only_the_zone_with_init_as_pid_1(pool, zone):
    out = zrun(pool, zone, "ps -o pid,comm").stdout.split("\n")[1:]
    rows = [l.split() for l in out if l.strip()]
    pids = {int(r[0]): r[1] for r in rows}
    assert pids[1] == "init"
    # busybox init, its console getty, and this login's shell and ps
    assert len(pids) <= 5, pids
    host_pid = pool.get(zone)["pid"]
    assert host_pid != 1 and os.path.exists(f"/proc/{host_pid}")


def test_hostname_and_resolvers(pool, zone):
    assert zrun(pool, zone, "hostname").stdout.strip() == "tenant1"
    conf = zrun(pool, zone, "cat /etc/resolv.conf").stdout
    assert "nameserver 192.0.2.53\nnameserver 192.0.2.54\n" in conf


def test_forbidden_operations_fail(pool, zone, probe_binary):
    copy_into_zone(pool, zone, probe_binary, "/tmp/probe")
    attempts = ["mount", "init_module", "finit_module", "mknod", "swapon",
                "settimeofday", "kexec_load", "bpf", "perf_event_open",
                "unshare_user", "keyctl", "raw_disk"]
    out = zrun(pool, zone, "/tmp/probe", *attempts).stdout
    results = dict(line.split() for line in out.splitlines())
    for a in attempts:
        assert results[a] != "OK", f"{a} succeeded inside the zone"
    assert results["mount"] == "EPERM"
    assert results["init_module"] == "EPERM"
    assert results["mknod"] == "EPERM"
    assert results["raw_disk"] == "ENOENT"    # no host disks in the zone's /dev
    # the shell's mount fails too
    assert zrun(pool, zone, "mount -t tmpfs none /mnt", check=False).returncode != 0


def test_host_interfaces_are_invisible(pool, zone):
    out = zrun(pool, zone, "cat /proc/net/dev").stdout
    ifaces = [l.split(":")[0].strip() for l in out.splitlines()[2:]]
    assert ifaces == ["lo"]
    assert "UP" in zrun(pool, zone, "ip link show lo").stdout


def test_usr_is_read_only_and_tmp_is_sized(pool, zone):
    p = zrun(pool, zone, "touch /usr/bin/x", check=False)
    assert p.returncode != 0 and "Read-only" in p.stderr
    mounts = zrun(pool, zone, "cat /proc/mounts").stdout
    tmp = [l for l in mounts.splitlines() if l.split()[1] == "/tmp"]
    assert tmp and tmp[0].split()[2] == "tmpfs" and "size=131072k" in tmp[0]
    sysfs = [l for l in mounts.splitlines() if l.split()[1] == "/sys"]
    assert sysfs and sysfs[0].split()[3].startswith("ro")


def test_proc_sys_is_read_only(pool, zone):
    p = zrun(pool, zone, "echo 1 > /proc/sys/vm/drop_caches", check=False)
    assert p.returncode != 0


def test_zlogin_passes_stdio_and_exit_status(pool, zone):
    assert zrun(pool, zone, "exit 7", check=False).returncode == 7
    assert zrun(pool, zone, "echo a; echo b").stdout == "a\nb\n"
    # several arguments are quoted for the zone's shell
    assert zrun(pool, zone, "echo", "a  b", "c;d").stdout == "a  b c;d\n"
    p = zrun(pool, zone, "cat", input="from stdin\n")
    assert p.stdout == "from stdin\n"
    p = zrun(pool, zone, "echo oops >&2; exit 3", check=False)
    assert p.returncode == 3 and p.stderr == "oops\n"


def test_zlogin_runs_in_the_zone_cgroup(pool, zone):
    out = zrun(pool, zone, "cat /proc/self/cgroup").stdout
    # the zone's cgroup namespace is rooted at its own cgroup
    mem = [l for l in out.splitlines() if ":memory:" in l]
    assert mem == ["%s:memory:/" % mem[0].split(":")[0]]


def procs_by_hierarchy(pool, uuid):
    found = {}
    for d in pool.cgroup_dirs(uuid):
        with open(os.path.join(d, "cgroup.procs")) as f:
            found[d] = frozenset(int(x) for x in f.read().split())
    return found


def test_init_and_zlogin_join_every_hierarchy(pool, zone):
    """Init and zlogin's process join their cgroups from inside (tasks
    files, CLONE_INTO_CGROUP): every hierarchy, the hybrid cgroup2 mount
    included, must list the same processes."""
    init = pool.get(zone)["pid"]
    hierarchies = procs_by_hierarchy(pool, zone)
    if os.path.isdir("/sys/fs/cgroup/unified"):
        assert any(d.startswith("/sys/fs/cgroup/unified/") for d in hierarchies)
    assert "/sys/fs/cgroup/memory/" in " ".join(hierarchies)

    def consistent(extra=0):
        sets = set(procs_by_hierarchy(pool, zone).values())
        return len(sets) == 1 and init in next(iter(sets)) and \
            len(next(iter(sets))) >= base + extra
    base = 1
    assert wait_for(consistent), procs_by_hierarchy(pool, zone)
    base = len(next(iter(procs_by_hierarchy(pool, zone).values())))
    p = subprocess.Popen([cmd_path("zlogin"), zone, "sleep 2"], env=pool.env,
                         stdin=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: consistent(extra=1)), procs_by_hierarchy(pool, zone)
    finally:
        assert p.wait(timeout=30) == 0


def test_zlogin_refuses_a_stopped_zone(pool, image):
    uuid = pool.create(zone_payload(image, autoboot=False))
    p = pool.zlogin(uuid, "true")
    assert p.returncode == 1
    assert p.stderr.strip() == f"zlogin: zone {uuid} is not running"


def test_zlogin_reports_a_failure_inside_its_helper(pool, zone):
    """A failure after the fork (here the helper cannot find the zone's
    cgroups) comes back to zlogin as one message, printed once, exit 1,
    and nothing ran in the zone."""
    env = dict(pool.env, ZONEKIT_CGROUP_PARENT=pool.cgroup_parent + "-elsewhere")
    p = subprocess.run([cmd_path("zlogin"), zone, "echo ran"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith(f"zlogin: zone {zone}: ")
    assert p.stderr.count("\n") == 1


def read_until(fd, marker, timeout=10):
    buf = b""
    deadline = time.monotonic() + timeout
    while marker not in buf and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def spawn_on_pty(pool, argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, pool.env)
    return pid, fd


@pytest.mark.parametrize("how", [("vmadm", "console"), ("zlogin", "-C")])
def test_console_attach_and_escape(pool, zone, how):
    pid, fd = spawn_on_pty(pool, [cmd_path(how[0]), how[1], zone])
    try:
        assert b"Connected to zone" in read_until(fd, b"Connected to zone")
        os.write(fd, b"\r")       # busybox askfirst: press Enter
        time.sleep(0.5)
        os.write(fd, b"echo con$((6*7))sole\r")
        assert b"con42sole" in read_until(fd, b"con42sole")
        os.write(fd, b"\r~.")
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        pid = None
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_interactive_zlogin_on_a_pty(pool, zone):
    pid, fd = spawn_on_pty(pool, [cmd_path("zlogin"), zone])
    try:
        os.write(fd, b"hostname; echo in$((1+1))zone\r")
        out = read_until(fd, b"in2zone")
        assert b"in2zone" in out
        os.write(fd, b"exit 5\r")
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 5
        pid = None
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_writes_survive_reboot_but_never_reach_the_image(pool, image, zone):
    zrun(pool, zone, "echo kept > /root/note; echo gone > /tmp/scratch")
    before = pool.get(zone)["pid"]
    pool.vmadm("reboot", zone, check=True)
    after = pool.get(zone)
    assert after["state"] == "running" and after["pid"] != before
    assert zrun(pool, zone, "cat /root/note").stdout == "kept\n"
    assert zrun(pool, zone, "cat /tmp/scratch", check=False).returncode != 0
    image_root = os.path.join(pool.root, "images", image, "root")
    assert not os.path.exists(os.path.join(image_root, "root", "note"))


def test_reboot_and_halt_from_inside(pool, zone):
    first = pool.get(zone)["pid"]
    # init's shutdown may kill the very shell that asked (SIGTERM, 143)
    assert zrun(pool, zone, "reboot", check=False).returncode in (0, 143)
    assert wait_for(lambda: pool.get(zone).get("pid") not in (None, first), 20)
    assert pool.get(zone)["state"] == "running"
    assert zrun(pool, zone, "poweroff", check=False).returncode in (0, 143)
    assert wait_for(lambda: pool.get(zone)["state"] == "stopped", 20)
    assert pool.cgroup_dirs(zone) == []


def test_killed_zoneadmd_is_replaced_and_zone_lives_on(pool, zone):
    with open(os.path.join(pool.rundir, zone, "zoneadmd.pid")) as f:
        old = int(f.read().split()[0])
    init = pool.get(zone)["pid"]
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: not os.path.exists(f"/proc/{old}/cmdline")
             or open(f"/proc/{old}/stat").read().split()[2] == "Z", 5)

    def zoneadmd_pid():
        with open(os.path.join(pool.rundir, zone, "zoneadmd.pid")) as f:
            return int(f.read().split()[0])
    # reading changes nothing: get and list report the running zone and
    # start no zoneadmd
    vm = pool.get(zone)
    assert vm["state"] == "running" and vm["pid"] == init
    p = pool.vmadm("list", "-H", "-o", "uuid,state", check=True)
    assert p.stdout.split() == [zone, "running"]
    time.sleep(0.5)
    assert zoneadmd_pid() == old
    # the next command allowed to change the zone adopts it first
    p = pool.vmadm("start", zone, check=True)
    assert p.stderr == f"VM {zone} is already 'running'\n"
    new = zoneadmd_pid()
    assert new != old and os.path.exists(f"/proc/{new}")
    assert pool.get(zone)["pid"] == init
    assert zrun(pool, zone, "echo alive").stdout == "alive\n"
    # the adopter can stop the zone cleanly
    pool.vmadm("stop", zone, "-F", check=True)
    assert pool.get(zone)["state"] == "stopped"
    assert pool.processes() == []


def test_stale_run_dir_is_left_to_lifecycle_commands(pool, zone):
    """A zone that died with its zoneadmd: get reports it stopped and
    removes nothing; start cleans up and boots it."""
    with open(os.path.join(pool.rundir, zone, "zoneadmd.pid")) as f:
        zadm = int(f.read().split()[0])
    init = pool.get(zone)["pid"]
    os.kill(zadm, signal.SIGKILL)
    os.kill(init, signal.SIGKILL)
    wait_for(lambda: pool.get(zone)["state"] == "stopped", 10)
    run = os.path.join(pool.rundir, zone)
    assert os.path.isdir(run)          # nothing removed by reading
    assert pool.cgroup_dirs(zone) != []
    pool.vmadm("start", zone, check=True)
    vm = pool.get(zone)
    assert vm["state"] == "running" and vm["pid"] != init
    assert zrun(pool, zone, "echo back").stdout == "back\n"


def test_max_lwps_stops_a_fork_bomb(pool, image):
    uuid = pool.create(zone_payload(image, max_lwps=40))
    assert cgroup_file(pool, uuid, "pids", "pids.max") == "40"
    p = zrun(pool, uuid, "for i in $(seq 100); do sleep 60 </dev/null >/dev/null 2>&1 & done"
             " 2>/dev/null; echo started", check=False, timeout=60)
    assert int(cgroup_file(pool, uuid, "pids", "pids.current")) <= 40
    assert int(cgroup_file(pool, uuid, "pids", "pids.events").split()[1]) > 0
    t0 = time.monotonic()
    pool.vmadm("stop", uuid, "-F", check=True)
    print(f"stop -F of a bombed zone took {time.monotonic() - t0:.3f}s")
    assert pool.processes() == []


def test_zlogin_itself_is_not_charged_to_the_zone(pool, zone):
    p = subprocess.Popen([cmd_path("zlogin"), zone, "sleep 2"], env=pool.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def helper_pids():
            kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(p.pid)],
                                  capture_output=True, text=True).stdout.split()
            return [p.pid] + [int(k) for k in kids]
        wait_for(lambda: len(helper_pids()) > 1, 5)
        in_zone = set()
        for ctrl in ("memory", "pids"):
            with open(f"/sys/fs/cgroup/{ctrl}/{pool.cgroup_parent}/{zone}/cgroup.procs") as f:
                in_zone |= {int(x) for x in f.read().split()}
        # the sleep is in the zone; zlogin and its helper are not
        assert not set(helper_pids()) & in_zone
        assert len(in_zone) >= 2
    finally:
        assert p.wait(30) == 0
