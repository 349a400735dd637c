"""CPU caps and bursting: a zone with cpu_cap 150, cpu_baseline 50 and
cpu_burst_time 3 running two spinning loops on this 2-CPU machine uses
about 150 % for about 3 s, is then held to about 50 % until it has paid the
3 s back, and then bursts again.

The zone's real CPU use comes from its cgroup (cpuacct.usage) in 0.5 s
windows; the controller's decisions show in cpu.cfs_quota_us (sampled
every 0.1 s) and in the caps kstat.  Tolerances allow for a noisy machine
but not for a wrong state machine: a zone never held back, held back
without having burst, or held back for much more or less than the burst
time fails.
"""
import os
import time

import pytest

from conftest import cgroup_file, wait_for, zone_payload

SPIN = "sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &"
PERIOD = 100000     # cfs_period_us zonekit uses


def quota(pool, uuid):
    return int(cgroup_file(pool, uuid, "cpu", "cpu.cfs_quota_us"))


def cpu_ns(pool, uuid):
    return int(cgroup_file(pool, uuid, "cpuacct", "cpuacct.usage"))


def caps_kstat(pool):
    """{stat: value} of the one caps kstat on the pool, via kstat -p."""
    p = pool.run("kstat", "-p", "caps")
    assert p.returncode == 0, (p.stdout, p.stderr)
    stats = {}
    for line in p.stdout.splitlines():
        key, _, value = line.partition("\t")
        module, inst, name, stat = key.split(":", 3)
        assert module == "caps" and name == f"cpucaps_zone_{inst}", line
        stats[stat] = value
    return stats


def wait_stat(pool, stat, value, timeout):
    """The caps kstat once `stat` reads `value`, else None."""
    def check():
        ks = caps_kstat(pool)
        return ks if ks[stat] == value else None
    return wait_for(check, timeout=timeout, interval=0.1)


def spin(pool, uuid, n=2):
    p = pool.zlogin(uuid, " ".join([SPIN] * n) + " echo spinning",
                    timeout=60)
    assert p.returncode == 0 and "spinning" in p.stdout, (p.stdout, p.stderr)


def host_idle():
    """Idle CPU time of the whole host so far, in seconds."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


def record(pool, uuid, seconds, step=0.1):
    """[(t, cpu_ns, quota_us, host idle s)] every `step` seconds."""
    rows = []
    t0 = time.monotonic()
    k = 0
    while True:
        t = time.monotonic() - t0
        rows.append((t, cpu_ns(pool, uuid), quota(pool, uuid), host_idle()))
        if t >= seconds:
            return rows
        k += 1
        time.sleep(max(0.0, t0 + k * step - time.monotonic()))


def windows(rows, width=0.5):
    """[(start, zone use in % of one CPU, host CPUs idle)] over consecutive
    `width` windows."""
    out = []
    start = rows[0]
    for r in rows[1:]:
        dt = r[0] - start[0]
        if dt >= width - 1e-3:
            out.append((start[0], (r[1] - start[1]) / 1e7 / dt,
                        (r[3] - start[3]) / dt))
            start = r
    return out


def span(rows, t_from, t_to):
    return (min(rows, key=lambda r: abs(r[0] - t_from)),
            min(rows, key=lambda r: abs(r[0] - t_to)))


def mean_use(rows, t_from, t_to):
    """The zone's CPU use over [t_from, t_to], % of one CPU."""
    a, b = span(rows, t_from, t_to)
    return (b[1] - a[1]) / 1e7 / (b[0] - a[0])


def spare_cpus(rows, t_from, t_to):
    """CPUs the host left idle over [t_from, t_to], on average."""
    a, b = span(rows, t_from, t_to)
    return (b[3] - a[3]) / (b[0] - a[0])


def assert_bursts(rows, t_from, t_to, report):
    """Well above the baseline, unless other work on the host took the
    CPU (a zone at its cap leaves a 2-CPU host half a CPU spare)."""
    use = mean_use(rows, t_from, t_to)
    spare = spare_cpus(rows, t_from, t_to)
    assert use > 110 or (use > 55 and spare < 0.2), \
        f"{use:.0f}% with {spare:.2f} CPUs idle\n{report}"


def quota_runs(rows):
    """[(quota, start, end)] of consecutive samples with the same quota."""
    runs = []
    for t, _, q, _ in rows:
        if runs and runs[-1][0] == q:
            runs[-1][2] = t
        else:
            runs.append([q, t, t])
    return [tuple(r) for r in runs]


@pytest.fixture
def bursting_zone(pool, image):
    uuid = pool.create(zone_payload(image, cpu_cap=150, cpu_baseline=50,
                                    cpu_burst_time=3))
    assert quota(pool, uuid) == 150 * PERIOD // 100
    return uuid


