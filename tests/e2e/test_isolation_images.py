"""Hostile images cannot hurt the host (zonekit issue 8).

Each test builds a hostile image file with Python's tarfile (and gzip) and
hands it to the real `imgadm install`, as root, on a pool that already
holds one good image.  Every attack must fail with a one-line message,
leave no image (`imgadm list`), leave the pool exactly as it was (a
listing of the pool directory before and after), and create nothing
outside it: /etc, /tmp, /var/tmp and the test's own directories are
searched for the escape names.

The pool is a small tmpfs mounted by the test, so an unpacker that lost
a bound would fill 64 MiB of memory-backed file system, not the host's
disk, and fail with a different message.

Run as root: /usr/bin/python3 -m pytest tests/e2e/test_isolation_images.py
"""
import gzip
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import uuid as uuidlib

import pytest

from conftest import cmd_path, wait_for
from test_imgadm import (fail_line, install, manifest_for, member, make_tar,
                         write_manifest)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

GOOD_UUID = "7d9a1f0e-3c2b-4a5d-8e6f-0a1b2c3d4e5f"
EVIL_UUID = "e0e0e0e0-1111-4222-8333-444444444444"
POOL_SIZE = 64 << 20
GiB = 1 << 30
KiB = 1 << 10
MiB = 1 << 20


# ---- the pool and what "unchanged" means --------------------------------------

class Env:
    def __init__(self, pool, tmp_path):
        self.pool = pool
        self.tmp = tmp_path
        self.tag = f"zk-escape-{uuidlib.uuid4().hex[:12]}"
        self.outside = tmp_path / "outside"
        self.outside.mkdir()

    @property
    def conf(self):
        return os.path.join(self.pool.root, "config", "imgadm.conf")

    def configure(self, **keys):
        os.makedirs(os.path.dirname(self.conf), exist_ok=True)
        with open(self.conf, "w") as f:
            json.dump(keys, f)

    def images_dir(self):
        return os.path.join(self.pool.root, "images")


def mount_tmpfs(path, size, inodes=None):
    opts = f"size={size},mode=0755" + (f",nr_inodes={inodes}" if inodes else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "zk-test-pool", path],
                   check=True)


def good_image(env):
    """A small ordinary image, installed first: the attack must not touch it."""
    tarball = make_tar(env.tmp / "good.tar.gz", [
        member("./", tarfile.DIRTYPE, mode=0o755),
        member("./etc/", tarfile.DIRTYPE, mode=0o755),
        member("./etc/passwd", data=b"root:x:0:0::/:/bin/sh\n"),
    ])
    m = manifest_for(tarball, uuid=GOOD_UUID, name="good")
    install(env.pool, write_manifest(env.tmp, m, "good.json"), tarball,
            check=True)


def make_env(pool, tmp_path, size=POOL_SIZE, inodes=None):
    mount_tmpfs(pool.root, size, inodes)
    env = Env(pool, tmp_path)
    good_image(env)
    return env


@pytest.fixture
def env(pool, tmp_path):
    e = make_env(pool, tmp_path)
    try:
        yield e
    finally:
        subprocess.run(["umount", pool.root], capture_output=True)


def snapshot(top):
    """Every path under top with what matters about it (not directory
    times, which a failed install's staging directory bumps)."""
    seen = {}
    for dirpath, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            facts = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                     st.st_uid, st.st_gid, st.st_nlink)
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    facts += (st.st_size, st.st_mtime, f.read())
            elif stat.S_ISLNK(st.st_mode):
                facts += (os.readlink(path),)
            seen[os.path.relpath(path, top)] = facts
    return seen


HOST_FILES = ["/etc/passwd", "/etc/shadow", "/etc/hostname"]


def host_facts():
    facts = {}
    for path in HOST_FILES:
        if os.path.lexists(path):
            st = os.lstat(path)
            facts[path] = (st.st_ino, st.st_nlink, st.st_size, st.st_mtime_ns)
    return facts


def escapes(env):
    """Paths named after the test's escape tag, wherever an attack aims."""
    found = []
    for top in ["/", "/etc", "/tmp", "/var/tmp", "/root"]:
        found += [os.path.join(top, n) for n in os.listdir(top) if env.tag in n]
    for dirpath, dirs, files in os.walk(env.pool.base):
        found += [os.path.join(dirpath, n) for n in dirs + files if env.tag in n]
    found += [str(p) for p in env.outside.iterdir()]
    return found


