"""Devices: a zone opens only the devices of its allowlist (docs/cgroups.md).

The list is enforced twice: by the v1 devices cgroup and by a
BPF_CGROUP_DEVICE program on the zone's cgroup2 directory (unified/ on this
hybrid host).  Host device nodes are put into the zone's /dev by the test,
as host root, through /proc/<init>/root; the zone's root cannot make them
(no CAP_MKNOD).  Each mechanism is shown to hold alone by switching the
other off from the host: "a" written to the zone's devices.allow (v1 wide
open), the program detached with BPF_PROG_DETACH (ctypes, no bpftool).
With both off the same opens succeed, so the EPERMs are the device policy's
and nothing else's.
"""
import ctypes
import os
import platform
import stat
import struct
import subprocess
import sys

import pytest

from conftest import CGROUP_ROOT, copy_into_zone, zone_payload

# ---- bpf(2) through ctypes: the few commands the tests need ----

SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_DETACH = 5, 8, 9
BPF_PROG_GET_FD_BY_ID = 13
BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_QUERY = 15, 16
BPF_CGROUP_DEVICE = 6
BPF_PROG_TYPE_CGROUP_DEVICE = 15
ATTR_SIZE = 128          # bigger than any union bpf_attr member used; zeroed

_libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd, attr):
    buf = (ctypes.c_char * len(attr)).from_buffer(attr)
    r = _libc.syscall(SYS_BPF, cmd, buf, len(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"bpf({cmd}): {os.strerror(e)}")
    return r


def device_progs(cgroup_dir):
    """(attach flags, [prog ids]) of the device programs on a cgroup."""
    ids = (ctypes.c_uint32 * 16)()
    attr = bytearray(ATTR_SIZE)
    fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        struct.pack_into("=II", attr, 0, fd, BPF_CGROUP_DEVICE)
        struct.pack_into("=QI", attr, 16, ctypes.addressof(ids), len(ids))
        bpf(BPF_PROG_QUERY, attr)
    finally:
        os.close(fd)
    flags, = struct.unpack_from("=I", attr, 12)
    count, = struct.unpack_from("=I", attr, 24)
    return flags, list(ids[:count])


def prog_fd(prog_id):
    attr = bytearray(ATTR_SIZE)
    struct.pack_into("=I", attr, 0, prog_id)
    return bpf(BPF_PROG_GET_FD_BY_ID, attr)


def prog_info(prog_id):
    """(program type, name) of a loaded program."""
    info = (ctypes.c_char * 256)()
    attr = bytearray(ATTR_SIZE)
    fd = prog_fd(prog_id)
    try:
        struct.pack_into("=IIQ", attr, 0, fd, len(info), ctypes.addressof(info))
        bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
    finally:
        os.close(fd)
    raw = bytes(info)
    return (struct.unpack_from("=I", raw, 0)[0],
            raw[64:80].split(b"\0")[0].decode())


def detach_device_progs(cgroup_dir):
    for prog_id in device_progs(cgroup_dir)[1]:
        attr = bytearray(ATTR_SIZE)
        cg = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
        pfd = prog_fd(prog_id)
        try:
            struct.pack_into("=III", attr, 0, cg, pfd, BPF_CGROUP_DEVICE)
            bpf(BPF_PROG_DETACH, attr)
        finally:
            os.close(pfd)
            os.close(cg)


def attach_allow_all(cgroup_dir):
    """An exclusive (flags 0) device program that allows everything: what
    an ancestor forbidding programs below it looks like."""
    insns = struct.pack("<BBhi", 0xb7, 0, 0, 1) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    code = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"MPL-2.0")
    attr = bytearray(ATTR_SIZE)
    struct.pack_into("=IIQQ", attr, 0, BPF_PROG_TYPE_CGROUP_DEVICE, 2,
                     ctypes.addressof(code), ctypes.addressof(lic))
    pfd = bpf(BPF_PROG_LOAD, attr)
    cg = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        attr = bytearray(ATTR_SIZE)
        struct.pack_into("=IIII", attr, 0, cg, pfd, BPF_CGROUP_DEVICE, 0)
        bpf(BPF_PROG_ATTACH, attr)
    finally:
        os.close(cg)
        os.close(pfd)


