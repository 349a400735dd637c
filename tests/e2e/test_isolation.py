"""The isolation battery: root inside a zone attacks, the host checks.

Every case runs as root in a real zone and must fail, and the host is
checked afterwards.  docs/privileges.md lists each case and what it
proves; the syscall, device and hostile-image cases live beside this file
(test_isolation_syscalls.py, test_isolation_devices.py,
test_isolation_images.py).
"""
import ctypes
import json
import os
import stat
import subprocess
import tempfile

import pytest

from conftest import (build_helper, cmd_path, copy_into_zone, wait_for,
                      zone_payload)


@pytest.fixture
def zone(pool, image):
    return pool.create(zone_payload(image))


@pytest.fixture(scope="session")
def idprobe(tmp_path_factory):
    return build_helper(tmp_path_factory, "idprobe")


def zsh(pool, uuid, script, check=True, **kw):
    p = pool.zlogin(uuid, script, **kw)
    if check:
        assert p.returncode == 0, (script, p.stdout, p.stderr)
    return p


def init_pid(pool, uuid):
    with open(os.path.join(pool.rundir, uuid, "init")) as f:
        return int(f.read().split()[0])


def id_map(pool, uuid):
    cfg = pool.get(uuid)
    inside, base, count = (int(x) for x in cfg["uid_map"].split())
    assert cfg["gid_map"] == cfg["uid_map"]
    assert inside == 0
    return base, count


def zone_pids(pool, uuid):
    path = os.path.join("/sys/fs/cgroup/pids", pool.cgroup_parent, uuid,
                        "cgroup.procs")
    with open(path) as f:
        return [int(x) for x in f.read().split()]


def mount_devices(pid):
    """st_dev of every mount in the process's mount namespace."""
    devs = set()
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            major, minor = line.split()[2].split(":")
            devs.add(os.makedev(int(major), int(minor)))
    return devs


# ---- fds -------------------------------------------------------------------

def test_zlogin_passes_no_host_fd(pool, zone):
    """The issue's own reproducer: `zlogin <uuid> 'ls /proc/self/fd/3/' 3</`
    listed the host's /.  Here a host directory with a unique entry is fd 3
    and a host file fd 7."""
    with tempfile.TemporaryDirectory() as d:
        marker = "host-only-" + os.path.basename(d)
        open(os.path.join(d, marker), "w").close()
        # "; true": else the shell execs ls, and $$ would be ls
        script = ("ls /proc/self/fd/3/; cat /proc/self/fd/7; "
                  "ls /proc/$$/fd; true")
        # the shell opens fds 3 and 7 on host files for zlogin, as a user
        # typing the reproducer would
        argv = ["/bin/sh", "-c",
                f'exec "$0" "$1" "$2" 3<"$3" 7</etc/hostname',
                cmd_path("zlogin"), zone, script, d]
        p = subprocess.run(argv, capture_output=True, text=True,
                           env=pool.env, timeout=60)
    assert marker not in p.stdout
    assert "No such file" in p.stderr
    # the shell holds its three pipes, nothing else
    assert sorted(p.stdout.split()) == ["0", "1", "2"], p.stdout


def test_zone_stdio_are_zlogins_pipes_not_the_callers_files(pool, zone):
    with tempfile.NamedTemporaryFile() as f:
        argv = [cmd_path("zlogin"), zone, "readlink /proc/self/fd/1"]
        p = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE,
                           env=pool.env, timeout=60)
        f.seek(0)
        out = f.read().decode()
    assert p.returncode == 0, p.stderr
    assert out.startswith("pipe:["), out
    assert f.name not in out


