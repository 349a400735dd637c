"""Per-zone load average and the zones kstat (class zone_misc): a zone
spinning two loops climbs toward 2.0 (512 in illumos fixed point) while an
idle zone beside it stays near 0; CPU time, refused forks, init's pid and
boot time come from the zone's cgroup and zoneadmd."""
import re
import time

from conftest import cgroup_file, wait_for, zone_payload, zone_kstat

ONE = 256                   # illumos avenrun fixed point: 256 = 1.0
SPIN = "sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &"


def zones_kstat(pool, uuid):
    return zone_kstat(pool, "zones", uuid)


def test_busy_zone_load_rises_idle_zone_stays_low(pool, image):
    # max_lwps 12: the idle zone also shows refused forks
    busy = pool.create(zone_payload(image))
    idle = pool.create(zone_payload(image, max_lwps=12))
    t0 = time.time()
    p = pool.zlogin(busy, f"{SPIN} {SPIN} echo spinning", timeout=30)
    assert "spinning" in p.stdout, (p.stdout, p.stderr)
    pool.zlogin(idle, "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do "
                "sleep 1 & done 2>/dev/null; wait", timeout=30)
    # 2 (1 - e^(-t/60)) passes 0.6 after ~21 s at a full load of 2;
    # a busy host gives the loops less CPU (their wait still counts)
    ks = wait_for(lambda: (lambda k: k if int(k["avenrun_1min"]) > 0.6 * ONE
                           else None)(zones_kstat(pool, busy)),
                  timeout=45, interval=1.0)
    assert ks, zones_kstat(pool, busy)
    elapsed = time.time() - t0
    one, five, fifteen = (int(ks[f"avenrun_{m}min"]) for m in (1, 5, 15))
    assert one <= 2 * ONE + ONE // 2
    assert one > five > fifteen > 0          # slower averages lag behind
    assert int(ks["nsec_user"]) > 5e9        # ~2 CPUs for > 10 s
    assert int(ks["nsec_user"]) + int(ks["nsec_sys"]) <= 2.2 * elapsed * 1e9

    quiet = zones_kstat(pool, idle)
    assert int(quiet["avenrun_1min"]) < 0.2 * ONE
    assert int(quiet["avenrun_15min"]) < 0.2 * ONE
    # forks refused by max_lwps, as the kernel counted them
    refused = int(re.search(r"max (\d+)", cgroup_file(
        pool, idle, "pids", "pids.events")).group(1))
    assert refused > 0
    assert wait_for(lambda: int(zones_kstat(pool, idle)["forkfail_cap"])
                    == refused, timeout=12, interval=0.5)
    quiet = zones_kstat(pool, idle)
    assert int(quiet["forkfail_noproc"]) == 0

    vm = pool.get(busy)
    assert int(ks["init_pid"]) == vm["pid"]
    assert abs(int(ks["boot_time"]) - t0) < 60
    assert ks["class"] == "zone_misc"