def attack(env, tarball, reason, compression="gzip"):
    """Install the hostile file; it must fail naming the image and the
    reason, and leave the host and the pool as they were."""
    before, host = snapshot(env.pool.root), host_facts()
    m = manifest_for(tarball, uuid=EVIL_UUID, name="evil")
    m["files"][0]["compression"] = compression
    p = install(env.pool, write_manifest(env.tmp, m, "evil.json"), tarball)
    try:
        assert p.returncode == 1, (p.stdout, p.stderr)
        line = fail_line(p)
        assert line == f"imgadm: cannot unpack image {EVIL_UUID}: {reason}"
    finally:
        assert escapes(env) == []
        assert host_facts() == host
        assert snapshot(env.pool.root) == before
    listed = json.loads(env.pool.imgadm("list", "-j", check=True).stdout)
    assert [x["manifest"]["uuid"] for x in listed] == [GOOD_UUID]
    return line


def evil_tar(env, members, name="evil.tar.gz"):
    return make_tar(env.tmp / name, members)


# ---- path traversal ----------------------------------------------------------

@pytest.mark.parametrize("path, why", [
    ("../{tag}", '".." component refused'),
    ("./../../../../{tag}", '".." component refused'),
    ("etc/../../../{tag}", '".." component refused'),
    ("/etc/{tag}", "absolute path refused"),
    ("/tmp/{tag}", "absolute path refused"),
])
def test_path_traversal(env, path, why):
    name = path.format(tag=env.tag)
    tarball = evil_tar(env, [
        member("./", tarfile.DIRTYPE, mode=0o755),
        member("etc/", tarfile.DIRTYPE, mode=0o755),
        member(name, data=b"escaped"),
    ])
    attack(env, tarball, f'archive entry "{name}": {why}')


# ---- symlink, then write through it ----------------------------------------------

def test_symlink_to_etc_then_write(env):
    tarball = evil_tar(env, [
        member("etc", tarfile.SYMTYPE, link="/etc"),
        member(f"etc/{env.tag}", data=b"root::0:0::/:/bin/sh\n"),
    ])
    attack(env, tarball, f'archive entry "etc/{env.tag}": path passes '
                         'through a symbolic link')


def test_symlink_outside_then_write(env):
    tarball = evil_tar(env, [
        member("out", tarfile.SYMTYPE, link=str(env.outside)),
        member("out/sub/file", data=b"escaped"),
    ])
    attack(env, tarball, 'archive entry "out/sub/file": path passes through '
                         'a symbolic link')


def test_symlink_then_directory_through_it(env):
    tarball = evil_tar(env, [
        member("d", tarfile.SYMTYPE, link=str(env.outside)),
        member(f"d/{env.tag}/", tarfile.DIRTYPE, mode=0o755),
    ])
    attack(env, tarball, f'archive entry "d/{env.tag}/": path passes through '
                         'a symbolic link')


def test_relative_symlink_escaping_root(env):
    tarball = evil_tar(env, [
        member("a/b/up", tarfile.SYMTYPE, link="../../../../etc"),
    ])
    attack(env, tarball, 'archive entry "a/b/up": symbolic link target '
                         '"../../../../etc" escapes the image root')


# ---- hard links out ------------------------------------------------------------

@pytest.mark.parametrize("target, why", [
    ("/etc/shadow", 'hard link target "/etc/shadow" escapes the image root'),
    ("../../../../../etc/passwd",
     'hard link target "../../../../../etc/passwd" escapes the image root'),
    ("lnk/passwd", 'hard link target "lnk/passwd" passes through a symbolic link'),
])
def test_hardlink_out(env, target, why):
    """A hard link to a host file would hand the zone the host's inode (its
    owner could then write /etc/shadow); host link counts must not move."""
    tarball = evil_tar(env, [
        member("lnk", tarfile.SYMTYPE, link="/etc"),
        member("h", tarfile.LNKTYPE, link=target),
    ])
    attack(env, tarball, f'archive entry "h": {why}')


# ---- device nodes ------------------------------------------------------------------

@pytest.mark.parametrize("kind, major, minor, why", [
    (tarfile.CHRTYPE, 1, 1, "character device refused"),    # /dev/mem
    (tarfile.CHRTYPE, 1, 3, "character device refused"),    # /dev/null
    (tarfile.BLKTYPE, 8, 0, "block device refused"),        # /dev/sda
])
def test_device_node(env, kind, major, minor, why):
    info, _ = member("dev/node", kind, mode=0o666)
    info.devmajor, info.devminor = major, minor
    tarball = evil_tar(env, [member("dev/", tarfile.DIRTYPE, mode=0o755),
                             (info, None)])
    attack(env, tarball, f'archive entry "dev/node": {why}')


# ---- sparse files ------------------------------------------------------------------