def test_every_fd_in_the_zone_points_inside_it(pool, zone):
    """Init starts with the console only; no process of the zone holds an
    fd on a file system the zone has not mounted."""
    init = init_pid(pool, zone)
    assert sorted(os.listdir(f"/proc/{init}/fd")) == ["0", "1", "2"]
    # a login session that stays around while we look
    argv = [cmd_path("zlogin"), zone, "sleep 30"]
    held = subprocess.Popen(argv, env=pool.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: len(zone_pids(pool, zone)) >= 3, 10)
        inside = mount_devices(init)
        checked = 0
        for pid in zone_pids(pool, zone):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith(("pipe:", "socket:", "anon_inode:")):
                    continue
                st = os.stat(f"/proc/{pid}/fd/{fd}")
                assert st.st_dev in inside, (pid, fd, link)
                checked += 1
        assert checked >= 3
    finally:
        held.kill()
        held.wait()


# ---- namespaces and mounts ---------------------------------------------------

@pytest.mark.parametrize("attack", [
    "unshare -U true",
    "unshare -m true",
    "unshare -n true",
    "nsenter -t 1 -m true",
    "nsenter -t 1 -U true",
    "mount -t tmpfs none /mnt",
    "mount -o remount,rw /sys",
    "mount -o remount,rw /usr",
    "umount /proc/sys",
    "umount -l /proc/kcore",
    "chroot / true && mount --bind / /mnt",
])
def test_namespace_and_mount_escapes_fail(pool, zone, attack):
    init = init_pid(pool, zone)
    with open(f"/proc/{init}/mountinfo") as f:
        before = f.read()
    p = zsh(pool, zone, attack, check=False)
    assert p.returncode != 0, (attack, p.stdout, p.stderr)
    with open(f"/proc/{init}/mountinfo") as f:
        assert f.read() == before


def test_zone_mounts_are_nodev_and_not_in_the_hosts_table(pool, zone):
    mounts = zsh(pool, zone, "cat /proc/mounts").stdout.splitlines()
    opts = {l.split()[1]: l.split()[3].split(",") for l in mounts}
    assert "nodev" in opts["/"]
    assert "nodev" in opts["/usr"] and "ro" in opts["/usr"]
    with open("/proc/self/mountinfo") as f:
        assert zone not in f.read()


# ---- kernel files ------------------------------------------------------------

MASKED = ["/proc/kcore", "/proc/keys", "/proc/kmsg", "/proc/timer_list",
          "/proc/timer_stats", "/proc/latency_stats", "/proc/sched_debug",
          "/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware",
          "/sys/devices/virtual/powercap"]


def test_masked_paths_show_nothing(pool, zone):
    present = [m for m in MASKED if os.path.exists(m)]
    assert present, "this host has none of the masked paths"
    for path in present:
        if os.path.isdir(path):
            out = zsh(pool, zone, f"ls -A {path} | wc -l").stdout.strip()
            assert out == "0", path
        else:
            out = zsh(pool, zone, f"head -c 64 {path} | wc -c").stdout.strip()
            assert out == "0", path


@pytest.mark.parametrize("attack,host_file", [
    ("echo h > /proc/sysrq-trigger", "/proc/sysrq-trigger"),
    # the classic escape: the host runs a core_pattern pipe as root
    ("echo '|/tmp/x' > /proc/sys/kernel/core_pattern",
     "/proc/sys/kernel/core_pattern"),
    ("echo 0 > /proc/sys/kernel/sysrq", "/proc/sys/kernel/sysrq"),
    ("echo 1 > /proc/sys/vm/drop_caches", "/proc/sys/vm/drop_caches"),
    ("echo 1 > /proc/sys/vm/compact_memory", "/proc/sys/vm/compact_memory"),
    ("echo 1 > /proc/sys/net/ipv4/ip_forward", None),
    ("echo 'scsi remove-single-device 0 0 0 0' > /proc/scsi/scsi",
     "/proc/scsi/scsi"),
    ("echo 1 > /proc/irq/default_smp_affinity",
     "/proc/irq/default_smp_affinity"),
])
def test_kernel_knobs_cannot_be_written(pool, zone, attack, host_file):
    if host_file and not os.path.exists(host_file):
        pytest.skip(f"this host has no {host_file}")
    readable = host_file and os.access(host_file, os.R_OK) and \
        not host_file.endswith(("trigger", "drop_caches", "compact_memory"))
    before = open(host_file).read() if readable else None
    p = zsh(pool, zone, attack, check=False)
    # ip_forward is the zone's own (network namespace), but /proc/sys is
    # read-only as a whole: a write fails even where it would be harmless
    assert p.returncode != 0, (attack, p.stderr)
    if readable:
        assert open(host_file).read() == before


