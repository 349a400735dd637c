"""Shared fixtures for the end-to-end tests.

Each test gets its own pool root, run dir and cgroup parent (nested under
the cgroup pytest runs in), so nothing touches the host's real /zones,
/run/zonekit or zonekit cgroups, and everything a test made is removed even
when it fails.

Commands are the installed ones (PATH), or those in $ZK_BINDIR when set
(e.g. ZK_BINDIR=build to test a build tree).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CGROUP_ROOT = "/sys/fs/cgroup"
V1_CONTROLLERS = ["memory", "cpu", "cpuacct", "pids", "freezer", "devices",
                  "blkio", "cpuset"]


def bindir():
    d = os.environ.get("ZK_BINDIR")
    return os.path.abspath(d) if d else None


def cmd_path(name):
    d = bindir()
    if d:
        return os.path.join(d, name)
    found = shutil.which(name, path=os.environ.get("PATH", "") +
                         ":/usr/local/sbin:/usr/sbin:/sbin")
    if not found:
        pytest.fail(f"{name} is not installed (set ZK_BINDIR to use a build tree)")
    return found


def own_cgroup():
    """The cgroup path this process sits in, when every v1 controller we use
    agrees on it (else the root); zones nest below it."""
    paths = set()
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                if any(c in V1_CONTROLLERS for c in ctrls.split(",")):
                    paths.add(path)
    except OSError:
        pass
    if len(paths) == 1:
        return paths.pop().strip("/")
    return ""


class Pool:
    """A private pool root + run dir + cgroup parent, and helpers to run the
    zonekit commands against it."""

    def __init__(self, base):
        self.base = base
        self.root = os.path.join(base, "zones")
        self.rundir = os.path.join(base, "run")
        os.makedirs(self.root)
        os.makedirs(self.rundir)
        parent = own_cgroup()
        leaf = f"zonekit-test-{os.getpid()}-{os.path.basename(base)}"
        self.cgroup_parent = f"{parent}/{leaf}" if parent else leaf
        self.env = dict(os.environ)
        self.env.update({
            "ZONEKIT_ROOT": self.root,
            "ZONEKIT_RUNDIR": self.rundir,
            "ZONEKIT_CGROUP_PARENT": self.cgroup_parent,
        })

    def run(self, cmd, *args, input=None, check=False, timeout=120):
        argv = [cmd_path(cmd)] + [str(a) for a in args]
        p = subprocess.run(argv, input=input, capture_output=True, text=True,
                           env=self.env, timeout=timeout,
                           stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def vmadm(self, *args, **kw):
        return self.run("vmadm", *args, **kw)

    def imgadm(self, *args, **kw):
        return self.run("imgadm", *args, **kw)

    def zlogin(self, *args, **kw):
        return self.run("zlogin", *args, **kw)

    def create(self, payload, check=True):
        """vmadm create from a dict; returns the new zone's uuid."""
        p = self.vmadm("create", input=json.dumps(payload), check=check)
        if not check:
            return p
        for word in p.stderr.split():
            if len(word) == 36 and word.count("-") == 4:
                return word
        raise AssertionError(f"no uuid in: {p.stderr}")

    def get(self, uuid):
        return json.loads(self.vmadm("get", uuid, check=True).stdout)

    def cgroup_dirs(self, uuid=None):
        """Existing directories for this pool's cgroup parent (or one zone)."""
        rel = self.cgroup_parent + (f"/{uuid}" if uuid else "")
        found = []
        for c in V1_CONTROLLERS + ["unified"]:
            d = os.path.join(CGROUP_ROOT, c, rel)
            if os.path.isdir(d):
                found.append(d)
        return found

    def mounts(self):
        with open("/proc/self/mountinfo") as f:
            return [l.split()[4] for l in f if self.base in l.split()[4]]

    def processes(self):
        """Pids whose cgroup lies below this pool's parent."""
        pids = []
        for d in self.cgroup_dirs():
            for dirpath, _, files in os.walk(d):
                if "cgroup.procs" in files:
                    try:
                        with open(os.path.join(dirpath, "cgroup.procs")) as f:
                            pids += [int(x) for x in f.read().split()]
                    except OSError:
                        pass
        return sorted(set(pids))

    def zoneadmd_pids(self):
        pids = []
        for uuid in os.listdir(self.rundir) if os.path.isdir(self.rundir) else []:
            try:
                with open(os.path.join(self.rundir, uuid, "zoneadmd.pid")) as f:
                    pids.append(int(f.read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        return pids

    def teardown(self):
        """Delete every zone through vmadm, then remove by exact path or pid
        whatever is still there, so a failing test leaks nothing."""
        cfgdir = os.path.join(self.root, "config")
        if os.path.isdir(cfgdir):
            for name in os.listdir(cfgdir):
                if name.endswith(".json"):
                    try:
                        self.vmadm("delete", name[:-5], timeout=60)
                    except subprocess.TimeoutExpired:
                        pass
        for pid in self.zoneadmd_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for _ in range(3):
            for pid in self.processes():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)
        for mnt in sorted(self.mounts(), key=len, reverse=True):
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        for d in self.cgroup_dirs():
            for dirpath, _, _ in sorted(os.walk(d), key=lambda t: -len(t[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def image_files(tmp_path_factory):
    """The busybox image built once per session: (manifest path, file path, uuid)."""
    out = tmp_path_factory.mktemp("image")
    tool = os.path.join(REPO, "tools", "mkimage-busybox")
    subprocess.run([tool, "-o", str(out)], check=True, capture_output=True)
    manifest = os.path.join(out, "busybox.json")
    with open(manifest) as f:
        uuid = json.load(f)["uuid"]
    return manifest, os.path.join(out, "busybox.tar.gz"), uuid


@pytest.fixture
def pool():
    base = tempfile.mkdtemp(prefix="zk-e2e-", dir="/var/tmp")
    p = Pool(base)
    try:
        yield p
    finally:
        p.teardown()


@pytest.fixture
def image(pool, image_files):
    """The busybox image installed on the test's pool; returns its uuid."""
    manifest, f, uuid = image_files
    pool.imgadm("install", "-m", manifest, "-f", f, check=True)
    return uuid


def zone_payload(image_uuid, **props):
    payload = {"brand": "joyent-minimal", "image_uuid": image_uuid,
               "max_physical_memory": 128, "alias": "test"}
    payload.update(props)
    return payload


def build_helper(tmp_path_factory, name):
    """helpers/<name>.c built static, so it runs in any zone's image."""
    out = str(tmp_path_factory.mktemp(name) / name)
    src = os.path.join(os.path.dirname(__file__), "helpers", name + ".c")
    subprocess.run(["cc", "-static", "-O2", "-o", out, src], check=True)
    return out


@pytest.fixture(scope="session")
def probe_binary(tmp_path_factory):
    """helpers/probe.c: tries forbidden calls inside a zone."""
    return build_helper(tmp_path_factory, "probe")


def copy_into_zone(pool, uuid, src, dest):
    """Copy a host file into a running zone through zlogin's stdin."""
    with open(src, "rb") as f:
        data = f.read()
    argv = [cmd_path("zlogin"), uuid, f"cat > {dest} && chmod 755 {dest}"]
    p = subprocess.run(argv, input=data, capture_output=True, env=pool.env,
                       timeout=60)
    assert p.returncode == 0, p.stderr


def wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def cgroup_file(pool, uuid, controller, name):
    path = os.path.join(CGROUP_ROOT, controller, pool.cgroup_parent, uuid, name)
    with open(path) as f:
        return f.read().strip()


def zone_kstat(pool, module, uuid):
    """{stat: value} of a zone's kstat in `module` (memory_cap, zones, ...),
    found by its zonename statistic, via `kstat -p`."""
    p = pool.run("kstat", "-p", module)
    assert p.returncode == 0, (p.stdout, p.stderr)
    by_name = {}
    for line in p.stdout.splitlines():
        key, _, value = line.partition("\t")
        _, inst, name, stat = key.split(":", 3)
        if inst != "0":
            by_name.setdefault((inst, name), {})[stat] = value
    for stats in by_name.values():
        if stats.get("zonename") == uuid:
            return stats
    raise AssertionError(f"no {module} kstat for zone {uuid}:\n{p.stdout}")
