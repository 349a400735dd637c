"""kstat(1M): the global zone's kstats, selection, layouts, exit codes, and
the kstats zoneadmd publishes for a running zone (memory_cap, caps, zones)."""
import json
import os
import re
import struct
import time

from conftest import wait_for, zone_payload

UINT64_MAX = 18446744073709551615


def parseable(text):
    """`kstat -p` output as {"module:inst:name:stat": value}."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition("\t")
        out[key] = value
    return out


# ---- the global zone, from /proc ---------------------------------------

def test_global_memory_cap_parseable(pool):
    p = pool.run("kstat", "-p", "memory_cap:0:global")
    assert p.returncode == 0, p.stderr
    s = parseable(p.stdout)
    assert s["memory_cap:0:global:zonename"] == "global"
    assert s["memory_cap:0:global:class"] == "zone_memory_cap"
    assert int(s["memory_cap:0:global:rss"]) > 0
    assert int(s["memory_cap:0:global:physcap"]) == UINT64_MAX
    assert int(s["memory_cap:0:global:swapcap"]) == UINT64_MAX
    for stat in ("swap", "nover", "pagedout", "pgpgin", "anonpgin",
                 "execpgin", "fspgin", "anon_alloc_fail"):
        assert int(s[f"memory_cap:0:global:{stat}"]) >= 0
    assert re.fullmatch(r"\d+\.\d{9}", s["memory_cap:0:global:snaptime"])
    # statistics sorted by name, every line of this one kstat
    keys = [l.split("\t")[0] for l in p.stdout.splitlines()]
    assert keys == sorted(keys)
    assert all(k.startswith("memory_cap:0:global:") for k in keys)


def test_global_rss_is_memtotal_minus_memavailable(pool):
    meminfo = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            meminfo[k] = int(v.split()[0]) * 1024
    p = pool.run("kstat", "-p", "memory_cap:0:global:rss", check=True)
    rss = int(p.stdout.split("\t")[1])
    want = meminfo["MemTotal"] - meminfo["MemAvailable"]
    assert abs(rss - want) < 256 * 1024 * 1024  # the host moves meanwhile


def test_global_zones_json(pool):
    p = pool.run("kstat", "-j", "-m", "zones")
    assert p.returncode == 0, p.stderr
    ks = json.loads(p.stdout)
    assert isinstance(ks, list)
    g = [k for k in ks if k["instance"] == 0 and k["name"] == "global"]
    assert len(g) == 1
    g = g[0]
    assert g["module"] == "zones" and g["class"] == "zone_misc"
    assert g["type"] == 1 and g["snaptime"] > 0
    d = g["data"]
    assert d["zonename"] == "global" and d["init_pid"] == 1
    with open("/proc/stat") as f:
        btime = [int(l.split()[1]) for l in f if l.startswith("btime ")][0]
    assert d["boot_time"] == btime
    for stat in ("avenrun_1min", "avenrun_5min", "avenrun_15min",
                 "nsec_user", "nsec_sys", "nsec_waitrq", "forkfail_cap",
                 "forkfail_noproc", "crtime", "snaptime"):
        assert stat in d
    assert d["nsec_user"] > 0 and d["nsec_sys"] > 0


def test_human_layout(pool):
    p = pool.run("kstat", "memory_cap:0:global", check=True)
    lines = p.stdout.split("\n")
    assert lines[0] == "module: %-30s  instance: %-6d" % ("memory_cap", 0)
    assert lines[1] == "name:   %-30s  class:    zone_memory_cap" % "global"
    assert lines[2].startswith("\tanon_alloc_fail") and \
        lines[2][1:33] == "%-30s  " % "anon_alloc_fail"
    assert "\t%-30s  global" % "zonename" in lines
    assert p.stdout.endswith("\n\n")


def test_colon_and_names_only(pool):
    p = pool.run("kstat", "-C", "memory_cap:0:global:physcap", check=True)
    assert p.stdout == f"memory_cap:0:global:physcap:{UINT64_MAX}\n"
    p = pool.run("kstat", "-l", "zones:0:global:avenrun*", check=True)
    assert p.stdout == ("zones:0:global:avenrun_15min\n"
                        "zones:0:global:avenrun_1min\n"
                        "zones:0:global:avenrun_5min\n")


def test_selection(pool):
    p = pool.run("kstat", "-p", "-c", "zone_misc", check=True)
    assert p.stdout and all(l.startswith("zones:")
                            for l in p.stdout.splitlines())
    p = pool.run("kstat", "-p", "/^mem/::/glob/:/^sw/", check=True)
    assert sorted(parseable(p.stdout)) == ["memory_cap:0:global:swap",
                                           "memory_cap:0:global:swapcap"]
    p = pool.run("kstat", "-p", "-m", "zones", "-i", "0", "-s", "init_pid",
                 check=True)
    assert p.stdout == "zones:0:global:init_pid\t1\n"
    # operands are ORed
    p = pool.run("kstat", "-p", "zones:::init_pid", "memory_cap:::physcap",
                 check=True)
    assert sorted(parseable(p.stdout)) == ["memory_cap:0:global:physcap",
                                           "zones:0:global:init_pid"]


def test_nothing_matched_exits_1(pool):
    p = pool.run("kstat", "-m", "nosuch")
    assert p.returncode == 1 and p.stdout == ""
    p = pool.run("kstat", "-p", "memory_cap:0:global:nosuch")
    assert p.returncode == 1 and p.stdout == ""


def test_quiet(pool):
    p = pool.run("kstat", "-q", "memory_cap:0:global")
    assert p.returncode == 0 and p.stdout == ""
    p = pool.run("kstat", "-q", "-m", "nosuch")
    assert p.returncode == 1 and p.stdout == ""


def test_usage_errors_exit_2(pool):
    for args in (["-x"], ["-T"], ["-T", "x"], ["0"], ["1", "0"],
                 ["1", "2", "3"], ["/(/"], ["a:b:c:d:e"], ["-q", "-p"],
                 ["-j", "-p"], ["-m", "zones", "memory_cap"]):
        p = pool.run("kstat", *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.startswith("kstat: ") and "Usage:" in p.stderr, args
        assert p.stdout == ""


def test_interval_count_prints_samples(pool):
    t0 = time.monotonic()
    p = pool.run("kstat", "1", "2")
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    header = "module: %-30s  instance: %-6d" % ("memory_cap", 0)
    assert p.stdout.count(header + "\n") == 2
    assert 0.9 <= elapsed < 10


def test_interval_with_timestamps(pool):
    p = pool.run("kstat", "-p", "-T", "u", "memory_cap:0:global:snaptime",
                 "1", "2")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 4
    stamps = [int(lines[0]), int(lines[2])]
    assert abs(stamps[0] - time.time()) < 60 and stamps[1] >= stamps[0]
    snaps = [float(l.split("\t")[1]) for l in (lines[1], lines[3])]
    assert snaps[1] - snaps[0] >= 0.9


def test_garbage_in_kstat_dir_is_skipped(pool):
    d = os.path.join(pool.rundir, "kstat")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "junk"), "wb") as f:
        f.write(os.urandom(5000))
    with open(os.path.join(d, "empty"), "wb"):
        pass
    p = pool.run("kstat", "-p", "memory_cap:0:global:zonename")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "memory_cap:0:global:zonename\tglobal\n"


# ---- a running zone's kstats, published by zoneadmd ----------------------

def zone_kstats(pool, selector):
    p = pool.run("kstat", "-p", selector)
    return parseable(p.stdout) if p.returncode == 0 else None


def test_zone_kstats_published_and_removed(pool, image):
    uuid = pool.create(zone_payload(image, max_physical_memory=128,
                                    cpu_cap=150))
    zoneid = pool.get(uuid)["zoneid"]
    name = uuid[:30]  # illumos cuts kstat names to 30 characters

    mc = wait_for(lambda: zone_kstats(pool, f"memory_cap:{zoneid}:{name}"))
    assert mc, pool.run("kstat", "-p").stdout
    pre = f"memory_cap:{zoneid}:{name}:"
    assert mc[pre + "zonename"] == uuid
    assert mc[pre + "class"] == "zone_memory_cap"
    assert int(mc[pre + "physcap"]) == 128 * 1024 * 1024
    assert 0 < int(mc[pre + "rss"]) <= 128 * 1024 * 1024
    for stat in ("swap", "swapcap", "nover", "pagedout", "pgpgin",
                 "anonpgin", "execpgin", "fspgin", "anon_alloc_fail"):
        assert pre + stat in mc

    z = wait_for(lambda: zone_kstats(pool, f"zones:{zoneid}:{name}"))
    assert z
    pre = f"zones:{zoneid}:{name}:"
    assert z[pre + "zonename"] == uuid
    assert int(z[pre + "init_pid"]) == pool.get(uuid)["pid"]
    for stat in ("avenrun_1min", "avenrun_5min", "avenrun_15min",
                 "nsec_user", "nsec_sys", "nsec_waitrq", "forkfail_cap",
                 "forkfail_noproc", "boot_time"):
        assert pre + stat in z

    caps = wait_for(lambda: zone_kstats(
        pool, f"caps:{zoneid}:cpucaps_zone_{zoneid}"))
    assert caps
    pre = f"caps:{zoneid}:cpucaps_zone_{zoneid}:"
    assert caps[pre + "zonename"] == uuid
    assert caps[pre + "class"] == "zone_caps"
    assert int(caps[pre + "value"]) == 150
    for stat in ("baseline", "effective", "usage", "maxusage",
                 "burst_limit_sec", "bursting_sec", "below_sec", "above_sec",
                 "above_base_sec", "nwait"):
        assert pre + stat in caps

    # the zone's kstats sort after the global zone's, by instance number
    p = pool.run("kstat", "-l", "memory_cap:::zonename", check=True)
    assert p.stdout.splitlines()[:2] == [
        "memory_cap:0:global:zonename", f"memory_cap:{zoneid}:{name}:zonename"]

    # JSON carries the full zone name in data, the cut one as the name
    p = pool.run("kstat", "-j", "-n", name, "-c", "zone_memory_cap",
                 check=True)
    ks = json.loads(p.stdout)
    assert len(ks) == 1 and ks[0]["data"]["zonename"] == uuid
    assert ks[0]["name"] == name and ks[0]["instance"] == zoneid

    pool.vmadm("stop", uuid, check=True)
    p = pool.run("kstat", "-p", "-i", str(zoneid))
    assert p.returncode == 1, p.stdout


# ---- many publishers: files written here in zoneadmd's layout ------------
#
# kstat_file.h's file format (native endianness): a 64-byte header
# (magic, version, seq, nkstats, the three struct sizes, crtime, file size),
# then per kstat a 120-byte header (module, name, class: 32 bytes each;
# instance, nstats, crtime, snaptime) and 104-byte slots (name: 32 bytes;
# type, reserved; a 64-byte value).  A format change breaks this on
# purpose: the reader's tests should see it.

KS_MAGIC, KS_VERSION = 0x534B4B5A, 1
U64, I64, STR = 0, 1, 2


def kstat_file(kstats, seq=2):
    """kstats: [(module, instance, name, class, crtime, snaptime,
    [(stat, type, value)])] -> the bytes of one publisher's file."""
    body = b""
    for module, inst, name, cls, crtime, snaptime, stats in kstats:
        body += struct.pack("=32s32s32siIQQ", module.encode(), name.encode(),
                            cls.encode(), inst, len(stats), crtime, snaptime)
        for stat, typ, value in stats:
            v = (value.encode().ljust(64, b"\0") if typ == STR else
                 struct.pack("=q" if typ == I64 else "=Q", value).ljust(64, b"\0"))
            body += struct.pack("=32sII", stat.encode(), typ, 0) + v
    size = 64 + len(body)
    hdr = struct.pack("=IIQIIIIQQQQ", KS_MAGIC, KS_VERSION, seq, len(kstats),
                      64, 120, 104, 1, size, 0, 0)
    return hdr + body


