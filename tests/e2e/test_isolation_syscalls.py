"""The zone's seccomp filter seen from inside a zone (zonekit issue 8).

Each battery case runs helpers/probe.c as the zone's root through zlogin
and checks the errno: EPERM for the dangerous calls the filter names,
ENOSYS for everything it does not allow (numbers it never heard of, calls
newer than its lists, clone3), EAFNOSUPPORT for vsock sockets.  Where it
can, the probe makes a call the kernel alone would let through (an
io_uring, a descriptor taken from its own pidfd, its own memory read,
itself traced), so only the filter can make it fail.  The positive cases show what zones run still works.

One zone serves the whole module; each case is its own zlogin, so a case
that got through (ptrace) cannot disturb the next.
"""
import tempfile

import pytest

from conftest import Pool, copy_into_zone, zone_payload

# attempt -> errno the zone's root must get
BATTERY = {
    "io_uring_setup": "EPERM",
    "open_by_handle_at": "EPERM",
    "pidfd_getfd": "EPERM",
    "keyctl": "EPERM",
    "add_key": "EPERM",
    "bpf": "EPERM",
    "perf_event_open": "EPERM",
    "userfaultfd": "EPERM",
    "init_module": "EPERM",
    "kexec_load": "EPERM",
    "fsopen": "EPERM",
    "mount_int80": "EPERM",
    "mount_x32": "EPERM",
    "unknown_syscall": "ENOSYS",
    "newer_syscall": "ENOSYS",
    "process_vm_readv": "EPERM",
    "ptrace": "EPERM",
    "unshare_user": "EPERM",
    "clone3": "ENOSYS",
    "vsock": "EAFNOSUPPORT",
}

# what must keep working: glibc's clone3 -> clone fallback for threads,
# fork and exec, and newer calls glibc and systemd make
ALLOWED = ["threads", "fork_exec", "statx", "memfd_create", "pidfd",
           "close_range", "epoll_pwait2"]


@pytest.fixture(scope="module")
def zone(image_files, probe_binary):
    """A running busybox zone with the probe in /tmp: (pool, uuid)."""
    pool = Pool(tempfile.mkdtemp(prefix="zk-e2e-", dir="/var/tmp"))
    try:
        manifest, image_file, image_uuid = image_files
        pool.imgadm("install", "-m", manifest, "-f", image_file, check=True)
        uuid = pool.create(zone_payload(image_uuid, hostname="syscalls"))
        copy_into_zone(pool, uuid, probe_binary, "/tmp/probe")
        yield pool, uuid
    finally:
        pool.teardown()


def probe(zone, attempt):
    pool, uuid = zone
    p = pool.zlogin(uuid, "/tmp/probe", attempt)
    assert p.returncode == 0, (p.stdout, p.stderr)
    name, result = p.stdout.split()
    assert name == attempt
    return result


def zsh(zone, command):
    pool, uuid = zone
    return pool.zlogin(uuid, command)


def int80_works(zone):
    return probe(zone, "int80_getpid") != "SIGSEGV"


@pytest.mark.parametrize("attempt", sorted(BATTERY))
def test_battery(zone, attempt):
    if attempt == "mount_int80" and not int80_works(zone):
        pytest.skip("this kernel has no int $0x80 (no i386 emulation)")
    assert probe(zone, attempt) == BATTERY[attempt]


@pytest.mark.parametrize("attempt", ALLOWED)
def test_allowed(zone, attempt):
    assert probe(zone, attempt) == "OK"


def test_i386_calls_the_filter_allows_work(zone):
    if not int80_works(zone):
        pytest.skip("this kernel has no int $0x80 (no i386 emulation)")
    assert probe(zone, "int80_getpid") == "OK"


def test_busybox_userland_works(zone):
    ps = zsh(zone, "ps -o pid,comm")
    assert ps.returncode == 0 and "init" in ps.stdout, ps
    sh = zsh(zone, "x=$((6 * 7)); echo $x | cat; sleep 0")
    assert (sh.returncode, sh.stdout) == (0, "42\n"), sh
    fifo = zsh(zone, "mkfifo /tmp/f && (echo hi > /tmp/f &) && cat /tmp/f")
    assert fifo.stdout == "hi\n", fifo
    # setuid/setgid to another user, chroot, PER_LINUX32
    su = zsh(zone, "su -s /bin/sh nobody -c id")
    assert su.returncode == 0 and "uid=65534" in su.stdout, su
    assert zsh(zone, "chroot / true").returncode == 0
    assert zsh(zone, "linux32 uname -m").stdout.strip() in ("i686", "i386")


def test_ping_on_loopback(zone):
    p = zsh(zone, "ping -c 1 -W 5 127.0.0.1")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "1 packets received" in p.stdout


def test_denials_read_operation_not_permitted(zone):
    """Programs that report the error show EPERM, not a missing kernel
    feature, for the calls a tenant most often tries."""
    for command in ("dmesg", "unshare -U true", "nsenter -t 1 -n true"):
        p = zsh(zone, command)
        assert p.returncode != 0, command
        assert "Operation not permitted" in p.stderr, (command, p.stderr)
