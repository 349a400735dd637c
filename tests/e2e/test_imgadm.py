"""imgadm end to end: install, list, get, delete of the busybox image (from
tools/mkimage-busybox) and of small hand-made images, on a private pool.

Run as root: /usr/bin/python3 -m pytest tests/e2e/test_imgadm.py
"""
import hashlib
import io
import json
import os
import stat
import tarfile

import pytest

ZPOOL = "zones"
OTHER_UUID = "0b5e1c3a-7f42-4d8e-9a61-2c3d4e5f6a7b"
MISSING_UUID = "11111111-2222-4333-8444-555555555555"
ZONE_UUID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


# ---- helpers ---------------------------------------------------------------

def load(path):
    with open(path) as f:
        return json.load(f)


def images_dir(pool):
    return os.path.join(pool.root, "images")


def leftovers(pool):
    """Everything under <root>/images, hidden staging dirs included."""
    d = images_dir(pool)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def image_root(pool, uuid):
    return os.path.join(images_dir(pool), uuid, "root")


def render(headers, rows):
    """imgadm's table: width = longest cell, two spaces, right-trimmed."""
    cols = list(zip(headers, *rows))
    widths = [max(len(c) for c in col) for col in cols]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n"
                   for r in [headers] + rows)


def file_facts(path):
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha1(data).hexdigest(), len(data)


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stored(manifest_path, file_path):
    """The manifest as imgadm keeps it: files[0].sha256 added."""
    m = load(manifest_path)
    m["files"][0]["sha256"] = sha256_of(file_path)
    return m


def write_manifest(tmp_path, manifest, name="manifest.json"):
    path = tmp_path / name
    path.write_text(json.dumps(manifest, indent=2))
    return str(path)


def manifest_for(file_path, uuid=OTHER_UUID, **fields):
    sha1, size = file_facts(file_path)
    m = {"v": 2, "uuid": uuid, "owner": "00000000-0000-0000-0000-000000000000",
         "name": "handmade", "version": "1.0", "state": "active",
         "disabled": False, "public": False,
         "published_at": "2020-01-02T03:04:05.678Z", "type": "zone-dataset",
         "os": "linux", "files": [{"sha1": sha1, "size": size, "compression": "gzip"}],
         "requirements": {}, "tags": {}}
    m.update(fields)
    return m


