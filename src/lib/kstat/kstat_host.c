/*
 * The global zone's kstats, made on demand from /proc: no publisher runs
 * for the host, so zk_kstat_read_host_at reads the kernel's own counters each
 * time (docs/kstat.md says how every figure maps).
 */
#include "kstat/kstat_store.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kstat/zone_kstats.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fsutil.h"

#define NSEC_PER_SEC 1000000000ULL

#define FSCALE 256		/* illumos avenrun fixed point: FSHIFT 8 */

/* The /proc files we read, NUL-terminated; optional ones may be NULL. */
typedef struct proc_text {
	char *meminfo, *vmstat, *loadavg, *stat, *pressure;
} proc_text;

static void
proc_text_free(proc_text *t)
{
	free(t->meminfo);
	free(t->vmstat);
	free(t->loadavg);
	free(t->stat);
	free(t->pressure);
}

static int
read_proc(const char *proc, const char *file, char **out, bool required,
    zk_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", proc, file);
	zk_error ignored;
	int r = zk_read_file(path, out, NULL, required ? err : &ignored);
	return required ? r : 0;
}

static int
proc_text_load(const char *proc, proc_text *t, zk_error *err)
{
	int r;
	if ((r = read_proc(proc, "meminfo", &t->meminfo, true, err)) < 0 ||
	    (r = read_proc(proc, "loadavg", &t->loadavg, true, err)) < 0 ||
	    (r = read_proc(proc, "stat", &t->stat, true, err)) < 0)
		return r;
	/* Older kernels or CONFIG_PSI=n: the figures they give stay 0. */
	read_proc(proc, "vmstat", &t->vmstat, false, err);
	read_proc(proc, "pressure/cpu", &t->pressure, false, err);
	return 0;
}