# ---- the zone and its cgroups ----

def cgroup2_dir(pool, uuid):
    """The zone's directory in the cgroup2 hierarchy (pure v2 or hybrid)."""
    rel = f"{pool.cgroup_parent}/{uuid}"
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
        return os.path.join(CGROUP_ROOT, rel)
    return os.path.join(CGROUP_ROOT, "unified", rel)


def cgroup2_parent(pool):
    return os.path.dirname(cgroup2_dir(pool, "x"))


def v1_devices_dir(pool, uuid):
    d = os.path.join(CGROUP_ROOT, "devices", pool.cgroup_parent, uuid)
    return d if os.path.isdir(d) else None


needs_bpf = pytest.mark.skipif(SYS_BPF is None, reason="bpf(2) number unknown")


@pytest.fixture
def zone(pool, image, probe_binary):
    uuid = pool.create(zone_payload(image))
    copy_into_zone(pool, uuid, probe_binary, "/tmp/probe")
    return uuid


def probe(pool, uuid, *attempts):
    p = pool.zlogin(uuid, "/tmp/probe", *attempts)
    assert p.returncode == 0, (p.stdout, p.stderr)
    return dict(line.split() for line in p.stdout.splitlines())


# Host devices the zone must never open: a block device (a loop disk), a
# misc character device, the host console.  The nodes are made by
# major:minor on the host, so only the drivers must exist (they do here).
HOST_NODES = {
    "zk-loop0": (stat.S_IFBLK, 7, 0),
    "zk-loop-control": (stat.S_IFCHR, 10, 237),
    "zk-host-console": (stat.S_IFCHR, 5, 1),
}


def host_opens():
    """The probe attempts: block devices read only, the rest read-write."""
    return [("open_r:" if kind == stat.S_IFBLK else "open_rw:") + "/dev/" + name
            for name, (kind, _, _) in HOST_NODES.items()]


# Run as a child (one thread, so it may setns): clone a mount of each host
# node (open_tree), enter the zone's mount namespace, put the clone over
# the zone's file (move_mount).  Syscall numbers are the same everywhere.
BIND_INTO_ZONE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def check(r, what):
    if r < 0:
        e = ctypes.get_errno()
        sys.exit(f"{what}: {os.strerror(e)}")
    return r
AT_FDCWD, OPEN_TREE_CLONE, MOVE_MOUNT_F_EMPTY_PATH = -100, 1, 4
pairs = [a.split("=") for a in sys.argv[2:]]
trees = [check(libc.syscall(428, AT_FDCWD, host.encode(),
                            OPEN_TREE_CLONE | os.O_CLOEXEC), "open_tree " + host)
         for host, _ in pairs]
ns = os.open(f"/proc/{sys.argv[1]}/ns/mnt", os.O_RDONLY)
check(libc.setns(ns, 0x20000), "setns")          # CLONE_NEWNS
for fd, (_, zone) in zip(trees, pairs):
    check(libc.syscall(429, fd, b"", AT_FDCWD, zone.encode(),
                       MOVE_MOUNT_F_EMPTY_PATH), "move_mount " + zone)