def sparse_tar(path, name, realsize, regions):
    """A pax 1.0 sparse member (GNU tar's format): the map of data regions
    leads the data, and only the regions' bytes are stored."""
    text = f"{len(regions)}\n" + "".join(f"{o}\n{n}\n" for o, n in regions)
    data = text.encode()
    data += b"\0" * (-len(data) % 512)
    data += b"".join(b"S" * n for _, n in regions)
    info = tarfile.TarInfo(f"GNUSparseFile.0/{name}")
    info.size, info.mode, info.mtime = len(data), 0o644, 1600000000
    info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                        "GNU.sparse.name": name,
                        "GNU.sparse.realsize": str(realsize)}
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as t:
        t.addfile(info, io.BytesIO(data))
    return str(path)


def test_huge_sparse_file_stays_sparse(env):
    """100 GiB apparent, 8 KiB of data: it lands on a 64 MiB pool using
    no more than its data, so it is bounded rather than refused."""
    size = 100 * GiB
    tarball = sparse_tar(env.tmp / "sparse.tar.gz", "huge", size,
                         [(0, 4096), (size - 4096, 4096)])
    assert os.path.getsize(tarball) < 4096
    m = manifest_for(tarball, name="sparse")
    install(env.pool, write_manifest(env.tmp, m), tarball, check=True)
    path = os.path.join(env.images_dir(), m["uuid"], "root", "huge")
    st = os.stat(path)
    assert st.st_size == size
    assert st.st_blocks * 512 <= 64 * KiB
    with open(path, "rb") as f:
        f.seek(size - 4096)
        assert f.read() == b"S" * 4096
        f.seek(GiB)
        assert f.read(4096) == b"\0" * 4096
    env.pool.imgadm("delete", m["uuid"], check=True)


def test_sparse_file_too_large_refused(env):
    """Holes cost nothing but are bounded too: 2 PiB apparent passes the
    default maxApparentSize (1 TiB) and is refused before it exists."""
    size = 2 << 50
    tarball = sparse_tar(env.tmp / "pib.tar.gz", "pib", size,
                         [(size - 4096, 4096)])
    attack(env, tarball, f'archive entry "pib": unpacked size passes the '
                         f'limit of {1 << 40} bytes (maxApparentSize in {env.conf})')


def test_sparse_map_beyond_size_refused(env):
    tarball = sparse_tar(env.tmp / "beyond.tar.gz", "b", 8192,
                         [(0, 4096), (1 << 50, 4096)])
    attack(env, tarball, 'archive entry "b": data at offset '
                         f'{1 << 50} lies beyond its size 8192')


# ---- gzip bomb and the data limit ------------------------------------------------------

def gzip_bomb(path, size):
    """A tar of one file of `size` zeros, as concatenated gzip members (a
    valid gzip stream): 1 MiB of zeros is compressed once and repeated, so
    the file is ~1000 times smaller than what it expands to."""
    info = tarfile.TarInfo("zeros")
    info.size, info.mode, info.mtime = size, 0o644, 1600000000
    chunk = gzip.compress(b"\0" * MiB, compresslevel=9, mtime=0)
    with open(path, "wb") as f:
        f.write(gzip.compress(info.tobuf(tarfile.GNU_FORMAT), mtime=0))
        for _ in range(size // MiB):
            f.write(chunk)
        f.write(gzip.compress(b"\0" * 1024, mtime=0))
    return str(path)


def test_gzip_bomb_stopped_at_configured_ceiling(env):
    """8 GiB of zeros in an 8 MiB file, with maxUnpackedSize 1 MiB: the
    unpacker stops as the running total passes 1 MiB."""
    tarball = gzip_bomb(env.tmp / "bomb.tar.gz", 8 * GiB)
    assert os.path.getsize(tarball) < 16 * MiB
    env.configure(maxUnpackedSize=MiB)
    attack(env, tarball, 'archive entry "zeros": data written passes the '
                         f'limit of {MiB} bytes (maxUnpackedSize in {env.conf})')


def test_gzip_bomb_stopped_by_free_space(env):
    """With the default ceiling (64 GiB) the pool's free space bounds it:
    64 MiB less the 5 % reserve, before the pool is full."""
    tarball = gzip_bomb(env.tmp / "bomb.tar.gz", 256 * MiB)
    fs = os.statvfs(env.pool.root)
    reserve = fs.f_blocks * fs.f_frsize // 20
    room = fs.f_bavail * fs.f_frsize - reserve
    line = attack(env, tarball, 'archive entry "zeros": data written passes '
                                f'the limit of {room} bytes (free space on '
                                f'{env.images_dir()} less a reserve of '
                                f'{reserve} bytes)')
    assert "No space left" not in line


# ---- file count ----------------------------------------------------------------------

def many_files(env, n):
    return evil_tar(env, [member(f"f/{i}", data=b"") for i in range(n)],
                    name="many.tar.gz")


def test_file_count_ceiling(env):
    env.configure(maxUnpackedFiles=100)
    # f/ is made for the first entry: 100 objects are f/ and f/0 .. f/98.
    attack(env, many_files(env, 150), 'archive entry "f/99": file count '
           f'passes the limit of 100 (maxUnpackedFiles in {env.conf})')


def test_file_count_bounded_by_free_inodes(pool, tmp_path):
    """A pool of 2000 inodes: the image may use them less a reserve of
    5 %, and never all of them."""
    e = make_env(pool, tmp_path, inodes=2000)
    try:
        # imgadm looks once its staging directory and root are made.
        room = os.statvfs(pool.root).f_favail - 2 - 100
        attack(e, many_files(e, 3000), f'archive entry "f/{room - 1}": file '
               f'count passes the limit of {room} (free inodes on '
               f'{e.images_dir()} less a reserve of 100)')
    finally:
        subprocess.run(["umount", pool.root], capture_output=True)


# ---- configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("conf, message", [
    ('{"maxUnpackedSize": "64G"}', '"maxUnpackedSize" must be a positive integer (bytes)'),
    ('{"maxUnpackedFiles": 0}', '"maxUnpackedFiles" must be a positive integer (files)'),
    ('{"maxApparentSize": -5}', '"maxApparentSize" must be a positive integer (bytes)'),
])
def test_bad_config_value(env, conf, message):
    os.makedirs(os.path.dirname(env.conf), exist_ok=True)
    with open(env.conf, "w") as f:
        f.write(conf)
    tarball = evil_tar(env, [member("ok", data=b"fine")])
    before = snapshot(env.pool.root)
    m = manifest_for(tarball, uuid=EVIL_UUID)
    p = install(env.pool, write_manifest(env.tmp, m), tarball)
    assert p.returncode == 1
    assert fail_line(p) == f"imgadm: {env.conf}: {message}"
    assert snapshot(env.pool.root) == before