def make_tar(path, members):
    """members: (TarInfo, bytes or None) pairs, written as a tar.gz."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as t:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return str(path)


def member(name, kind=tarfile.REGTYPE, data=None, mode=0o644, uid=0, gid=0,
           link=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid = kind, mode, uid, gid
    info.linkname, info.mtime = link, 1600000000
    return info, (data if kind == tarfile.REGTYPE else None)


def install(pool, manifest, file_path, check=False):
    return pool.imgadm("install", "-m", manifest, "-f", file_path, check=check)


def fail_line(p):
    """Errors are one line on stderr."""
    assert p.stderr.count("\n") == 1, p.stderr
    return p.stderr.rstrip("\n")


# ---- install ---------------------------------------------------------------

def test_install_busybox(pool, image_files):
    manifest, tarball, uuid = image_files
    m = load(manifest)
    p = install(pool, manifest, tarball, check=True)
    assert p.stdout == f"Installed image {uuid} (busybox@{m['version']})\n"
    assert leftovers(pool) == [uuid]
    assert (load(os.path.join(images_dir(pool), uuid, "manifest.json")) ==
            stored(manifest, tarball))

    root = image_root(pool, uuid)
    bb = os.lstat(os.path.join(root, "bin/busybox"))
    assert stat.S_ISREG(bb.st_mode) and stat.S_IMODE(bb.st_mode) == 0o755
    assert (bb.st_uid, bb.st_gid) == (0, 0)
    assert os.readlink(os.path.join(root, "sbin/init")) == "/bin/busybox"
    assert os.readlink(os.path.join(root, "bin/sh")) == "/bin/busybox"
    assert os.path.islink(os.path.join(root, "usr/bin/env"))
    assert stat.S_IMODE(os.lstat(os.path.join(root, "tmp")).st_mode) == 0o1777
    assert not os.path.lexists(os.path.join(root, "etc/hostname"))
    for d in ["proc", "sys", "dev", "root", "var/log", "home", "mnt"]:
        assert os.listdir(os.path.join(root, d)) == [], d
    with open(os.path.join(root, "etc/inittab")) as f:
        inittab = f.read()
    assert "::askfirst:-/bin/sh" in inittab
    with open(os.path.join(root, "etc/passwd")) as f:
        assert f.readline().startswith("root:x:0:0:")


def test_install_twice_refused(pool, image, image_files):
    manifest, tarball, uuid = image_files
    p = install(pool, manifest, tarball)
    assert p.returncode == 1
    assert fail_line(p) == f"imgadm: image {uuid} is already installed"
    assert leftovers(pool) == [uuid]


def test_corrupt_file_refused(pool, image_files, tmp_path):
    manifest, tarball, uuid = image_files
    data = bytearray(open(tarball, "rb").read())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "corrupt.tar.gz"
    bad.write_bytes(bytes(data))
    want = load(manifest)["files"][0]["sha1"]
    got = hashlib.sha1(bytes(data)).hexdigest()
    p = install(pool, manifest, str(bad))
    assert p.returncode == 1
    assert fail_line(p) == (f'imgadm: image {uuid} file checksum (sha1) error: '
                            f'expected "{want}", file checksum was "{got}"')
    assert leftovers(pool) == []


def test_sha256_checked_when_given(pool, image_files, tmp_path):
    """sha1 alone can be collided; a manifest's sha256 is checked too, and
    the stored manifest always has one (shown by get and list)."""
    manifest, tarball, uuid = image_files
    m = load(manifest)
    good = sha256_of(tarball)
    m["files"][0]["sha256"] = "0" * 64
    p = install(pool, write_manifest(tmp_path, m), tarball)
    assert p.returncode == 1
    assert fail_line(p) == (f'imgadm: image {uuid} file checksum (sha256) error: '
                            f'expected "{"0" * 64}", file checksum was "{good}"')
    assert leftovers(pool) == []

    m["files"][0]["sha256"] = good.upper()
    install(pool, write_manifest(tmp_path, m), tarball, check=True)
    got = json.loads(pool.imgadm("get", uuid, check=True).stdout)
    assert got["manifest"]["files"][0]["sha256"] == good
    p = pool.imgadm("list", "-H", "-o", "files.0.sha256", check=True)
    assert p.stdout == good + "\n"


def test_not_a_regular_file_refused(pool, image_files, tmp_path):
    """A FIFO (or device) as the file is refused at once, not read."""
    manifest, _, uuid = image_files
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = install(pool, manifest, str(fifo))
    assert p.returncode == 1
    assert fail_line(p) == f"imgadm: {fifo} is not a regular file"
    assert leftovers(pool) == []


def test_wrong_size_refused(pool, image_files, tmp_path):
    manifest, tarball, uuid = image_files
    m = load(manifest)
    size = m["files"][0]["size"]
    m["files"][0]["size"] = size + 1
    p = install(pool, write_manifest(tmp_path, m), tarball)
    assert p.returncode == 1
    assert fail_line(p) == (f"imgadm: image {uuid} file size error: "
                            f"expected {size + 1}, file size was {size}")
    assert leftovers(pool) == []


@pytest.mark.parametrize("change, message", [
    ({"files": [{"sha1": "xyz", "size": 1, "compression": "gzip"}]},
     'manifest: "files[0].sha1" must be 40 hex digits'),
    ({"files": [{"sha1": "a" * 40, "sha256": "a" * 40, "size": 1,
                 "compression": "gzip"}]},
     'manifest: "files[0].sha256" must be 64 hex digits'),
    ({"uuid": "not-a-uuid"}, 'manifest: "uuid" must be a UUID'),
    ({"v": 1}, 'manifest: "v" must be 2'),
    ({"os": "plan9"}, 'manifest: "os" must be one of smartos, linux, windows, bsd, illumos, other'),
    ({"files": []}, 'manifest: "files" must be an array of exactly one file'),
])
def test_invalid_manifest_refused(pool, image_files, tmp_path, change, message):
    manifest, tarball, _ = image_files
    m = load(manifest)
    m.update(change)
    p = install(pool, write_manifest(tmp_path, m), tarball)
    assert p.returncode == 1
    assert fail_line(p) == f"imgadm: {message}"
    assert leftovers(pool) == []


def test_unsafe_archive_leaves_nothing(pool, tmp_path):
    """A symlink out of the root followed by a file through it: refused,
    nothing written outside, the staging directory removed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    tarball = make_tar(tmp_path / "evil.tar.gz", [
        member("./", tarfile.DIRTYPE, mode=0o755),
        member("./bin/", tarfile.DIRTYPE, mode=0o755),
        member("./bin/sh", data=b"#!", mode=0o755),
        member("./etc", tarfile.SYMTYPE, link=str(outside)),
        member("./etc/passwd", data=b"pwned"),
    ])
    p = install(pool, write_manifest(tmp_path, manifest_for(tarball)), tarball)
    assert p.returncode == 1
    assert fail_line(p) == (f'imgadm: cannot unpack image {OTHER_UUID}: archive entry '
                            '"./etc/passwd": path passes through a symbolic link')
    assert os.listdir(outside) == []
    assert leftovers(pool) == []