/* The text after "key" where key starts a line and ends a word. */
static const char *
line_after(const char *text, const char *key)
{
	size_t len = strlen(key);
	for (const char *p = text; p != NULL && *p; ) {
		if (strncmp(p, key, len) == 0 &&
		    (p[len] == ' ' || p[len] == '\t' || p[len] == ':'))
			return p + len + (p[len] == ':');
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

/* The first number after key on its line; fallback when absent. */
static uint64_t
keyed(const char *text, const char *key, uint64_t fallback)
{
	const char *p = text ? line_after(text, key) : NULL;
	if (p == NULL)
		return fallback;
	return strtoull(p, NULL, 10);
}

static uint64_t
sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t
ticks_to_ns(uint64_t ticks, uint64_t hz)
{
	return ticks / hz * NSEC_PER_SEC + ticks % hz * NSEC_PER_SEC / hz;
}

/* "0.52" -> 133: Linux prints two decimals of its own fixed point. */
static uint64_t
load_to_fixed(const char *s, const char **end)
{
	char *e;
	uint64_t whole = strtoull(s, &e, 10), frac = 0, scale = 1;
	if (*e == '.')
		for (e++; isdigit((unsigned char)*e) && scale < 1000000; e++) {
			frac = frac * 10 + (uint64_t)(*e - '0');
			scale *= 10;
		}
	while (isdigit((unsigned char)*e))
		e++;
	*end = e;
	return whole * FSCALE + (frac * FSCALE + scale / 2) / scale;
}

static void
fill_memory_cap(zk_kstat_value *v, const proc_text *t)
{
	uint64_t kib = 1024, page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t total = keyed(t->meminfo, "MemTotal", 0);
	uint64_t avail = keyed(t->meminfo, "MemAvailable",
	    keyed(t->meminfo, "MemFree", 0));
	uint64_t swap_total = keyed(t->meminfo, "SwapTotal", 0);
	uint64_t swap_free = keyed(t->meminfo, "SwapFree", 0);
	/* vmstat's pgpgin is in KiB; illumos counts pages. */
	uint64_t pgpgin = keyed(t->vmstat, "pgpgin", 0) * kib / page;
	uint64_t swapin = keyed(t->vmstat, "pswpin", 0);

	snprintf(v[ZK_MC_ZONENAME].v.str, sizeof(v->v.str), "global");
	v[ZK_MC_RSS].v.u64 = sub0(total, avail) * kib;
	v[ZK_MC_PHYSCAP].v.u64 = UINT64_MAX;
	v[ZK_MC_SWAP].v.u64 = sub0(swap_total, swap_free) * kib;
	v[ZK_MC_SWAPCAP].v.u64 = UINT64_MAX;
	v[ZK_MC_PGPGIN].v.u64 = pgpgin;
	v[ZK_MC_ANONPGIN].v.u64 = swapin;
	v[ZK_MC_FSPGIN].v.u64 = sub0(pgpgin, swapin);
}

/* Per-mode ticks from the aggregate "cpu" line of /proc/stat. */
static void
cpu_ticks(const char *stat, uint64_t *user, uint64_t *sys)
{
	uint64_t t[7] = { 0 };	/* user nice system idle iowait irq softirq */
	const char *p = line_after(stat, "cpu");
	for (size_t i = 0; p != NULL && i < ZK_ARRAY_SIZE(t); i++) {
		char *e;
		t[i] = strtoull(p, &e, 10);
		p = e;
	}
	*user = t[0] + t[1];
	*sys = t[2] + t[5] + t[6];
}

/* PSI "some" total (µs): time runnable tasks waited for a CPU. */
static uint64_t
waitrq_ns(const char *pressure)
{
	const char *some = pressure ? line_after(pressure, "some") : NULL;
	const char *total = some ? strstr(some, "total=") : NULL;
	const char *eol = some ? strchr(some, '\n') : NULL;
	if (total == NULL || (eol != NULL && total > eol))
		return 0;
	return strtoull(total + 6, NULL, 10) * 1000;
}

static void
fill_zone_misc(zk_kstat_value *v, const proc_text *t)
{
	const char *p = t->loadavg;
	v[ZK_ZM_AVENRUN_1].v.u64 = load_to_fixed(p, &p);
	v[ZK_ZM_AVENRUN_5].v.u64 = load_to_fixed(p, &p);
	v[ZK_ZM_AVENRUN_15].v.u64 = load_to_fixed(p, &p);
	uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK), user, sys;
	cpu_ticks(t->stat, &user, &sys);
	v[ZK_ZM_NSEC_USER].v.u64 = ticks_to_ns(user, hz ? hz : 100);
	v[ZK_ZM_NSEC_SYS].v.u64 = ticks_to_ns(sys, hz ? hz : 100);
	v[ZK_ZM_NSEC_WAITRQ].v.u64 = waitrq_ns(t->pressure);
	v[ZK_ZM_INIT_PID].v.u64 = 1;
	v[ZK_ZM_BOOT_TIME].v.u64 = keyed(t->stat, "btime", 0);
	snprintf(v[ZK_ZM_ZONENAME].v.str, sizeof(v->v.str), "global");
}

/* A zeroed kstat of the global zone with the given statistics. */
static int
make_kstat(zk_kstat *k, const char *module, const char *class,
    const zk_kstat_stat_def *defs, size_t n, uint64_t now)
{
	zk_kstat_def d;
	zk_kstat_def_init(&d, module, 0, "global", class, defs, n);
	*k = (zk_kstat){ .instance = 0, .snaptime_ns = now, .nvalues = n };
	memcpy(k->module, d.module, sizeof(k->module));
	memcpy(k->name, d.name, sizeof(k->name));
	memcpy(k->class, d.class, sizeof(k->class));
	k->values = calloc(n, sizeof(*k->values));
	if (k->values == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		snprintf(k->values[i].name, sizeof(k->values[i].name), "%s",
		    defs[i].name);
		k->values[i].type = defs[i].type;
	}
	return 0;
}

int
zk_kstat_read_host_at(const char *proc, zk_kstat **ks, size_t *n,
    zk_error *err)
{
	_cleanup_(proc_text_free) proc_text t = { 0 };
	int r = proc_text_load(proc, &t, err);
	if (r < 0)
		return r;
	zk_kstat *v = realloc(*ks, (*n + 2) * sizeof(*v));
	if (v == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	*ks = v;
	/* Host kstats exist from boot: crtime 0 on CLOCK_BOOTTIME. */
	uint64_t now = zk_now_ns();
	zk_kstat *mc = &v[*n], *zm = &v[*n + 1];
	if (make_kstat(mc, ZK_MEMCAP_MODULE, ZK_MEMCAP_CLASS, zk_memcap_stats,
	    ZK_MC_COUNT, now) < 0)
		return zk_fail(err, ENOMEM, "out of memory");
	if (make_kstat(zm, ZK_ZONEMISC_MODULE, ZK_ZONEMISC_CLASS,
	    zk_zonemisc_stats, ZK_ZM_COUNT, now) < 0) {
		free(mc->values);
		return zk_fail(err, ENOMEM, "out of memory");
	}
	fill_memory_cap(mc->values, &t);
	fill_zone_misc(zm->values, &t);
	*n += 2;
	return 0;
}

int
zk_kstat_snap_add_host(zk_kstat_snap *s, const char *proc, zk_error *err)
{
	if (!zk_kstat_snap_wants(s, ZK_MEMCAP_MODULE, 0, "global",
	    ZK_MEMCAP_CLASS) && !zk_kstat_snap_wants(s, ZK_ZONEMISC_MODULE, 0,
	    "global", ZK_ZONEMISC_CLASS))
		return 0;
	zk_kstat *ks = NULL;
	size_t n = 0;
	int r = zk_kstat_read_host_at(proc, &ks, &n, err);
	if (r == 0)
		r = zk_kstat_snap_add(s, ks, n, err);
	zk_kstat_free(ks, n);
	return r;
}