MC_STATS = ["zonename", "rss", "physcap", "swap", "swapcap", "nover",
            "pagedout", "pgpgin", "anonpgin", "execpgin", "fspgin",
            "anon_alloc_fail"]


def fake_zone(zoneid):
    uuid = "%08x-7c02-47e2-8b31-b26eadfc0746" % zoneid
    mc = [(s, STR, uuid) if s == "zonename" else (s, U64, zoneid * 1000 + i)
          for i, s in enumerate(MC_STATS)]
    caps = [("value", U64, zoneid), ("drift", I64, -zoneid),
            ("zonename", STR, uuid)]
    return uuid, kstat_file([
        ("memory_cap", zoneid, uuid, "zone_memory_cap", 10**9 + zoneid,
         5 * 10**9 + zoneid, mc),
        ("caps", zoneid, f"cpucaps_zone_{zoneid}", "zone_caps", 7, 8, caps),
    ])


def test_many_zones_parseable_complete_and_ordered(pool):
    """Hundreds of publishers: every statistic once, in kstat order, with
    the values written; megabytes arrive whole through the pipe."""
    d = os.path.join(pool.rundir, "kstat")
    os.makedirs(d, exist_ok=True)
    zoneids = list(range(1, 601))
    for z in reversed(zoneids):     # directory order is not kstat order
        uuid, data = fake_zone(z)
        with open(os.path.join(d, uuid), "wb") as f:
            f.write(data)
    p = pool.run("kstat", "-p", check=True)
    lines = p.stdout.splitlines()
    zone = [l for l in lines if ":0:global:" not in l]
    per_zone = len(MC_STATS) + 3 + 3 + 3  # + crtime, snaptime, class each
    assert len(zone) == len(zoneids) * per_zone
    keys = [l.split("\t")[0] for l in lines]
    assert len(set(keys)) == len(keys)
    # kstats by module, then instance as a number; statistics by name
    order = [(k.split(":")[0].lower(), int(k.split(":")[1])) for k in keys]
    assert order == sorted(order)
    s = parseable(p.stdout)
    for z in (1, 9, 10, 100, 600):
        uuid = "%08x-7c02-47e2-8b31-b26eadfc0746" % z
        pre = f"memory_cap:{z}:{uuid[:30]}:"
        assert s[pre + "zonename"] == uuid
        assert s[pre + "rss"] == str(z * 1000 + 1)
        assert s[pre + "crtime"] == "1.%09d" % z
        assert s[pre + "snaptime"] == "5.%09d" % z
        assert s[f"caps:{z}:cpucaps_zone_{z}:drift"] == str(-z)
        stats = [k.rsplit(":", 1)[1] for k in keys if k.startswith(pre)]
        assert stats == sorted(stats)
    # the names-only layout lists the same keys; -q prints nothing
    p = pool.run("kstat", "-l", check=True)
    assert p.stdout.splitlines() == keys
    p = pool.run("kstat", "-q")
    assert p.returncode == 0 and p.stdout == ""
    # a selection keeps its kstats only, the global zone's too
    p = pool.run("kstat", "-p", "-i", "/^(7|0)$/", "-s", "zonename",
                 check=True)
    uuid7 = "%08x-7c02-47e2-8b31-b26eadfc0746" % 7
    assert p.stdout.splitlines() == [
        f"caps:7:cpucaps_zone_7:zonename\t{uuid7}",
        "memory_cap:0:global:zonename\tglobal",
        f"memory_cap:7:{uuid7[:30]}:zonename\t{uuid7}",
        "zones:0:global:zonename\tglobal",
    ]
    j = json.loads(pool.run("kstat", "-j", "-c", "zone_caps",
                            check=True).stdout)
    assert [k["instance"] for k in j] == zoneids


def test_file_mid_update_is_left_out(pool):
    """A file whose sequence is odd (its publisher died inside an update)
    is skipped; its neighbours are printed."""
    d = os.path.join(pool.rundir, "kstat")
    os.makedirs(d, exist_ok=True)
    for z, seq in ((1, 2), (2, 3), (3, 4)):
        uuid, data = fake_zone(z)
        data = data[:8] + struct.pack("=Q", seq) + data[16:]
        with open(os.path.join(d, uuid), "wb") as f:
            f.write(data)
    p = pool.run("kstat", "-l", "-c", "zone_caps", ":::value", check=True)
    assert p.stdout == ("caps:1:cpucaps_zone_1:value\n"
                        "caps:3:cpucaps_zone_3:value\n")