def test_kernel_memory_and_log_unreadable(pool, zone):
    for path in ("/proc/kcore", "/proc/kmsg"):
        p = zsh(pool, zone, f"dd if={path} bs=1 count=1 2>/dev/null | wc -c")
        assert p.stdout.strip() == "0", path
    p = zsh(pool, zone, "dmesg", check=False)
    assert p.returncode != 0 or p.stdout.strip() == ""


# ---- ids -------------------------------------------------------------------

def test_zone_root_is_an_unprivileged_host_user(pool, zone):
    base, count = id_map(pool, zone)
    assert base >= 65536 and count == 65536
    with open(f"/proc/{init_pid(pool, zone)}/status") as f:
        uids = [l for l in f if l.startswith(("Uid:", "Gid:"))]
    for line in uids:
        assert set(line.split()[1:]) == {str(base)}, line
    inside = zsh(pool, zone, "cat /proc/self/uid_map").stdout.split()
    assert inside == ["0", str(base), "65536"]
    assert zsh(pool, zone, "id -u").stdout.strip() == "0"


def test_files_the_zone_writes_belong_to_its_ids(pool, zone):
    base, _ = id_map(pool, zone)
    zsh(pool, zone, "echo x > /owned; chown 1000:1001 /owned; "
                    "touch /rootfile")
    delta = os.path.join(pool.root, zone, "delta")
    st = os.lstat(os.path.join(delta, "owned"))
    assert (st.st_uid, st.st_gid) == (base + 1000, base + 1001)
    st = os.lstat(os.path.join(delta, "rootfile"))
    assert (st.st_uid, st.st_gid) == (base, base)
    # the image stays as installed: nothing is chowned per zone
    img = os.path.join(pool.root, "images", pool.get(zone)["image_uuid"],
                       "root", "bin")
    assert os.lstat(img).st_uid == 0
    assert zsh(pool, zone, "stat -c %u /bin").stdout.strip() == "0"


def test_zones_get_disjoint_ranges(pool, image):
    a = pool.create(zone_payload(image))
    b = pool.create(zone_payload(image))
    (ba, ca), (bb, cb) = id_map(pool, a), id_map(pool, b)
    assert ba + ca <= bb or bb + cb <= ba


def ranges_held_by(prefix):
    """Registry slots whose dataset path starts with prefix."""
    registry = "/var/lib/zonekit/idmap"
    out = []
    for name in os.listdir(registry) if os.path.isdir(registry) else []:
        if not name.startswith("."):
            with open(os.path.join(registry, name)) as f:
                if f.read().strip().startswith(prefix):
                    out.append(name)
    return out


def test_range_is_released_at_delete(pool, image):
    uuid = pool.create(zone_payload(image))
    dataset = os.path.join(pool.root, uuid)
    assert len(ranges_held_by(dataset)) == 1
    pool.vmadm("delete", uuid, check=True)
    assert ranges_held_by(dataset) == []


def test_setuid_programs_still_work_inside(pool, zone, idprobe):
    copy_into_zone(pool, zone, idprobe, "/idprobe")
    zsh(pool, zone, "cp /idprobe /suid && chown 0:0 /suid && chmod 4755 /suid")
    out = zsh(pool, zone, "/idprobe as 1000 /suid euid").stdout.strip()
    assert out == "0"
    out = zsh(pool, zone, "/idprobe as 1000 /idprobe euid").stdout.strip()
    assert out == "1000"