# ---- one open file -----------------------------------------------------------------------

def traced_env(env):
    """LeakSanitizer cannot work under ptrace: off for traced ASan builds."""
    e = dict(env.pool.env)
    e["ASAN_OPTIONS"] = ":".join(filter(None, [e.get("ASAN_OPTIONS"),
                                               "detect_leaks=0"]))
    return e


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_image_file_opened_once(env):
    """Verified and unpacked through one open file: nothing reopens the
    path, so a file swapped in after the check is never read."""
    tarball = make_tar(env.tmp / "one.tar.gz", [member("ok", data=b"fine")])
    m = manifest_for(tarball, name="once")
    log = env.tmp / "strace.log"
    argv = ["strace", "-f", "-qq", "-o", str(log),
            "-e", "trace=open,openat,openat2,creat,truncate,name_to_handle_at",
            cmd_path("imgadm"), "install", "-m",
            write_manifest(env.tmp, m), "-f", tarball]
    p = subprocess.run(argv, capture_output=True, text=True, env=traced_env(env),
                       timeout=120)
    assert p.returncode == 0, p.stderr
    opens = [l for l in log.read_text().splitlines() if f'"{tarball}"' in l]
    assert len(opens) == 1, opens


def tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for info, data in members:
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_image_file_rewritten_in_place_refused(env):
    """Whoever can write the file could change it in place, on the inode
    imgadm holds open, after it was verified.  The unpacker digests what
    it reads again, so the install fails and leaves nothing.  strace holds
    imgadm for 2 s in its fstatfs (between verify and unpack; its staging
    root exists by then), while the test rewrites the file."""
    good = tar_bytes([member("bin/sh", data=b"#!harmless", mode=0o755)])
    evil = tar_bytes([member("bin/sh", data=b"#!rootkit!", mode=0o4755)])
    assert len(good) == len(evil)
    path = env.tmp / "swap.tar"
    path.write_bytes(good)
    m = manifest_for(str(path), uuid=EVIL_UUID, name="swap")
    m["files"][0]["compression"] = "none"
    before = snapshot(env.pool.root)
    argv = ["strace", "-qq", "-o", "/dev/null", "-e", "trace=fstatfs",
            "-e", "inject=fstatfs:delay_enter=2000000",
            cmd_path("imgadm"), "install", "-m",
            write_manifest(env.tmp, m), "-f", str(path)]
    staging = os.path.join(env.images_dir(), f".{EVIL_UUID}-partial", "root")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=traced_env(env))
    try:
        assert wait_for(lambda: os.path.isdir(staging), timeout=30)
        with open(path, "r+b") as f:
            f.write(evil)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert err == (f"imgadm: image {EVIL_UUID}: {path} changed while it was "
                   "being installed\n")
    assert snapshot(env.pool.root) == before