def test_device_node_refused(pool, tmp_path):
    tarball = make_tar(tmp_path / "dev.tar.gz", [
        member("dev/", tarfile.DIRTYPE, mode=0o755),
        member("dev/mem", tarfile.CHRTYPE, mode=0o666),
    ])
    p = install(pool, write_manifest(tmp_path, manifest_for(tarball)), tarball)
    assert p.returncode == 1
    assert fail_line(p).endswith('archive entry "dev/mem": character device refused')
    assert leftovers(pool) == []


def test_ownership_and_modes_preserved(pool, tmp_path):
    tarball = make_tar(tmp_path / "own.tar.gz", [
        member("./", tarfile.DIRTYPE, mode=0o755),
        member("./home/", tarfile.DIRTYPE, mode=0o750, uid=1234, gid=4321),
        member("./home/su", data=b"x", mode=0o4750, uid=0, gid=4321),
        member("./home/mine", data=b"y", mode=0o600, uid=1234, gid=4321),
        member("./abs", tarfile.SYMTYPE, link="/home/mine", uid=1234, gid=4321),
        member("./hard", tarfile.LNKTYPE, link="./home/mine"),
    ])
    install(pool, write_manifest(tmp_path, manifest_for(tarball)), tarball, check=True)
    root = image_root(pool, OTHER_UUID)
    home = os.lstat(os.path.join(root, "home"))
    assert (home.st_uid, home.st_gid, stat.S_IMODE(home.st_mode)) == (1234, 4321, 0o750)
    assert home.st_mtime == 1600000000
    su = os.lstat(os.path.join(root, "home/su"))
    assert (su.st_uid, su.st_gid, stat.S_IMODE(su.st_mode)) == (0, 4321, 0o4750)
    mine = os.lstat(os.path.join(root, "home/mine"))
    assert (mine.st_uid, stat.S_IMODE(mine.st_mode), mine.st_nlink) == (1234, 0o600, 2)
    link = os.lstat(os.path.join(root, "abs"))
    assert (link.st_uid, os.readlink(os.path.join(root, "abs"))) == (1234, "/home/mine")


# ---- list ------------------------------------------------------------------

def busybox_row(image_files, fields=("uuid", "name", "version", "os", "type", "pub")):
    m = load(image_files[0])
    values = dict(m, pub=m["published_at"][:10])
    return [str(values[f]) for f in fields]


def test_list_table(pool, image, image_files):
    headers = ["UUID", "NAME", "VERSION", "OS", "TYPE", "PUB"]
    row = busybox_row(image_files)
    p = pool.imgadm("list", check=True)
    assert p.stdout == render(headers, [row])
    assert p.stdout.splitlines()[0].startswith("UUID" + " " * 34 + "NAME")

    # As on SmartOS, -H keeps the widths the headers gave the columns.
    p = pool.imgadm("list", "-H", check=True)
    assert p.stdout == render(headers, [row]).split("\n", 1)[1]
    assert "  1.35.0   linux  " in p.stdout

    p = pool.imgadm("list", "-o", "name,version,tags.init", check=True)
    assert p.stdout == render(["NAME", "VERSION", "TAGS.INIT"],
                              [row[1:3] + ["busybox"]])

    p = pool.imgadm("list", "-p", "-o", "uuid,name,pub", check=True)
    assert p.stdout == f"{image}:busybox:{row[5]}\n"

    p = pool.imgadm("list", "-o", "name,homepage", check=True)
    assert p.stdout.splitlines()[1].split() == ["busybox", "-"]


def test_list_empty_pool(pool):
    p = pool.imgadm("list", check=True)
    assert p.stdout == "UUID  NAME  VERSION  OS  TYPE  PUB\n"
    assert json.loads(pool.imgadm("list", "-j", check=True).stdout) == []


def test_list_filters(pool, image, image_files):
    def names(*filters):
        p = pool.imgadm("list", "-H", "-o", "name", *filters, check=True)
        return p.stdout.split()
    assert names("name=busybox") == ["busybox"]
    assert names("name=busy") == []
    assert names("name=~busy") == ["busybox"]
    assert names("os=linux", "type=zone-dataset") == ["busybox"]
    assert names("os=linux", "type=lx-dataset") == []
    assert names("tags.init=busybox") == ["busybox"]
    p = pool.imgadm("list", "nonsense")
    assert p.returncode == 2 and "nonsense" in fail_line(p)