"""


@pytest.fixture
def host_nodes(pool, zone):
    """HOST_NODES made by host root (mode 0666, so file permissions are no
    reason to fail) and bound over files in the zone's /dev.  A device node
    made in the zone's own /dev would not open at all: that tmpfs belongs
    to the zone's user namespace, which makes it nodev.  A bind mount of a
    host node is what "a host device by any path" looks like."""
    src = os.path.join(pool.base, "hostdev")
    os.mkdir(src)
    pairs = []
    for name, (kind, major, minor) in HOST_NODES.items():
        path = os.path.join(src, name)
        os.mknod(path, kind | 0o666, os.makedev(major, minor))
        os.chmod(path, 0o666)
        pairs.append(f"{path}=/dev/{name}")
    targets = " ".join(f"/dev/{name}" for name in HOST_NODES)
    p = pool.zlogin(zone, f"touch {targets}")
    assert p.returncode == 0, p.stderr
    p = subprocess.run([sys.executable, "-c", BIND_INTO_ZONE,
                        str(pool.get(zone)["pid"])] + pairs,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return zone


def open_v1_wide(pool, uuid):
    d = v1_devices_dir(pool, uuid)
    with open(os.path.join(d, "devices.allow"), "w") as f:
        f.write("a")
    with open(os.path.join(d, "devices.list")) as f:
        assert f.read().strip() == "a *:* rwm"


# ---- tests ----

ZONE_V1_LIST = ["c 1:3 rw", "c 1:5 rw", "c 1:7 rw", "c 1:8 rw", "c 1:9 rw",
                "c 5:0 rw", "c 5:2 rw", "c 136:* rw"]


@needs_bpf
def test_program_is_attached_exclusively(pool, zone):
    flags, ids = device_progs(cgroup2_dir(pool, zone))
    assert len(ids) == 1
    assert flags == 0       # neither override nor multi: nothing below adds one
    assert prog_info(ids[0]) == (BPF_PROG_TYPE_CGROUP_DEVICE, "zk_devices")
    d = v1_devices_dir(pool, zone)
    if d:
        with open(os.path.join(d, "devices.list")) as f:
            assert f.read().split("\n")[:-1] == ZONE_V1_LIST


@needs_bpf
def test_reboot_keeps_the_program(pool, zone):
    """A reboot keeps the zone's cgroup, and the program on it."""
    before = device_progs(cgroup2_dir(pool, zone))
    pool.vmadm("reboot", zone, check=True)
    assert device_progs(cgroup2_dir(pool, zone)) == before


def test_mknod_inside_the_zone_fails(pool, zone):
    res = probe(pool, zone, "mknod_b:/dev/sda:8:0", "mknod_b:/tmp/sda:8:0",
                "mknod_c:/dev/mem:1:1", "mknod_c:/dev/null2:1:3")
    # no CAP_MKNOD: not even an allowed device can be made
    assert res == {"mknod_b:/dev/sda:8:0": "EPERM",
                   "mknod_b:/tmp/sda:8:0": "EPERM",
                   "mknod_c:/dev/mem:1:1": "EPERM",
                   "mknod_c:/dev/null2:1:3": "EPERM"}


def test_host_devices_in_the_zone_cannot_be_opened(pool, host_nodes):
    res = probe(pool, host_nodes, *host_opens())
    assert set(res.values()) == {"EPERM"}, res


@needs_bpf
def test_the_program_alone_denies(pool, host_nodes):
    """v1 opened wide from the host: only the BPF program is left."""
    if v1_devices_dir(pool, host_nodes) is None:
        pytest.skip("no v1 devices hierarchy: the program is all there is")
    open_v1_wide(pool, host_nodes)
    res = probe(pool, host_nodes, *host_opens(), "read:/dev/zero")
    assert res.pop("read:/dev/zero") == "OK"
    assert set(res.values()) == {"EPERM"}, res


@needs_bpf
def test_v1_alone_denies_and_both_off_allows(pool, host_nodes):
    """The program detached: v1 alone still denies.  Then v1 opened too:
    the same opens work, so the EPERMs above were the device policy's."""
    if v1_devices_dir(pool, host_nodes) is None:
        pytest.skip("no v1 devices hierarchy")
    cg2 = cgroup2_dir(pool, host_nodes)
    detach_device_progs(cg2)
    assert device_progs(cg2)[1] == []
    res = probe(pool, host_nodes, *host_opens())
    assert set(res.values()) == {"EPERM"}, res
    open_v1_wide(pool, host_nodes)
    res = probe(pool, host_nodes, *host_opens())
    assert set(res.values()) == {"OK"}, res