def test_inotify_exhaustion_stays_in_the_zone(pool, zone, idprobe):
    """200 inotify instances asked for in a zone: the zone hits its own
    per-user limit, and host root can still make its own."""
    copy_into_zone(pool, zone, idprobe, "/tmp/idprobe")
    argv = [cmd_path("zlogin"), zone, "/tmp/idprobe inotify 200"]
    hog = subprocess.Popen(argv, env=pool.env, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        opened = int(hog.stdout.readline())
        limit = int(open("/proc/sys/fs/inotify/max_user_instances").read())
        assert opened <= limit
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(os.O_CLOEXEC)
        assert fd >= 0, os.strerror(ctypes.get_errno())
        os.close(fd)
    finally:
        hog.stdin.close()
        hog.wait(timeout=30)


def test_zone_made_before_user_namespaces_is_shifted_once(pool, image):
    """A zone whose config has no uid_map (made by an earlier zonekit) and
    whose files belong to host ids gets a range at its next start and its
    files are shifted into it, setuid bits kept."""
    uuid = pool.create(zone_payload(image))
    zsh(pool, uuid, "mkdir -p /home/u && echo hi > /home/u/f && "
                    "chown -R 1000:1000 /home/u && touch /s && chmod 4755 /s")
    pool.vmadm("stop", "-F", uuid, check=True)
    old_base, _ = id_map(pool, uuid)
    delta = os.path.join(pool.root, uuid, "delta")
    # as an earlier zonekit left it: host ids, no map in the config
    for dirpath, dirnames, filenames in os.walk(delta):
        for name in dirnames + filenames + [""]:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if st.st_uid < old_base:
                continue    # overlayfs whiteouts: host root's already
            os.chown(path, st.st_uid - old_base, st.st_gid - old_base,
                     follow_symlinks=False)
            if not stat.S_ISLNK(st.st_mode):
                os.chmod(path, stat.S_IMODE(st.st_mode))
    cfg_path = os.path.join(pool.root, "config", f"{uuid}.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    del cfg["uid_map"], cfg["gid_map"]
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    assert os.lstat(os.path.join(delta, "s")).st_uid == 0
    pool.vmadm("start", uuid, check=True)
    base, _ = id_map(pool, uuid)
    st = os.lstat(os.path.join(delta, "home/u/f"))
    assert (st.st_uid, st.st_gid) == (base + 1000, base + 1000)
    st = os.lstat(os.path.join(delta, "s"))
    assert st.st_uid == base and st.st_mode & stat.S_ISUID
    assert not os.path.exists(os.path.join(pool.root, uuid, ".idshift"))
    out = zsh(pool, uuid, "stat -c '%u %g' /home/u/f /s").stdout.split()
    assert out == ["1000", "1000", "0", "0"]


def test_host_without_idmapped_mounts_fails_clearly(pool, image):
    """This host has idmapped mounts; the fault point stands in for one
    that has not: the boot fails with one line saying what is missing, and
    nothing is left."""
    env = dict(pool.env, ZONEKIT_FAULT="boot.idmap")
    argv = [cmd_path("vmadm"), "create"]
    p = subprocess.run(argv, input=json.dumps(zone_payload(image)),
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "idmapped mounts" in lines[0], p.stderr
    assert os.listdir(os.path.join(pool.root, "config")) == []
    assert sorted(os.listdir(pool.root)) == ["config", "images"]
    assert ranges_held_by(pool.root) == []
    for d in pool.cgroup_dirs():
        assert not [x for x in os.listdir(d)
                    if os.path.isdir(os.path.join(d, x))], d


def test_zoneadmd_fds_are_all_close_on_exec(pool, zone):
    """Nothing zoneadmd starts may inherit its fds: vmadm's notify pipe,
    the console, the control socket, the cgroup and kstat files."""
    with open(os.path.join(pool.rundir, zone, "zoneadmd.pid")) as f:
        pid = int(f.read().split()[0])
    fds = [fd for fd in os.listdir(f"/proc/{pid}/fdinfo") if int(fd) > 2]
    assert len(fds) >= 3
    for fd in fds:
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            flags = int(f.read().split("flags:")[1].split()[0], 8)
        assert flags & 0o2000000, (fd, os.readlink(f"/proc/{pid}/fd/{fd}"))