def test_list_sorted_by_published_at_then_name(pool, image, image_files, tmp_path):
    _, tarball, uuid = image_files
    older = manifest_for(tarball, name="zzz-older",
                         published_at="2001-01-01T00:00:00.000Z")
    install(pool, write_manifest(tmp_path, older), tarball, check=True)

    p = pool.imgadm("list", "-H", "-o", "name", check=True)
    assert p.stdout.split() == ["zzz-older", "busybox"]
    p = pool.imgadm("list", "-H", "-o", "name", "-s", "name", check=True)
    assert p.stdout.split() == ["busybox", "zzz-older"]
    p = pool.imgadm("list", "-H", "-o", "name", "-s", "-published_at", check=True)
    assert p.stdout.split() == ["busybox", "zzz-older"]

    listed = json.loads(pool.imgadm("list", "-j", check=True).stdout)
    assert [x["manifest"]["uuid"] for x in listed] == [OTHER_UUID, uuid]


def test_list_json(pool, image, image_files):
    listed = json.loads(pool.imgadm("list", "-j", check=True).stdout)
    assert listed == [{"manifest": stored(*image_files[:2]), "zpool": ZPOOL}]


# ---- get / info --------------------------------------------------------------

@pytest.mark.parametrize("verb", ["get", "info"])
def test_get(pool, image, image_files, verb):
    p = pool.imgadm(verb, image, check=True)
    assert json.loads(p.stdout) == {"manifest": stored(*image_files[:2]),
                                    "zpool": ZPOOL}
    assert p.stdout.startswith('{\n  "manifest": {\n    "')


@pytest.mark.parametrize("verb", ["get", "info", "delete"])
def test_unknown_image_exit_3(pool, verb):
    p = pool.imgadm(verb, MISSING_UUID)
    assert p.returncode == 3
    assert fail_line(p) == f'imgadm: image "{MISSING_UUID}" was not found on zpool "zones"'


def test_damaged_image_is_not_exit_3(pool, image):
    """Exit 3 means "not installed", told by the error's code: an installed
    image whose manifest cannot be read is an ordinary failure."""
    manifest = os.path.join(pool.root, "images", image, "manifest.json")
    os.rename(manifest, manifest + ".away")
    try:
        p = pool.imgadm("get", image)
        assert p.returncode == 1
        assert fail_line(p).startswith(f"imgadm: image {image} is damaged: ")
    finally:
        os.rename(manifest + ".away", manifest)


@pytest.mark.parametrize("verb", ["get", "info", "delete"])
def test_bad_uuid_exit_2(pool, verb):
    p = pool.imgadm(verb, "not-a-uuid")
    assert p.returncode == 2
    assert '"not-a-uuid"' in fail_line(p)


# ---- delete ------------------------------------------------------------------

def test_delete(pool, image):
    p = pool.imgadm("delete", image, check=True)
    assert p.stdout == f"Deleted image {image}\n"
    assert leftovers(pool) == []
    # the image's lock file goes with it
    assert not os.path.exists(os.path.join(pool.rundir, "locks",
                                           f"image-{image}.lock"))
    assert pool.imgadm("get", image).returncode == 3
    assert pool.imgadm("list", "-H", check=True).stdout == ""


def test_delete_refused_while_a_zone_uses_it(pool, image):
    """vmadm is not needed: a zone config naming the image is what counts."""
    cfgdir = os.path.join(pool.root, "config")
    os.makedirs(cfgdir, exist_ok=True)
    cfg = os.path.join(cfgdir, f"{ZONE_UUID}.json")
    with open(cfg, "w") as f:
        json.dump({"uuid": ZONE_UUID, "zonename": ZONE_UUID, "alias": "user",
                   "brand": "joyent-minimal", "image_uuid": image,
                   "state": "stopped"}, f)
    try:
        p = pool.imgadm("delete", image)
        assert p.returncode == 1
        assert fail_line(p) == f"imgadm: image {image} is used by zone {ZONE_UUID}"
        assert leftovers(pool) == [image]
    finally:
        os.unlink(cfg)
    pool.imgadm("delete", image, check=True)
    assert leftovers(pool) == []


# ---- usage -------------------------------------------------------------------

def test_usage(pool):
    p = pool.imgadm("help")
    assert p.returncode == 0 and p.stdout.startswith("Usage: imgadm")
    assert pool.imgadm().returncode == 2
    p = pool.imgadm("frobnicate")
    assert p.returncode == 2 and '"frobnicate"' in fail_line(p)
    p = pool.imgadm("install", "-m", "only-a-manifest")
    assert p.returncode == 2
    p = pool.imgadm("list", "-Z")
    assert p.returncode == 2