def test_burst_then_baseline_then_burst_again(pool, bursting_zone):
    uuid = bursting_zone
    spin(pool, uuid)
    rows = record(pool, uuid, 13.0)
    use = windows(rows)
    runs = quota_runs(rows)
    report = "\n".join([f"{t:5.1f}s {u:6.1f}% ({i:.2f} CPUs idle)"
                        for t, u, i in use] +
                       [f"quota {q} from {a:.1f}s to {b:.1f}s"
                        for q, a, b in runs])
    print(report)

    # bursting at the cap: the first 2 s well above the baseline
    assert_bursts(rows, 0.0, 2.0, report)
    # then held to the baseline, for about the burst time
    base = [r for r in runs if r[0] == 50 * PERIOD // 100]
    assert base, "the quota never dropped to the baseline\n" + report
    first = base[0]
    assert 2.0 <= first[1] <= 6.5, report
    assert runs[0][0] == 150 * PERIOD // 100, report
    # what the zone really used while held
    if first[2] - first[1] >= 2.0:
        assert mean_use(rows, first[1] + 0.5, first[2]) < 65, report
    else:
        pytest.fail("held at the baseline for less than 2 s\n" + report)
    # paid back after about 3 s (300 ticks), then the full cap again
    later = [r for r in runs if r[1] > first[1]]
    assert later and later[0][0] == 150 * PERIOD // 100, report
    held = later[0][1] - first[1]
    assert 2.5 <= held <= 4.0, report
    # and it bursts again
    after = later[0][1]
    if after + 1.5 <= rows[-1][0]:
        assert_bursts(rows, after + 0.2, after + 1.5, report)


def test_caps_kstat(pool, bursting_zone):
    uuid = bursting_zone
    ks = caps_kstat(pool)
    assert ks["zonename"] == uuid
    assert ks["class"] == "zone_caps"
    assert (ks["value"], ks["baseline"], ks["effective"],
            ks["burst_limit_sec"]) == ("150", "50", "150", "3")
    spin(pool, uuid)
    # usage is a decayed average: it climbs past the baseline ...
    assert wait_for(lambda: int(caps_kstat(pool)["usage"]) > 60, timeout=5)
    # ... and the burst time runs out
    ks = wait_stat(pool, "effective", "50", timeout=10)
    assert ks, caps_kstat(pool)
    assert int(ks["bursting_sec"]) >= 2
    assert int(ks["above_base_sec"]) >= 2
    assert int(ks["maxusage"]) >= 90
    assert quota(pool, uuid) == 50 * PERIOD // 100
    ks = wait_stat(pool, "effective", "150", timeout=6)
    assert ks, caps_kstat(pool)
    assert int(ks["above_sec"]) >= 2    # time held at the baseline
    assert int(ks["below_sec"]) >= 1


def test_update_baseline_applies_live(pool, bursting_zone):
    uuid = bursting_zone
    spin(pool, uuid)
    assert wait_for(lambda: quota(pool, uuid) == 50000, timeout=10)
    # while held at the baseline, a new baseline holds at once
    pool.vmadm("update", uuid, "cpu_baseline=30", check=True)
    assert wait_for(lambda: quota(pool, uuid) == 30000, timeout=2), \
        quota(pool, uuid)
    assert pool.get(uuid)["cpu_baseline"] == 30
    assert caps_kstat(pool)["baseline"] == "30"
    t0 = time.monotonic()
    rows = record(pool, uuid, 1.0)
    assert mean_use(rows, 0.2, 1.0) < 60, rows
    # the debt is still paid back, then the cap returns
    assert wait_for(lambda: quota(pool, uuid) == 150000, timeout=5)
    assert time.monotonic() - t0 < 4.5
    # no burst limit: the cap stays, bursting is unlimited
    pool.vmadm("update", uuid, "cpu_burst_time=0", check=True)
    assert wait_stat(pool, "burst_limit_sec", "0", timeout=2)
    rows = record(pool, uuid, 4.0, step=0.2)
    assert {r[2] for r in rows} == {150000}, rows
    # no baseline: effective is the cap
    pool.vmadm("update", uuid, "cpu_baseline=0", "cpu_burst_time=1",
               check=True)
    assert wait_stat(pool, "baseline", "0", timeout=2)
    rows = record(pool, uuid, 2.5, step=0.2)
    assert {r[2] for r in rows} == {150000}, rows
    assert caps_kstat(pool)["effective"] == "150"


def test_default_baseline_and_no_cap(pool, image):
    # no cpu_baseline: SmartOS's default from the memory cap, >= 1
    uuid = pool.create(zone_payload(image, cpu_cap=100))
    ks = caps_kstat(pool)
    assert ks["value"] == "100"
    with open("/proc/meminfo") as f:
        host_mb = int(f.readline().split()[1]) // 1024
    ncpus = os.sysconf("SC_NPROCESSORS_ONLN")
    want = 128 * 10000 * ncpus // (host_mb * 83)
    want = max(1, min(want, ncpus * 100))
    assert ks["baseline"] == str(want if want <= 100 else 0)
    assert ks["burst_limit_sec"] == "0"
    # removing the cap removes the kstat (as on illumos) and the quota
    pool.vmadm("update", uuid, "cpu_cap=null", check=True)
    assert pool.run("kstat", "-p", "caps").stdout == ""
    assert quota(pool, uuid) == -1