def test_allowed_devices_work(pool, zone):
    res = probe(pool, zone, "read:/dev/null", "write:/dev/null",
                "read:/dev/zero", "read:/dev/urandom", "read:/dev/random",
                "write:/dev/full", "open_rw:/dev/console", "pty",
                "open_rw:/dev/ptmx", "open_rw:/dev/tty")
    assert res == {
        "read:/dev/null": "EIO",          # opened; reads nothing, as it should
        "write:/dev/null": "OK",
        "read:/dev/zero": "OK",
        "read:/dev/urandom": "OK",
        "read:/dev/random": "OK",
        "write:/dev/full": "ENOSPC",      # opened; the write is what fails
        "open_rw:/dev/console": "OK",     # a pty of the zone's own devpts
        "pty": "OK",
        "open_rw:/dev/ptmx": "OK",
        # past the device check; zlogin without a pty leaves no ctty
        "open_rw:/dev/tty": "ENXIO",
    }


def test_ptys_beyond_minor_255_work(pool, zone):
    """The zone's devpts numbers ptys 136:N for every N: 136:* covers them
    all, no other pts major (137-143) is ever used."""
    assert probe(pool, zone, "pty_many:300") == {"pty_many:300": "OK"}


MKNOD_IN_CGROUPS = r"""
import os, sys
for d in sys.argv[1:3]:
    with open(os.path.join(d, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
for spec in sys.argv[3:]:
    path, kind, major, minor = spec.split(":")
    mode = {"b": 0o60000, "c": 0o20000}[kind] | 0o600
    try:
        os.mknod(path, mode, os.makedev(int(major), int(minor)))
        os.unlink(path)
        print(os.path.basename(path), "OK")
    except OSError as e:
        print(os.path.basename(path), os.strerror(e.errno).replace(" ", "_"))
"""


@needs_bpf
def test_mknod_by_a_privileged_process_in_the_zone_cgroup(pool, zone):
    """No 'm' in the list, seen without the capability check in front: a
    host-root process (every capability) joins the zone's cgroups and makes
    nodes in a host directory.  The program alone (v1 wide open) denies
    them, both off allow them, v1 alone (the list written back) denies."""
    v1 = v1_devices_dir(pool, zone)
    if v1 is None:
        pytest.skip("no v1 devices hierarchy")
    work = os.path.join(pool.base, "mknod")
    os.mkdir(work)
    specs = [f"{work}/{n}" for n in ("null:c:1:3", "sda:b:8:0", "pts:c:136:5")]

    def attempt():
        p = subprocess.run([sys.executable, "-c", MKNOD_IN_CGROUPS, v1,
                            cgroup2_dir(pool, zone)] + specs,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return set(dict(l.split() for l in p.stdout.splitlines()).values())

    open_v1_wide(pool, zone)
    assert attempt() == {"Operation_not_permitted"}
    detach_device_progs(cgroup2_dir(pool, zone))
    assert attempt() == {"OK"}
    with open(os.path.join(v1, "devices.deny"), "w") as f:
        f.write("a")
    for line in ZONE_V1_LIST:
        with open(os.path.join(v1, "devices.allow"), "w") as f:
            f.write(line)
    assert attempt() == {"Operation_not_permitted"}


@needs_bpf
def test_boot_fails_when_the_program_cannot_be_attached(pool, image):
    """An ancestor's exclusive device program forbids one below it: the
    zone does not boot unconfined, the error names the cgroup and the
    cause, and nothing is left behind."""
    parent = cgroup2_parent(pool)
    os.makedirs(parent)                 # removed by the pool's teardown
    attach_allow_all(parent)
    uuid = "11111111-2222-4333-8444-d0d0d0d0d0d0"
    p = pool.create(zone_payload(image, uuid=uuid), check=False)
    assert p.returncode == 1
    assert (f"cannot attach the device program to cgroup {parent}/{uuid}: "
            "Operation not permitted") in p.stderr, p.stderr
    assert pool.cgroup_dirs(uuid) == []
    assert pool.processes() == []
    assert not os.path.exists(os.path.join(pool.rundir, uuid))
